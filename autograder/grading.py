"""Grade notebooks with real nbgrader, in a throw-away course directory built from ``source/``.

The student's files never touch the instructor's gradebook: each call builds its own
course directory, runs ``generate_assignment`` there (which records the assignment and
its test cells in that gradebook), then ``autograde``.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from . import course
from .build import nbgrader_api


@dataclass
class CellGrade:
    grade_id: str
    score: float
    max_score: float


@dataclass
class NotebookGrade:
    assignment: str
    notebook: str
    score: float
    max_score: float
    cells: list[CellGrade] = field(default_factory=list)

    def cell(self, grade_id: str) -> CellGrade:
        return next(c for c in self.cells if c.grade_id == grade_id)


def grade_notebooks(
    submission: dict[str, Path],
    *,
    student: str = "student",
    source: Path = course.SOURCE,
    workdir: Path | None = None,
) -> dict[str, NotebookGrade]:
    """Autograde ``{assignment: notebook file}``; return each notebook's grades."""
    from nbgrader.api import Gradebook

    with tempfile.TemporaryDirectory(prefix="course-grade-", dir=workdir) as tmp:
        root = Path(tmp)
        api = nbgrader_api(root)
        grades: dict[str, NotebookGrade] = {}
        for assignment, notebook in submission.items():
            shutil.copytree(source / assignment, root / "source" / assignment)
            result = api.generate_assignment(assignment, force=True, create=True)
            if not result["success"]:
                raise RuntimeError(f"generate_assignment {assignment} failed:\n{result['log']}")
            target = root / "submitted" / student / assignment / f"{assignment}.ipynb"
            target.parent.mkdir(parents=True)
            shutil.copy(notebook, target)
            result = api.autograde(assignment, student, force=True, create=True)
            if not result["success"]:
                raise RuntimeError(f"autograde {assignment} failed:\n{result['log']}")
        with Gradebook(api.coursedir.db_url) as gradebook:
            for assignment in submission:
                nb = gradebook.find_submission_notebook(assignment, assignment, student)
                grades[assignment] = NotebookGrade(
                    assignment=assignment,
                    notebook=assignment,
                    score=nb.score,
                    max_score=nb.max_score,
                    cells=[
                        CellGrade(g.name, g.score, g.max_score)
                        for g in sorted(nb.grades, key=lambda g: g.name)
                    ],
                )
        return grades
