"""An edition in another language: the English notebook with its text translated, and nothing else.

The build converts ``notebooks/NN_topic.py`` once (:func:`autograder.authoring.cells.convert`)
and translates that notebook's units (:mod:`.segments`) with the topic's catalog. Every
cell keeps its id and its nbgrader metadata (grade ids, points, read-only flags, tests),
every line of code stays as it is, so the editions are graded by the same checks for the
same points. A unit with no finished translation (untranslated, or fuzzy after an English
change) stays English, and the notebook says at its top that its translation is
unfinished. :func:`differences` says what, besides the text, differs between two
editions: it is empty for every notebook the build writes.
"""

from __future__ import annotations

import copy
from collections import Counter
from collections.abc import Mapping

from nbformat import NotebookNode

from . import segments

UNFINISHED = {
    "zh": (
        "> **译文未完成**：本笔记本还有 {count} 段文字没有译成中文（或英文原文改过、译文待更新），"
        "暂以英文显示。"
    ),
}
"""What an edition says at its top while some of its text is still English."""


def set_language(nb: NotebookNode, language: str) -> None:
    """Write the edition's language into the notebook, where the grader and the kernel read it."""
    nb.metadata["course"] = {"language": language}


def language_of(nb: NotebookNode) -> str | None:
    course = nb.get("metadata", {}).get("course", {})
    language = course.get("language") if isinstance(course, dict) else None
    return language if isinstance(language, str) else None


def translated(
    nb: NotebookNode, translations: Mapping[str, str], language: str
) -> tuple[NotebookNode, int]:
    """A copy of ``nb`` in ``language``; and how many units had no translation."""
    out = copy.deepcopy(nb)
    missing = 0

    def lookup(unit: segments.Unit) -> str | None:
        nonlocal missing
        found = translations.get(unit.text)
        if not found:
            missing += 1
        return found

    for cell in out.cells:
        cell.source = segments.join(segments.segments(cell.cell_type, cell.source), lookup)
    if missing and language in UNFINISHED:
        first = next((c for c in out.cells if c.cell_type == "markdown"), None)
        if first is not None:
            first.source = UNFINISHED[language].format(count=missing) + "\n\n" + first.source
    set_language(out, language)
    return out, missing


def without_notice(source: str) -> str:
    """A cell's source without the unfinished-translation notice :func:`translated` adds."""
    for notice in UNFINISHED.values():
        head = notice.split("{count}")[0]
        if source.startswith(head):
            return source.split("\n\n", 1)[1] if "\n\n" in source else ""
    return source


def differences(english: NotebookNode, other: NotebookNode) -> list[str]:
    """What differs between two editions besides their text; empty when they agree.

    Cells must match one for one, with the same ids and metadata; code cells must have
    the same code once comments are set aside; markdown cells the same formulas, inline
    code and numbers.
    """
    found = []
    if len(english.cells) != len(other.cells):
        return [f"{len(english.cells)} cells in English, {len(other.cells)} in the other edition"]
    for number, (a, b) in enumerate(zip(english.cells, other.cells, strict=True), start=1):
        where = f"cell {number} ({a.get('id', '?')})"
        if a.cell_type != b.cell_type or a.get("id") != b.get("id"):
            found.append(
                f"{where}: a {b.cell_type} cell with id {b.get('id')} in the other edition"
            )
            continue
        if a.metadata != b.metadata:
            found.append(f"{where}: its metadata differ (grade id, points or role)")
        if a.cell_type == "code":
            if segments.code_without_comments(a.source) != segments.code_without_comments(b.source):
                found.append(f"{where}: the code differs (not only its comments)")
            continue
        checks = {
            "formulas": segments.formulas,
            "inline code": segments.code_spans,
            "numbers": segments.numbers,
        }
        for what, find in checks.items():
            want, got = Counter(find(a.source)), Counter(find(without_notice(b.source)))
            if want != got:
                missing = sorted((want - got).elements())
                extra = sorted((got - want).elements())
                found.append(f"{where}: {what} differ: missing {missing}, added {extra}")
    return found
