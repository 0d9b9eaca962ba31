"""Validate's report: each failing check by name and points, its message alone, short."""

from __future__ import annotations

import shutil

import nbformat
import pytest

from autograder import paths
from autograder.lab.validate import BriefValidator, brief_error, check_name

TOPIC = "01_basic_losses"


@pytest.mark.slow
def test_a_partly_done_notebook_gets_a_short_report_naming_each_failing_check(tmp_path):
    path = tmp_path / f"{TOPIC}.ipynb"
    shutil.copy(paths.release_notebook(TOPIC), path)
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:  # answer the first exercise only
        if cell.metadata.get("nbgrader", {}).get("grade_id") == "ce_by_hand":
            cell.source = (
                "def ce_by_hand(logits, target):\n"
                "    return -logits[target] + math.log(sum(math.exp(x) for x in logits))\n"
            )
    nbformat.write(nb, path)
    results = BriefValidator().validate(str(path))
    failed = results["failed"]
    names = [f["source"] for f in failed]
    assert "the checks of l1_loss (test_l1_loss, 2 points)" in names
    assert not any("ce_by_hand" in name for name in names)
    for item in failed:
        assert item["raw_error"].count("\n") < 8, item["raw_error"]
        assert "Traceback" not in item["raw_error"]
    report = "\n".join(f"{f['source']}\n{f['raw_error']}" for f in failed)
    assert "l1_loss is not implemented yet" in report
    assert len(report.splitlines()) <= 4 * len(failed) <= 40, report


def test_names_and_errors_of_cells():
    grade = nbformat.v4.new_code_cell(
        "check(x)",
        metadata={
            "nbgrader": {"grade": True, "grade_id": "test_x", "points": 1, "locked": True},
            "course": {"answer": "x"},
        },
    )
    assert check_name(grade) == "the checks of x (test_x, 1 point)"
    grade.outputs = [
        nbformat.v4.new_output("error", ename="NameError", evalue="name 'x' is not defined")
    ]
    assert brief_error(grade) == "NameError: name 'x' is not defined"
    grade.outputs = [
        nbformat.v4.new_output(
            "error", ename="CheckFailed", evalue="\n".join(f"line {i}" for i in range(20))
        )
    ]
    lines = brief_error(grade).splitlines()
    assert lines[0] == "line 0" and len(lines) == 9 and "12 more lines" in lines[-1]


def test_the_report_speaks_the_notebooks_language():
    from autograder.lab.validate import _wrap

    grade = nbformat.v4.new_code_cell(
        "check(x)",
        metadata={
            "nbgrader": {"grade": True, "grade_id": "test_x", "points": 2, "locked": True},
            "course": {"answer": "x"},
        },
    )
    assert check_name(grade, "zh") == "x 的检查（test_x，2 分）"
    assert brief_error(grade, "zh") == "没有显示错误，但这个单元没有拿到分数"
    line = "公开检查：" + "很长的中文消息" * 30
    wrapped = _wrap(line, 90)
    assert len(wrapped) > 1 and "".join(w.strip() for w in wrapped) == line
    assert all(sum(2 if ord(c) > 0x2E80 else 1 for c in w) <= 90 for w in wrapped)


@pytest.mark.slow
def test_validate_reports_a_chinese_notebook_in_chinese(tmp_path, monkeypatch):
    from autograder.checking import i18n

    monkeypatch.delenv(i18n.ENV, raising=False)
    path = tmp_path / f"{TOPIC}.ipynb"
    shutil.copy(paths.release_notebook(TOPIC, paths.release_root("zh")), path)
    failed = BriefValidator().validate(str(path))["failed"]
    names = [f["source"] for f in failed]
    assert "l1_loss 的检查（test_l1_loss，2 分）" in names
    report = "\n".join(f["raw_error"] for f in failed)
    assert "公开检查：l1_loss 还没有实现。" in report
    assert i18n.ENV not in __import__("os").environ  # the server's environment is left as it was
