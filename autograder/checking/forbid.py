"""Refuse a hand-written loss that calls the torch function it re-implements.

Two looks: the function's source (AST) for the forbidden names, and its globals and
closure (one helper deep) for the forbidden objects bound under another name.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import textwrap
from collections.abc import Callable, Iterable


def resolve(dotted: str) -> object | None:
    """``"torch.nn.functional.l1_loss"`` -> the object, or ``None`` if torch lacks it."""
    parts = dotted.split(".")
    for i in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:i]))
        except ImportError:
            continue
        try:
            for attr in parts[i:]:
                obj = getattr(obj, attr)
        except AttributeError:
            return None
        return obj
    return None


def _source_tree(func: Callable) -> ast.AST | None:
    try:
        return ast.parse(textwrap.dedent(inspect.getsource(func)))
    except (OSError, TypeError, SyntaxError):
        return None


def _names_in_source(tree: ast.AST, forbidden: Iterable[str]) -> list[str]:
    tails = {name.rsplit(".", 1)[-1]: name for name in forbidden}
    found = []
    for node in ast.walk(tree):
        word = None
        if isinstance(node, ast.Attribute):
            word = node.attr
        elif isinstance(node, ast.Name):
            word = node.id
        elif isinstance(node, ast.Constant) and isinstance(node.value, str):
            word = node.value
        if word in tails:
            found.append(tails[word])
    return found


def _referenced_objects(func: Callable, depth: int = 0) -> list[object]:
    """Globals and closure values a function reaches, one level into helper functions."""
    code = getattr(func, "__code__", None)
    if code is None or depth > 2:
        return []
    names = set(code.co_names)
    stack = [c for c in code.co_consts if inspect.iscode(c)]
    while stack:
        inner = stack.pop()
        names |= set(inner.co_names)
        stack += [c for c in inner.co_consts if inspect.iscode(c)]
    found = [func.__globals__[n] for n in names if n in getattr(func, "__globals__", {})]
    found += [cell.cell_contents for cell in (func.__closure__ or ()) if _has_contents(cell)]
    for obj in list(found):
        if inspect.isfunction(obj) and obj is not func:
            found += _referenced_objects(obj, depth + 1)
    return found


def _has_contents(cell) -> bool:
    try:
        cell.cell_contents  # noqa: B018
    except ValueError:
        return False
    return True


_LIBRARIES = {"torch", "numpy", "math", "autograder", "functools", "builtins"}


def _reachable_functions(func: Callable) -> list[Callable]:
    """``func`` and the plain functions it reaches through globals or closures (helpers)."""
    found = [func]
    for obj in _referenced_objects(func):
        library = (getattr(obj, "__module__", None) or "").split(".")[0] in _LIBRARIES
        if inspect.isfunction(obj) and not library and all(obj is not f for f in found):
            found.append(obj)
    return found


def forbid_calls(func: Callable, forbidden: Iterable[str]) -> str | None:
    """What ``func`` (or a helper it calls) uses of ``forbidden``, in words; ``None`` if clean."""
    forbidden = tuple(forbidden)
    advice = "Write the computation yourself from tensor operations."
    for fn in _reachable_functions(func):
        where = "" if fn is func else f" (through your helper {fn.__name__})"
        tree = _source_tree(fn)
        hits = _names_in_source(tree, forbidden) if tree is not None else []
        if hits:
            return f"uses {hits[0]}{where}, the function it should implement by hand. {advice}"
    objects = {id(o): name for name in forbidden if (o := resolve(name)) is not None}
    for obj in _referenced_objects(func):
        if id(obj) in objects:
            return f"reaches {objects[id(obj)]} under another name. {advice}"
    return None
