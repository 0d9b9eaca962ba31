"""grade-class with ``--db postgresql://...``, against a real PostgreSQL server.

The server is Debian's (installed with apt when missing), on a private port and data
folder (tests/grading/postgres.py). The run is killed (SIGKILL) once a grade is stored;
the same command then finishes the job: nothing lost, nothing counted twice.
"""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time

import nbformat
import pytest

from autograder import paths
from tests.grading.postgres import postgres_server

pytestmark = pytest.mark.slow

TOPIC = "01_basic_losses"


@pytest.fixture(scope="module")
def database():
    with postgres_server() as url:
        yield url


def solved_release() -> nbformat.NotebookNode:
    source = nbformat.read(paths.source_notebook(TOPIC), as_version=4)
    answers = {
        c.metadata.nbgrader["grade_id"]: c.source
        for c in source.cells
        if c.metadata.get("nbgrader", {}).get("solution")
    }
    nb = nbformat.read(paths.release_notebook(TOPIC), as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in answers:
            cell.source = answers[grade_id]
    return nb


def test_a_killed_run_resumes_in_postgresql_without_losing_or_doubling(database, tmp_path):
    from nbgrader.api import Gradebook

    submitted = tmp_path / "submitted"
    for student in ("alice", "bob", "carol"):
        (submitted / student / TOPIC).mkdir(parents=True)
    nbformat.write(solved_release(), submitted / "alice" / TOPIC / f"{TOPIC}.ipynb")
    untouched = paths.release_notebook(TOPIC).read_bytes()
    (submitted / "bob" / TOPIC / f"{TOPIC}.ipynb").write_bytes(untouched)
    # carol handed in an empty folder
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "autograder", "grade-class", str(submitted), "--db", database]
    cmd += ["--out", str(out), "--workers", "1", "--no-progress", "--cell-timeout", "30"]
    env = {**os.environ, "PYTHONPATH": str(paths.ROOT)}
    first = subprocess.Popen(cmd, env=env, cwd=tmp_path, start_new_session=True)
    deadline = time.monotonic() + 300
    while not list(out.glob("ledger/*/*.json")) and time.monotonic() < deadline:
        assert first.poll() is None, "the first run ended before it could be killed"
        time.sleep(0.2)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait()
    assert [p.parent.name for p in out.glob("ledger/*/*.json")] == ["alice"]
    with Gradebook(database) as gb:
        (stored,) = gb.find_assignment(TOPIC).submissions
        assert stored.student.id == "alice" and stored.score == stored.max_score > 0
        full = stored.max_score

    second = subprocess.run(cmd, env=env, cwd=tmp_path, capture_output=True, text=True)
    assert second.returncode == 1, second.stdout + second.stderr  # carol's folder is empty
    assert "3 submissions: 1 graded now, 1 already graded, 1 failed" in second.stdout
    assert f"gradebook: {database}" in second.stdout
    with Gradebook(database) as gb:
        submissions = gb.find_assignment(TOPIC).submissions
        scores = {s.student.id: (s.score, s.max_score) for s in submissions}
    assert scores == {"alice": (full, full), "bob": (0, full), "carol": (0, full)}
    with open(out / "grades.csv") as f:
        rows = {r["student"]: r for r in csv.DictReader(f)}
    assert rows["alice"]["score"] == f"{full:g}" and rows["bob"]["failed"] == ""
    assert "empty" in rows["carol"]["failed"]
    assert not (out / "gradebook.db").exists()  # everything went to PostgreSQL

    third = subprocess.run(cmd, env=env, cwd=tmp_path, capture_output=True, text=True)
    assert "3 submissions: 0 graded now, 2 already graded, 1 failed" in third.stdout, third.stdout
    with Gradebook(database) as gb:
        assert len(gb.find_assignment(TOPIC).submissions) == 3
