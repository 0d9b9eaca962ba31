"""The hostile corpus, graded by ``grade-class`` in parallel: every point awarded was earned.

One run grades the whole corpus (``tests/hostile/corpus.py``) with small limits. Then a
second run over the same folder, after one submission changed and one ledger entry was
lost (as if the first run had been killed between storing a grade and writing its ledger
entry), must grade exactly those two again and leave every other grade as it was.
"""

from __future__ import annotations

import csv
import json
import time

import pytest

from autograder.grading.grade_class import grade_class, ledger_path
from autograder.grading.sandbox import Limits
from tests.hostile import corpus

pytestmark = pytest.mark.slow  # tests/hostile/conftest.py keeps them on one xdist worker

LIMITS = Limits(
    cell_timeout=10,
    notebook_timeout=120,
    memory_mb=5000,
    max_procs=32,
    output_bytes=200_000,
)


@pytest.fixture(scope="module")
def graded(tmp_path_factory, timings):
    root = tmp_path_factory.mktemp("hostile")
    subs = corpus.build()
    corpus.write(root / "submitted", subs)
    start = time.perf_counter()
    summary = grade_class(
        root / "submitted",
        out=root / "out",
        workers=2,
        assignments=[corpus.TOPIC],
        limits=LIMITS,
        progress=False,
    )
    timings("grade-class", "hostile corpus", time.perf_counter() - start)
    return root, subs, summary


def _result(root, name):
    path = root / "out" / "results" / name / f"{corpus.TOPIC}.json"
    return json.loads(path.read_text())[corpus.TOPIC]


# files that are not a readable notebook: stored with 0 points, and listed as failed
UNREADABLE = {"not_json", "truncated", "nbformat3", "wrong_name", "empty_folder"}


def test_every_readable_submission_is_graded_and_the_rest_fail_with_a_reason(graded):
    root, subs, summary = graded
    assert set(summary.failed) == {(name, corpus.TOPIC) for name in UNREADABLE}
    assert all("could not be graded" in reason for reason in summary.failed.values())
    assert summary.graded == len(subs) - len(UNREADABLE)
    assert summary.submissions == len(subs)


def test_points_awarded_equal_points_earned(graded):
    root, subs, _ = graded
    max_score = sum(corpus.points().values())
    wrong = []
    for sub in subs:
        result = _result(root, sub.name)
        got = {c["grade_id"]: c["points"] for c in result["cells"]}
        if got != sub.expected:
            wrong.append(f"{sub.name} ({sub.what}): got {got}, earned {sub.expected}")
        if result["max_score"] != max_score:
            wrong.append(f"{sub.name}: max_score {result['max_score']} != {max_score}")
        if sub.message and sub.message not in (result["message"] or ""):
            wrong.append(f"{sub.name}: message {result['message']!r} lacks {sub.message!r}")
    assert not wrong, "\n".join(wrong)


def test_failed_cells_say_why(graded):
    root, subs, _ = graded
    for sub in subs:
        for cell in _result(root, sub.name)["cells"]:
            if cell["points"] < cell["max_points"]:
                assert cell["message"], f"{sub.name} {cell['grade_id']} lost points silently"
    messages = {c["grade_id"]: c["message"] for c in _result(root, "patch_losses")["cells"]}
    assert "known mistake" in messages["test_l1_loss"] or "differ" in messages["test_l1_loss"]


def test_patches_were_undone_and_reported(graded):
    root, _, _ = graded
    restored = _result(root, "patch_allclose")["restored"]
    assert "torch.allclose" in sum(restored.values(), [])
    restored = _result(root, "skipped_tests")["restored"]
    assert "shell.run_cell_async" in sum(restored.values(), [])
    assert any("torch.allclose" in flag for flag in _result(root, "patch_allclose")["review"])
    assert _result(root, "correct")["review"] == []


def test_gradebook_and_csv_agree_with_the_results(graded):
    from nbgrader.api import Gradebook

    root, subs, summary = graded
    with Gradebook(summary.db_url) as gb:
        for sub in subs:
            submission = gb.find_submission(corpus.TOPIC, sub.name)
            assert submission.score == pytest.approx(sum(sub.expected.values())), sub.name
    with open(root / "out" / "grades.csv") as f:
        rows = {r["student"]: float(r["score"]) for r in csv.DictReader(f)}
    assert rows == {s.name: sum(s.expected.values()) for s in subs}


def test_feedback_hides_the_hidden_tests(graded):
    root, _, _ = graded
    page = root / "out" / "feedback" / "correct" / corpus.TOPIC / f"{corpus.TOPIC}.html"
    html = page.read_text()
    assert "check_function" in html  # the public checks are shown
    assert "BEGIN HIDDEN TESTS" not in html and "seed=None" not in html
    source = (corpus.paths.source_notebook(corpus.TOPIC)).read_text()
    assert "seed=None" in source  # so the check above can fail
    broken = root / "out" / "feedback" / "not_json" / corpus.TOPIC / f"{corpus.TOPIC}.html"
    assert "not JSON" in broken.read_text()


def test_a_restarted_run_neither_drops_nor_double_counts(graded):
    from nbgrader.api import Gradebook

    root, subs, summary = graded
    # "untouched" hands in the solutions now; "correct" lost its ledger entry
    untouched = root / "submitted" / "untouched" / corpus.TOPIC / f"{corpus.TOPIC}.ipynb"
    untouched.write_text(corpus.text(corpus.solved()))
    ledger_path(root / "out", _task("correct")).unlink()
    again = grade_class(
        root / "submitted",
        out=root / "out",
        workers=2,
        assignments=[corpus.TOPIC],
        limits=LIMITS,
        progress=False,
    )
    assert set(again.failed) == {(name, corpus.TOPIC) for name in UNREADABLE}  # tried again
    assert again.graded == 2 and again.skipped == len(subs) - 2 - len(UNREADABLE)
    full = sum(corpus.points().values())
    expected = {s.name: sum(s.expected.values()) for s in subs} | {"untouched": full}
    with Gradebook(summary.db_url) as gb:
        assert len(gb.find_assignment(corpus.TOPIC).submissions) == len(subs)
        got = {s.student.id: s.score for s in gb.find_assignment(corpus.TOPIC).submissions}
    assert got == pytest.approx(expected)


def _task(student):
    from autograder.grading.grade_class import Task

    return Task(student, corpus.TOPIC, "", "")


def test_a_killed_run_resumes_without_losing_or_doubling(tmp_path):
    """Kill grade-class (SIGKILL) once it has stored a grade; the next run finishes the job."""
    import os
    import signal
    import subprocess
    import sys

    from nbgrader.api import Gradebook

    from autograder import paths

    keep = ("correct", "untouched", "edited_tests", "system_exit")
    subs = [s for s in corpus.build() if s.name in keep]
    corpus.write(tmp_path / "submitted", subs)
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "autograder", "grade-class", str(tmp_path / "submitted")]
    cmd += ["--out", str(out), "--workers", "1", "--no-progress", "--cell-timeout", "30"]
    env = {**os.environ, "PYTHONPATH": str(paths.ROOT)}
    first = subprocess.Popen(cmd, env=env, start_new_session=True, cwd=tmp_path)
    deadline = time.monotonic() + 300
    while not list(out.glob("ledger/*/*.json")) and time.monotonic() < deadline:
        assert first.poll() is None, "the first run ended before it could be killed"
        time.sleep(0.2)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    stored = len(list(out.glob("ledger/*/*.json")))
    assert 1 <= stored < len(subs)
    second = subprocess.run(cmd, env=env, cwd=tmp_path, capture_output=True, text=True)
    assert second.returncode == 0, second.stdout + second.stderr
    assert f"{stored} already graded" in second.stdout
    with Gradebook(f"sqlite:///{out / 'gradebook.db'}") as gb:
        submissions = gb.find_assignment(corpus.TOPIC).submissions
        got = {s.student.id: s.score for s in submissions}
    assert got == pytest.approx({s.name: sum(s.expected.values()) for s in subs})
