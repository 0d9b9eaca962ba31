"""What grading a notebook produces: typed results, written as JSON with ``dataclasses.asdict``.

``grade-one --json`` and grade-class's ``results/<student>/<assignment>.json`` hold these,
nested as ``{assignment: {notebook: NotebookResult}}``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal

Status = Literal["graded", "invalid"]


@dataclass
class CellResult:
    """One autograded tests cell of one notebook."""

    grade_id: str
    """nbgrader's id of the tests cell (``test_<answer>``, ``test_<answer>_2``...)."""
    points: float
    """Points earned."""
    max_points: float
    """Points the cell is worth."""
    passed: bool
    """Whether every point was earned."""
    message: str | None
    """Why points were lost, as the student reads it (``None`` when the cell passed)."""


@dataclass
class NotebookResult:
    """One notebook of one submission."""

    assignment: str
    """The assignment (a folder of ``source/``)."""
    notebook: str
    """The notebook's name, without ``.ipynb``."""
    status: Status
    """``graded``, or ``invalid`` when the file could not be read (it then scores 0)."""
    message: str | None
    """What stopped grading part-way (a limit, a dead kernel), or why the file is invalid."""
    cells: list[CellResult]
    """Every tests cell, in notebook order."""
    restored: dict[str, list[str]] = field(default_factory=dict)
    """Per tests cell, what notebook code had replaced and the guard put back before it."""
    notes: list[str] = field(default_factory=list)
    """Repairs made to the file before grading (duplicated cell ids...)."""
    review: list[str] = field(default_factory=list)
    """Code worth a human's look (it reaches into the grader's machinery); never a grade."""
    limits: dict[str, str] = field(default_factory=dict)
    """Which of the kernel's limits held, as the sandbox reported them."""

    @property
    def score(self) -> float:
        return sum(c.points for c in self.cells)

    @property
    def max_score(self) -> float:
        return sum(c.max_points for c in self.cells)

    def to_json(self) -> dict[str, Any]:
        """A plain dict for JSON, with the score and maximum written out."""
        return {**asdict(self), "score": self.score, "max_score": self.max_score}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> NotebookResult:
        data = {k: v for k, v in data.items() if k not in ("score", "max_score")}
        data["cells"] = [CellResult(**c) for c in data["cells"]]
        return cls(**data)


Results = dict[str, dict[str, NotebookResult]]
"""``{assignment: {notebook: result}}``: everything one student handed in."""


def total(results: Results) -> tuple[float, float]:
    """``(score, max_score)`` over every notebook."""
    notebooks = [nb for per in results.values() for nb in per.values()]
    return sum(n.score for n in notebooks), sum(n.max_score for n in notebooks)


def results_json(results: Results) -> dict[str, dict[str, dict[str, Any]]]:
    return {a: {n: r.to_json() for n, r in per.items()} for a, per in results.items()}
