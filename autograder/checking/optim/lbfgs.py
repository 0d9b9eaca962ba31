"""Checks of L-BFGS (notebook 12): the closure ``torch.optim.LBFGS`` calls, and the minimum
it finds, against Rosenbrock's function and its gradient worked out by hand.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import torch

from .. import (
    CheckFailed,
    check_kind,
    describe,
    generator,
    integrity,
    refuse_if_tampered,
)
from ..draw import uniform
from ..i18n import N_, tr
from .api import Expectations, call_student, leaf, require_call

_float64 = torch.float64
_detach = torch.Tensor.detach
_Tensor = torch.Tensor


def rosenbrock_value(xy: torch.Tensor) -> torch.Tensor:
    """Rosenbrock's function (a=1, b=100), with its minimum 0 at (1, 1)."""
    x, y = xy[0], xy[1]
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def rosenbrock_gradient(xy: torch.Tensor) -> torch.Tensor:
    """Its gradient, worked out by hand."""
    x, y = xy[0], xy[1]
    return torch.stack([-2 * (1 - x) - 400 * x * (y - x**2), 200 * (y - x**2)])


def check_closure(make_closure: Callable, seed: int | None, *, public: bool = True) -> None:
    """``make_closure(optimizer, xy)`` returns a closure that clears the gradient, computes
    Rosenbrock's function at ``xy``, backpropagates and returns the loss."""
    kind = check_kind(public)
    refuse_if_tampered(kind)
    gen, seed = generator(seed)
    verdicts = Expectations(kind)
    for _ in range(3):
        point = 2 * torch.randn(2, generator=gen, dtype=_float64)
        label = f"xy = {describe(point)}, seed {seed}"
        xy = leaf(point)
        optimizer = torch.optim.LBFGS([xy])
        closure = call_student(kind, make_closure, label, optimizer, xy)
        if not callable(closure):
            raise CheckFailed(
                tr(
                    "{kind} '{label}' failed: return the closure (a function)",
                    kind=kind,
                    label=label,
                )
            )
        xy.grad = torch.full_like(xy, 123.0)  # left over from an earlier step
        true_grad = rosenbrock_gradient(point)
        calls = (
            (tr("the first call of your closure"), 123.0 + true_grad),
            (tr("the second call of your closure"), 123.0 + 2 * true_grad),
        )
        for what, stale in calls:
            loss = call_student(kind, closure, label)
            verdicts.expect(
                label,
                tr("{what}: the loss it returns", what=what),
                loss,
                rosenbrock_value(point),
                mistakes={"b = 10 instead of 100 in Rosenbrock's function": _rosenbrock_b10(point)},
            )
            grad = xy.grad
            if grad is None:
                raise CheckFailed(
                    tr(
                        "{kind} '{label}' failed: {what} left xy.grad empty (call backward() on "
                        "the loss)",
                        kind=kind,
                        label=label,
                        what=what,
                    )
                )
            forgot = {N_("the old gradient was not cleared first (zero_grad)"): stale}
            xy_grad = tr("{what}: xy.grad", what=what)
            verdicts.expect(label, xy_grad, _detach(grad), true_grad, mistakes=forgot)
    verdicts.verdict()
    refuse_if_tampered(kind)


def _rosenbrock_b10(xy: torch.Tensor) -> torch.Tensor:
    return (1 - xy[0]) ** 2 + 10 * (xy[1] - xy[0] ** 2) ** 2


def lbfgs_starts(seed: int | None) -> list[tuple[float, float]]:
    """Starting points in [-2, 2]²; public checks add two fixed ones."""
    gen, seed = generator(seed)
    starts = [(-1.5, 2.0), (0.5, -1.0)] if seed is not None else []
    starts += [(uniform(gen, -2.0, 2.0), uniform(gen, -2.0, 2.0)) for _ in range(2)]
    return starts


def check_minimum(student: Callable, seed: int | None, *, public: bool = True) -> None:
    """``student(start)`` returns the point L-BFGS finds: a detached float64 tensor of shape
    (2,), within 1e-6 of (1, 1)."""
    kind = check_kind(public)
    refuse_if_tampered(kind)
    verdicts = Expectations(kind)
    for start in lbfgs_starts(seed):
        label = f"start {describe(start)}"
        got = require_call(
            kind,
            label,
            ["torch.optim.LBFGS"],
            partial(call_student, kind, student, label, start),
            tr(
                "{name} never used torch.optim.LBFGS: build the optimizer and call its "
                "step(closure), as the exercise asks (not a point found another way)",
                name=getattr(student, "__name__", "minimise_rosenbrock"),
            ),
        )
        if not isinstance(got, _Tensor):
            raise CheckFailed(
                tr(
                    "{kind} '{label}' failed: return a tensor, got {got}",
                    kind=kind,
                    label=label,
                    got=describe(got),
                )
            )
        if got.dtype != _float64:
            raise CheckFailed(
                tr(
                    "{kind} '{label}' failed: return a float64 tensor, got {dtype} (build xy with "
                    "dtype=torch.float64: L-BFGS then works in float64 too)",
                    kind=kind,
                    label=label,
                    dtype=got.dtype,
                )
            )
        if got.requires_grad:
            raise CheckFailed(
                tr(
                    "{kind} '{label}' failed: the tensor you return still requires grad (it is "
                    "the optimizer's leaf, or made from it): return xy.detach(), a tensor outside "
                    "the graph",
                    kind=kind,
                    label=label,
                )
            )
        verdicts.expect(
            label,
            tr("the minimum found (within 1e-6 of (1, 1), in float64)"),
            got,
            torch.ones(2, dtype=_float64),
            rtol=0.0,
            atol=1e-6,
        )
    verdicts.verdict()
    refuse_if_tampered(kind)


integrity.watch(__import__(__name__, fromlist=["*"]))
