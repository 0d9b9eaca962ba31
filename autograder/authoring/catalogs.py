"""The translation catalogs: gettext ``.po`` files, extracted, updated, checked and compiled.

``translations/<language>/`` holds one catalog per notebook (``01_basic_losses.po``: the
notebook's text, the names of the known mistakes and the case labels its checks show,
with those of its topic module ``autograder/checking/topics/<name>.py``), one for the
checking library (``checking.po``: every message a check shows) and one for the grader
and JupyterLab (``grading.po``: the feedback page and Validate's report). A translator
edits them with any gettext editor (Poedit, Lokalize, Emacs' po-mode, a text editor).

The files are read and written with polib, which keeps everything a gettext editor puts in
them (flags, translator comments, the previous English of a fuzzy string, obsolete
strings), and merged the way GNU ``msgmerge`` merges them:

* ``update`` extracts the English of every catalog (:func:`english`) and merges it into
  the ``.po`` file (:func:`merged`): a new string arrives untranslated; a changed one keeps
  its old translation, marked *fuzzy*, with the English it was translated from
  (``#| msgid``); a removed one is kept as obsolete (``#~``). A string that another catalog
  of the same language already translates (a notebook renamed or renumbered, a paragraph
  moved or re-wrapped) is filled in from there, not fuzzy: the catalogs are each other's
  compendium;
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
import datetime
import difflib
import json
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import jupytext
import polib

from .. import paths
from . import segments
from .cells import convert

CHECKING = "checking"
GRADING = "grading"
LIBRARIES = (CHECKING, GRADING)
PROJECT = "torch-losses-course"
RUNTIME_PREFIX = "autograder/"
BRACE_FORMAT = "python-brace-format"
FUZZY = "fuzzy"
TEMPLATES, TEMPLATES_ID = "case templates", "*"
"""Where the compiled catalog keeps every label template and its translation, as one JSON
list: gettext looks strings up but cannot list them (:func:`.i18n.case_label` reads it)."""
WIDTH = 79
CUTOFF = 0.6
"""How alike a changed English string must be to a removed one to inherit its translation
(difflib's ratio, as msgmerge's fuzzy matching)."""
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
    segments.CASE: "a case's label, shown in quotes when a check fails; keep each {...} field",
    "message": "a message the checks show; keep each {...} placeholder",
}

Key = tuple[str, str | None]
"""A string's identity: its English and its gettext context."""


def translatable_languages() -> list[str]:
    return [lang for lang in paths.LANGUAGES if lang != paths.ENGLISH]


def topic_module(topic: str, root: Path = paths.ROOT) -> Path:
    """``autograder/checking/topics/<name>.py`` for ``NN_name``."""
    return root / "autograder" / "checking" / "topics" / f"{topic.split('_', 1)[1]}.py"


def catalog_names(notebooks: Path = paths.NOTEBOOKS) -> list[str]:
    return [*LIBRARIES, *paths.topics(notebooks)]


def catalog_path(language: str, name: str, translations: Path = paths.TRANSLATIONS) -> Path:
    return translations / language / f"{name}.po"


def key(entry: polib.POEntry) -> Key:
    return (entry.msgid, entry.msgctxt or None)


# -- the English: what each catalog must translate ------------------------------------
@dataclass
class English:
    """The English of one catalog in reading order, and for each string what it is and where."""

    entries: dict[Key, polib.POEntry] = field(default_factory=dict)
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
        note = _KIND_NOTES.get(kind, "").replace("{cell}", place)
        where = (location[0], str(location[1]))
        existing = self.entries.get((text, context))
        if existing is not None:
            if where not in existing.occurrences:
                existing.occurrences.append(where)
            if note and note not in existing.comment.split("\n"):
                existing.comment = "\n".join(filter(None, [existing.comment, note]))
            return
        self.entries[(text, context)] = polib.POEntry(
            msgid=text,
            msgstr="",
            msgctxt=context,
            occurrences=[where],
            comment=note,
            flags=list(flags),
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
    """The English of one catalog: a notebook's text and runtime strings, or a library's."""
    found = English()
    if name in LIBRARIES:
        for pattern in _SOURCES[name]:
            for path in sorted(root.glob(pattern)):
                found.module(path, root)
        return found
    text = (notebooks / f"{name}.py").read_text(encoding="utf-8")
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


# -- reading, merging and writing .po files -------------------------------------------
def new_catalog(language: str, name: str) -> polib.POFile:
    what = f"notebooks/{name}.py" if name not in LIBRARIES else f"the {name} messages"
    team = LANGUAGE_NAMES.get(language, language)
    po = polib.POFile(wrapwidth=WIDTH)
    po.header = (
        f"{team} translation of {what}.\n"
        "Update after an English change: python -m autograder catalogs update\n"
        "Check before committing:        python -m autograder catalogs check\n"
        "Terms: docs/glossary.md; how to translate: docs/translating.md"
    )
    now = datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%d %H:%M+0000")
    po.metadata = {
        "Project-Id-Version": PROJECT,
        "Report-Msgid-Bugs-To": "the course's issue tracker",
        "POT-Creation-Date": now,
        "PO-Revision-Date": now,
        "Last-Translator": "",
        "Language-Team": f"{team} <course translators>",
        "Language": language,
        "MIME-Version": "1.0",
        "Content-Type": "text/plain; charset=UTF-8",
        "Content-Transfer-Encoding": "8bit",
        "Plural-Forms": "nplurals=1; plural=0;",
    }
    return po


def read(path: Path) -> polib.POFile:
    return polib.pofile(str(path), wrapwidth=WIDTH)


def po_text(po: polib.POFile) -> str:
    return str(po) + ("" if str(po).endswith("\n") else "\n")


def _flat(text: object) -> str:
    """Text with its line breaks and runs of spaces made single spaces: a re-wrapped
    paragraph is the same paragraph, and keeps its translation."""
    return " ".join(str(text).split())


def finished(entry: polib.POEntry) -> bool:
    return bool(entry.msgstr) and FUZZY not in entry.flags and not entry.obsolete


def compendium(language: str, translations: Path = paths.TRANSLATIONS) -> dict[Key, str]:
    """Every finished translation of ``language``, current or obsolete, by its English;
    also by its English with the line breaks made spaces."""
    found: dict[Key, str] = {}
    folder = translations / language
    for path in sorted(folder.glob("*.po")) if folder.is_dir() else []:
        for entry in read(path):
            if entry.msgid and entry.msgstr and FUZZY not in entry.flags:
                found.setdefault(key(entry), entry.msgstr)
                found.setdefault((_flat(entry.msgid), entry.msgctxt or None), entry.msgstr)
    return found


def merged(
    old: polib.POFile | None, english: English, new: polib.POFile, known: Mapping[Key, str]
) -> polib.POFile:
    """``new`` (an empty catalog with its header) filled as msgmerge fills it.

    A string the old catalog translates keeps its translation (and its fuzzy flag, if
    any); else one the other catalogs translate exactly (``known``) gets theirs; else the
    removed string of the old catalog most like it lends its translation, *fuzzy*, with its
    English as the previous one. Old strings left over become obsolete.
    """
    current = {key(e): e for e in (old or []) if not e.obsolete and e.msgid}
    obsolete = {key(e): e for e in (old or []) if e.obsolete and e.msgid}
    removed = [e for k, e in current.items() if k not in english.entries and e.msgstr]
    lent: set[Key] = set()
    for k, template in english.entries.items():
        entry = polib.POEntry(
            msgid=template.msgid,
            msgstr="",
            msgctxt=template.msgctxt,
            occurrences=list(template.occurrences),
            comment=template.comment,
            flags=list(template.flags),
        )
        before = current.get(k) or obsolete.get(k)
        exact = known.get(k) or known.get((_flat(template.msgid), template.msgctxt or None))
        if before is not None and before.msgstr:
            entry.msgstr, entry.tcomment = before.msgstr, before.tcomment
            if FUZZY in before.flags and not exact:
                entry.flags.append(FUZZY)
                entry.previous_msgid = before.previous_msgid
            elif FUZZY in before.flags and exact:
                entry.msgstr = exact
        elif exact:
            entry.msgstr = exact
        else:
            alike = [e for e in removed if (e.msgctxt or None) == k[1] and key(e) not in lent]
            match = difflib.get_close_matches(
                template.msgid, [e.msgid for e in alike], n=1, cutoff=CUTOFF
            )
            if match:
                source = next(e for e in alike if e.msgid == match[0])
                lent.add(key(source))
                entry.msgstr, entry.tcomment = source.msgstr, source.tcomment
                entry.flags.append(FUZZY)
                entry.previous_msgid = source.msgid
        new.append(entry)
    for k, entry in [*current.items(), *obsolete.items()]:
        if k in english.entries or k in lent or not entry.msgstr:
            continue
        kept = polib.POEntry(
            msgid=entry.msgid, msgstr=entry.msgstr, msgctxt=entry.msgctxt, obsolete=True
        )
        kept.flags = [f for f in entry.flags if f == FUZZY]
        new.append(kept)
    return new


def updated(
    name: str,
    language: str,
    *,
    notebooks: Path = paths.NOTEBOOKS,
    translations: Path = paths.TRANSLATIONS,
    root: Path = paths.ROOT,
    known: Mapping[Key, str] | None = None,
) -> polib.POFile:
    """The catalog as ``update`` leaves it: merged with the English, filled from the others."""
    path = catalog_path(language, name, translations)
    old = read(path) if path.is_file() else None
    new = new_catalog(language, name)
    if old is not None:
        new.header, new.metadata = old.header, old.metadata
    known = compendium(language, translations) if known is None else known
    return merged(old, english(name, notebooks=notebooks, root=root), new, known)


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
    everything = not names or set(names) == set(catalog_names(notebooks))
    names = names or catalog_names(notebooks)
    known = compendium(language, translations)
    report = []
    for name in names:
        path = catalog_path(language, name, translations)
        before = path.read_text(encoding="utf-8") if path.is_file() else None
        po = updated(
            name, language, notebooks=notebooks, translations=translations, root=root, known=known
        )
        text = po_text(po)
        if text != before:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text, encoding="utf-8")
            verb = "updated" if before else "created"
            report.append(f"{verb}: {_shown(path)}  ({summary(po)})")
    if everything:
        for orphan in orphans(language, notebooks=notebooks, translations=translations):
            orphan.unlink()
            report.append(
                f"removed: {_shown(orphan)} (no notebook of that name; its translations "
                "filled the catalogs above wherever the English is the same)"
            )
    return report


# -- checking --------------------------------------------------------------------------
@dataclass
class Counts:
    total: int = 0
    translated: int = 0
    fuzzy: int = 0
    untranslated: int = 0


def counts(po: polib.POFile) -> Counts:
    found = Counts()
    for entry in po:
        if entry.obsolete or not entry.msgid:
            continue
        found.total += 1
        if FUZZY in entry.flags:
            found.fuzzy += 1
        elif entry.msgstr:
            found.translated += 1
        else:
            found.untranslated += 1
    return found


def summary(po: polib.POFile) -> str:
    c = counts(po)
    return (
        f"{c.total} strings: {c.translated} translated, {c.fuzzy} fuzzy, "
        f"{c.untranslated} untranslated"
    )


def short(text: str, width: int = 200) -> str:
    """``text`` on one line, cut at ``width`` characters, for a problem's message."""
    flat = _flat(text)
    return flat if len(flat) <= width else flat[: width - 3] + "..."


def problems(
    name: str,
    language: str,
    *,
    notebooks: Path = paths.NOTEBOOKS,
    translations: Path = paths.TRANSLATIONS,
    root: Path = paths.ROOT,
) -> list[str]:
    """Everything that keeps one catalog from being finished, one paragraph per problem.

    A string of a notebook is named by its cell (``cell 24 (ma-8d44a04c), markdown``); a
    string missing from the catalog (the English changed, ``update`` not run yet) is shown
    with the translation of the English closest to it, the one that is now stale.
    """
    path = catalog_path(language, name, translations)
    shown = _shown(path)
    if not path.is_file():
        return [f"{shown}: missing; create it with `python -m autograder catalogs update {name}`"]
    po = read(path)
    on_disk = {key(e): e for e in po if not e.obsolete and e.msgid}
    source = english(name, notebooks=notebooks, root=root)
    found = []
    new = [k for k in source.entries if k not in on_disk]
    gone = [k for k in on_disk if k not in source.entries]
    if new or gone:
        found.append(
            f"{shown}: out of date with the English ({len(new)} new or changed strings, "
            f"{len(gone)} gone); run `python -m autograder catalogs update {name}`"
        )
    stale = [on_disk[k] for k in gone if on_disk[k].msgstr]
    for k, template in source.entries.items():
        entry = on_disk.get(k)
        kind = source.kinds[k]
        where = f"{shown}: {source.places[k]}, {kind}"
        if entry is None:
            text = f"{where}: not in the catalog: {short(template.msgid)}"
            closest = difflib.get_close_matches(template.msgid, [e.msgid for e in stale], n=1)
            if closest:
                old = next(e for e in stale if e.msgid == closest[0])
                text += (
                    f"\n  it was translated from different English: {short(old.msgid)}"
                    f"\n  stale translation: {short(old.msgstr)}"
                )
            found.append(text)
        elif FUZZY in entry.flags:
            text = (
                f"{where}: fuzzy (the English changed since it was translated): "
                f"{short(template.msgid)}"
            )
            if entry.previous_msgid:
                text += f"\n  translated from: {short(entry.previous_msgid)}"
            text += f"\n  stale translation: {short(entry.msgstr)}"
            found.append(text)
        elif not entry.msgstr:
            found.append(f"{where}: untranslated: {short(template.msgid)}")
        else:
            for problem in segments.translation_problems(kind, template.msgid, entry.msgstr):
                found.append(
                    f"{where}: {problem}\n  English: {short(template.msgid)}"
                    f"\n  translation: {short(entry.msgstr)}"
                )
    return found


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
def _is_runtime(entry: polib.POEntry) -> bool:
    """Whether the checks show this string (a notebook's own text is not compiled)."""
    if entry.msgctxt in (segments.MISTAKE, segments.CASE):
        return True
    if _KIND_NOTES["message"] in entry.comment:
        return True
    return any(file.startswith(RUNTIME_PREFIX) for file, _ in entry.occurrences)


def runtime_catalogs(
    language: str, translations: Path = paths.TRANSLATIONS
) -> dict[str, polib.POFile]:
    """``{domain: catalog}`` of what runs: the checks' messages (with every notebook's mistake
    names and case labels, and the list of label templates) and the grader's. Fuzzy and
    empty translations are left out: the English shows instead."""
    folder = translations / language
    out: dict[str, polib.POFile] = {}
    for domain in LIBRARIES:
        path = folder / f"{domain}.po"
        base = read(path) if path.is_file() else new_catalog(language, domain)
        sources = [base]
        if domain == CHECKING and folder.is_dir():
            sources += [read(p) for p in sorted(folder.glob("*.po")) if p.stem not in LIBRARIES]
        compiled_po = polib.POFile(wrapwidth=WIDTH)
        compiled_po.metadata = {
            k: v
            for k, v in base.metadata.items()
            if k in ("Language", "Content-Type", "Plural-Forms")
        }
        seen: set[Key] = set()
        for index, po in enumerate(sources):
            for entry in po:
                if not finished(entry) or key(entry) in seen:
                    continue
                if index and not _is_runtime(entry):
                    continue
                seen.add(key(entry))
                compiled_po.append(
                    polib.POEntry(msgid=entry.msgid, msgstr=entry.msgstr, msgctxt=entry.msgctxt)
                )
        if domain == CHECKING:
            templates = [
                [e.msgid, e.msgstr]
                for e in compiled_po
                if e.msgctxt == segments.CASE and segments.fields(e.msgid)
            ]
            compiled_po.append(
                polib.POEntry(
                    msgid=TEMPLATES_ID,
                    msgstr=json.dumps(templates, ensure_ascii=False),
                    msgctxt=TEMPLATES,
                )
            )
        out[domain] = compiled_po
    return out


def runtime_conflicts(language: str, translations: Path = paths.TRANSLATIONS) -> list[str]:
    """Mistake names or case labels translated two ways in two catalogs (one would be lost)."""
    seen: dict[Key, tuple[str, str]] = {}
    found = []
    folder = translations / language
    for path in sorted(folder.glob("*.po")) if folder.is_dir() else []:
        for entry in read(path):
            if not finished(entry) or not _is_runtime(entry):
                continue
            k = key(entry)
            if k in seen and seen[k][1] != entry.msgstr:
                found.append(
                    f"{_shown(path)}: {short(entry.msgid)!r} is translated differently in "
                    f"{seen[k][0]}: the checks show one translation for both"
                )
            seen.setdefault(k, (path.name, entry.msgstr))
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
        for domain, po in runtime_catalogs(language, translations).items():
            out[mo_path(language, domain, locale)] = po.to_binary()
    return out


def translations_of(
    name: str, language: str, translations: Path = paths.TRANSLATIONS
) -> dict[str, str]:
    """``{English: translation}`` of a catalog's finished text (no context, not fuzzy)."""
    path = catalog_path(language, name, translations)
    if not path.is_file():
        return {}
    return {e.msgid: e.msgstr for e in read(path) if finished(e) and e.msgid and not e.msgctxt}


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
            print(f"{_shown(path)}: {summary(read(path))}")
    if args.action == "stats":
        return 0
    found = check(args.language, args.names or None)
    for problem in found:
        print(problem, file=sys.stderr)
    print(f"{len(found)} problems" if found else "every string is translated and checked")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
