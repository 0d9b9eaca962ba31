"""The corpus's summary: how fairly it was graded, and the share of named mistakes.

Each graded answer writes one row under ``artifacts/fairness/`` (xdist workers cannot print
to the terminal); the summary at the end of the session reads them back.
"""

from __future__ import annotations

import json

from autograder import paths

RESULTS = paths.ROOT / "artifacts" / "fairness"


def pytest_sessionstart(session):
    if not hasattr(session.config, "workerinput") and RESULTS.exists():
        for old in RESULTS.glob("corpus--*.json"):
            old.unlink()


def pytest_terminal_summary(terminalreporter, exitstatus, config):
    if hasattr(config, "workerinput") or not RESULTS.exists():
        return
    rows = [json.loads(p.read_text()) for p in sorted(RESULTS.glob("corpus--*.json"))]
    if not rows:
        return
    correct = [r for r in rows if r["correct"]]
    wrong = [r for r in rows if not r["correct"]]
    named = [r for r in wrong if r["named"]]
    write = terminalreporter.write_line
    terminalreporter.section("corpus of student answers")
    write(f"correct answers with full points: {sum(r['full'] for r in correct)} / {len(correct)}")
    write(f"wrong answers that lost points:   {sum(not r['full'] for r in wrong)} / {len(wrong)}")
    share = f"{100 * len(named) / len(wrong):.0f} %" if wrong else "-"
    write(f"wrong answers whose message names their mistake: {len(named)} / {len(wrong)} ({share})")
    for r in wrong:
        if not r["named"] and not r["full"]:
            write(f"  not named: {r['name']}: {r['message'][:160]!r}")
