"""Create the student's working copy of ``release/`` without ever overwriting an answer.

``--language zh`` copies the Chinese edition (``zh/release/``) into its own working copy,
``zh/student/``: the two editions never share a folder, so switching never mixes them.
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

from .. import paths


def sync(release: Path = paths.RELEASE, student: Path = paths.STUDENT) -> list[Path]:
    """Copy each release file that the working copy lacks; return what was copied."""
    copied = []
    for src in sorted(release.rglob("*")):
        if src.is_file():
            dst = student / src.relative_to(release)
            if not dst.exists():
                dst.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(src, dst)
                copied.append(dst)
    return copied


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "student", nargs="?", type=Path, help="the working copy (default: the edition's student/)"
    )
    parser.add_argument("--language", choices=paths.LANGUAGES, default=paths.ENGLISH)
    args = parser.parse_args(argv)
    student = (args.student or paths.student_root(args.language)).resolve()
    for path in sync(paths.release_root(args.language), student):
        print(f"new in your working copy: {path}")
    print(f"your working copy is {student}/ (existing notebooks are never overwritten)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
