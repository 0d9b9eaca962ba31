"""Every sentence a check shows goes through the catalogs, so a student of the Chinese
edition reads it in Chinese.

The checking library is scanned (its syntax tree, not its output): a string of English
prose, a literal or an f-string, must be a message marked with ``tr``/``N_``, the name of
a known mistake or a case's label (what the catalogs extract, :func:`runtime_strings`),
a docstring, or the message of an exception no student sees (a ``ValueError`` of a
reference implementation, a bug in the course). A new English message written as a plain
f-string fails here, with its file and line.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from autograder import paths
from autograder.authoring.segments import runtime_strings

CHECKING = paths.ROOT / "autograder" / "checking"
MARKERS = {"tr", "N_", "translated", "translate"}
"""Calls whose first argument is a message the catalogs extract and translate."""
INTERNAL_ERRORS = {"ValueError", "TypeError", "RuntimeError", "KeyError", "NotImplementedError"}
"""Exceptions a check never shows a student as its verdict: torch's own errors mimicked by
reference implementations, or a bug in the course (a student's exception is caught and
reported by :func:`student_errors`, which translates its frame)."""
PROSE = re.compile(r"[A-Za-z]+[,:;.]? [A-Za-z]+")
"""Two English words in a row, once the ``{fields}`` are taken out: a sentence, not code."""

KEPT = "# not translated"
"""A line's comment for English that students' code compares against (the verdicts
``diagnose`` returns): translating it would break the Chinese edition's answers."""

ALLOWED = {
    "cifar10.py": "the CIFAR10 stand-in's command line and its data files (not a check)",
    "i18n.py": "the translation machinery itself: gettext contexts, not messages",
}
"""Files whose prose no check shows, each with the reason."""


def _prose(node: ast.expr) -> str | None:
    """The English of a literal or f-string when it is prose, else ``None``."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        text = node.value
    elif isinstance(node, ast.JoinedStr):
        text = "".join(
            v.value if isinstance(v, ast.Constant) and isinstance(v.value, str) else " {} "
            for v in node.values
        )
    else:
        return None
    text = re.sub(r"\{[^{}]*\}", " ", text)
    return text if PROSE.search(text) else None


def _called(node: ast.Call) -> str | None:
    func = node.func
    return func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)


def untranslated(source: str) -> list[tuple[int, str]]:
    """``(line, text)`` of each English sentence in ``source`` no catalog would translate."""
    tree = ast.parse(source)
    lines = source.splitlines()
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    extracted = {(s.line, s.context) for s in runtime_strings(source) if s.context}
    found = []
    for node in ast.walk(tree):
        text = _prose(node) if isinstance(node, ast.expr) else None
        parent = parents.get(node)
        if text is None or isinstance(parent, ast.JoinedStr | ast.FormattedValue):
            continue
        if isinstance(parent, ast.Expr):  # a docstring, or a bare string
            continue
        if any(line == node.lineno for line, _ in extracted):
            continue  # a mistake's name or a case's label: the catalogs have it
        if KEPT in lines[node.lineno - 1]:
            continue  # an answer or data a student's code reads, the same in every edition
        if _exempt(node, parents):
            continue
        found.append((node.lineno, text.strip()))
    return found


def _exempt(node: ast.AST, parents: dict[ast.AST, ast.AST]) -> bool:
    """Inside a marker call, or the message of an internal error."""
    child = node
    while child in parents:
        parent = parents[child]
        if isinstance(parent, ast.Call):
            called = _called(parent)
            if called in MARKERS and parent.args and parent.args[0] is child:
                return True
            if called in INTERNAL_ERRORS:
                return True
        if isinstance(parent, ast.Subscript) and parent.slice is child:
            return True  # a key looked up, never shown
        if isinstance(parent, ast.stmt):
            return False
        child = parent
    return False


def modules() -> list[Path]:
    return sorted(p for p in CHECKING.rglob("*.py") if p.name not in ALLOWED)


@pytest.mark.parametrize("module", modules(), ids=lambda p: p.relative_to(CHECKING).as_posix())
def test_every_sentence_a_check_shows_is_translatable(module):
    found = untranslated(module.read_text(encoding="utf-8"))
    assert not found, "English a check shows without tr():\n" + "\n".join(
        f"  {module.relative_to(paths.ROOT)}:{line}: {text[:100]}" for line, text in found
    )


UNMARKED = {
    "an f-string message": 'raise CheckFailed(f"{kind}: {name} returned {got}, not a float")',
    "a literal message": 'raise AssertionError("the loss should be a float")',
    "a line added to a message": 'message += "\\n  This matches a known mistake: " + name',
    "a message built apart": 'problem = f"{what} should be a list, got {value}"',
    "a string passed to a helper": 'fail(kind, label, "return the pair (lr, momentum)")',
    "concatenated halves": 'text = tr("{kind}:", kind=kind) + " no cases were given"',
    "a sentence added to a value looked up": 'text = names["the first"] + " was seen"',
}
MARKED = {
    "a message through tr": 'raise CheckFailed(tr("{kind}: {name} is wrong", kind=k, name=n))',
    "a string marked with N_": 'NOTE = N_("the learning rate ignored")',
    "a known mistake's name": 'check(f, g, mistakes={"sum instead of mean": h})',
    "a case's label": 'Case(f"shape {shape}, seed {seed}", (x,))',
    "a reference implementation's error": 'raise ValueError(f"{r} is not a valid value")',
    "code": 'path = f"torch.optim.{name}"; kwargs = f"{k}={v!r}"',
    "a key looked up": 'wrong = named["rounded up, not down"]',
    "an answer kept in English": 'NO_BUG = "no bug"  # not translated: an answer',
}


@pytest.mark.parametrize("source", UNMARKED.values(), ids=UNMARKED.keys())
def test_an_unmarked_sentence_is_caught(source):
    assert untranslated(source), source


@pytest.mark.parametrize("source", MARKED.values(), ids=MARKED.keys())
def test_a_marked_sentence_or_code_passes(source):
    assert not untranslated(source), source
