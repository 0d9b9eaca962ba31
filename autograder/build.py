"""Build the course one way only: ``notebooks/*.py`` -> ``source/`` -> ``release/``.

``source/`` is written by :mod:`autograder.cells`; ``release/`` by nbgrader's own
``generate_assignment``, run in a throw-away course directory so that building never
touches the instructor's gradebook.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

import nbformat
from traitlets.config import Config

from . import course
from .cells import convert


def source_text(topic: str, notebooks: Path = course.NOTEBOOKS) -> str:
    nb = convert((notebooks / f"{topic}.py").read_text(encoding="utf-8"), name=f"{topic}.py")
    return nbformat.writes(nb) + "\n"


def nbgrader_config(root: Path) -> Config:
    """Config for a course directory at ``root`` with its own SQLite gradebook."""
    config = Config()
    config.CourseDirectory.root = str(root)
    config.CourseDirectory.course_id = "torch-losses"
    config.CourseDirectory.db_url = f"sqlite:///{root / 'gradebook.db'}"
    config.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
    config.Execute.timeout = 300
    return config


def nbgrader_api(root: Path, config: Config | None = None):
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory

    config = config or nbgrader_config(root)
    return NbGraderAPI(coursedir=CourseDirectory(config=config), config=config)


def release_texts(sources: dict[str, str]) -> dict[str, str]:
    """Run ``nbgrader generate_assignment`` on source notebooks; return the release texts."""
    out: dict[str, str] = {}
    with tempfile.TemporaryDirectory(prefix="course-build-") as tmp:
        root = Path(tmp)
        for topic, text in sources.items():
            path = course.source_notebook(topic, root / "source")
            path.parent.mkdir(parents=True)
            path.write_text(text, encoding="utf-8")
        api = nbgrader_api(root)
        for topic in sources:
            result = api.generate_assignment(topic, force=True, create=True)
            if not result["success"]:
                raise RuntimeError(f"nbgrader generate_assignment {topic} failed:\n{result['log']}")
            nb = nbformat.read(course.release_notebook(topic, root / "release"), as_version=4)
            out[topic] = nbformat.writes(nb) + "\n"
    return out


def _read(path: Path) -> str | None:
    return path.read_text(encoding="utf-8") if path.exists() else None


def build(
    topics: list[str] | None = None, *, check: bool = False, force: bool = False
) -> list[Path]:
    """Regenerate source and release notebooks; return the paths that were (or would be) stale.

    A release is regenerated only when its source changed, unless ``force`` or ``check``.
    """
    topics = topics or course.topics()
    stale: list[Path] = []
    sources = {t: source_text(t) for t in topics}
    to_release = []
    for topic, text in sources.items():
        path = course.source_notebook(topic)
        if _read(path) != text:
            stale.append(path)
            to_release.append(topic)
        elif force or check or not course.release_notebook(topic).exists():
            to_release.append(topic)
    releases = release_texts({t: sources[t] for t in to_release}) if to_release else {}
    for topic, text in releases.items():
        path = course.release_notebook(topic)
        if _read(path) != text:
            stale.append(path)
    if not check:
        for path in stale:
            topic = path.parent.name
            text = sources[topic] if path.is_relative_to(course.SOURCE) else releases[topic]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        _remove_orphans(topics)
    return stale


def _remove_orphans(topics: list[str]) -> None:
    for root in (course.SOURCE, course.RELEASE):
        if root.exists():
            for folder in root.iterdir():
                if folder.is_dir() and folder.name not in course.topics():
                    shutil.rmtree(folder)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("topics", nargs="*", help="topic names (default: all)")
    parser.add_argument("--check", action="store_true", help="report stale files, write nothing")
    parser.add_argument("--force", action="store_true", help="regenerate every release")
    args = parser.parse_args(argv)
    stale = build(args.topics or None, check=args.check, force=args.force)
    verb = "stale" if args.check else "written"
    for path in stale:
        print(f"{verb}: {path.relative_to(course.ROOT)}")
    if not stale:
        print("course is up to date")
    return 1 if (args.check and stale) else 0


if __name__ == "__main__":
    sys.exit(main())
