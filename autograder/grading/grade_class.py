"""``python -m autograder grade-class``: grade nbgrader's ``submitted/<student>/<assignment>/``.

Submissions are graded in parallel, each worker process in its own private course
(:class:`autograder.grading.grader.CourseGrader`): ``--workers`` processes on this machine,
or the workers of a Dask cluster (``--scheduler``, :mod:`autograder.grading.scheduler`).
This process alone merges the results into one gradebook (SQLite by default, or any
SQLAlchemy URL nbgrader accepts). Output, under ``--out``:

* ``gradebook.db`` (unless ``--db`` names another), ``grades.csv``;
* ``feedback/<student>/<assignment>/<notebook>.html`` (no hidden tests);
* ``results/<student>/<assignment>.json``: the per-cell results and messages;
* ``ledger/<student>/<assignment>.json``: written atomically *after* the grade is stored,
  with a hash of the submission and of the assignment's source. A run that is interrupted
  and started again skips exactly the submissions whose ledger entry matches, and grades
  the rest; the gradebook is updated in place, so nothing is counted twice;
* ``failures.json``: submissions that could not be graded, with the reason. One failure
  never stops the others; the summary lists them, and the next run retries them;
* ``report.html`` (and its numbers, ``report.json``): the class at a glance, from every
  stored result (:mod:`autograder.grading.report`).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from .. import paths
from ..nbgrader_setup import fast_gradebook, nbgrader_api, nbgrader_config, quiet_logs
from .grade_one import add_limit_options, known_assignments, limits_from
from .grader import CourseGrader, GradingError, safe_id
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
def prepare_gradebook(out: Path, db_url: str, assignments: list[str]) -> None:
    """Record the assignments (notebooks, grade cells) in the gradebook, once."""
    from nbgrader.api import Gradebook, MissingEntry

    root = out / "course"
    config = nbgrader_config(root)
    config.CourseDirectory.db_url = db_url
    api = nbgrader_api(root, config)
    for assignment in assignments:
        with Gradebook(db_url) as gb:
            try:
                gb.find_assignment(assignment)
                continue
            except MissingEntry:
                pass
        target = root / "source" / assignment
        if not target.exists():
            import shutil

            shutil.copytree(paths.SOURCE / assignment, target)
        result = api.generate_assignment(assignment, force=True, create=True)
        if not result["success"]:
            raise GradingError(f"generate_assignment {assignment} failed:\n{result['log']}")


def store(db_url: str, task: Task, results: dict[str, NotebookResult]) -> None:
    """Write one submission's scores into the gradebook (replacing any earlier ones)."""
    from nbgrader.api import Gradebook

    student = safe_id(task.student)
    with Gradebook(db_url) as gb:
        gb.update_or_create_student(student)
        gb.update_or_create_submission(task.assignment, student)
        for notebook, result in results.items():
            for cell in result.cells:
                grade = gb.find_grade(cell.grade_id, notebook, task.assignment, student)
                grade.auto_score = cell.points
                grade.manual_score = None
                grade.needs_manual_grade = False
        gb.db.commit()


def write_csv(db_url: str, path: Path, failures: dict[tuple[str, str], str]) -> int:
    from nbgrader.api import Gradebook

    rows = []
    with Gradebook(db_url) as gb:
        for assignment in gb.assignments:
            for submission in assignment.submissions:
                rows.append(
                    [
                        submission.student.id,
                        assignment.name,
                        f"{submission.score:g}",
                        f"{submission.max_score:g}",
                        "failed" if (submission.student.id, assignment.name) in failures else "",
                    ]
                )
    rows.sort()
    tmp = path.with_suffix(".tmp")
    with open(tmp, "w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(["student", "assignment", "score", "max_score", "failed"])
        writer.writerows(rows)
    os.replace(tmp, path)
    return len(rows)


# -- the run -------------------------------------------------------------------------
def find_tasks(submitted: Path, assignments: list[str]) -> list[Task]:
    tasks = []
    for student_dir in sorted(p for p in submitted.iterdir() if p.is_dir()):
        for assignment in assignments:
            folder = student_dir / assignment
            if folder.is_dir():
                digest = folder_digest(folder, paths.SOURCE / assignment)
                tasks.append(Task(student_dir.name, assignment, str(folder), digest))
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
    scheduler: str | None = None,
) -> Summary:
    """Grade every submission not graded yet.

    ``scheduler``: the address of a Dask scheduler (``local``: a LocalCluster of
    ``workers`` processes), instead of worker processes forked here.
    """
    from tqdm import tqdm

    quiet_logs()
    fast_gradebook()
    start = time.perf_counter()
    limits = limits or Limits()
    out.mkdir(parents=True, exist_ok=True)
    out = out.resolve()
    db_url = db_url or f"sqlite:///{out / 'gradebook.db'}"
    assignments = assignments or known_assignments()
    tasks = find_tasks(submitted, assignments)
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
    todo = longest_first(todo, out / "ledger")
    prepared = False

    def while_grading() -> None:
        nonlocal prepared
        prepare_gradebook(out, db_url, used)
        prepared = True

    def finished(task: Task, outcome: Outcome) -> None:
        nonlocal graded
        _finish(out, db_url, task, outcome, failures)
        graded += outcome.ok
        bar.update(1)

    template = None
    try:
        if todo and scheduler:
            workers = run_dask(
                todo, address=scheduler, workers=workers, assignments=used, limits=limits,
                on_outcome=finished, while_grading=while_grading,
            )  # fmt: skip
        elif todo:
            template = CourseGrader(used, limits, warm_kernels=False)
            run_local(
                todo, workers=workers, assignments=used, limits=limits,
                template_root=str(template.root), feedback_root=str(out / "feedback"),
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
        if template is not None:
            template.close()
    if not prepared:
        prepare_gradebook(out, db_url, sorted({t.assignment for t in tasks}) or assignments)
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
    )


def _finish(out: Path, db_url: str, task: Task, outcome: Outcome, failures: dict) -> None:
    key = (safe_id(task.student), task.assignment)
    if not outcome.ok:
        failures[key] = outcome.reason
        return
    for name, page in outcome.pages.items():  # from a worker on another machine
        atomic_write(out / "feedback" / key[0] / task.assignment / name, page)
    results = outcome.results
    payload = {name: result.to_json() for name, result in results.items()}
    atomic_write(
        out / "results" / key[0] / f"{task.assignment}.json", json.dumps(payload, indent=2)
    )
    store(db_url, task, results)
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
    parser.add_argument("--db", help="gradebook URL (default: sqlite:///OUT/gradebook.db)")
    parser.add_argument("--out", type=Path, default=Path("graded"), help="output folder")
    parser.add_argument("--assignment", action="append", help="grade only this (repeatable)")
    parser.add_argument("--no-progress", action="store_true")
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
            scheduler=args.scheduler,
        )
    except KeyboardInterrupt:
        return 130
    except GradingError as error:
        print(f"grading failed: {error}", file=sys.stderr)
        return 2
    print(
        f"{summary.submissions} submissions: {summary.graded} graded now, "
        f"{summary.skipped} already graded, {len(summary.failed)} failed "
        f"({summary.seconds:.1f} s, {summary.workers} workers)"
    )
    for (student, assignment), reason in summary.failed.items():
        first = reason.strip().splitlines()[-1] if reason.strip() else "no reason given"
        print(f"FAILED {student}/{assignment}: {first[:300]}")
    print(f"gradebook: {summary.db_url}")
    print(f"grades:    {summary.out / 'grades.csv'}")
    print(f"feedback:  {summary.out / 'feedback'}")
    print(f"report:    {summary.out / 'report.html'}")
    return 1 if summary.failed else 0
