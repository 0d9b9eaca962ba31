"""A class taught in Chinese: the round trip through nbgrader's commands in ``zh/``.

``zh/`` is a course directory of its own (``zh/nbgrader_config.py`` loads the English
course's configuration, then makes ``zh/`` the root, with course id ``torch-losses-zh``).
A student joins with ``--language zh``, fetches the Chinese notebook, hands in a wrong
``l1_loss``; ``grade-class`` run in ``zh/`` and the formgrader's own Autograde both grade
it with Chinese messages, and the feedback the student fetches is Chinese.
"""

from __future__ import annotations

import shutil

import nbformat
import pytest

from autograder import paths
from autograder.grading.course import find_course
from tests.grading.test_course import TOPIC, answer, answers, run

pytestmark = pytest.mark.slow

WRONG_L1 = (
    'def l1_loss(input, target, reduction="mean"):\n    return (input - target).abs().sum()\n'
)


@pytest.fixture(scope="module")
def chinese_class(tmp_path_factory):
    base = tmp_path_factory.mktemp("chinese-class")
    root = base / "course"
    (root / "zh").mkdir(parents=True)
    shutil.copy(paths.ROOT / "nbgrader_config.py", root)
    shutil.copy(paths.edition("zh") / "nbgrader_config.py", root / "zh")
    for part in ("source", "release"):
        shutil.copytree(paths.edition("zh") / part / TOPIC, root / "zh" / part / TOPIC)
    zh, home = root / "zh", base / "mei"
    env = {"JUPYTER_DATA_DIR": str(home / ".data")}
    steps = {"setup": run(["autograder", "course-setup"], zh)}
    steps["join"] = run(
        [
            "autograder",
            "join",
            "--language",
            "zh",
            "--student",
            "mei",
            str(root / "exchange"),
            str(home),
        ],
        base,
    )
    steps["release"] = run(["nbgrader", "release_assignment", TOPIC], zh)
    steps["fetch"] = run(["nbgrader", "fetch_assignment", TOPIC], home, **env)
    sources = {"ce_by_hand": answers(TOPIC)["ce_by_hand"], "l1_loss": WRONG_L1}
    answer(home / TOPIC / f"{TOPIC}.ipynb", sources)
    steps["submit"] = run(["nbgrader", "submit", TOPIC], home, **env)
    steps["collect"] = run(["nbgrader", "collect", TOPIC], zh)
    steps["grade"] = run(["autograder", "grade-class", "submitted", "--workers", "1"], zh)
    steps["autograde"] = run(["nbgrader", "autograde", TOPIC, "--student", "mei", "--force"], zh)
    steps["release-feedback"] = run(["nbgrader", "release_feedback", TOPIC], zh)
    steps["fetch-feedback"] = run(["nbgrader", "fetch_feedback", TOPIC], home, **env)
    return {"root": root, "zh": zh, "home": home, "steps": steps}


def test_every_step_of_the_chinese_round_trip_succeeds(chinese_class):
    for name, step in chinese_class["steps"].items():
        assert step.returncode == 0, f"{name}:\n{step.stdout[-2000:]}\n{step.stderr[-2000:]}"
    course = find_course(chinese_class["zh"])
    assert course is not None and course.course_id == "torch-losses-zh"
    assert (chinese_class["root"] / "exchange" / "torch-losses-zh").is_dir()
    fetched = nbformat.read(chinese_class["home"] / TOPIC / f"{TOPIC}.ipynb", as_version=4)
    assert fetched.metadata["course"]["language"] == "zh"


def test_the_formgraders_autograde_speaks_the_notebooks_language(chinese_class):
    graded = chinese_class["zh"] / "autograded" / "mei" / TOPIC / f"{TOPIC}.ipynb"
    nb = nbformat.read(graded, as_version=4)
    tests = next(
        c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade_id") == "test_l1_loss"
    )
    shown = "\n".join(o.get("evalue", "") for o in tests.outputs if o.output_type == "error")
    assert "这与一个已知错误吻合：求了和（sum），而应求均值（mean）。" in shown, shown


def test_the_student_reads_chinese_feedback(chinese_class):
    pages = list((chinese_class["home"] / TOPIC / "feedback").rglob(f"{TOPIC}.html"))
    assert pages, "no feedback fetched"
    page = pages[0].read_text(encoding="utf-8")
    assert "（得分：1.0 / 12.0）" in page and "测试单元" in page and "损失是什么" in page
    assert "公开检查" in page and "BEGIN HIDDEN TESTS" not in page
