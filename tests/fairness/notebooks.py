"""Answer cells found by their grade_id across every source notebook, never by a notebook's
name or number (topics are renumbered and rewritten; an answer's grade_id stays).

A grade_id may appear in two topics (``cross_entropy`` is asked twice, once with options):
the function's parameters tell them apart.
"""

from __future__ import annotations

import ast
import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import nbformat

from autograder import paths
from autograder.authoring.cells import answer_of


@dataclass(frozen=True)
class AnswerCell:
    topic: str
    path: Path
    index: int
    grade_id: str
    source: str
    tests: tuple[int, ...]
    """Indices of the tests cells that grade this answer."""

    @property
    def parameters(self) -> tuple[str, ...] | None:
        """Parameter names of the function the answer defines under its grade_id."""
        return parameters_of(self.source, self.grade_id)


def parameters_of(source: str, name: str) -> tuple[str, ...] | None:
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == name:
            a = node.args
            return tuple(p.arg for p in [*a.posonlyargs, *a.args, *a.kwonlyargs])
    return None


@functools.cache
def answer_cells() -> tuple[AnswerCell, ...]:
    """Every answer cell of every source notebook."""
    found = []
    for topic in paths.topics():
        path = paths.source_notebook(topic)
        nb = nbformat.read(path, as_version=4)
        tests: dict[str, list[int]] = {}
        for index, cell in enumerate(nb.cells):
            if answer_of(cell):
                tests.setdefault(answer_of(cell), []).append(index)
        for index, cell in enumerate(nb.cells):
            meta = cell.metadata.get("nbgrader", {})
            if cell.cell_type == "code" and meta.get("solution"):
                grade_id = meta["grade_id"]
                found.append(
                    AnswerCell(
                        topic, path, index, grade_id, cell.source, tuple(tests.get(grade_id, ()))
                    )
                )
    return tuple(found)


def find(grade_id: str, parameters: tuple[str, ...] | None = None) -> AnswerCell:
    """The answer cell ``grade_id``; ``parameters`` chooses among cells that share it."""
    cells = [c for c in answer_cells() if c.grade_id == grade_id]
    if len(cells) > 1 and parameters is not None:
        cells = [c for c in cells if c.parameters == parameters]
    if len(cells) != 1:
        where = ", ".join(f"{c.topic} {c.parameters}" for c in cells) or "no notebook"
        raise LookupError(f"answer {grade_id!r} {parameters or ''}: found in {where}")
    return cells[0]


def find_all(grade_id: str) -> list[AnswerCell]:
    return [c for c in answer_cells() if c.grade_id == grade_id]


def _imports(source: str) -> ast.Module:
    """The import statements of a cell (read-only cells also set options, plot...)."""
    try:
        body = ast.parse(source).body
    except SyntaxError:
        body = []
    return ast.Module([n for n in body if isinstance(n, ast.Import | ast.ImportFrom)], [])


@functools.cache
def solutions(topic: str) -> dict[str, Any]:
    """A namespace with the imports of the topic's read-only cells and every one of its
    answers (the solutions), run in order: an answer may use an earlier one."""
    nb = nbformat.read(paths.source_notebook(topic), as_version=4)
    namespace: dict[str, Any] = {"__name__": "__main__"}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        meta = cell.metadata.get("nbgrader", {})
        if meta.get("solution"):
            exec(compile(cell.source, f"<{topic}: {meta['grade_id']}>", "exec"), namespace)
        elif not meta.get("grade"):
            exec(compile(_imports(cell.source), f"<{topic}: imports>", "exec"), namespace)
    return namespace


def solution(grade_id: str, parameters: tuple[str, ...] | None = None) -> Callable:
    """The solution function of answer ``grade_id``, run from its source notebook."""
    cell = find(grade_id, parameters)
    return solutions(cell.topic)[grade_id]
