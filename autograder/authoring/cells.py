"""The authoring convention: short cell-header keys that become nbgrader metadata.

In ``notebooks/NN_topic.py`` (jupytext percent format) a cell header may carry:

* ``# %% answer="name"``: an autograded answer cell; the solution sits between
  ``### BEGIN SOLUTION`` and ``### END SOLUTION``.
* ``# %% tests="name" points=N``: an autograded test cell for the answer ``name``;
  hidden checks sit between ``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS``.
* ``# %% [markdown] manual="name" points=N``: a manually graded written answer.

Every other cell becomes read-only, so nbgrader restores it at grading time.
"""

from __future__ import annotations

import hashlib
from collections import Counter

import jupytext
import nbformat
from nbformat import NotebookNode

KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
SCHEMA = 3


class AuthoringError(ValueError):
    """A topic file breaks the cell convention; the message names the cell."""


def _nbgrader(grade_id: str, *, grade: bool, solution: bool, locked: bool, points=None) -> dict:
    meta = {
        "grade": grade,
        "grade_id": grade_id,
        "locked": locked,
        "schema_version": SCHEMA,
        "solution": solution,
    }
    if points is not None:
        meta["points"] = points
    return meta


def _readonly_id(cell: NotebookNode, seen: Counter) -> str:
    digest = hashlib.sha1(cell.source.encode()).hexdigest()[:8]
    base = f"{cell.cell_type[:2]}-{digest}"
    seen[base] += 1
    return base if seen[base] == 1 else f"{base}-{seen[base]}"


def _points(cell: NotebookNode, where: str) -> int | float:
    points = cell.metadata.get("points")
    if not isinstance(points, int | float) or isinstance(points, bool) or points <= 0:
        raise AuthoringError(f"{where}: needs points=N with N > 0, got {points!r}")
    return points


def convert(text: str, name: str = "<topic>") -> NotebookNode:
    """Turn a topic's text into an nbgrader source notebook with empty outputs."""
    nb = jupytext.reads(text, fmt="py:percent")
    seen_ids: Counter = Counter()
    answers: list[str] = []
    tested: Counter = Counter()
    for index, cell in enumerate(nb.cells):
        meta = dict(cell.metadata)
        where = f"{name}, cell {index + 1}"
        answer, tests, manual = meta.get("answer"), meta.get("tests"), meta.get("manual")
        if sum(x is not None for x in (answer, tests, manual)) > 1:
            raise AuthoringError(f"{where}: a cell has one role only (answer, tests or manual)")
        if answer is not None:
            if cell.cell_type != "code" or "### BEGIN SOLUTION" not in cell.source:
                raise AuthoringError(
                    f"{where}: answer={answer!r} needs a code cell with a solution"
                )
            nbg = _nbgrader(answer, grade=False, solution=True, locked=False)
            answers.append(answer)
        elif tests is not None:
            if cell.cell_type != "code":
                raise AuthoringError(f"{where}: tests={tests!r} must be a code cell")
            tested[tests] += 1
            suffix = "" if tested[tests] == 1 else f"_{tested[tests]}"
            nbg = _nbgrader(
                f"test_{tests}{suffix}",
                grade=True,
                solution=False,
                locked=True,
                points=_points(cell, where),
            )
        elif manual is not None:
            if cell.cell_type != "markdown":
                raise AuthoringError(f"{where}: manual={manual!r} must be a markdown cell")
            nbg = _nbgrader(
                manual, grade=True, solution=True, locked=False, points=_points(cell, where)
            )
        else:
            nbg = _nbgrader(_readonly_id(cell, seen_ids), grade=False, solution=False, locked=True)
        cell.metadata = nbformat.from_dict({"nbgrader": nbg})
        if tests is not None:
            cell.metadata["course"] = {"answer": tests}
        if cell.cell_type == "code":
            cell.metadata["editable"] = nbg["solution"]
            cell.metadata["deletable"] = False
            cell.outputs = []
            cell.execution_count = None
        cell.id = nbg["grade_id"].replace("_", "-")
    duplicates = [a for a, n in Counter(answers).items() if n > 1]
    if duplicates:
        raise AuthoringError(f"{name}: answer names used twice: {duplicates}")
    untested = sorted(set(answers) - set(tested))
    if untested:
        raise AuthoringError(f"{name}: answers with no tests cell: {untested}")
    orphans = sorted(set(tested) - set(answers))
    if orphans:
        raise AuthoringError(f"{name}: tests for unknown answers: {orphans}")
    nb.metadata = nbformat.from_dict(
        {"kernelspec": KERNELSPEC, "language_info": {"name": "python"}}
    )
    nb.nbformat, nb.nbformat_minor = 4, 5
    nbformat.validate(nb)
    return nb


def answer_of(cell: NotebookNode) -> str | None:
    """The answer a tests cell checks (``None`` for other cells)."""
    return cell.metadata.get("course", {}).get("answer")
