"""Build every edition one way only: ``notebooks/*.py`` -> ``source/`` -> ``release/``.

``source/`` is written by :mod:`autograder.authoring.cells`; ``release/`` by nbgrader's own
``generate_assignment``, run in a throw-away course directory so that building never
touches the instructor's gradebook.

Each edition is built from the same notebooks: the English one into ``source/`` and
``release/``, the Chinese one into ``zh/source/`` and ``zh/release/``, its text translated
with the catalogs of ``translations/zh/`` (:mod:`autograder.authoring.translate`), its
cells, code, grade ids and points the English ones. Every notebook carries its language in
its metadata (``course.language``). The build also compiles the messages the checks and the
grader show (``autograder/locale/``, :func:`autograder.authoring.catalogs.compiled`).

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
from . import catalogs, translate
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


def source_notebook(
    topic: str,
    notebooks: Path = paths.NOTEBOOKS,
    language: str = paths.ENGLISH,
    translations: Path = paths.TRANSLATIONS,
) -> nbformat.NotebookNode:
    """The source notebook of one edition, before its stamp."""
    nb = convert((notebooks / f"{topic}.py").read_text(encoding="utf-8"), name=f"{topic}.py")
    if language == paths.ENGLISH:
        translate.set_language(nb, language)
        return nb
    found = catalogs.translations_of(topic, language, translations)
    return translate.translated(nb, found, language)[0]


def source_text(
    topic: str,
    notebooks: Path = paths.NOTEBOOKS,
    language: str = paths.ENGLISH,
    translations: Path = paths.TRANSLATIONS,
) -> str:
    nb = source_notebook(topic, notebooks, language, translations)
    return stamped_text(nb, f"{notebooks.name}/{topic}.py")


def edition_roots(language: str, source: Path, release: Path) -> tuple[Path, Path]:
    """An edition's ``source/`` and ``release/``: the English ones, or under ``<language>/``."""
    if language == paths.ENGLISH:
        return source, release
    return source.parent / language / source.name, release.parent / language / release.name


def release_texts(sources: dict[str, str]) -> dict[str, str]:
    """Run ``nbgrader generate_assignment`` on source notebooks; return the release texts."""
    out: dict[str, str] = {}
    if not sources:
        return out
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
    languages: tuple[str, ...] = paths.LANGUAGES,
    translations: Path = paths.TRANSLATIONS,
    locale: Path = paths.LOCALE,
) -> list[Path]:
    """Regenerate every edition's source and release notebooks, and the compiled messages;
    return the paths that were (or would be) stale.

    ``source`` and ``release`` are the English edition's; another language's are beside
    them (:func:`edition_roots`). A release is regenerated only when its source changed,
    unless ``force`` or ``check``. Raises :class:`EditedOutsideBuild`, writing nothing, when
    a source notebook was changed by hand, unless ``overwrite`` (which discards those changes).
    """
    topics = topics or paths.topics(notebooks)
    sources = {
        language: {t: source_text(t, notebooks, language, translations) for t in topics}
        for language in languages
    }
    edited = [
        path
        for language in languages
        for t in topics
        if (path := paths.source_notebook(t, edition_roots(language, source, release)[0]))
        and (text := _read(path)) is not None
        and text != sources[language][t]
        and edited_outside_build(text)
    ]
    if edited and not overwrite:
        raise EditedOutsideBuild(edited_message(edited, notebooks))
    stale: list[Path] = []
    writes: dict[Path, str | bytes] = {}
    for language in languages:
        source_root, release_root = edition_roots(language, source, release)
        to_release = []
        for topic, text in sources[language].items():
            path = paths.source_notebook(topic, source_root)
            if _read(path) != text:
                writes[path] = text
                to_release.append(topic)
            elif force or check or not paths.release_notebook(topic, release_root).exists():
                to_release.append(topic)
        released = release_texts({t: sources[language][t] for t in to_release})
        for topic, text in released.items():
            path = paths.release_notebook(topic, release_root)
            if _read(path) != text:
                writes[path] = text
    for path, binary in catalogs.compiled(translations, locale).items():
        if (path.read_bytes() if path.exists() else None) != binary:
            writes[path] = binary
    stale = list(writes)
    if not check:
        for path, data in writes.items():
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(data, bytes):
                path.write_bytes(data)
            else:
                path.write_text(data, encoding="utf-8")
        for language in languages:
            _remove_orphans(paths.topics(notebooks), edition_roots(language, source, release))
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
