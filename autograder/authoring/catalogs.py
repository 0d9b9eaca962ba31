"""The translation catalogs: gettext ``.po`` files, extracted, updated, checked and compiled.

``translations/<language>/`` holds one catalog per notebook (``01_basic_losses.po``: the
notebook's text, the names of the known mistakes and the case labels its checks show,
with those of its topic module ``autograder/checking/topics/<name>.py``), one for the
checking library (``checking.po``: every message a check shows) and one for the grader
and JupyterLab (``grading.po``: the feedback page and Validate's report). A translator
edits them with any gettext editor (Poedit, Lokalize, Emacs' po-mode, a text editor).

The catalogs are handled with Babel, the way ``msgmerge`` handles them:

* ``update`` extracts the English of every catalog (:func:`template`) and merges it into
  the ``.po`` file: a new string arrives untranslated; a changed one keeps its old
  translation, marked *fuzzy*, with the English it was translated from (``#| msgid``);
  a removed one is kept as obsolete (``#~``). A string that another catalog of the same
  language already translates exactly (a notebook renamed or renumbered, a paragraph moved)
  is filled in from there, not fuzzy: the catalogs are each other's compendium;
* ``check`` reports, per catalog, every string untranslated, fuzzy or stale, and every
  translation that does not keep the formulas, code, numbers, placeholders and markdown
  structure of its English (:func:`autograder.authoring.segments.translation_problems`);
  for a notebook's text it names the cell;
* the build compiles what the kernel and the grader read at run time
  (:func:`compiled`): ``autograder/locale/<language>/LC_MESSAGES/checking.mo`` and
  ``grading.mo``. The notebooks themselves are translated by the build from the ``.po``
  files directly (:mod:`autograder.authoring.translate`).

Run ``python -m autograder catalogs update`` after changing the English, then translate,
then ``python -m autograder catalogs check``.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import jupytext
from babel.messages.catalog import Catalog, Message
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po, write_po

from .. import paths
from . import segments
from .cells import convert

CHECKING = "checking"
GRADING = "grading"
LIBRARIES = (CHECKING, GRADING)
PROJECT = "torch-losses-course"
RUNTIME_PREFIX = "autograder/"
BRACE_FORMAT = "python-brace-format"
TEMPLATES, TEMPLATES_ID = "case templates", "*"
"""Where the compiled catalog keeps every label template and its translation, as one JSON
list: gettext looks strings up but cannot list them (:func:`.i18n.case_label` reads it)."""
WIDTH = 76
LANGUAGE_NAMES = {"zh": "Chinese (Simplified)"}
_SOURCES = {
    CHECKING: ("autograder/checking/*.py", "autograder/checking/optim/*.py"),
    GRADING: ("autograder/grading/*.py", "autograder/lab/*.py"),
}
_KIND_NOTES = {
    "markdown": "markdown, in {cell}: keep formulas, `code`, numbers and the markdown marks",
    "comment": "comment lines of code {cell}, without their #",
    "inline comment": "a comment after code in code {cell}",
    segments.MISTAKE: "the name of a known mistake, shown after 'This matches a known mistake:'",
    segments.CASE: "a case's label, shown in quotes when a check fails",
}


def translatable_languages() -> list[str]:
    return [lang for lang in paths.LANGUAGES if lang != paths.ENGLISH]


def topic_module(topic: str, root: Path = paths.ROOT) -> Path:
    """``autograder/checking/topics/<name>.py`` for ``NN_name``."""
    return root / "autograder" / "checking" / "topics" / f"{topic.split('_', 1)[1]}.py"


def catalog_names(notebooks: Path = paths.NOTEBOOKS) -> list[str]:
    return [*LIBRARIES, *paths.topics(notebooks)]


def catalog_path(language: str, name: str, translations: Path = paths.TRANSLATIONS) -> Path:
    return translations / language / f"{name}.po"


# -- the English: what each catalog must translate ------------------------------------
Key = tuple[str, str | None]
"""A message's identity: its English and its gettext context."""


@dataclass
class English:
    """The English of one catalog, and for each string what it is and where it first is."""

    catalog: Catalog
    kinds: dict[Key, str] = field(default_factory=dict)
    """``markdown``, ``comment``, ``inline comment``, ``mistake``, ``case`` or ``message``."""
    places: dict[Key, str] = field(default_factory=dict)
    """For people: ``cell 3 (md-1a2b3c4d)``, or ``file:line``."""

    def add(
        self,
        text: str,
        location: tuple[str, int],
        *,
        kind: str,
        place: str,
        context: str | None = None,
        flags: Iterable[str] = (),
    ) -> None:
        note = _KIND_NOTES.get(kind, "").format(cell=place) or None
        existing = self.catalog.get(text, context)
        if existing is not None:
            if location not in existing.locations:
                existing.locations.append(location)
            if note and note not in existing.auto_comments:
                existing.auto_comments.append(note)
            return
        self.catalog.add(
            text,
            locations=[location],
            context=context,
            auto_comments=[note] if note else [],
            flags=set(flags),
        )
        self.kinds[(text, context)] = kind
        self.places[(text, context)] = place

    def runtime(self, code: str, where: str, first_line: int = 1) -> None:
        """The strings the checks show at run time, found in Python ``code``."""
        for found in segments.runtime_strings(code):
            line = first_line + found.line - 1
            placeholders = found.context is None and segments.placeholders(found.text)
            self.add(
                found.text,
                (where, line),
                kind=found.context or "message",
                place=f"{where}:{line}",
                context=found.context,
                flags=[BRACE_FORMAT] if placeholders else [],
            )

    def module(self, path: Path, root: Path) -> None:
        relative = path.relative_to(root).as_posix() if path.is_relative_to(root) else str(path)
        self.runtime(path.read_text(encoding="utf-8"), relative)


def _cell_lines(text: str) -> list[int]:
    """The 1-based line on which each cell's body starts in a jupytext percent file."""
    lines = text.split("\n")
    return [number + 2 for number, line in enumerate(lines) if line.startswith("# %%")]


def english(name: str, *, notebooks: Path = paths.NOTEBOOKS, root: Path = paths.ROOT) -> English:
    """The English of one catalog, in reading order."""
    found = English(Catalog(project=PROJECT, domain=name, fuzzy=False))
    if name in LIBRARIES:
        for pattern in _SOURCES[name]:
            for path in sorted(root.glob(pattern)):
                found.module(path, root)
        return found
    path = notebooks / f"{name}.py"
    text = path.read_text(encoding="utf-8")
    where = f"notebooks/{name}.py"
    starts = _cell_lines(text)
    cells = jupytext.reads(text, fmt="py:percent").cells
    ids = [cell.id for cell in convert(text, name=f"{name}.py").cells]
    for number, cell in enumerate(cells, start=1):
        start = starts[number - 1] if number - 1 < len(starts) else 1
        place = f"cell {number} ({ids[number - 1]})"
        for unit in segments.units(cell.cell_type, cell.source):
            found.add(unit.text, (where, start + unit.line), kind=unit.kind, place=place)
        if cell.cell_type == "code":
            found.runtime(cell.source, where, start)
    module = topic_module(name, root)
    if module.is_file():
        found.module(module, root)
    return found


def template(name: str, *, notebooks: Path = paths.NOTEBOOKS, root: Path = paths.ROOT) -> Catalog:
    """The English of one catalog as a Babel catalog (a ``.pot`` file's content)."""
    return english(name, notebooks=notebooks, root=root).catalog


# -- reading and writing .po files ----------------------------------------------------
def new_catalog(language: str, name: str) -> Catalog:
    what = f"notebooks/{name}.py" if name not in LIBRARIES else f"the {name} messages"
    header = (
        f"# {LANGUAGE_NAMES.get(language, language)} translation of {what}.\n"
        "# Update after an English change: python -m autograder catalogs update\n"
        "# Check before committing:        python -m autograder catalogs check\n"
        "# Terms: docs/glossary.md; workflow: docs/translating.md"
    )
    return Catalog(
        locale=language,
        domain=name,
        project=PROJECT,
        version="1",
        msgid_bugs_address="the course's issue tracker",
        header_comment=header,
        fuzzy=False,
        language_team=f"{LANGUAGE_NAMES.get(language, language)} <course translators>",
    )


def read(path: Path, language: str) -> Catalog:
    with open(path, "rb") as file:
        return read_po(file, locale=language, domain=path.stem)


def po_bytes(catalog: Catalog) -> bytes:
    out = io.BytesIO()
    write_po(
        out,
        catalog,
        width=WIDTH,
        include_previous=True,
        sort_output=False,
        ignore_obsolete=False,
    )
    return out.getvalue()


def _key(message: Message) -> tuple[str, str | None]:
    return (str(message.id), message.context)


def compendium(language: str, translations: Path = paths.TRANSLATIONS) -> dict:
    """Every finished translation of ``language``, current or obsolete, by (English, context)."""
    found: dict[tuple[str, str | None], str] = {}
    folder = translations / language
    for path in sorted(folder.glob("*.po")) if folder.is_dir() else []:
        catalog = read(path, language)
        for message in [*catalog, *catalog.obsolete.values()]:
            if message.id and message.string and not message.fuzzy:
                found.setdefault(_key(message), str(message.string))
    return found


def updated(
    name: str,
    language: str,
    *,
    notebooks: Path = paths.NOTEBOOKS,
    translations: Path = paths.TRANSLATIONS,
    root: Path = paths.ROOT,
    known: dict | None = None,
) -> Catalog:
    """The catalog as ``update`` leaves it: merged with the English, filled from the others."""
    path = catalog_path(language, name, translations)
    catalog = read(path, language) if path.is_file() else new_catalog(language, name)
    catalog.update(
        template(name, notebooks=notebooks, root=root),
        update_creation_date=False,
        keep_user_comments=True,
    )
    known = compendium(language, translations) if known is None else known
    rewrapped = {(_flat(text), context): string for (text, context), string in known.items()}
    for message in catalog:
        if not message.id:
            continue
        exact = known.get(_key(message)) or rewrapped.get((_flat(message.id), message.context))
        if exact and (not message.string or message.fuzzy):
            message.string = exact
            message.flags.discard("fuzzy")
            message.previous_id = []
    return catalog


def _flat(text: object) -> str:
    """Text with its line breaks and runs of spaces made single spaces: a re-wrapped
    paragraph is the same paragraph, and keeps its translation."""
    return " ".join(str(text).split())


def orphans(
    language: str,
    *,
    notebooks: Path = paths.NOTEBOOKS,
    translations: Path = paths.TRANSLATIONS,
) -> list[Path]:
    """Catalogs of ``language`` with no notebook (or library) left to translate."""
    folder = translations / language
    names = set(catalog_names(notebooks))
    return (
        [p for p in sorted(folder.glob("*.po")) if p.stem not in names] if folder.is_dir() else []
    )


def update(
    language: str,
    names: list[str] | None = None,
    *,
    notebooks: Path = paths.NOTEBOOKS,
    translations: Path = paths.TRANSLATIONS,
    root: Path = paths.ROOT,
) -> list[str]:
    """Bring ``language``'s catalogs up to date with the English; return what changed."""
    names = names or catalog_names(notebooks)
    known = compendium(language, translations)
    report = []
    for name in names:
        path = catalog_path(language, name, translations)
        before = path.read_bytes() if path.is_file() else None
        catalog = updated(
            name, language, notebooks=notebooks, translations=translations, root=root, known=known
        )
        text = po_bytes(catalog)
        if text != before:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(text)
            report.append(
                f"{'updated' if before else 'created'}: {_shown(path)}  ({summary(catalog)})"
            )
    if not names or set(names) == set(catalog_names(notebooks)):
        for orphan in orphans(language, notebooks=notebooks, translations=translations):
            orphan.unlink()
            report.append(
                f"removed: {_shown(orphan)} (no notebook of that name; its translations "
                "filled the catalogs above where the English is the same)"
            )
    return report


# -- checking --------------------------------------------------------------------------
@dataclass
class Counts:
    total: int = 0
    translated: int = 0
    fuzzy: int = 0
    untranslated: int = 0


def counts(catalog: Catalog) -> Counts:
    found = Counts()
    for message in catalog:
        if not message.id:
            continue
        found.total += 1
        if message.fuzzy:
            found.fuzzy += 1
        elif message.string:
            found.translated += 1
        else:
            found.untranslated += 1
    return found


def summary(catalog: Catalog) -> str:
    c = counts(catalog)
    return (
        f"{c.total} strings: {c.translated} translated, {c.fuzzy} fuzzy, "
        f"{c.untranslated} untranslated"
    )


def _short(text: str, width: int = 200) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= width else flat[: width - 3] + "..."


def problems(
    name: str,
    language: str,
    *,
    notebooks: Path = paths.NOTEBOOKS,
    translations: Path = paths.TRANSLATIONS,
    root: Path = paths.ROOT,
) -> list[str]:
    """Everything that keeps one catalog from being finished, one paragraph per problem."""
    path = catalog_path(language, name, translations)
    shown = _shown(path)
    if not path.is_file():
        return [f"{shown}: missing; create it with `python -m autograder catalogs update {name}`"]
    on_disk = read(path, language)
    source = english(name, notebooks=notebooks, root=root)
    found = []
    english_catalog = source.catalog
    stale_new = [m for m in english_catalog if m.id and on_disk.get(m.id, m.context) is None]
    stale_old = [m for m in on_disk if m.id and english_catalog.get(m.id, m.context) is None]
    if stale_new or stale_old:
        found.append(
            f"{shown}: out of date with the English ({len(stale_new)} new or changed strings, "
            f"{len(stale_old)} gone); run `python -m autograder catalogs update {name}`"
        )
    for message in english_catalog:
        if not message.id:
            continue
        entry = on_disk.get(message.id, message.context)
        key = _key(message)
        kind = source.kinds[key]
        where = f"{shown}: {source.places[key]}, {kind}"
        if entry is None:
            closest = _closest(on_disk, str(message.id))
            text = f"{where}: not in the catalog: {_short(message.id)}"
            if closest is not None:
                text += (
                    f"\n  it was translated from different English: {_short(closest.id)}"
                    f"\n  stale translation: {_short(closest.string)}"
                )
            found.append(text)
        elif entry.fuzzy:
            previous = " ".join(entry.previous_id) if entry.previous_id else ""
            text = (
                f"{where}: fuzzy (the English changed since it was translated): "
                f"{_short(message.id)}"
            )
            if previous:
                text += f"\n  translated from: {_short(previous)}"
            text += f"\n  stale translation: {_short(entry.string)}"
            found.append(text)
        elif not entry.string:
            found.append(f"{where}: untranslated: {_short(message.id)}")
        else:
            for problem in segments.translation_problems(kind, str(message.id), str(entry.string)):
                found.append(
                    f"{where}: {problem}\n  English: {_short(message.id)}"
                    f"\n  translation: {_short(entry.string)}"
                )
    return found


def _closest(catalog: Catalog, text: str) -> Message | None:
    """The translated message of ``catalog`` whose English is closest to ``text``."""
    from difflib import get_close_matches

    candidates = {str(m.id).lower().strip(): m for m in catalog if m.id and m.string}
    match = get_close_matches(text.lower().strip(), list(candidates), 1)
    return candidates[match[0]] if match else None


def check(
    language: str,
    names: list[str] | None = None,
    *,
    notebooks: Path = paths.NOTEBOOKS,
    translations: Path = paths.TRANSLATIONS,
    root: Path = paths.ROOT,
) -> list[str]:
    """Problems of ``language``'s catalogs (all, or ``names``); empty when all are finished."""
    found = []
    if not names:
        found += [
            f"{_shown(p)}: no notebook named {p.stem}; run `python -m autograder catalogs update`"
            for p in orphans(language, notebooks=notebooks, translations=translations)
        ]
    for name in names or catalog_names(notebooks):
        found += problems(name, language, notebooks=notebooks, translations=translations, root=root)
    found += runtime_conflicts(language, translations)
    return found


# -- compiling what runs ---------------------------------------------------------------
def _is_runtime(message: Message) -> bool:
    if message.context in (segments.MISTAKE, segments.CASE):
        return True
    return any(file.startswith(RUNTIME_PREFIX) for file, _ in message.locations)


def runtime_catalogs(language: str, translations: Path = paths.TRANSLATIONS) -> dict[str, Catalog]:
    """``{domain: catalog}`` of what runs: the checks' messages (with every notebook's mistake
    names and case labels) and the grader's. Fuzzy and empty translations are left out."""
    folder = translations / language
    out: dict[str, Catalog] = {}
    for domain in LIBRARIES:
        path = folder / f"{domain}.po"
        base = read(path, language) if path.is_file() else new_catalog(language, domain)
        merged = Catalog(locale=language, domain=domain, project=PROJECT, fuzzy=False)
        merged.creation_date = base.creation_date
        merged.revision_date = base.revision_date
        sources = [base]
        if domain == CHECKING:
            sources += (
                [read(p, language) for p in sorted(folder.glob("*.po")) if p.stem not in LIBRARIES]
                if folder.is_dir()
                else []
            )
        for index, catalog in enumerate(sources):
            for message in catalog:
                if not message.id or not message.string or message.fuzzy:
                    continue
                if index and not _is_runtime(message):
                    continue
                if merged.get(message.id, message.context) is None:
                    merged.add(message.id, message.string, context=message.context)
        if domain == CHECKING:
            templates = [
                [str(m.id), str(m.string)]
                for m in merged
                if m.id and m.context == segments.CASE and segments.fields(str(m.id))
            ]
            merged.add(TEMPLATES_ID, json.dumps(templates, ensure_ascii=False), context=TEMPLATES)
        out[domain] = merged
    return out


def runtime_conflicts(language: str, translations: Path = paths.TRANSLATIONS) -> list[str]:
    """Mistake names or case labels translated two ways in two catalogs (one would be lost)."""
    seen: dict[tuple[str, str | None], tuple[str, str]] = {}
    found = []
    folder = translations / language
    for path in sorted(folder.glob("*.po")) if folder.is_dir() else []:
        for message in read(path, language):
            if not message.id or not message.string or message.fuzzy or not _is_runtime(message):
                continue
            key = _key(message)
            if key in seen and seen[key][1] != message.string:
                found.append(
                    f"{_shown(path)}: {_short(message.id)!r} is translated differently in "
                    f"{seen[key][0]}: the checks show one translation for both"
                )
            seen.setdefault(key, (path.name, str(message.string)))
    return found


def mo_path(language: str, domain: str, locale: Path = paths.LOCALE) -> Path:
    return locale / language / "LC_MESSAGES" / f"{domain}.mo"


def compiled(
    translations: Path = paths.TRANSLATIONS, locale: Path = paths.LOCALE
) -> dict[Path, bytes]:
    """The ``.mo`` files the build writes: ``{path: content}``, for every translated language."""
    out = {}
    for language in translatable_languages():
        if not (translations / language).is_dir():
            continue
        for domain, catalog in runtime_catalogs(language, translations).items():
            data = io.BytesIO()
            write_mo(data, catalog, use_fuzzy=False)
            out[mo_path(language, domain, locale)] = data.getvalue()
    return out


def translations_of(
    name: str, language: str, translations: Path = paths.TRANSLATIONS
) -> dict[str, str]:
    """``{English: translation}`` of a catalog's finished text (no context, not fuzzy)."""
    path = catalog_path(language, name, translations)
    if not path.is_file():
        return {}
    return {
        str(m.id): str(m.string)
        for m in read(path, language)
        if m.id and m.string and not m.fuzzy and not m.context
    }


def _shown(path: Path) -> str:
    return str(path.relative_to(paths.ROOT)) if path.is_relative_to(paths.ROOT) else str(path)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m autograder catalogs",
        description="Translation catalogs (translations/<language>/*.po): update them after "
        "an English change, check them before committing.",
    )
    parser.add_argument("action", choices=("update", "check", "stats"))
    parser.add_argument(
        "names",
        nargs="*",
        help="catalogs: a notebook's name (01_basic_losses), checking or grading (default: all)",
    )
    parser.add_argument(
        "--language", choices=translatable_languages(), default=translatable_languages()[0]
    )
    args = parser.parse_args(argv)
    unknown = sorted(set(args.names) - set(catalog_names()))
    if unknown:
        print(f"unknown catalogs {unknown}; one of {catalog_names()}", file=sys.stderr)
        return 2
    if args.action == "update":
        for line in update(args.language, args.names or None) or ["catalogs are up to date"]:
            print(line)
        return 0
    for name in args.names or catalog_names():
        path = catalog_path(args.language, name)
        if path.is_file():
            print(f"{_shown(path)}: {summary(read(path, args.language))}")
    if args.action == "stats":
        return 0
    found = check(args.language, args.names or None)
    for problem in found:
        print(problem, file=sys.stderr)
    print(f"{len(found)} problems" if found else "every string is translated and checked")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
