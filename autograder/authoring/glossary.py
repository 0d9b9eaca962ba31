"""The glossary (``docs/glossary.md``) as data: the one source of the course's Chinese terms.

The glossary is a markdown file people read; its two tables are also what the tests read.
Each row is one term: its English (variants separated by `` / ``), the Chinese the course
uses, the Chinese it avoids (variants separated by ``、``), and a note. Under *Technical
terms*, the Chinese edition gives the English in parentheses at the term's first use
outside headings, 交叉熵（cross-entropy）, so that a student can read PyTorch's documentation;
*Common words* need no such help.

:func:`problems` holds a pair of notebooks (English, Chinese) to the glossary: every term
whose English appears in the English text must appear in the Chinese, with the English at
first use when it is technical, and no avoided variant may appear.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from nbformat import NotebookNode

from .. import paths
from . import segments

GLOSSARY = paths.ROOT / "docs" / "glossary.md"
TECHNICAL = "Technical terms"
COMMON = "Common words"
_CJK = re.compile(r"[\u3400-\u9fff]")


@dataclass(frozen=True)
class Term:
    english: tuple[str, ...]
    chinese: str
    avoid: tuple[str, ...]
    note: str
    technical: bool

    def pattern(self) -> re.Pattern:
        """The English in running text: whole words, any case, a plural ``s`` allowed."""
        words = "|".join(re.escape(e).replace(r"\ ", r"[\s-]+") for e in self.english)
        return re.compile(rf"(?<![\w-])(?:{words})(?:s|es)?(?![\w-])", re.IGNORECASE)


def _cells(line: str) -> list[str]:
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def terms(path: Path = GLOSSARY) -> list[Term]:
    """Every row of the glossary's two tables, in order."""
    found: list[Term] = []
    section = None
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            title = line[3:].split("·")[0].strip()
            section = title if title in (TECHNICAL, COMMON) else None
            continue
        if section is None or not line.startswith("|"):
            continue
        cells = _cells(line)
        if len(cells) != 4 or cells[0] in ("English", "") or set(cells[0]) <= {"-", " ", ":"}:
            continue
        english, chinese, avoid, note = cells
        found.append(
            Term(
                english=tuple(e.strip() for e in english.split(" / ") if e.strip()),
                chinese=chinese,
                avoid=tuple(a.strip() for a in avoid.split("、") if a.strip() and a != "—"),
                note=note,
                technical=section == TECHNICAL,
            )
        )
    return found


def prose(nb: NotebookNode) -> tuple[str, str]:
    """``(all text, text outside headings)`` of a notebook's translatable units, without
    formulas and code spans."""
    every, body = [], []
    for cell in nb.cells:
        for unit in segments.units(cell.cell_type, cell.source):
            text = re.sub(r"`[^`\n]+`|\$\$.+?\$\$|\$[^$\n]+\$", " ", unit.text, flags=re.S)
            every.append(text)
            if unit.kind == "markdown":
                lines = [x for x in text.split("\n") if not x.lstrip().startswith("#")]
            else:
                lines = text.split("\n")
            body.append("\n".join(lines))
    return "\n\n".join(every), "\n\n".join(body)


def first_use_problem(term: Term, body: str) -> str | None:
    """Whether the first use of a technical term's Chinese gives the English in parentheses."""
    at = body.find(term.chinese)
    if at < 0:
        return None
    after = body[at + len(term.chinese) : at + len(term.chinese) + 80]
    match = re.match(r"[\s*_”\"」』]*[（(]([^）)]*)[）)]", after)
    if match and any(
        re.search(re.escape(e).replace(r"\ ", r"[\s-]+"), match.group(1), re.IGNORECASE)
        for e in term.english
    ):
        return None
    return (
        f"{term.chinese}: its first use should give the English in parentheses, "
        f"{term.chinese}（{term.english[0]}）; it reads: {body[at : at + 40]!r}"
    )


def problems(english: NotebookNode, chinese: NotebookNode, glossary: Path = GLOSSARY) -> list[str]:
    """Where the Chinese notebook departs from the glossary (empty when it keeps to it)."""
    english_text, _ = prose(english)
    chinese_text, chinese_body = prose(chinese)
    found = []
    for term in terms(glossary):
        for avoided in term.avoid:
            if avoided in chinese_text:
                found.append(f"{avoided}: the glossary uses {term.chinese} for {term.english[0]}")
        if not term.pattern().search(english_text):
            continue
        if term.chinese not in chinese_text:
            found.append(
                f"{term.english[0]}: the English uses it, the Chinese lacks the glossary's "
                f"term {term.chinese}"
            )
            continue
        if term.technical and _CJK.search(term.chinese):
            problem = first_use_problem(term, chinese_body)
            if problem:
                found.append(problem)
    return found
