"""Create the student's working copy of ``release/`` without ever overwriting an answer."""

from __future__ import annotations

import shutil
from pathlib import Path

from . import course


def sync(release: Path = course.RELEASE, student: Path = course.STUDENT) -> list[Path]:
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


def main() -> None:
    copied = sync()
    for path in copied:
        print(f"new in your working copy: {path.relative_to(course.ROOT)}")
    print(f"your working copy is {course.STUDENT.relative_to(course.ROOT)}/ (never overwritten)")


if __name__ == "__main__":
    main()
