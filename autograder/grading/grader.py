"""Grade submissions with nbgrader in a private, throw-away course directory.

A :class:`CourseGrader` copies the assignments from one edition's ``source/`` (English, or
``zh/source/`` for the Chinese edition) into a temporary course, runs
``generate_assignment`` once, and then grades any number of submissions there with
nbgrader's autograde steps (hardened by :mod:`autograder.grading.execute`) and its feedback
(without hidden tests, :mod:`autograder.grading.feedback`), built once
(:mod:`autograder.grading.pipeline`), each notebook in a fresh kernel forked from a warm
template (:mod:`autograder.grading.provisioner`). Results come back as
:class:`~autograder.grading.results.NotebookResult` objects, per notebook and per tests
cell, ready for JSON or for merging into a real gradebook.

Both editions have the same cells, grade ids and checks; grading a submission with its
own edition's grader (:func:`submission_language`) restores its read-only cells in its
language, and the grader writes that language into the copy it grades, where the kernel
(the checks' messages) and the feedback page read it.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import sqlite3
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Iterator
from pathlib import Path

import nbformat

from .. import paths
from ..checking.i18n import ENGLISH, notebook_language
from ..nbgrader_setup import fast_gradebook, grading_config, nbgrader_api, quiet_logs
from .feedback import TIME_LIMIT, finish_page, write_message_page
from .pipeline import NotebookPipeline
from .provisioner import KernelTemplate
from .results import CellResult, NotebookResult, Status
from .review import review
from .sandbox import Limits
from .submission import inspect_folder

_PRIVATE_GRADEBOOKS: set[str] = set()


def _private_gradebook_pragmas(dbapi_connection, _record) -> None:
    """A private course's gradebook is thrown away: no waiting for the disk on every commit.

    nbgrader commits once per graded cell; on a real disk each commit waits for ``fsync``
    (about a millisecond each). Only the gradebooks of :class:`CourseGrader`'s own private
    courses are changed; the class's gradebook is written by grade-class, untouched.
    """
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    try:
        path = dbapi_connection.execute("PRAGMA database_list").fetchone()[2]
        if path in _PRIVATE_GRADEBOOKS:
            dbapi_connection.execute("PRAGMA synchronous=OFF")
            dbapi_connection.execute("PRAGMA journal_mode=MEMORY")
    except sqlite3.Error:
        pass


def _fast_private_gradebook(path: Path) -> None:
    from sqlalchemy import event
    from sqlalchemy.engine import Engine

    if not _PRIVATE_GRADEBOOKS:
        event.listen(Engine, "connect", _private_gradebook_pragmas)
    _PRIVATE_GRADEBOOKS.add(str(path.resolve()))


class GradingError(RuntimeError):
    """Grading itself failed (not the student's work): nbgrader or the kernel broke."""


def _kernel_env() -> None:
    """Kernels must import this checkout's ``autograder``, whatever the caller's PYTHONPATH."""
    parts = [p for p in os.environ.get("PYTHONPATH", "").split(os.pathsep) if p]
    if str(paths.ROOT) not in parts:
        os.environ["PYTHONPATH"] = os.pathsep.join([str(paths.ROOT), *parts])
    os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")


def first_error(cell) -> str | None:
    for out in cell.get("outputs", []):
        if out.output_type == "error":
            evalue = str(out.get("evalue", "")).strip()
            return f"{out.ename}: {evalue}" if evalue else out.ename
    for out in cell.get("outputs", []):
        if out.output_type == "stream" and out.name == "stderr":
            return "wrote to stderr: " + out.text.strip()[:500]
    return None


_SAFE = re.compile(r"[^A-Za-z0-9_.-]")


_STDERR_LOCK = threading.Lock()
_STDERR_USERS = 0
_STDERR_SAVED: int | None = None


@contextlib.contextmanager
def kernel_logs_to(log: Path) -> Iterator[None]:
    """Send this process's stderr (file descriptor 2) to ``log`` while kernels start and run.

    Kernels inherit the grader's stderr and log there (``[IPKernelApp] ERROR |
    KeyboardInterrupt caught in kernel.`` when a cell is interrupted), which would break
    into grade-class's progress bar and grade-one's report. Nested and concurrent uses
    share one redirection, undone by the last to leave.
    """
    global _STDERR_USERS, _STDERR_SAVED
    with _STDERR_LOCK:
        if _STDERR_USERS == 0:
            sys.stderr.flush()
            log.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            _STDERR_SAVED = os.dup(2)
            os.dup2(fd, 2)
            os.close(fd)
        _STDERR_USERS += 1
    try:
        yield
    finally:
        with _STDERR_LOCK:
            _STDERR_USERS -= 1
            if _STDERR_USERS == 0 and _STDERR_SAVED is not None:
                os.dup2(_STDERR_SAVED, 2)
                os.close(_STDERR_SAVED)
                _STDERR_SAVED = None


def safe_id(name: str) -> str:
    return _SAFE.sub("_", name) or "student"


def submission_language(folder: Path, default: str = ENGLISH) -> str:
    """The language of a handed-in assignment folder: its notebooks' (``course.language``)."""
    for path in sorted(Path(folder).glob("*.ipynb")) if Path(folder).is_dir() else []:
        found = notebook_language(path)
        if found:
            return found
    return default


def with_language(nb, language: str) -> None:
    """Write ``language`` into a notebook, where the executor and the feedback read it."""
    course = nb.metadata.get("course")
    nb.metadata["course"] = {
        **(dict(course) if isinstance(course, dict) else {}),
        "language": language,
    }


class CourseGrader:
    """A private nbgrader course for grading, built once from one edition's ``source/``.

    Everything per class rather than per notebook is done here, once per worker: the
    course (``generate_assignment``, or a copy of another grader's ``template``), nbgrader's
    configuration, exporters, preprocessors and feedback templates
    (:class:`.pipeline.NotebookPipeline`), and the kernel template that imports torch once
    and forks a fresh kernel for every notebook (:class:`.provisioner.KernelTemplate`).
    """

    def __init__(
        self,
        assignments: list[str],
        limits: Limits | None = None,
        *,
        source: Path | None = None,
        workdir: Path | None = None,
        template: Path | None = None,
        warm_kernels: bool = True,
        language: str = ENGLISH,
    ):
        """``template``: the root of another grader's course, copied instead of generated.

        ``language``: the edition graded (its ``source/`` unless ``source`` is given).

        ``warm_kernels``: fork kernels from a template process (started here, so that it
        imports torch while the course is set up); ``False`` starts each kernel anew.
        """
        self.language = language
        source = source or paths.source_root(language)
        _kernel_env()
        quiet_logs()
        fast_gradebook()
        self.limits = limits or Limits()
        self.kernels = KernelTemplate.acquire(self.limits) if warm_kernels else None
        self.root = Path(tempfile.mkdtemp(prefix="course-grade-", dir=workdir))
        config = grading_config(self.root, self.limits)
        _fast_private_gradebook(self.root / "gradebook.db")
        self.api = nbgrader_api(self.root, config)
        self.db_url = self.api.coursedir.db_url
        self.expected: dict[str, list[str]] = {}
        self.cells: dict[str, dict[str, list[tuple[str, float]]]] = {}
        self.known_sources: dict[str, set[str]] = {}
        self.locked_ids: dict[str, set[str]] = {}
        self.timings: dict[str, dict[str, float]] = {}
        """Per notebook graded last: when grading was asked for, the kernel ready, the
        first cell running, the end (``time.time()``); the benchmark reads them."""
        from nbgrader.api import Gradebook

        if template is not None:
            for part in ("source", "release", "gradebook.db"):
                (shutil.copytree if (template / part).is_dir() else shutil.copy)(
                    template / part, self.root / part
                )
        else:
            for assignment in assignments:
                shutil.copytree(source / assignment, self.root / "source" / assignment)
                result = self.api.generate_assignment(assignment, force=True, create=True)
                if not result["success"]:
                    raise GradingError(f"generate_assignment {assignment} failed:\n{result['log']}")
        with Gradebook(self.db_url) as gb:
            for assignment in assignments:
                notebooks = gb.find_assignment(assignment).notebooks
                self.expected[assignment] = sorted(nb.name for nb in notebooks)
                released = {
                    path.stem: nbformat.read(path, as_version=4)
                    for path in (self.root / "release" / assignment).glob("*.ipynb")
                }
                self.known_sources[assignment] = {
                    cell.source for nb in released.values() for cell in nb.cells
                }
                self.locked_ids[assignment] = {
                    cell.metadata["nbgrader"]["grade_id"]
                    for nb in released.values()
                    for cell in nb.cells
                    if cell.metadata.get("nbgrader", {}).get("locked")
                }
                self.cells[assignment] = {}
                for nb in notebooks:
                    order = [
                        c.metadata.get("nbgrader", {}).get("grade_id")
                        for c in released[nb.name].cells
                    ]
                    cells = sorted((c.name, float(c.max_score)) for c in nb.grade_cells)
                    cells.sort(key=lambda c, o=order: o.index(c[0]) if c[0] in o else len(o))  # type: ignore[misc]
                    self.cells[assignment][nb.name] = cells
        self.pipeline = NotebookPipeline(self.api.coursedir, config)
        self.pipeline.use_kernels(self.kernels)

    def close(self) -> None:
        if self.kernels is not None:
            self.kernels.release()
            self.kernels = None
        shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def max_score(self, assignment: str) -> float:
        return sum(m for cells in self.cells[assignment].values() for _, m in cells)

    def _notebook_result(
        self,
        assignment: str,
        notebook: str,
        status: Status,
        message: str | None,
        scores: dict[str, tuple[float, str | None]] | None,
    ) -> NotebookResult:
        cells = []
        for grade_id, max_points in self.cells[assignment][notebook]:
            points, cell_message = (scores or {}).get(grade_id, (0.0, message))
            cells.append(
                CellResult(
                    grade_id=grade_id,
                    points=float(points),
                    max_points=max_points,
                    passed=float(points) >= max_points,
                    message=cell_message,
                )
            )
        return NotebookResult(assignment, notebook, status, message, cells)

    def grade(
        self,
        student: str,
        assignment: str,
        folder: Path,
        feedback: Path | None = None,
        autograded: Path | None = None,
    ) -> dict[str, NotebookResult]:
        """Grade one assignment folder; ``{notebook: result}``. Raises :class:`GradingError`.

        ``feedback`` receives one HTML page per notebook (no hidden tests); ``autograded``,
        the graded notebooks themselves (for the formgrader of an instructor's course).
        """
        called = time.time()
        student = safe_id(student)
        inspected = inspect_folder(Path(folder), self.expected[assignment])
        work = self.root / "autograded" / student / assignment
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        results: dict[str, NotebookResult] = {}
        self.timings = {}
        try:
            usable = {n: i for n, i in inspected.items() if i.notebook is not None}
            if usable:
                self.pipeline.prepare(student, assignment, work)
            for name, item in usable.items():
                begin = called if not self.timings else time.time()
                with_language(item.notebook, self.language)
                with kernel_logs_to(self.root / "kernels.log"):
                    nb, notes = self._autograde(item.notebook, student, assignment, name, work)
                if autograded is not None:
                    autograded.mkdir(parents=True, exist_ok=True)
                    nbformat.write(nb, autograded / f"{name}.ipynb")
                results[name] = self._graded(assignment, name, nb, notes, student)
                results[name].notes += list(item.notes)
                results[name].review = review(
                    item.notebook, self.known_sources[assignment], self.locked_ids[assignment]
                )
                if feedback is not None:
                    try:
                        page = self.pipeline.feedback(nb, student, assignment, name, work)
                    except Exception as error:
                        reason = f"generate_feedback failed: {_failure(error)}"
                        raise GradingError(reason) from error
                    feedback.mkdir(parents=True, exist_ok=True)
                    page = finish_page(page, self.language)
                    (feedback / f"{name}.html").write_text(page, encoding="utf-8")
                self.timings[name] = {"called": begin, **notes.get("timing", {})}
                self.timings[name]["done"] = time.time()
            for name, item in inspected.items():
                if item.notebook is None:
                    results[name] = self._notebook_result(
                        assignment, name, "invalid", item.problem, None
                    )
                    if feedback is not None:
                        write_message_page(
                            feedback / f"{name}.html", name, item.problem or "", self.language
                        )
        finally:
            shutil.rmtree(work, ignore_errors=True)
        return {name: results[name] for name in self.expected[assignment]}

    def _autograde(self, nb, student: str, assignment: str, name: str, work: Path):
        try:
            nb, resources = self.pipeline.autograde(nb, student, assignment, name, work)
        except Exception as error:  # nbgrader's own converter logs these and fails the run
            raise GradingError(f"nbgrader autograde failed: {_failure(error)}") from error
        return nb, resources.get("autograder", {})

    def _graded(self, assignment: str, name: str, nb, notes: dict, student: str) -> NotebookResult:
        from nbgrader.api import Gradebook

        with Gradebook(self.db_url) as gb:
            submitted = gb.find_submission_notebook(name, assignment, student)
            scores = {g.name: (g.score or 0.0, None) for g in submitted.grades}
        messages = {}
        timed_out = []
        for number, cell in enumerate(nb.cells, start=1):
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id in scores and cell.metadata.nbgrader.get("grade"):
                messages[grade_id] = first_error(cell)
            for out in cell.get("outputs", []):
                if out.output_type == "error" and out.ename == TIME_LIMIT:
                    timed_out.append(f"cell {number} was {out.evalue}")
        stopped = notes.get("stopped") or ("; ".join(timed_out) if timed_out else None)
        merged = {
            gid: (points, messages.get(gid) or (None if points else stopped))
            for gid, (points, _) in scores.items()
        }
        result = self._notebook_result(assignment, name, "graded", stopped, merged)
        result.restored = notes.get("restored", {})
        result.limits = notes.get("sandbox") or {}
        return result


def _failure(error: BaseException) -> str:
    """An exception with the end of its traceback, for a failure report."""
    text = "".join(traceback.format_exception(error))
    return f"{type(error).__name__}: {error}\n{text[-3000:]}"
