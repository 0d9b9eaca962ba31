"""``python -m autograder grade-one``: grade one student's work, for CI.

The submission is laid out like ``release/``: ``SUBMISSION_DIR/<assignment>/<notebook>.ipynb``.
Each assignment is graded in the edition it was handed in (English, or Chinese from
``zh/release/``: the notebooks say which), so its messages and feedback come out in that
language; ``--language`` grades every assignment as one edition instead.
Progress goes to stderr as each notebook is graded; the report, to stdout at the end.
Exit status: 0 when every point is earned, 1 when some are missing, 2 when grading failed.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path

from .. import paths
from .grader import CourseGrader, GradingError, submission_language
from .results import CellResult, NotebookResult, Results, results_json, total
from .sandbox import Limits


def add_limit_options(parser: argparse.ArgumentParser, defaults: Limits) -> None:
    group = parser.add_argument_group("limits for each notebook's kernel")
    group.add_argument("--cell-timeout", type=int, default=defaults.cell_timeout, metavar="S")
    group.add_argument(
        "--notebook-timeout", type=int, default=defaults.notebook_timeout, metavar="S"
    )
    group.add_argument("--memory-mb", type=int, default=defaults.memory_mb, metavar="MB")
    group.add_argument(
        "--max-procs", type=int, default=defaults.max_procs, help="extra processes/threads"
    )
    group.add_argument("--output-bytes", type=int, default=defaults.output_bytes, metavar="N")
    group.add_argument("--allow-network", action="store_true", help="keep the kernel's network")
    group.add_argument("--threads", type=int, default=defaults.threads, help="torch threads")


def add_language_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--language",
        choices=paths.LANGUAGES,
        help="grade every submission as this edition, its messages and feedback in this "
        "language (default: each submission's own, from its notebooks)",
    )


def limits_from(args: argparse.Namespace) -> Limits:
    return Limits(
        cell_timeout=args.cell_timeout,
        notebook_timeout=args.notebook_timeout,
        memory_mb=args.memory_mb,
        max_procs=args.max_procs,
        output_bytes=args.output_bytes,
        network=args.allow_network,
        threads=args.threads,
    )


def known_assignments(source: Path = paths.SOURCE) -> list[str]:
    return sorted(p.name for p in source.iterdir() if p.is_dir() and any(p.glob("*.ipynb")))


def choose_assignments(folder: Path, wanted: list[str] | None) -> list[str]:
    known = known_assignments()
    if wanted:
        unknown = sorted(set(wanted) - set(known))
        if unknown:
            raise GradingError(f"unknown assignments {unknown}; this course has {known}")
        return list(dict.fromkeys(wanted))
    return [a for a in known if (folder / a).is_dir()]


def cell_line(assignment: str, result: NotebookResult, cell: CellResult) -> str:
    where = f"{assignment}/{result.notebook}.ipynb {cell.grade_id}"
    mark = "ok  " if cell.passed else "FAIL"
    line = f"{mark} {where:<60} {cell.points:g} / {cell.max_points:g}"
    if not cell.passed and cell.message:
        first = cell.message.strip().splitlines()[0]
        line += f"  {first[:160]}"
    return line


def report(results: Results) -> list[str]:
    lines = []
    for assignment, notebooks in results.items():
        for result in notebooks.values():
            if result.status != "graded" or result.message:
                lines.append(f"note {assignment}/{result.notebook}.ipynb: {result.message}")
            for cell in result.cells:
                lines.append(cell_line(assignment, result, cell))
            for flag in result.review:
                lines.append(f"review {assignment}/{result.notebook}.ipynb {flag}")
            for grade_id, names in result.restored.items():
                shown = ", ".join(names[:4]) + (" ..." if len(names) > 4 else "")
                lines.append(f"note {grade_id}: restored before its tests: {shown}")
    held = next((r.limits for n in results.values() for r in n.values() if r.limits), None)
    if held:
        lines.append("limits: " + "; ".join(f"{k}: {v}" for k, v in held.items()))
    score, max_score = total(results)
    lines.append(f"score: {score:g} / {max_score:g}")
    return lines


def grade_one(
    folder: Path,
    assignments: list[str] | None = None,
    *,
    limits: Limits | None = None,
    feedback: Path | None = None,
    student: str = "student",
    progress: Callable[[str], None] | None = None,
    language: str | None = None,
) -> Results:
    """Grade each assignment folder of ``folder``; ``progress`` hears of each as it goes.

    Each is graded in its own language (:func:`.grader.submission_language`), or in
    ``language`` when given.
    """
    say = progress or (lambda line: None)
    chosen = choose_assignments(folder, assignments)
    if not chosen:
        raise GradingError(
            f"no assignment folder in {folder}; expected one of {known_assignments()}"
        )
    editions = {a: language or submission_language(folder / a) for a in chosen}
    results: Results = {}
    number = 0
    for edition in sorted(set(editions.values())):
        mine = [a for a in chosen if editions[a] == edition]
        start = time.perf_counter()
        say(f"preparing the grader for {len(mine)} assignment(s) ({edition})")
        with CourseGrader(mine, limits, language=edition) as grader:
            say(f"grader ready ({time.perf_counter() - start:.1f} s)")
            for assignment in mine:
                number += 1
                began = time.perf_counter()
                say(f"[{number}/{len(chosen)}] grading {assignment} ...")
                results[assignment] = grader.grade(
                    student,
                    assignment,
                    folder / assignment,
                    feedback=feedback / assignment if feedback else None,
                )
                score, max_score = total({assignment: results[assignment]})
                say(
                    f"[{number}/{len(chosen)}] {assignment}: {score:g} / {max_score:g} "
                    f"({time.perf_counter() - began:.1f} s)"
                )
    return {a: results[a] for a in chosen}


def _to_stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m autograder grade-one", description=__doc__)
    parser.add_argument("submission", type=Path, help="folder laid out like release/")
    parser.add_argument("--assignment", action="append", help="grade only this (repeatable)")
    parser.add_argument("--json", type=Path, help="write per-notebook, per-cell results here")
    parser.add_argument("--feedback", type=Path, help="write HTML feedback here")
    parser.add_argument(
        "--quiet", action="store_true", help="no progress lines on stderr, only the report"
    )
    add_language_option(parser)
    add_limit_options(parser, Limits())
    args = parser.parse_args(argv)
    try:
        if not args.submission.is_dir():
            raise GradingError(f"{args.submission} is not a folder")
        results = grade_one(
            args.submission,
            args.assignment,
            limits=limits_from(args),
            feedback=args.feedback,
            progress=None if args.quiet else _to_stderr,
            language=args.language,
        )
    except GradingError as error:
        print(f"grading failed: {error}", file=sys.stderr)
        return 2
    except Exception:  # a bug or a broken installation: still "grading failed", not "points"
        traceback.print_exc()
        print("grading failed: unexpected error (above)", file=sys.stderr)
        return 2
    for line in report(results):
        print(line)
    score, max_score = total(results)
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        payload = {"score": score, "max_score": max_score, "assignments": results_json(results)}
        args.json.write_text(json.dumps(payload, indent=2) + "\n")
    return 0 if score >= max_score else 1
