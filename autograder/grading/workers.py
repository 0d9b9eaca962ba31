"""The worker's side of grade-class: one private course per worker process, for every task.

A worker sets up once (:class:`.grader.CourseGrader` per edition, English and Chinese: the
course, nbgrader's pipeline, the kernel template) and then grades one submission after
another, each with the grader of its own edition:

* on this machine (``--workers``), a process forked by grade-class reads the student's
  folder and writes the feedback pages itself (:func:`init_worker`, :func:`grade_task`);
* on a Dask cluster (``--scheduler``), a worker may be another machine: it receives the
  submission's files and sends the pages back (:func:`ship`, :func:`grade_shipment`). It
  grades with its own checkout of the course, which must be the same: the shipment
  carries a hash of the assignment's source, and a worker whose source differs refuses.
"""

from __future__ import annotations

import atexit
import hashlib
import multiprocessing.util
import tempfile
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .. import paths
from .grader import CourseGrader, GradingError, safe_id
from .sandbox import Limits
from .tasks import Outcome, Task

_LOCAL: dict[str, CourseGrader] = {}
"""This worker process's grader of each edition, by language."""


def _close_at_exit(grader: CourseGrader) -> None:
    # forked workers leave through os._exit: atexit would not run, multiprocessing's finalizers do
    multiprocessing.util.Finalize(grader, grader.close, exitpriority=10)
    atexit.register(grader.close)


def init_worker(editions: Mapping[str, tuple[list[str], str | None]], limits_json: str) -> None:
    """Set this worker process up: per language, its private course (a copy of a template's).

    ``editions`` maps a language to the assignments to grade in it and the root of the
    course to copy (``None``: generate it).
    """
    for language, (assignments, template) in editions.items():
        grader = CourseGrader(
            assignments,
            Limits.from_json(limits_json),
            template=Path(template) if template else None,
            language=language,
        )
        _LOCAL[language] = grader
        _close_at_exit(grader)


def _grade_with(
    grader: CourseGrader,
    task: Task,
    folder: Path,
    feedback: Path,
    autograded: Path | None = None,
) -> Outcome:
    start = time.perf_counter()
    try:
        results = grader.grade(task.student, task.assignment, folder, feedback, autograded)
        return Outcome(True, results, seconds=time.perf_counter() - start)
    except GradingError as error:
        return Outcome(False, reason=str(error)[-2000:])
    except Exception as error:  # a bug or a broken environment: record it, go on
        return Outcome(False, reason=f"{type(error).__name__}: {error}"[-2000:])


def grade_task(task: Task, feedback_root: str, autograded_root: str | None = None) -> Outcome:
    """Grade one task in this worker's course of its edition.

    Its pages go under ``feedback_root``, and with ``autograded_root`` (an instructor's
    course) the graded notebooks under that.
    """
    grader = _LOCAL.get(task.language)
    if grader is None:
        return Outcome(False, reason=f"the grading worker has no {task.language!r} course")
    where = (safe_id(task.student), task.assignment)
    feedback = Path(feedback_root).joinpath(*where)
    autograded = Path(autograded_root).joinpath(*where) if autograded_root else None
    return _grade_with(grader, task, Path(task.folder), feedback, autograded)


# -- Dask: the files travel with the task --------------------------------------------
@dataclass(frozen=True)
class Shipment:
    """A task with everything a worker on another machine needs to grade it."""

    task: Task
    files: dict[str, bytes]
    """The submission folder's files, by path relative to it."""
    assignments: tuple[str, ...]
    """Every assignment of this run (a worker's course is built for all of them)."""
    limits_json: str
    source_digest: str
    """:func:`tree_digest` of the assignment's source where the run was started."""


def tree_digest(folder: Path) -> str:
    """A hash of every file under ``folder``: names and bytes."""
    h = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        h.update(str(path.relative_to(folder)).encode() + b"\0")
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def ship(task: Task, assignments: list[str], limits: Limits) -> Shipment:
    folder = Path(task.folder)
    files = {}
    if folder.is_dir():
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            files[str(path.relative_to(folder))] = path.read_bytes()
    source = tree_digest(paths.source_root(task.language) / task.assignment)
    return Shipment(task, files, tuple(assignments), limits.to_json(), source)


_GRADERS: dict[tuple[tuple[str, ...], str, str], CourseGrader] = {}
_LOCK = threading.Lock()  # one submission at a time per worker process, whatever its threads


def close_graders() -> int:
    """On a Dask worker, at the end of a run: end its courses and kernel templates."""
    with _LOCK:
        for grader in _GRADERS.values():
            grader.close()
        count = len(_GRADERS)
        _GRADERS.clear()
    return count


def grade_shipment(shipment: Shipment) -> Outcome:
    """On a Dask worker: grade the shipped files; the pages come back in the outcome."""
    task = shipment.task
    with _LOCK:
        mine = tree_digest(paths.source_root(task.language) / task.assignment)
        if mine != shipment.source_digest:
            return Outcome(
                False,
                reason=f"this worker's course ({paths.ROOT}) has another {task.language} source of "
                f"{task.assignment} than the machine that started the run: install the same "
                "version on every worker",
            )
        key = (shipment.assignments, shipment.limits_json, task.language)
        if key not in _GRADERS:
            grader = CourseGrader(
                list(shipment.assignments), Limits.from_json(key[1]), language=task.language
            )
            _close_at_exit(grader)
            _GRADERS[key] = grader
        with tempfile.TemporaryDirectory(prefix="shipped-") as tmp:
            folder = Path(tmp) / "submission"
            folder.mkdir()
            for name, data in shipment.files.items():
                target = (folder / name).resolve()
                if folder.resolve() not in target.parents:
                    continue  # a name that climbs out of the folder is not a submission file
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_bytes(data)
            feedback, graded = Path(tmp) / "feedback", Path(tmp) / "autograded"
            outcome = _grade_with(_GRADERS[key], task, folder, feedback, graded)
            if feedback.is_dir():
                outcome.pages = {
                    p.name: p.read_text(encoding="utf-8") for p in sorted(feedback.glob("*.html"))
                }
            if graded.is_dir():
                outcome.notebooks = {
                    p.name: p.read_text(encoding="utf-8") for p in sorted(graded.glob("*.ipynb"))
                }
        return outcome
