"""The classroom round trip through nbgrader's commands, in a course directory of its own.

``course-setup`` creates the exchange; the instructor releases; two students, each in a
folder of their own joined to the class with ``join``, fetch, answer and submit; the
instructor collects and grades with ``grade-class`` run in the course directory, then
releases the feedback with one nbgrader command; each student fetches it. The browser
test (tests/test_browser.py) plays the same story through JupyterLab's buttons.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder import paths
from autograder.lab.modes import join

pytestmark = pytest.mark.slow

TOPIC = "01_basic_losses"
STUDENTS = ("alice", "bob")


def run(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess:
    environment = {**os.environ, "PYTHONPATH": str(paths.ROOT), **env}
    result = subprocess.run(
        [sys.executable, "-m", *args],
        cwd=cwd,
        env=environment,
        capture_output=True,
        text=True,
        timeout=600,
    )
    return result  # each test checks the steps it is about


def answers(topic: str) -> dict[str, str]:
    """The solution of every answer cell, by its nbgrader id."""
    nb = nbformat.read(paths.source_notebook(topic), as_version=4)
    return {
        c.metadata.nbgrader["grade_id"]: c.source
        for c in nb.cells
        if c.metadata.get("nbgrader", {}).get("solution")
    }


def answer(path: Path, sources: dict[str, str]) -> None:
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in sources:
            cell.source = sources[grade_id]
    nbformat.write(nb, path)


def play(base: Path) -> dict[str, subprocess.CompletedProcess]:
    """The round trip, in ``base``: the course, the students' folders; each step's result."""
    root = base / "course"
    root.mkdir()
    shutil.copy(paths.ROOT / "nbgrader_config.py", root)
    for part in ("source", "release"):
        shutil.copytree(paths.ROOT / part / TOPIC, root / part / TOPIC)
    steps: dict[str, subprocess.CompletedProcess] = {}
    steps["setup"] = run(["autograder", "course-setup"], root)
    exchange = root / "exchange"
    homes = {s: base / s for s in STUDENTS}
    envs = {s: {"JUPYTER_DATA_DIR": str(homes[s] / ".data")} for s in STUDENTS}
    for student, home in homes.items():
        join(exchange, home, student=student)
    steps["list-before-release"] = run(["nbgrader", "list"], homes["alice"], **envs["alice"])
    steps["release"] = run(["nbgrader", "release_assignment", TOPIC], root)
    solutions = answers(TOPIC)
    part = {"ce_by_hand": solutions["ce_by_hand"], "l1_loss": "while True:\n    pass\n"}
    for student, sources in (("alice", solutions), ("bob", part)):
        steps[f"fetch-{student}"] = run(
            ["nbgrader", "fetch_assignment", TOPIC], homes[student], **envs[student]
        )
        answer(homes[student] / TOPIC / f"{TOPIC}.ipynb", sources)
        steps[f"submit-{student}"] = run(
            ["nbgrader", "submit", TOPIC], homes[student], **envs[student]
        )
    steps["collect"] = run(["nbgrader", "collect", TOPIC], root)
    steps["grade"] = run(
        ["autograder", "grade-class", "submitted", "--workers", "2", "--cell-timeout", "8"], root
    )
    # the formgrader's Autograde button, as nbgrader runs it in the course
    steps["nbgrader-autograde"] = run(
        ["nbgrader", "autograde", TOPIC, "--student", "alice", "--force"], root
    )
    steps["release-feedback"] = run(["nbgrader", "release_feedback", TOPIC], root)
    for student in STUDENTS:
        steps[f"feedback-{student}"] = run(
            ["nbgrader", "fetch_feedback", TOPIC], homes[student], **envs[student]
        )
    return steps


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """The round trip, played once for all xdist workers (the first one plays, others wait)."""
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent  # shared by the workers of this run
    base = base / "course-round-trip"
    with open(f"{base}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        record = base / "steps.json"
        if not record.exists():
            shutil.rmtree(base, ignore_errors=True)
            base.mkdir()
            steps = play(base)
            saved = {k: [v.returncode, v.stdout, v.stderr] for k, v in steps.items()}
            record.write_text(json.dumps(saved))
    steps = {
        name: subprocess.CompletedProcess([], code, out, err)
        for name, (code, out, err) in json.loads(record.read_text()).items()
    }
    homes = {s: base / s for s in STUDENTS}
    return {"root": base / "course", "homes": homes, "steps": steps}


def test_setup_creates_the_exchange_before_any_release(course):
    """Problem 4: no "exchange does not exist" and no "Unwritable directory" before a release."""
    setup, listed = course["steps"]["setup"], course["steps"]["list-before-release"]
    assert setup.returncode == 0, setup.stderr
    assert (course["root"] / "exchange" / "torch-losses" / "inbound").is_dir()
    assert listed.returncode == 0, listed.stderr
    assert "Unwritable" not in listed.stdout + listed.stderr


def test_students_fetch_into_and_submit_from_their_own_folders(course):
    """Problem 5: a student outside the repository, joined with one command."""
    for student in STUDENTS:
        for step in ("fetch", "submit"):
            result = course["steps"][f"{step}-{student}"]
            assert result.returncode == 0, result.stderr
        assert (course["homes"][student] / TOPIC / f"{TOPIC}.ipynb").exists()
        assert (course["root"] / "submitted" / student / TOPIC / f"{TOPIC}.ipynb").exists()


def test_grade_class_in_the_course_fills_the_formgraders_gradebook(course):
    """Problem 2: the formgrader (nbgrader's API on the course) sees the scores."""
    from autograder.grading.course import find_course
    from autograder.nbgrader_setup import nbgrader_api

    grade = course["steps"]["grade"]
    assert grade.returncode == 0, grade.stdout + grade.stderr
    assert f"the gradebook of the course in {course['root']}" in grade.stdout
    assert not (course["root"] / "graded" / "gradebook.db").exists()
    found = find_course(course["root"])
    assert found is not None and found.db_url.endswith(f"{course['root']}/gradebook.db")
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(course["root"])).load_config()
    api = nbgrader_api(course["root"], config)
    scores = {s["student"]: (s["score"], s["max_score"]) for s in api.get_submissions(TOPIC)}
    full = scores["alice"][1]
    assert full > 0 and scores["alice"] == (full, full)
    assert 0 < scores["bob"][0] < full
    assert (course["root"] / "autograded" / "alice" / TOPIC / f"{TOPIC}.ipynb").exists()


def test_the_formgraders_autograde_button_grades_with_the_hardened_executor(course):
    """nbgrader's own autograde, in the course, runs the guarded executor like grade-class."""
    from autograder.grading.course import find_course
    from autograder.nbgrader_setup import nbgrader_api

    result = course["steps"]["nbgrader-autograde"]
    assert result.returncode == 0, result.stderr
    notes = course["root"] / "autograded" / "alice" / TOPIC / f".{TOPIC}.autograder.json"
    assert "sandbox" in json.loads(notes.read_text())  # written by GuardedExecute only
    found = find_course(course["root"])
    assert found is not None
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(course["root"])).load_config()
    (alice,) = [
        s
        for s in nbgrader_api(course["root"], config).get_submissions(TOPIC)
        if s["student"] == "alice"
    ]
    assert alice["score"] == alice["max_score"] > 0


def test_feedback_is_released_with_one_nbgrader_command(course):
    """Problem 1: timestamp.txt and submission_secret.txt lie beside the feedback pages."""
    for student in STUDENTS:
        folder = course["root"] / "feedback" / student / TOPIC
        assert {p.name for p in folder.iterdir()} >= {
            f"{TOPIC}.html",
            "timestamp.txt",
            "submission_secret.txt",
        }
    released = course["steps"]["release-feedback"]
    assert released.returncode == 0, released.stderr
    assert "FileNotFoundError" not in released.stderr


def fetched_feedback(course, student: str) -> str:
    result = course["steps"][f"feedback-{student}"]
    assert result.returncode == 0, result.stderr
    (page,) = (course["homes"][student] / TOPIC / "feedback").glob(f"*/{TOPIC}.html")
    return page.read_text()


def test_each_student_reads_their_score_without_the_hidden_tests(course):
    for student in STUDENTS:
        page = fetched_feedback(course, student)
        assert "BEGIN HIDDEN TESTS" not in page and "seed=None" not in page
        assert re.search(r"Score: [\d.]+ / [\d.]+", page), student
    assert "KeyboardInterrupt" not in fetched_feedback(course, "alice")


def test_a_cell_stopped_by_the_time_limit_says_so(course):
    """Problem 7: the limit, with its value; no interrupt traceback; no kernel log on screen."""
    page = fetched_feedback(course, "bob")
    assert "stopped after 8 s, the per-cell time limit" in page
    assert "KeyboardInterrupt" not in page and "CellTimeoutError" not in page
    grade = course["steps"]["grade"]
    assert "IPKernelApp" not in grade.stdout + grade.stderr
    results = json.loads(
        (course["root"] / "graded" / "results" / "bob" / f"{TOPIC}.json").read_text()
    )
    assert "per-cell time limit" in results[TOPIC]["message"]


def test_feedback_reads_well_offline(course):
    """Problem 9: math as MathML (no MathJax from a CDN), long lines wrapped."""
    page = fetched_feedback(course, "alice")
    assert "<math" in page and "cdnjs" not in page and "mathjax" not in page.lower()
    assert "white-space: pre-wrap" in page
    assert not re.search(r"<script[^>]+src=\"https?://", page)
