"""The class report counts what the class did: scores, failed exercises, named mistakes."""

from __future__ import annotations

import ast
import csv
import json

import nbformat
import pytest
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

from autograder.grading.report import class_data, write_report

SUM_FOR_MEAN = "sum instead of mean"


def _cell(kind: str, source: str, grade_id: str, **meta) -> nbformat.NotebookNode:
    nbgrader = {"grade_id": grade_id, "schema_version": 3, "grade": False}
    nbgrader.update(solution=False, locked=True)
    nbgrader.update(meta.pop("nbgrader", {}))
    make = new_code_cell if kind == "code" else new_markdown_cell
    cell = make(source, metadata={"nbgrader": nbgrader, **meta})
    return cell


def _tests(answer: str, suffix: str = "", points: float = 1) -> nbformat.NotebookNode:
    grade_id = f"test_{answer}{suffix}"
    meta = {"grade": True, "points": points}
    return _cell("code", "check(...)", grade_id, nbgrader=meta, course={"answer": answer})


@pytest.fixture
def small_class(tmp_path):
    """Two exercises (the first with two tests cells) and four students' stored results."""
    source = tmp_path / "source"
    (source / "hw").mkdir(parents=True)
    nb = new_notebook(
        cells=[
            _cell("markdown", "## Exercise 1: `add` (3 points)", "md1"),
            _cell("code", "def add(a, b): ...", "add", nbgrader={"solution": True}),
            _tests("add", points=1),
            _tests("add", "_2", points=2),
            _cell("markdown", "## Exercise 2: `mean`", "md2"),
            _cell("code", "def mean(x): ...", "mean", nbgrader={"solution": True}),
            _tests("mean", points=2),
        ]
    )
    nbformat.write(nb, source / "hw" / "hw.ipynb")

    def cell(grade_id, points, max_points, message=None):
        return {"grade_id": grade_id, "points": points, "max_points": max_points,
                "passed": points >= max_points, "message": message}  # fmt: skip

    said = "CheckFailed: values differ\n  This matches a known mistake: {}."
    minus = said.format("a - b instead of a + b")
    students = {
        "ann": [cell("test_add", 1, 1), cell("test_add_2", 2, 2), cell("test_mean", 2, 2)],
        # the same mistake in both tests cells of one exercise counts once
        "bob": [
            cell("test_add", 0, 1, minus),
            cell("test_add_2", 0, 2, minus),
            cell("test_mean", 0, 2, said.format(SUM_FOR_MEAN)),
        ],  # fmt: skip
        "cid": [
            cell("test_add", 1, 1),
            cell("test_add_2", 0, 2, minus),
            cell("test_mean", 0, 2, said.format(SUM_FOR_MEAN)),
        ],  # fmt: skip
        "dee": [
            cell("test_add", 0, 1, "NotImplementedError"),
            cell("test_add_2", 0, 2, None),
            cell("test_mean", 0, 2, "NotImplementedError"),
        ],  # fmt: skip
    }
    out = tmp_path / "out"
    for student, cells in students.items():
        result = {"assignment": "hw", "notebook": "hw", "status": "graded", "message": None,
                  "cells": cells}  # fmt: skip
        path = out / "results" / student / "hw.json"
        path.parent.mkdir(parents=True)
        path.write_text(json.dumps({"hw": result}))
    return out, source


def test_the_report_counts_scores_failures_and_named_mistakes(small_class):
    out, source = small_class
    data = class_data(out, source)
    hw = data["assignments"]["hw"]
    assert data["students"] == 4 and hw["submissions"] == 4
    assert hw["scores"] == [0, 0, 1, 5] and hw["max_score"] == 5
    add, mean = hw["exercises"]["add"], hw["exercises"]["mean"]
    assert add["title"] == "Exercise 1: add (3 points)" and add["max_points"] == 3
    assert (add["full"], add["partial"], add["zero"], add["failed"]) == (1, 1, 2, 3)
    assert (mean["full"], mean["partial"], mean["zero"], mean["failed"]) == (1, 0, 3, 3)
    assert add["mistakes"] == {"a - b instead of a + b": 2}
    assert mean["mistakes"] == {SUM_FOR_MEAN: 2}
    assert [(m["exercise"], m["mistake"], m["students"]) for m in data["mistakes"]] == [
        ("add", "a - b instead of a + b", 2),
        ("mean", SUM_FOR_MEAN, 2),
    ]
    assert data["mistakes"][0]["examples"] == ["bob", "cid"]
    assert [(f["exercise"], f["failed"], f["of"]) for f in data["most_failed"]] == [
        ("add", 3, 4),
        ("mean", 3, 4),
    ]


def test_the_page_links_each_mistake_to_its_exercise(small_class):
    out, source = small_class
    page = write_report(out, source).read_text()
    assert json.loads((out / "report.json").read_text()) == class_data(out, source)
    assert page.count("<img ") == 4  # most failed, mistakes, the assignment's two figures
    assert "href='#ex-hw-add'" in page and "id='ex-hw-add'" in page
    assert "href='feedback/bob/hw/hw.html'" in page


# -- a real class, graded ---------------------------------------------------------------
def _reduction_answers(topic: str) -> list[str]:
    """Answers whose checks know the named mistake "sum instead of mean" (the tables of
    ``reduction_mistakes``, which ``regression_mistakes`` includes)."""
    from autograder import paths

    nb = nbformat.read(paths.source_notebook(topic), as_version=4)
    tests = {
        c.metadata.get("course", {}).get("answer"): c.source
        for c in nb.cells
        if c.metadata.get("course", {}).get("answer")
    }
    found = []
    for cell in nb.cells:
        meta = cell.metadata.get("nbgrader", {})
        if not meta.get("solution") or cell.cell_type != "code":
            continue
        for node in ast.walk(ast.parse(cell.source)):
            if isinstance(node, ast.FunctionDef) and node.name == meta["grade_id"]:
                # a ``reduction`` keyword with a default, as torch's losses take it (the
                # wrapper below passes it by name)
                positional = node.args.args[len(node.args.args) - len(node.args.defaults) :]
                keyword = [
                    a for a, d in zip(node.args.kwonlyargs, node.args.kw_defaults, strict=True) if d
                ]
                takes = [a.arg for a in positional + keyword]
                checks = tests.get(node.name, "")
                knows = "reduction_mistakes" in checks or "regression_mistakes" in checks
                if "reduction" in takes and knows:
                    found.append(node.name)
    return found


def _sum_for_mean(answer: str) -> str:
    return (
        f"\n_right_{answer} = {answer}\n"
        f"def {answer}(*args, reduction='mean', **kwargs):\n"
        f"    return _right_{answer}(*args, reduction='sum' if reduction == 'mean' "
        "else reduction, **kwargs)\n"
    )


@pytest.mark.slow
def test_a_graded_class_with_known_mistakes(tmp_path):
    from autograder.grading.grade_class import grade_class
    from tests.hostile import corpus

    first, second = (_reduction_answers(corpus.TOPIC) * 2)[:2]
    plans = {"solved": [], "one": [first], "both": [first, second], "again": [first]}
    if first == second:
        plans["both"] = [first]
    subs = []
    for student, wrong in plans.items():
        nb = corpus.solved()
        for answer in wrong:
            corpus.append(nb, answer, _sum_for_mean(answer))
        subs.append(corpus.Submission(student, "", corpus.notebook_file(nb), {}))
    subs.append(corpus.Submission("untouched", "", corpus.notebook_file(corpus.release()), {}))
    corpus.write(tmp_path / "submitted", subs)
    summary = grade_class(
        tmp_path / "submitted",
        out=tmp_path / "out",
        workers=2,
        assignments=[corpus.TOPIC],
        progress=False,
    )
    assert summary.failed == {}
    data = json.loads((tmp_path / "out" / "report.json").read_text())
    exercises = data["assignments"][corpus.TOPIC]["exercises"]
    made = {m["exercise"]: m["students"] for m in data["mistakes"] if m["mistake"] == SUM_FOR_MEAN}
    expected = {first: 3} if first == second else {first: 3, second: 1}
    assert made == expected, data["mistakes"]
    assert exercises[first]["mistakes"][SUM_FOR_MEAN] == 3
    # the three with the mistake and the untouched release lose its points; "solved" keeps them
    assert exercises[first]["failed"] == 4 and exercises[first]["full"] == 1
    assert data["most_failed"][0]["failed"] >= 4
    with open(tmp_path / "out" / "grades.csv") as f:
        rows = {r["student"]: (float(r["score"]), float(r["max_score"])) for r in csv.DictReader(f)}
    assert rows["solved"][0] == rows["solved"][1] > 0 and rows["untouched"][0] == 0
    assert data["assignments"][corpus.TOPIC]["scores"] == sorted(s for s, _ in rows.values())
    page = (tmp_path / "out" / "report.html").read_text()
    assert page.count(f"href='#ex-{corpus.TOPIC}-{first}'") >= 2  # most failed, mistakes
