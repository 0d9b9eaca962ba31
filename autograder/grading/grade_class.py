"""``python -m autograder grade-class``: grade nbgrader's ``submitted/<student>/<assignment>/``.

Submissions are graded in parallel, each worker in its own private course
(:class:`autograder.grading.grader.CourseGrader`): ``--workers`` processes on this machine,
or the workers of a Dask cluster (``--scheduler``, :mod:`autograder.grading.scheduler`).
This process alone merges the results into one gradebook. Each
submission is graded in its own edition's language (English, or Chinese: its notebooks say
which), or in the one ``--language`` names.

Run in an nbgrader course directory (a folder with ``nbgrader_config.py``, such as this
repository), it writes where nbgrader looks (:mod:`autograder.grading.course`): the scores
into the course's gradebook, the one the formgrader and ``nbgrader export`` read; the
feedback into the course's ``feedback/<student>/<assignment>/``, with the ``timestamp.txt``
and ``submission_secret.txt`` that ``nbgrader release_feedback`` needs; the graded notebooks
into ``autograded/``. ``--db`` names another gradebook (any SQLAlchemy URL nbgrader
accepts, such as ``postgresql://...``). Outside a course, all goes under ``--out``.

Output, under ``--out``:

* ``gradebook.db`` and ``feedback/<student>/<assignment>/<notebook>.html`` (no hidden
  tests), outside a course only;
* ``grades.csv``: one row per submission; a submission that could not be graded has its
  reason in the ``failed`` column;
* ``results/<student>/<assignment>.json``: the per-cell results and messages;
* ``ledger/<student>/<assignment>.json``: written atomically *after* the grade is stored,
  with a hash of the submission and of the assignment's source. A run that is interrupted
  and started again skips exactly the submissions whose ledger entry matches, and grades
  the rest; the gradebook is updated in place, so nothing is counted twice;
* ``failures.json``: submissions that could not be graded, with the reason: grading broke,
  or a notebook could not be read (none handed in, not a notebook). One failure never
  stops the others; the summary lists them, and the next run retries them;
* ``report.html`` (and its numbers, ``report.json``): the class at a glance, from every
  stored result (:mod:`autograder.grading.report`).
"""

from __future__ import annotations

import argparse
import csv
import datetime
import hashlib
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .. import paths
from ..nbgrader_setup import fast_gradebook, quiet_logs
from .course import Course, copy_submission_files, find_course, record_assignments
from .grade_one import add_language_option, add_limit_options, known_assignments, limits_from
from .grader import CourseGrader, GradingError, safe_id, submission_language
from .report import write_report
from .results import NotebookResult
from .sandbox import Limits
from .scheduler import longest_first, run_dask, run_local
from .tasks import Outcome, Task


@dataclass
class Summary:
    """One run of grade-class, as the command line prints it."""

    submissions: int
    graded: int
    """Graded in this run."""
    skipped: int
    """Already graded with the same content by an earlier run."""
    failed: dict[tuple[str, str], str]
    """``(student, assignment)`` -> the reason it could not be graded."""
    rows: int
    """Rows written to grades.csv."""
    seconds: float
    workers: int
    db_url: str
    out: Path
    feedback: Path
    course: Course | None = None


def folder_digest(folder: Path, source: Path) -> str:
    """A hash of every file handed in (names and bytes) and of the assignment's source."""
    h = hashlib.sha256()
    for root in (source, folder):
        h.update(b"\0root\0")
        if root.is_dir():
            for path in sorted(p for p in root.rglob("*") if p.is_file()):
                h.update(str(path.relative_to(root)).encode() + b"\0")
                h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()


def atomic_write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


# -- the gradebook -------------------------------------------------------------------
def store(db_url: str, task: Task, results: dict[str, NotebookResult]) -> None:
    """Write one submission's scores into the gradebook (replacing any earlier ones)."""
    from nbgrader.api import Gradebook

    student = safe_id(task.student)
    # the formgrader counts a submission as graded when these timestamps agree
    stamp = submitted_timestamp(Path(task.folder))
    with Gradebook(db_url) as gb:
        gb.update_or_create_student(student)
        if stamp is None:
            gb.update_or_create_submission(task.assignment, student)
        else:
            gb.update_or_create_submission(task.assignment, student, timestamp=stamp)
        for notebook, result in results.items():
            for cell in result.cells:
                grade = gb.find_grade(cell.grade_id, notebook, task.assignment, student)
                grade.auto_score = cell.points
                grade.manual_score = None
                grade.needs_manual_grade = False
        gb.db.commit()


def short_reason(reason: str) -> str:
    """The last line of a reason (where an error's message is), at most 300 characters."""
    lines = reason.strip().splitlines()
    return lines[-1][:300] if lines else "no reason given"


def submitted_timestamp(folder: Path) -> datetime.datetime | None:
    """The time nbgrader recorded for a submission (its ``timestamp.txt``), if any."""
    from nbgrader.utils import parse_utc

    try:
        return parse_utc((folder / "timestamp.txt").read_text().strip())
    except (OSError, ValueError):
        return None


def write_csv(db_url: str, path: Path, failures: dict[tuple[str, str], str]) -> int:
    """Every submission in the gradebook, and every failure (stored or not), with its reason."""
    from nbgrader.api import Gradebook

    rows = []
    stored = set()
    with Gradebook(db_url) as gb:
        for assignment in gb.assignments:
            for submission in assignment.submissions:
                key = (submission.student.id, assignment.name)
                stored.add(key)
                rows.append(
                    [
                        *key,
                        f"{submission.score:g}",
                        f"{submission.max_score:g}",
                        short_reason(failures[key]) if key in failures else "",
                    ]
                )
    for key, reason in failures.items():
        if key not in stored:
            rows.append([*key, "", "", short_reason(reason)])
    rows.sort()
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["student", "assignment", "score", "max_score", "failed"])
        writer.writerows(rows)
    os.replace(tmp, path)
    return len(rows)


# -- the run -------------------------------------------------------------------------
def find_tasks(submitted: Path, assignments: list[str], language: str | None = None) -> list[Task]:
    """Every submission, with the edition it is graded in (``language``, or its own)."""
    tasks = []
    for student_dir in sorted(p for p in submitted.iterdir() if p.is_dir()):
        for assignment in assignments:
            folder = student_dir / assignment
            if folder.is_dir():
                edition = language or submission_language(folder)
                digest = folder_digest(folder, paths.source_root(edition) / assignment)
                tasks.append(Task(student_dir.name, assignment, str(folder), digest, edition))
    return tasks


def ledger_path(out: Path, task: Task) -> Path:
    return out / "ledger" / safe_id(task.student) / f"{task.assignment}.json"


def already_done(out: Path, task: Task) -> bool:
    path = ledger_path(out, task)
    try:
        return json.loads(path.read_text())["digest"] == task.digest
    except (OSError, ValueError, KeyError):
        return False


def grade_class(
    submitted: Path,
    *,
    out: Path,
    db_url: str | None = None,
    workers: int | None = None,
    assignments: list[str] | None = None,
    limits: Limits | None = None,
    progress: bool = True,
    course: Course | None = None,
    language: str | None = None,
    scheduler: str | None = None,
) -> Summary:
    """Grade every submission not graded yet.

    ``scheduler``: the address of a Dask scheduler (``local``: a LocalCluster of
    ``workers`` processes), instead of worker processes forked here.

    With ``course`` (an instructor's course directory), the gradebook, feedback and graded
    notebooks go where nbgrader keeps them in that course; ``db_url`` still wins. Each
    submission is graded in its own language, or in ``language`` when given.
    """
    from tqdm import tqdm

    quiet_logs()
    fast_gradebook()
    start = time.perf_counter()
    limits = limits or Limits()
    out.mkdir(parents=True, exist_ok=True)
    out = out.resolve()
    db_url = db_url or (course.db_url if course else f"sqlite:///{out / 'gradebook.db'}")
    feedback_root = course.root / course.feedback_directory if course else out / "feedback"
    autograded_root = str(course.root / course.autograded_directory) if course else None
    assignments = assignments or known_assignments()
    tasks = find_tasks(submitted, assignments, language)
    todo = [t for t in tasks if not already_done(out, t)]
    skipped = len(tasks) - len(todo)
    workers = max(1, min(workers or os.cpu_count() or 1, len(todo) or 1))
    failures: dict[tuple[str, str], str] = {}
    graded = 0
    bar = tqdm(
        total=len(tasks),
        initial=skipped,
        unit="submission",
        desc="grading",
        disable=not progress,
        smoothing=0.1,
    )
    used = sorted({t.assignment for t in todo})
    editions = {
        lang: sorted({t.assignment for t in todo if t.language == lang})
        for lang in sorted({t.language for t in todo})
    }
    source = course.root / course.source_directory if course else paths.SOURCE
    todo = longest_first(todo, out / "ledger")
    prepared = False

    def while_grading() -> None:
        nonlocal prepared
        record_assignments(db_url, used, source)
        prepared = True

    def finished(task: Task, outcome: Outcome) -> None:
        nonlocal graded
        _finish(out, db_url, task, outcome, failures, course, feedback_root)
        graded += (safe_id(task.student), task.assignment) not in failures
        bar.update(1)

    templates: dict[str, CourseGrader] = {}
    try:
        if todo and scheduler:
            workers = run_dask(
                todo, address=scheduler, workers=workers, editions=editions, limits=limits,
                on_outcome=finished, while_grading=while_grading,
            )  # fmt: skip
        elif todo:
            # each worker copies these courses (no kernels of their own: workers have theirs)
            for lang, mine in editions.items():
                templates[lang] = CourseGrader(mine, limits, language=lang, warm_kernels=False)
            copies = {lang: (editions[lang], str(t.root)) for lang, t in templates.items()}
            run_local(
                todo, workers=workers, editions=copies, limits=limits,
                feedback_root=str(feedback_root), autograded_root=autograded_root,
                on_outcome=finished, while_grading=while_grading,
            )  # fmt: skip
    except KeyboardInterrupt:
        bar.close()
        print(
            f"\ninterrupted: {graded} submissions stored; run the same command again to "
            "grade the rest (finished ones are skipped)",
            file=sys.stderr,
        )
        raise
    finally:
        for template in templates.values():
            template.close()
    if not prepared:
        record_assignments(db_url, sorted({t.assignment for t in tasks}) or assignments, source)
    bar.close()
    listed = [{"student": s, "assignment": a, "reason": r} for (s, a), r in failures.items()]
    atomic_write(out / "failures.json", json.dumps(listed, indent=2))
    rows = write_csv(db_url, out / "grades.csv", failures)
    try:
        write_report(out)
    except Exception as error:  # the grades are stored: a report that fails does not undo them
        print(f"the class report could not be written: {error!r}", file=sys.stderr)
    return Summary(
        submissions=len(tasks),
        graded=graded,
        skipped=skipped,
        failed=failures,
        rows=rows,
        seconds=time.perf_counter() - start,
        workers=workers,
        db_url=db_url,
        out=out,
        feedback=feedback_root,
        course=course,
    )


def _finish(
    out: Path,
    db_url: str,
    task: Task,
    outcome: Outcome,
    failures: dict,
    course: Course | None = None,
    feedback_root: Path | None = None,
) -> None:
    """Store one outcome: results, gradebook, nbgrader's files beside the feedback, ledger.

    A submission with a notebook that could not be read is stored (it scores 0 there, and
    its feedback page says why) but counts as failed, with that reason, and gets no ledger
    entry: the next run lists it again.
    """
    key = (safe_id(task.student), task.assignment)
    if not outcome.ok:
        failures[key] = outcome.reason
        return
    # from a worker on another machine (Dask): what it could not write here itself
    for name, page in outcome.pages.items():
        atomic_write((feedback_root or out / "feedback") / key[0] / task.assignment / name, page)
    if course is not None:
        for name, text in outcome.notebooks.items():
            atomic_write(course.autograded(*key) / name, text)
    results = outcome.results
    payload = {name: result.to_json() for name, result in results.items()}
    atomic_write(
        out / "results" / key[0] / f"{task.assignment}.json", json.dumps(payload, indent=2)
    )
    store(db_url, task, results)
    if course is not None:
        for folder in (course.feedback(*key), course.autograded(*key)):
            copy_submission_files(Path(task.folder), folder)
    invalid = [f"{name}: {r.message}" for name, r in results.items() if r.status == "invalid"]
    if invalid:
        failures[key] = "could not be graded: " + "; ".join(invalid)
        return
    entry = {
        "digest": task.digest,
        "score": sum(r.score for r in results.values()),
        "max_score": sum(r.max_score for r in results.values()),
        "seconds": outcome.seconds,
    }
    atomic_write(ledger_path(out, task), json.dumps(entry))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder grade-class", description=__doc__)
    parser.add_argument("submitted", type=Path, help="nbgrader's submitted/ folder")
    parser.add_argument("--workers", type=int, help="parallel graders (default: CPU cores)")
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="grade on a Dask cluster (tcp://HOST:8786), or 'local' for a LocalCluster of "
        "--workers processes (docs/scaling.md)",
    )
    parser.add_argument(
        "--db",
        help="gradebook URL (default: the course's gradebook when run in a course directory, "
        "else sqlite:///OUT/gradebook.db)",
    )
    parser.add_argument(
        "--out", type=Path, default=Path("graded"), help="output folder (grades.csv, results)"
    )
    parser.add_argument("--assignment", action="append", help="grade only this (repeatable)")
    parser.add_argument("--no-progress", action="store_true")
    add_language_option(parser)
    add_limit_options(parser, Limits())
    args = parser.parse_args(argv)
    if not args.submitted.is_dir():
        print(f"grading failed: {args.submitted} is not a folder", file=sys.stderr)
        return 2
    try:
        summary = grade_class(
            args.submitted,
            out=args.out,
            db_url=args.db,
            workers=args.workers,
            assignments=args.assignment,
            limits=limits_from(args),
            progress=not args.no_progress,
            course=find_course(),
            language=args.language,
            scheduler=args.scheduler,
        )
    except KeyboardInterrupt:
        return 130
    except GradingError as error:
        print(f"grading failed: {error}", file=sys.stderr)
        return 2
    for line in summary_lines(summary):
        print(line)
    return 1 if summary.failed else 0


def plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def summary_lines(summary: Summary) -> list[str]:
    """What grade-class prints at the end of a run."""
    lines = [
        f"{plural(summary.submissions, 'submission')}: {summary.graded} graded now, "
        f"{summary.skipped} already graded, {len(summary.failed)} failed "
        f"({summary.seconds:.1f} s, {plural(summary.workers, 'worker')})"
    ]
    for (student, assignment), reason in summary.failed.items():
        lines.append(f"FAILED {student}/{assignment}: {short_reason(reason)}")
    course = summary.course
    own = course is not None and summary.db_url == course.db_url
    where = f" (the gradebook of the course in {course.root})" if own and course else ""
    lines.append(f"gradebook: {summary.db_url}{where}")
    lines.append(f"grades:    {summary.out / 'grades.csv'}")
    lines.append(f"feedback:  {summary.feedback}")
    lines.append(f"report:    {summary.out / 'report.html'}")
    return lines
