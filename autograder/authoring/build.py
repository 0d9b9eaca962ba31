"""Build the course one way only: ``notebooks/*.py`` -> ``source/`` -> ``release/``.

``source/`` is written by :mod:`autograder.authoring.cells`; ``release/`` by nbgrader's own
``generate_assignment``, run in a throw-away course directory so that building never
touches the instructor's gradebook.

Every source notebook carries a stamp in its metadata: the hash of the text the build
wrote. A source notebook whose text no longer matches its stamp was changed outside the
build (edited, or run in Jupyter, which saves outputs into it); the build refuses to
overwrite it and says where the change belongs: ``notebooks/``.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
import tempfile
from pathlib import Path

import nbformat

from .. import paths
from ..nbgrader_setup import fast_gradebook, nbgrader_api
from .cells import convert

STAMP = "autograder_build"
"""The notebook metadata key of the stamp: ``{"from": "notebooks/X.py", "sha256": ...}``."""


class EditedOutsideBuild(RuntimeError):
    """Generated notebooks were changed by hand; building would lose those changes."""


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def stamped_text(nb: nbformat.NotebookNode, origin: str) -> str:
    """The notebook as the build writes it: its text, with that text's hash in its metadata."""
    nb.metadata.pop(STAMP, None)
    nb.metadata[STAMP] = {"from": origin, "sha256": _sha256(nbformat.writes(nb))}
    return nbformat.writes(nb) + "\n"


def edited_outside_build(text: str) -> bool:
    """Whether a generated notebook's text differs from what the build wrote.

    A notebook without a stamp was written before stamps existed: it counts as the build's.
    """
    try:
        nb = nbformat.reads(text, as_version=4)
    except Exception:
        return True
    stamp = nb.metadata.pop(STAMP, None)
    if not isinstance(stamp, dict):
        return False
    return _sha256(nbformat.writes(nb)) != stamp.get("sha256")


def source_text(topic: str, notebooks: Path = paths.NOTEBOOKS) -> str:
    nb = convert((notebooks / f"{topic}.py").read_text(encoding="utf-8"), name=f"{topic}.py")
    return stamped_text(nb, f"{notebooks.name}/{topic}.py")


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
            nb.metadata.pop(STAMP, None)  # the stamp is the source's; students need none
            out[topic] = nbformat.writes(nb) + "\n"
    return out


def _read(path: Path) -> str | None:
    return path.read_text(encoding="utf-8") if path.exists() else None


def build(
    topics: list[str] | None = None,
    *,
    check: bool = False,
    force: bool = False,
    overwrite: bool = False,
    notebooks: Path = paths.NOTEBOOKS,
    source: Path = paths.SOURCE,
    release: Path = paths.RELEASE,
) -> list[Path]:
    """Regenerate source and release notebooks; return the paths that were (or would be) stale.

    A release is regenerated only when its source changed, unless ``force`` or ``check``.
    Raises :class:`EditedOutsideBuild`, writing nothing, when a source notebook was changed
    by hand, unless ``overwrite`` (which discards those changes).
    """
    topics = topics or paths.topics(notebooks)
    stale: list[Path] = []
    sources = {t: source_text(t, notebooks) for t in topics}
    edited = [
        paths.source_notebook(t, source)
        for t in topics
        if (text := _read(paths.source_notebook(t, source))) is not None
        and text != sources[t]
        and edited_outside_build(text)
    ]
    if edited and not overwrite:
        raise EditedOutsideBuild(edited_message(edited, notebooks))
    to_release = []
    for topic, text in sources.items():
        path = paths.source_notebook(topic, source)
        if _read(path) != text:
            stale.append(path)
            to_release.append(topic)
        elif force or check or not paths.release_notebook(topic, release).exists():
            to_release.append(topic)
    releases = release_texts({t: sources[t] for t in to_release}) if to_release else {}
    for topic, text in releases.items():
        path = paths.release_notebook(topic, release)
        if _read(path) != text:
            stale.append(path)
    if not check:
        for path in stale:
            topic = path.parent.name
            text = sources[topic] if path.is_relative_to(source) else releases[topic]
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
        _remove_orphans(paths.topics(notebooks), (source, release))
    return stale


def edited_message(edited: list[Path], notebooks: Path = paths.NOTEBOOKS) -> str:
    lines = ["these generated notebooks were changed outside the build:"]
    for path in edited:
        lines.append(f"  {_shown(path)}: authored in {_shown(notebooks / (path.stem + '.py'))}")
    lines += [
        "Running a source notebook in Jupyter saves its outputs into it, and an edit made there",
        "would be lost at the next build. Make the change in notebooks/, then discard the",
        "generated file's changes (git checkout -- source/) or build with --overwrite.",
    ]
    return "\n".join(lines)


def _shown(path: Path) -> str:
    return str(path.relative_to(paths.ROOT)) if path.is_relative_to(paths.ROOT) else str(path)


def _remove_orphans(topics: list[str], roots: tuple[Path, ...]) -> None:
    for root in roots:
        if root.exists():
            for folder in root.iterdir():
                if folder.is_dir() and folder.name not in topics:
                    shutil.rmtree(folder)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("topics", nargs="*", help="topic names (default: all)")
    parser.add_argument("--check", action="store_true", help="report stale files, write nothing")
    parser.add_argument("--force", action="store_true", help="regenerate every release")
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help="discard changes made to source/ outside the build",
    )
    args = parser.parse_args(argv)
    try:
        stale = build(
            args.topics or None, check=args.check, force=args.force, overwrite=args.overwrite
        )
    except EditedOutsideBuild as error:
        print(f"build refused: {error}", file=sys.stderr)
        return 1
    verb = "stale" if args.check else "written"
    for path in stale:
        print(f"{verb}: {_shown(path)}")
    if not stale:
        print("course is up to date")
    return 1 if (args.check and stale) else 0


if __name__ == "__main__":
    sys.exit(main())
