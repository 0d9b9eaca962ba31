"""The course's command line: ``python -m autograder COMMAND ...``."""

from __future__ import annotations

import sys
from collections.abc import Callable
from importlib import import_module

# command -> (module with a ``main(argv) -> int``, or ``module:function``; one line of help)
COMMANDS: dict[str, tuple[str, str]] = {
    "build": (
        "autograder.authoring.build",
        "regenerate source/ and release/ (and zh/) from notebooks/ (--check: report, write "
        "nothing)",
    ),
    "catalogs": (
        "autograder.authoring.catalogs",
        "translation catalogs: update (after an English change), check, stats",
    ),
    "student-copy": (
        "autograder.authoring.student_copy",
        "copy release/ into the student's working copy, never overwriting a notebook "
        "(--language zh: zh/release/ into zh/student/)",
    ),
    "lab": (
        "autograder.lab.modes:lab_main",
        "start JupyterLab in a folder with one mode's tools (--mode self-study, student, "
        "instructor)",
    ),
    "join": (
        "autograder.lab.modes:join_main",
        "connect a student's folder to a class's exchange (writes its nbgrader_config.py)",
    ),
    "course-setup": (
        "autograder.grading.course",
        "prepare the course directory before the first release: the exchange and the gradebook",
    ),
    "grade-one": (
        "autograder.grading.grade_one",
        "grade one student's work (laid out like release/); exit 0 all points, "
        "1 some missing, 2 grading failed",
    ),
    "grade-class": (
        "autograder.grading.grade_class",
        "grade nbgrader's submitted/<student>/<assignment>/ in parallel",
    ),
}


def usage() -> str:
    lines = ["usage: python -m autograder COMMAND ...", "", "commands:"]
    for name, (_, help_text) in COMMANDS.items():
        lines.append(f"  {name:<13} {help_text}")
    lines += ["", "Run a command with --help for its options."]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(usage())
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command not in COMMANDS:
        print(f"unknown command {command!r}\n\n{usage()}", file=sys.stderr)
        return 2
    module, _, function = COMMANDS[command][0].partition(":")
    run: Callable[[list[str]], int | None] = getattr(import_module(module), function or "main")
    return run(rest) or 0


if __name__ == "__main__":
    sys.exit(main())
