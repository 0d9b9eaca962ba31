"""What a translator translates in a cell, and what must stay the same in every edition.

A cell's source is cut into *segments*: translatable units and verbatim text between
them. Joining the segments gives the source back exactly; joining them with each unit
translated gives the cell of another edition. The units are:

* in a markdown cell, each block between blank lines (a paragraph, a heading, a list, a
  table), with its markdown syntax; a block with no words outside its formulas and code
  (a display formula) stays verbatim, and so does a fenced code block;
* in a code cell, each run of comment lines at one indentation, and each comment at the
  end of a line of code, without its ``#``; directives stay verbatim (``### BEGIN
  SOLUTION``, ``# YOUR CODE HERE``, ``# mutant: skip``, ``# noqa``, ``# type:``...).

Code, numbers, formulas and argument names are the same in every edition:
:func:`invariants` lists what a unit's translation must keep, and :func:`code_without_comments`
is what two editions of a code cell must share.

Strings that the checks show at run time are found in code by :func:`runtime_strings`:
the names of known mistakes (keys of a dict passed as ``mistakes=``, assigned to a name
containing ``mistake`` or returned by a function whose name contains it) and the labels
of cases (the first argument of ``Case`` or ``check_value``, a value assigned to a name
containing ``label`` or returned by a function whose name contains it), plus any string
marked with ``N_("...")``, ``tr("...")`` or ``translated("...", language)``. A label built
with an f-string becomes a template, ``shape {shape}, seed {seed}``: the checks translate
every label it matches, with the values put back where the translation has their fields.
"""

from __future__ import annotations

import ast
import io
import re
import tokenize
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass

MISTAKE = "mistake"
CASE = "case"

DIRECTIVE = re.compile(
    r"^#+\s*(BEGIN|END) (SOLUTION|HIDDEN TESTS)\b|YOUR CODE HERE|\bmutant:|\bnoqa\b"
    r"|^#\s*(type|fmt|pragma|pylint|pyright|ruff|isort|mypy):|^#\s*%%|^#!",
    re.IGNORECASE,
)
_WORD = re.compile(r"[^\W\d_]{2,}")
_FENCE = re.compile(r"^\s*(```|~~~)")
_DISPLAY = re.compile(r"\$\$.+?\$\$", re.S)
# A formula or a code span may run over a line break of a wrapped paragraph (the English is
# wrapped, its translation is not), but not over a blank line; ``` fences are not spans.
_SAME_BLOCK = r"\n(?![ \t]*\n)"
_INLINE_MATH = re.compile(rf"(?<![\\$])\$(?!\$)(?:[^$\n]|{_SAME_BLOCK})+?(?<!\\)\$")
_CODE_SPAN = re.compile(rf"(?<!`)`(?!`)(?:[^`\n]|{_SAME_BLOCK})+`(?!`)")
_URL = re.compile(r"https?://[^\s)>\]]+")
_NUMBER = re.compile(r"(?<![A-Za-z0-9_.])[-−]?\d+(?:[.,]\d+)*(?![A-Za-z0-9_])")
_IDENTIFIER = re.compile(
    r"(?<![\w.])(?:[A-Za-z_]\w*(?:\.[A-Za-z_]\w+)+|[A-Za-z]\w*_\w+|\w+\(\))(?![\w(])"
)
_HAN = "\u3400-\u9fff\uf900-\ufaff\u3000-\u303f\uff00-\uffef"
_HAN_BREAK = re.compile(rf"[{_HAN}]\n[ \t]*[{_HAN}]")


@dataclass(frozen=True)
class Unit:
    """One translatable piece of a cell: its English text, and how to write a translation."""

    text: str
    kind: str
    """``markdown``, ``comment`` (lines of comment) or ``inline comment``."""
    line: int
    """Where it starts in the cell (0-based line)."""
    prefix: str = ""
    """What each line of a comment starts with (indentation and ``# ``)."""

    def render(self, translation: str) -> str:
        if self.kind == "markdown":
            return translation
        lines = translation.split("\n")
        if self.kind == "inline comment":
            return self.prefix + " ".join(line.strip() for line in lines)
        return "\n".join((self.prefix + line).rstrip() for line in lines)


Segment = str | Unit


def join(segments: list[Segment], translate: Callable[[Unit], str | None] | None = None) -> str:
    """The cell's source again, with each unit translated where ``translate`` knows it."""
    out = []
    for segment in segments:
        if isinstance(segment, str):
            out.append(segment)
            continue
        translation = translate(segment) if translate else None
        out.append(segment.render(translation) if translation else segment.render(segment.text))
    return "".join(out)


def segments(cell_type: str, source: str) -> list[Segment]:
    """The cell's source as verbatim text and units (``join(segments(...)) == source``)."""
    if cell_type == "markdown":
        return markdown_segments(source)
    if cell_type == "code":
        return code_segments(source)
    return [source]


def units(cell_type: str, source: str) -> list[Unit]:
    return [s for s in segments(cell_type, source) if isinstance(s, Unit)]


# -- markdown ---------------------------------------------------------------------------
def has_words(text: str) -> bool:
    """Whether ``text`` has words outside its formulas, code spans and URLs."""
    bare = _CODE_SPAN.sub(" ", _INLINE_MATH.sub(" ", _DISPLAY.sub(" ", text)))
    return bool(_WORD.search(_URL.sub(" ", bare)))


def markdown_segments(source: str) -> list[Segment]:
    """Blocks between blank lines; fenced code and display formulas stay verbatim."""
    lines = source.split("\n")
    out: list[Segment] = []
    first: int | None = None
    fenced = display = False
    for number, line in enumerate(lines):
        newline = "\n" if number < len(lines) - 1 else ""
        if first is None:
            if not line.strip():
                out.append(line + newline)
                continue
            first = number
        if _FENCE.match(line):
            fenced = not fenced
        elif not fenced and line.count("$$") % 2 == 1:
            display = not display
        following = lines[number + 1] if number + 1 < len(lines) else ""
        if newline and (following.strip() or fenced or display):
            continue
        text = "\n".join(lines[first : number + 1])
        if _FENCE.match(lines[first]) or not has_words(text):
            out.append(text + newline)
        else:
            out += [Unit(text, "markdown", first), newline]
        first = None
    return _merge_text(out)


def _merge_text(items: list[Segment]) -> list[Segment]:
    merged: list[Segment] = []
    for item in items:
        if isinstance(item, str) and merged and isinstance(merged[-1], str):
            merged[-1] += item
        else:
            merged.append(item)
    return [m for m in merged if m != ""]


# -- code --------------------------------------------------------------------------------
def is_directive(comment: str) -> bool:
    return bool(DIRECTIVE.search(comment.strip()))


def _comment_tokens(source: str) -> dict[int, int] | None:
    """``{line: column}`` of every comment token (0-based lines); ``None`` if not Python."""
    found = {}
    try:
        for token in tokenize.generate_tokens(io.StringIO(source).readline):
            if token.type == tokenize.COMMENT:
                found[token.start[0] - 1] = token.start[1]
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return None
    return found


def _comment_text(comment: str) -> str:
    return re.sub(r"^#+ ?", "", comment)


def code_segments(source: str) -> list[Segment]:
    """Comments become units: runs of whole-line comments, and comments after code."""
    lines = source.split("\n")
    comments = _comment_tokens(source)
    if comments is None:  # magics or broken code: whole-line comments only
        comments = {
            i: len(x) - len(x.lstrip()) for i, x in enumerate(lines) if x.lstrip()[:1] == "#"
        }
    out: list[Segment] = []
    number = 0
    while number < len(lines):
        line = lines[number]
        newline = "\n" if number < len(lines) - 1 else ""
        column = comments.get(number)
        if column is None:
            out.append(line + newline)
            number += 1
            continue
        comment = line[column:]
        if not _WORD.search(comment) or is_directive(comment):
            out.append(line + newline)
            number += 1
            continue
        if line[:column].strip():  # a comment after code
            code = line[:column]
            spaces = re.match(r"#+ ?", comment)
            prefix = code + (spaces.group(0) if spaces else "# ")
            out.append(Unit(_comment_text(comment), "inline comment", number, prefix))
            out.append(newline)
            number += 1
            continue
        indent = line[:column]
        run = [comment]
        end = number + 1
        while end < len(lines) and comments.get(end) == column:
            following = lines[end]
            if following[:column].strip() or following[:column] != indent:
                break
            text = following[column:]
            if is_directive(text):
                break
            run.append(text)
            end += 1
        text = "\n".join(_comment_text(c) for c in run)
        out.append(Unit(text, "comment", number, indent + "# "))
        out.append("\n" if end < len(lines) else "")
        number = end
    return _merge_text(out)


def code_without_comments(source: str) -> list[tuple[int, str]]:
    """The cell's tokens, comments and blank lines left out: what every edition shares."""
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, IndentationError, SyntaxError):
        lines = [x for x in source.split("\n") if x.strip() and not x.lstrip().startswith("#")]
        return [(0, x.rstrip()) for x in lines]
    skip = (tokenize.COMMENT, tokenize.NL, tokenize.ENDMARKER)
    return [(t.type, t.string) for t in tokens if t.type not in skip]


# -- what a translation keeps ------------------------------------------------------------
def formulas(text: str) -> list[str]:
    """Every formula (``$...$`` and ``$$...$$``), outside code spans, in order."""
    bare = _CODE_SPAN.sub(" ", text)
    display = _DISPLAY.findall(bare)
    inline = _INLINE_MATH.findall(_DISPLAY.sub(" ", bare))
    return [" ".join(f.split()) for f in display + inline]


def code_spans(text: str) -> list[str]:
    """Every inline code span, a line break inside it read as the space markdown shows."""
    return [re.sub(r"[ \t]*\n[ \t]*", " ", span) for span in _CODE_SPAN.findall(text)]


def _prose(text: str) -> str:
    """``text`` without its formulas, code spans and URLs."""
    return _URL.sub(" ", _CODE_SPAN.sub(" ", _INLINE_MATH.sub(" ", _DISPLAY.sub(" ", text))))


def numbers(text: str) -> list[str]:
    """The numbers written in digits outside formulas and code (``−`` read as ``-``)."""
    return sorted(n.replace("−", "-") for n in _NUMBER.findall(_prose(text)))


def identifiers(text: str) -> list[str]:
    """Code-like words outside code spans and formulas: ``F.cross_entropy``, ``l1_loss``."""
    return sorted(set(_IDENTIFIER.findall(_prose(text))))


def placeholders(text: str) -> list[str]:
    """The ``{name}`` placeholders of a message (``{{`` is a brace, not a placeholder)."""
    return sorted(set(re.findall(r"(?<!\{)\{([A-Za-z_]\w*)\}(?!\})", text)))


def structure(text: str) -> list[str]:
    """How a markdown block's lines start: heading levels, list items, table rows, quotes
    (a line that continues a formula or a code span starts nothing)."""
    marks = []
    bare = _CODE_SPAN.sub(" ", _INLINE_MATH.sub(" ", _DISPLAY.sub(" ", text)))
    for line in bare.split("\n"):
        match = re.match(r"\s*(#{1,6}\s|[*+-]\s|\d+[.)]\s|\||>)", line)
        if match:
            marks.append(re.sub(r"\d+", "1", match.group(1).strip()))
    return marks


def invariants(unit_kind: str, text: str) -> dict[str, list[str]]:
    """What a translation of ``text`` must contain exactly as the English does."""
    found = {
        "formulas": sorted(formulas(text)),
        "inline code": sorted(code_spans(text)),
        "numbers": numbers(text),
        "URLs": sorted(_URL.findall(text)),
        "placeholders": fields(text) if unit_kind in (MISTAKE, CASE, "message") else [],
    }
    if unit_kind == "markdown":
        found["markdown structure"] = structure(text)
    return found


def translation_problems(unit_kind: str, english: str, translation: str) -> list[str]:
    """Why ``translation`` cannot stand for ``english`` (empty when it can)."""
    problems = []
    want, got = invariants(unit_kind, english), invariants(unit_kind, translation)
    for what, expected in want.items():
        if Counter(expected) != Counter(got[what]):
            missing = sorted((Counter(expected) - Counter(got[what])).elements())
            extra = sorted((Counter(got[what]) - Counter(expected)).elements())
            detail = "; ".join(
                part
                for part in (
                    f"missing {', '.join(missing)}" if missing else "",
                    f"not in the English {', '.join(extra)}" if extra else "",
                )
                if part
            )
            problems.append(f"{what} are not those of the English ({detail})")
    names = [i for i in identifiers(english) if i not in translation]
    if names:
        problems.append(f"code names missing: {', '.join(names)}")
    if unit_kind == "markdown" and _HAN_BREAK.search(translation):
        problems.append(
            "a line break between two Chinese characters shows as a space: keep a "
            "paragraph on one line"
        )
    return problems


# -- strings the checks show at run time -------------------------------------------------
@dataclass(frozen=True)
class RuntimeString:
    text: str
    context: str | None
    """:data:`MISTAKE`, :data:`CASE`, or ``None`` for a message marked with ``tr``/``N_``."""
    line: int
    """1-based line in the code it was found in."""


_MARKERS = {"N_", "tr", "translated"}


def fields(text: str) -> list[str]:
    """The ``{...}`` fields of a label template or a message, as written (``{r!r}``)."""
    return sorted(re.findall(r"(?<!\{)\{[^{}]+\}(?!\})", text))


def fstring_template(node: ast.AST) -> str | None:
    """An f-string's text with its fields as written: ``f"seed {seed}"`` -> ``seed {seed}``.

    ``None`` for anything else, or for an f-string with literal braces (no template)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if not isinstance(node, ast.JoinedStr):
        return None
    parts = []
    for value in node.values:
        if isinstance(value, ast.Constant) and isinstance(value.value, str):
            if "{" in value.value or "}" in value.value:
                return None
            parts.append(value.value)
        elif isinstance(value, ast.FormattedValue):
            field = ast.unparse(value.value)
            if value.conversion != -1:
                field += "!" + chr(value.conversion)
            if value.format_spec is not None:
                spec = fstring_template(value.format_spec)
                if spec is None:
                    return None
                field += ":" + spec
            parts.append("{" + field + "}")
        else:
            return None
    return "".join(parts)


def _dict_keys(node: ast.AST) -> Iterator[tuple[str, int]]:
    if isinstance(node, ast.Dict):
        for key in node.keys:
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                yield key.value, key.lineno


def _called(node: ast.Call) -> str | None:
    func = node.func
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def runtime_strings(source: str) -> list[RuntimeString]:
    """Names of known mistakes, labels of cases and marked messages in Python ``source``."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return []
    found: list[RuntimeString] = []

    def add(text: str, context: str | None, line: int) -> None:
        if text.strip():
            found.append(RuntimeString(text, context, line))

    def label(node: ast.expr | None) -> None:
        template = fstring_template(node) if node is not None else None
        if template is not None and node is not None:
            add(template, CASE, node.lineno)

    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            called = _called(node)
            for keyword in node.keywords:
                if keyword.arg == "mistakes":
                    for key, line in _dict_keys(keyword.value):
                        add(key, MISTAKE, line)
                if keyword.arg == "label" and called in ("Case", "check_value"):
                    label(keyword.value)
            first = node.args[0] if node.args else None
            if called in ("Case", "check_value"):
                label(first)
            elif isinstance(first, ast.Constant) and isinstance(first.value, str):
                if called in _MARKERS:
                    add(first.value, None, first.lineno)
        elif isinstance(node, ast.Assign | ast.AnnAssign):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = [
                t.id if isinstance(t, ast.Name) else t.attr if isinstance(t, ast.Attribute) else ""
                for t in targets
            ]
            if node.value is not None and any("mistake" in n.lower() for n in names):
                for key, line in _dict_keys(node.value):
                    add(key, MISTAKE, line)
            if node.value is not None and any("label" in n.lower() for n in names):
                label(node.value)
        elif isinstance(node, ast.FunctionDef) and "mistake" in node.name.lower():
            for inner in ast.walk(node):
                if isinstance(inner, ast.Return) and inner.value is not None:
                    for key, line in _dict_keys(inner.value):
                        add(key, MISTAKE, line)
        elif isinstance(node, ast.FunctionDef) and "label" in node.name.lower():
            for inner in ast.walk(node):
                if isinstance(inner, ast.Return):
                    label(inner.value)
    found.sort(key=lambda s: s.line)
    return found
