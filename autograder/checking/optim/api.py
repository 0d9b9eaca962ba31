"""Helpers for checks of exercises that use ``torch.optim`` itself (not a hand-written step).

Shared by the optimizer topics: a small least-squares problem whose gradient is known in
closed form, calling a student's function with its errors turned into messages, and
comparing one result with a named-mistake hint.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import torch

from ..checks import CheckFailed, call_quietly, student_errors
from ..comparison import compare, describe

_float64 = torch.float64
_clone = torch.Tensor.clone
_detach = torch.Tensor.detach
_Tensor = torch.Tensor


@dataclass
class LeastSquares:
    """A small least-squares problem: ``loss(w) = mean((x @ w - y)**2)``."""

    x: torch.Tensor
    y: torch.Tensor
    w: torch.Tensor

    def loss_grad(self, w: torch.Tensor) -> torch.Tensor:
        """The gradient worked out by hand: 2/n X^T (X w - y)."""
        return 2.0 / self.x.shape[0] * self.x.T @ (self.x @ w - self.y)

    def loss(self, w: torch.Tensor) -> torch.Tensor:
        return ((self.x @ w - self.y) ** 2).mean()


def least_squares(gen: torch.Generator, n: int | None = None, d: int | None = None) -> LeastSquares:
    """A random problem with ``n`` rows (4 to 11) and ``d`` weights (2 to 4)."""
    n = n or int(torch.randint(4, 12, (), generator=gen))
    d = d or int(torch.randint(2, 5, (), generator=gen))
    x = torch.randn(n, d, generator=gen, dtype=_float64)
    y = torch.randn(n, generator=gen, dtype=_float64)
    w = torch.randn(d, generator=gen, dtype=_float64)
    return LeastSquares(x, y, w)


def leaf(t: torch.Tensor) -> torch.Tensor:
    """A fresh float leaf tensor that requires grad, with the values of ``t``."""
    return _clone(_detach(t)).requires_grad_(True)


def call_student(
    kind: str, fn: Callable, label: str, *args: Any, name: str | None = None, **kwargs: Any
) -> Any:
    """Call a student's function quietly; what it raises becomes a message that calls the
    function ``name`` (by default its own name)."""
    name = str(name or getattr(fn, "__name__", "your function"))
    if not callable(fn):
        raise CheckFailed(f"{kind}: {name} should be a function, got {describe(fn)}")
    with student_errors(kind, name, label):
        return call_quietly(fn, *args, **kwargs)


def expect(
    kind: str,
    label: str,
    what: str,
    got: Any,
    want: Any,
    *,
    rtol: float = 1e-10,
    atol: float = 1e-12,
    mistakes: Mapping[str, Any] | None = None,
) -> None:
    """Fail with a message (naming a known mistake when one matches) unless ``got ≈ want``."""
    problem = compare(got, want, rtol=rtol, atol=atol, dtype=False)
    if problem:
        message = (
            f"{kind} '{label}' failed: {what}: {problem}\n"
            f"  expected: {describe(want)}\n  got:      {describe(got)}"
        )
        for mistake, wrong in (mistakes or {}).items():
            if wrong is not None and compare(got, wrong, rtol=rtol, atol=atol, dtype=False) is None:
                message += f"\n  This matches a known mistake: {mistake}."
                break
        raise CheckFailed(message)


def require_floats(kind: str, label: str, what: str, values: Any) -> list[float]:
    """``values`` as a list of Python floats, or a message saying what they are instead.

    A loss kept as a tensor keeps the graph that produced it (and with it every
    intermediate result of its step) alive for as long as the list lives."""
    if not isinstance(values, list | tuple):
        raise CheckFailed(
            f"{kind} '{label}' failed: {what} should be a list, got {describe(values)}"
        )
    for i, value in enumerate(values):
        if isinstance(value, _Tensor):
            graph = value.requires_grad or value.grad_fn is not None
            why = (
                " that still carries its graph (grad_fn): every step's graph stays alive as "
                "long as your list does"
                if graph
                else ""
            )
            raise CheckFailed(
                f"{kind} '{label}' failed: {what}, item {i}, is a tensor{why}. Return Python "
                f"floats: loss.item()."
            )
        if type(value) is not float:
            raise CheckFailed(
                f"{kind} '{label}' failed: {what}, item {i}, should be a Python float "
                f"(loss.item()), got {type(value).__name__}"
            )
    return list(values)
