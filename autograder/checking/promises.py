"""What an exercise promises besides the value: arguments left alone, results of the right
kind, and a ``ValueError`` for an unknown ``reduction``.

Each promise is one shared mechanism that every check can use, rather than a special case
per exercise:

* :class:`ArgumentSnapshot` records every tensor an answer is given (values, ``requires_grad``,
  ``.grad``, in-place version counter; parameters of modules too) before the call, and says
  afterwards what changed: "do not change ``x``", "work on a copy", "do not call
  ``requires_grad_`` on the caller's tensor";
* :func:`result_problem` checks that a result is made of Python numbers ("return a float")
  or carries no autograd graph ("return a detached tensor");
* :func:`unknown_reduction_problem` calls the answer with a ``reduction`` torch does not know,
  and expects the ``ValueError`` torch raises.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import torch

from .comparison import describe
from .i18n import tr

_Tensor = torch.Tensor
_Module = torch.nn.Module
_clone = torch.Tensor.clone
_detach = torch.Tensor.detach
_isnan = torch.isnan
_isinstance = isinstance
_type = type

UNKNOWN_REDUCTION = "max"
"""A ``reduction`` no torch loss accepts (and not a legacy alias torch still maps to one)."""


def argument_names(func: Callable, args: tuple, kwargs: Mapping[str, Any]) -> list[str]:
    """A name for every argument as the function calls it (``input``, ``x``...)."""
    names = [f"argument {i + 1}" for i in range(len(args))]
    try:
        bound = inspect.signature(func).bind_partial(*args, **kwargs)
    except (TypeError, ValueError):
        return names + list(kwargs)
    positional = [k for k in bound.arguments if k not in kwargs]
    for i, name in enumerate(positional[: len(args)]):
        names[i] = name
    return names + list(kwargs)


def _tensors_in(value: Any, path: str, depth: int = 0) -> Iterator[tuple[str, torch.Tensor]]:
    if depth > 3:
        return
    if _isinstance(value, _Tensor):
        yield path, value
    elif _isinstance(value, _Module):
        for name, tensor in [*value.named_parameters(), *value.named_buffers()]:
            yield f"{path}.{name}", tensor
    elif _isinstance(value, tuple | list):
        for i, item in enumerate(value):
            yield from _tensors_in(item, f"{path}[{i}]", depth + 1)
    elif _isinstance(value, dict):
        for key, item in value.items():
            yield from _tensors_in(item, f"{path}[{key!r}]", depth + 1)


@dataclass
class _Record:
    path: str
    root: str
    tensor: torch.Tensor
    values: torch.Tensor
    shape: tuple[int, ...]
    dtype: torch.dtype
    requires_grad: bool
    grad: torch.Tensor | None
    version: int


def _same_values(a: torch.Tensor, b: torch.Tensor) -> bool:
    if a.shape != b.shape or a.dtype != b.dtype:
        return False
    if a.is_floating_point() or a.is_complex():
        both_nan = _isnan(a) & _isnan(b)
        return bool(((a == b) | both_nan).all())
    return bool((a == b).all())


class ArgumentSnapshot:
    """Every tensor in a call's arguments, as it was before the call."""

    def __init__(self, func: Callable, args: tuple, kwargs: Mapping[str, Any]) -> None:
        names = argument_names(func, args, kwargs)
        values = [*args, *kwargs.values()]
        self.records: list[_Record] = []
        for name, value in zip(names, values, strict=False):
            for path, tensor in _tensors_in(value, name):
                self.records.append(
                    _Record(
                        path,
                        name,
                        tensor,
                        _clone(_detach(tensor)),
                        tuple(tensor.shape),
                        tensor.dtype,
                        bool(tensor.requires_grad),
                        None if tensor.grad is None else _clone(_detach(tensor.grad)),
                        int(tensor._version),
                    )
                )

    def changes(self, may_change: Iterable[str | int] | bool = ()) -> list[str]:
        """What the call changed, in words (arguments named in ``may_change`` excepted)."""
        if may_change is True:
            return []
        allowed = {str(a) for a in (may_change or ())}
        found = []
        for r in self.records:
            position = r.root.removeprefix("argument ")
            if r.root in allowed or position in allowed:
                continue
            t = r.tensor
            path = _shown_path(r)
            if bool(t.requires_grad) != r.requires_grad:
                found.append(
                    tr(
                        "the caller's {path} now requires a gradient (requires_grad_ was called "
                        "on it): make a copy first, for example "
                        "x.detach().clone().requires_grad_(True)",
                        path=path,
                    )
                    if t.requires_grad
                    else tr(
                        "the caller's {path} no longer requires a gradient (requires_grad_ was "
                        "called on it): make a copy first, for example "
                        "x.detach().clone().requires_grad_(True)",
                        path=path,
                    )
                )
                continue
            grad = t.grad
            if (grad is None) != (r.grad is None) or (
                grad is not None and r.grad is not None and not _same_values(grad, r.grad)
            ):
                found.append(
                    tr(
                        "the caller's {path}.grad changed: a gradient was accumulated into "
                        "the tensor it was given; work on a copy",
                        path=path,
                    )
                )
                continue
            if tuple(t.shape) != r.shape or t.dtype != r.dtype:
                found.append(
                    tr(
                        "the caller's {path} was changed in place (now of shape {shape}, "
                        "{dtype}); work on a copy",
                        path=path,
                        shape=tuple(t.shape),
                        dtype=str(t.dtype).removeprefix("torch."),
                    )
                )
                continue
            if not _same_values(_detach(t), r.values):
                found.append(
                    tr(
                        "the caller's {path} was changed in place (its values differ after the "
                        "call); work on a copy (.clone())",
                        path=path,
                    )
                )
                continue
            if int(t._version) != r.version:
                found.append(
                    tr(
                        "the caller's {path} was written to in place (even if its values were "
                        "put back); work on a copy (.clone())",
                        path=path,
                    )
                )
        return found


def _shown_path(record: _Record) -> str:
    """A record's path as a message shows it: ``argument 2`` in the student's language."""
    position = record.root.removeprefix("argument ")
    if position == record.root or not position.isdigit():
        return record.path
    return tr("argument {number}", number=position) + record.path[len(record.root) :]


def _numbers(value: Any, path: str, depth: int = 0) -> Iterator[tuple[str, Any]]:
    if depth > 4:
        return
    if _isinstance(value, tuple | list):
        for i, item in enumerate(value):
            yield from _numbers(item, f"{path}[{i}]", depth + 1)
    elif _isinstance(value, dict):
        for key, item in value.items():
            yield from _numbers(item, f"{path}[{key!r}]", depth + 1)
    else:
        yield path, value


def result_problem(got: Any, *, floats: bool = False, detached: bool = False) -> str | None:
    """What breaks the promised kind of result, or ``None``.

    ``floats``: every number in the result is a Python ``float``, ``int`` or ``bool`` ("return
    a float", "a list of floats", "a float and a bool"), not a tensor. ``detached``: no
    tensor in the result requires a gradient or carries a graph ("return a detached tensor").
    """
    for path, value in _numbers(got, tr("the result")):
        if floats and _type(value) not in (int, float, bool) and not _isinstance(value, float):
            if _isinstance(value, _Tensor):
                if value.requires_grad:
                    return tr(
                        "{path} should be a Python float, got a tensor that still carries its "
                        "autograd graph (use .item())",
                        path=path,
                    )
                return tr("{path} should be a Python float, got a tensor (use .item())", path=path)
            kind = f"{_type(value).__module__}.{_type(value).__name__}"
            return tr(
                "{path} should be a Python float (or bool), got {value} ({kind})",
                path=path,
                value=describe(value),
                kind=kind,
            )
        if detached and _isinstance(value, _Tensor):
            if value.requires_grad or value.grad_fn is not None:
                return tr(
                    "{path} still carries an autograd graph (requires_grad=True); "
                    "return it detached (.detach())",
                    path=path,
                )
    return None


def unknown_reduction_problem(got: Any, error: BaseException | None) -> str | None:
    """The verdict on a call with ``reduction=UNKNOWN_REDUCTION``: it must raise the
    ``ValueError`` torch raises. Returning a value means an unknown reduction was silently
    taken for another one."""
    if _isinstance(error, ValueError):
        return None
    if error is not None:
        return tr(
            "raised {error}; it should raise a ValueError for a reduction it does not know, "
            "as torch does",
            error=f"{_type(error).__name__}: {error}",
        )
    return tr(
        "returned {value} instead of raising a ValueError for a reduction it does not know, "
        "as torch does (an unknown reduction must not be taken for another one)",
        value=describe(got),
    )
