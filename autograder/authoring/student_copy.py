"""Create the student's working copy of ``release/`` without ever overwriting an answer."""

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
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("student", nargs="?", type=Path, default=paths.STUDENT)
    student = parser.parse_args(argv).student.resolve()
    for path in sync(student=student):
        print(f"new in your working copy: {path}")
    print(f"your working copy is {student}/ (existing notebooks are never overwritten)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
