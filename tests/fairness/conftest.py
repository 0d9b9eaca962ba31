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
    taught = [r for r in wrong if r.get("taught", True)]
    named_taught = [r for r in taught if r["named"]]
    write = terminalreporter.write_line
    terminalreporter.section("corpus of student answers")
    write(f"correct answers with full points: {sum(r['full'] for r in correct)} / {len(correct)}")
    write(f"wrong answers that lost points:   {sum(not r['full'] for r in wrong)} / {len(wrong)}")

    def share(part: list, whole: list) -> str:
        if not whole:
            return "-"
        return f"{len(part)} / {len(whole)} ({100 * len(part) / len(whole):.0f} %)"

    write(f"wrong answers whose message names their mistake: {share(named, wrong)}")
    write(f"  of the mistakes the exercises teach about:     {share(named_taught, taught)}")
    for r in wrong:
        if not r["named"] and not r["full"]:
            write(f"  not named: {r['name']}: {r['message'][:160]!r}")
