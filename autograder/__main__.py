"""``python -m autograder grade-one ...`` and ``python -m autograder grade-class ...``."""

from __future__ import annotations

import sys

USAGE = """usage: python -m autograder COMMAND ...

commands:
  grade-one SUBMISSION_DIR [--assignment A ...] [--json OUT.json] [--feedback DIR]
      grade one student's work (laid out like release/); exit 0 all points,
      1 some missing, 2 grading failed
  grade-class SUBMITTED_DIR [--workers N] [--db URL] [--out DIR]
      grade nbgrader's submitted/<student>/<assignment>/ in parallel

Run a command with --help for its options (time, memory, process and output limits).
"""


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in ("-h", "--help"):
        print(USAGE)
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command == "grade-one":
        from .grade_one import main as run
    elif command == "grade-class":
        from .grade_class import main as run
    else:
        print(f"unknown command {command!r}\n\n{USAGE}", file=sys.stderr)
        return 2
    return run(rest)


if __name__ == "__main__":
    sys.exit(main())
