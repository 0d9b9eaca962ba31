"""What grade-class hands to a worker, and what the worker hands back."""

from __future__ import annotations

from dataclasses import dataclass, field

from .. import paths
from .results import NotebookResult


@dataclass(frozen=True)
class Task:
    """One submission to grade: a student's folder for one assignment."""

    student: str
    assignment: str
    folder: str
    digest: str
    """:func:`~.grade_class.folder_digest` of the folder and the assignment's source, for the
    ledger."""
    language: str = paths.ENGLISH
    """The edition it is graded in."""


@dataclass
class Outcome:
    """What a worker sends back for one task."""

    ok: bool
    results: dict[str, NotebookResult] = field(default_factory=dict)
    """Per notebook, when ``ok``."""
    reason: str = ""
    """Why grading failed, when not ``ok``."""
    seconds: float = 0.0
    pages: dict[str, str] = field(default_factory=dict)
    """Feedback pages (file name -> HTML) from a worker that does not share this machine's
    folders (a Dask worker); the starting process writes them. Empty when the worker
    wrote them itself."""
    notebooks: dict[str, str] = field(default_factory=dict)
    """The graded notebooks (file name -> JSON), likewise, for an instructor's course."""
