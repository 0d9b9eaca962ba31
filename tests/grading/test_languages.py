"""A Chinese submission is graded by the same checks for the same points, in Chinese.

The grader reads the edition from the notebooks (their ``course.language``), grades them
with that edition's source (so the read-only cells it restores are Chinese), starts the
kernel in that language (so the checks' messages are Chinese) and writes a Chinese feedback
page; ``--language`` grades as another edition.
"""

from __future__ import annotations

import shutil

import nbformat
import pytest

from autograder import paths
from autograder.grading.grade_one import grade_one
from autograder.grading.grader import submission_language

TOPIC = "01_basic_losses"
WRONG_L1 = (
    'def l1_loss(input, target, reduction="mean"):\n    return (input - target).abs().sum()\n'
)


def submission(tmp_path, language: str):
    """A release of ``language`` with Exercise 1 right, ``l1_loss`` summing, and the title
    cell edited (the grader restores it)."""
    folder = tmp_path / language / TOPIC
    shutil.copytree(paths.release_root(language) / TOPIC, folder)
    path = folder / f"{TOPIC}.ipynb"
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id == "ce_by_hand":
            cell.source = (
                "def ce_by_hand(logits, target):\n"
                "    return -logits[target] + math.log(sum(math.exp(x) for x in logits))\n"
            )
        elif grade_id == "l1_loss":
            cell.source = WRONG_L1
    nb.cells[0].source = "edited by the student"
    nbformat.write(nb, path)
    return folder.parent


def test_the_language_of_a_submission_is_read_from_its_notebooks(tmp_path):
    chinese, english = submission(tmp_path, "zh"), submission(tmp_path, "en")
    assert submission_language(chinese / TOPIC) == "zh"
    assert submission_language(english / TOPIC) == "en"
    assert submission_language(tmp_path / "nothing") == "en"


@pytest.mark.slow
def test_a_wrong_chinese_answer_gets_its_message_and_feedback_in_chinese(tmp_path):
    folder = submission(tmp_path, "zh")
    feedback = tmp_path / "feedback"
    result = grade_one(folder, [TOPIC], feedback=feedback)[TOPIC][TOPIC]
    cells = {c.grade_id: c for c in result.cells}
    assert result.max_score == 12 and cells["test_ce_by_hand"].points == 1
    message = cells["test_l1_loss"].message
    assert cells["test_l1_loss"].points == 0
    assert message.startswith("CheckFailed: 公开检查 \"算例，reduction='mean'\" 未通过"), message
    assert "这与一个已知错误吻合：求了和（sum），而应求均值（mean）。" in message
    assert cells["test_mse_loss"].message == "CheckFailed: 公开检查：mse_loss 还没有实现。"
    page = (feedback / TOPIC / f"{TOPIC}.html").read_text(encoding="utf-8")
    assert '<html lang="zh-CN">' in page
    assert "（得分：1.0 / 12.0）" in page and ">测试单元</a>" in page and "学生的答案" in page
    assert "损失是什么" in page and "edited by the student" not in page  # restored, in Chinese
    assert "隐藏检查在评分时于此处运行" in page and "BEGIN HIDDEN TESTS" not in page
    assert "Score:" not in page and "Test cell" not in page


@pytest.mark.slow
def test_the_language_option_grades_as_another_edition(tmp_path):
    folder = submission(tmp_path, "zh")
    result = grade_one(folder, [TOPIC], language="en")[TOPIC][TOPIC]
    cells = {c.grade_id: c for c in result.cells}
    assert result.score == 1 and result.max_score == 12
    assert "This matches a known mistake: sum instead of mean." in cells["test_l1_loss"].message
