"""grade-class on its own: honest summaries, and kernels' logs kept off the terminal."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys

from autograder import paths
from autograder.grading.grade_class import main
from autograder.grading.grader import kernel_logs_to

TOPIC = "01_basic_losses"


def test_unreadable_submissions_are_failed_with_their_reason(tmp_path, capsys, monkeypatch):
    """No notebook, or ``{}`` as the notebook: failed, never "graded now" with 0 points."""
    submitted = tmp_path / "submitted"
    (submitted / "bob" / TOPIC).mkdir(parents=True)  # handed in nothing
    (submitted / "carol" / TOPIC).mkdir(parents=True)
    (submitted / "carol" / TOPIC / f"{TOPIC}.ipynb").write_text("{}")
    monkeypatch.chdir(tmp_path)  # not a course directory
    code = main([str(submitted), "--out", str(tmp_path / "out"), "--workers", "1", "--no-progress"])
    printed = capsys.readouterr().out
    assert code == 1, printed
    assert "2 submissions: 0 graded now, 0 already graded, 2 failed" in printed
    assert "1 workers" not in printed and ", 1 worker)" in printed
    assert f"FAILED bob/{TOPIC}: " in printed and "empty" in printed
    assert f"FAILED carol/{TOPIC}: " in printed and "not a Jupyter notebook" in printed
    failures = json.loads((tmp_path / "out" / "failures.json").read_text())
    assert {(f["student"], f["assignment"]) for f in failures} == {("bob", TOPIC), ("carol", TOPIC)}
    with open(tmp_path / "out" / "grades.csv") as f:
        rows = {r["student"]: r for r in csv.DictReader(f)}
    assert "empty" in rows["bob"]["failed"] and "not a Jupyter notebook" in rows["carol"]["failed"]
    assert rows["bob"]["score"] == "0"  # stored, so the gradebook shows it too
    feedback = tmp_path / "out" / "feedback" / "carol" / TOPIC / f"{TOPIC}.html"
    assert "not a Jupyter notebook" in feedback.read_text()


def test_a_submission_that_breaks_grading_is_a_row_of_grades_csv(tmp_path):
    from autograder.grading.course import record_assignments
    from autograder.grading.grade_class import write_csv

    db = f"sqlite:///{tmp_path / 'gradebook.db'}"
    record_assignments(db, [TOPIC])
    rows = write_csv(db, tmp_path / "grades.csv", {("dave", TOPIC): "Traceback\nKernelDied: x"})
    assert rows == 1
    with open(tmp_path / "grades.csv") as f:
        (row,) = csv.DictReader(f)
    assert row == {
        "student": "dave",
        "assignment": TOPIC,
        "score": "",
        "max_score": "",
        "failed": "KernelDied: x",
    }


def test_kernel_logs_go_to_a_file_not_the_terminal(tmp_path):
    """What a kernel started meanwhile writes to stderr lands in the log, not in the bar."""
    code = f"""
import subprocess, sys
sys.path.insert(0, {str(paths.ROOT)!r})
from pathlib import Path
from autograder.grading.grader import kernel_logs_to
with kernel_logs_to(Path({str(tmp_path / "kernels.log")!r})):
    with kernel_logs_to(Path({str(tmp_path / "other.log")!r})):  # nested: one redirection
        subprocess.run([sys.executable, "-c",
            "import sys; print('[IPKernelApp] ERROR | KeyboardInterrupt caught', file=sys.stderr)"])
print("after", file=sys.stderr)
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stderr.strip() == "after"
    assert "KeyboardInterrupt caught" in (tmp_path / "kernels.log").read_text()
    assert not (tmp_path / "other.log").exists()
    with kernel_logs_to(tmp_path / "here.log"):
        os.write(2, b"inside\n")
    os.write(2, b"")  # this process's stderr is back and usable
    assert (tmp_path / "here.log").read_text() == "inside\n"
