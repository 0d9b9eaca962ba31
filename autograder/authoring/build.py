"""Build the course one way only: ``notebooks/*.py`` -> ``source/`` -> ``release/``.

``source/`` is written by :mod:`autograder.authoring.cells`; ``release/`` by nbgrader's own
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

from .. import paths
from ..nbgrader_setup import fast_gradebook, nbgrader_api
from .cells import convert


def source_text(topic: str, notebooks: Path = paths.NOTEBOOKS) -> str:
    nb = convert((notebooks / f"{topic}.py").read_text(encoding="utf-8"), name=f"{topic}.py")
    return nbformat.writes(nb) + "\n"


def release_texts(sources: dict[str, str]) -> dict[str, str]:
    """Run ``nbgrader generate_assignment`` on source notebooks; return the release texts."""
    out: dict[str, str] = {}
    fast_gradebook()
    with tempfile.TemporaryDirectory(prefix="course-build-") as tmp:
        root = Path(tmp)
        for topic, text in sources.items():
            path = paths.source_notebook(topic, root / "source")
            path.parent.mkdir(parents=True)
            path.write_text(text, encoding="utf-8")
        api = nbgrader_api(root)
        for topic in sources:
            result = api.generate_assignment(topic, force=True, create=True)
            if not result["success"]:
                raise RuntimeError(f"nbgrader generate_assignment {topic} failed:\n{result['log']}")
            nb = nbformat.read(paths.release_notebook(topic, root / "release"), as_version=4)
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
    topics = topics or paths.topics()
    stale: list[Path] = []
    sources = {t: source_text(t) for t in topics}
    to_release = []
    for topic, text in sources.items():
        path = paths.source_notebook(topic)
        if _read(path) != text:
            stale.append(path)
            to_release.append(topic)
        elif force or check or not paths.release_notebook(topic).exists():
            to_release.append(topic)
    releases = release_texts({t: sources[t] for t in to_release}) if to_release else {}
    for topic, text in releases.items():
        path = paths.release_notebook(topic)
        if _read(path) != text:
            stale.append(path)
    if not check:
        for path in stale:
            topic = path.parent.name
            text = sources[topic] if path.is_relative_to(paths.SOURCE) else releases[topic]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        _remove_orphans(topics)
    return stale


def _remove_orphans(topics: list[str]) -> None:
    for root in (paths.SOURCE, paths.RELEASE):
        if root.exists():
            for folder in root.iterdir():
                if folder.is_dir() and folder.name not in paths.topics():
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
        print(f"{verb}: {path.relative_to(paths.ROOT)}")
    if not stale:
        print("course is up to date")
    return 1 if (args.check and stale) else 0


if __name__ == "__main__":
    sys.exit(main())
