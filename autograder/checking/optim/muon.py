"""Muon, written out in the dtype of its inputs, and the checks that allow for bfloat16.

``torch.optim.Muon`` orthogonalizes each update with a few Newton–Schulz iterations run in
**bfloat16** (8 significant bits, about 2.4 decimal digits): on a GPU that is the fast,
memory-light format of matrix multiplication, and the orthogonalized direction only needs
to be roughly right (the iteration is tuned to land singular values anywhere near 1, not
on it). Torch's result therefore differs from the same arithmetic in float64 by up to
several percent of its largest entry, far more than the 1% error a check must catch.

So a Muon step is checked twice: strictly (``rtol`` 1e-8) against :func:`muon_float64`,
torch's algorithm with every operation kept in the parameter's dtype (the tests show it
equals torch's own code when torch's bfloat16 cast is made a no-op), and loosely against
``torch.optim.Muon`` itself, with a tolerance sized for bfloat16 and a message saying so.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from functools import partial

import torch

from ..i18n import N_, tr
from .cases import OptimCase
from .running import check_optimizer

NS_COEFFICIENTS = (3.4445, -4.7750, 2.0315)
"""Torch's default quintic coefficients (a, b, c), from Keller Jordan's Muon."""

BFLOAT16_ATOL = 1.5
"""Allowed difference from torch, per step, in units of the step's adjusted learning rate.

Typical differences between torch's bfloat16 Newton–Schulz and float64 are a few percent
of an entry. The worst come from updates with tiny singular values: the iteration
multiplies those directions, rounding errors included, by up to a per iteration (a⁵ ≈ 480
for five), until they reach size one. Measured on thousands of random runs of the checks'
shapes: up to 0.27 per entry with five iterations, 0.92 with seven; and one hidden draw of
the checks (six iterations on a 3 x 3 matrix) moved an entry by 1.24 learning rates in one
step, failing the course's own reference at 1.0. 1.5 learning rates per step allows that
and still refuses a step in the wrong direction, 2 learning rates away (the strict float64
check is the one that tells every wrong step)."""

BFLOAT16_NOTE = N_(
    "torch.optim.Muon runs Newton–Schulz in bfloat16 (8 significant bits). Its result differs "
    "from exact arithmetic by a few percent, and by more than one learning rate per entry "
    "where the update has tiny singular values (the iteration multiplies those directions, "
    "rounding errors included); so against torch itself your step only has to agree within "
    "{atol} x the adjusted learning rate per step. The strict check is the one "
    "against torch's algorithm in float64."
)


def reference_newton_schulz(
    grad: torch.Tensor,
    steps: int = 5,
    coefficients: tuple[float, float, float] = NS_COEFFICIENTS,
    eps: float = 1e-7,
) -> torch.Tensor:
    """Torch's orthogonalization (``_zeropower_via_newtonschulz``) in ``grad``'s own dtype:
    scale to Frobenius norm at most 1, then ``X <- aX + (bA + cA²)X`` with ``A = XXᵀ``,
    working on the wide orientation of the matrix."""
    a, b, c = coefficients
    tall = grad.size(0) > grad.size(1)
    x = grad.T if tall else grad
    x = x / x.norm().clamp(min=eps)
    for _ in range(steps):
        gram = x @ x.T
        x = a * x + (b * gram + c * gram @ gram) @ x
    return x.T if tall else x


def adjusted_lr(lr: float, adjust_lr_fn: str | None, shape: Iterable[int]) -> float:
    """The learning rate Muon applies to a matrix of ``shape`` (rows A, columns B)."""
    rows, cols = list(shape)[:2]
    if adjust_lr_fn is None or adjust_lr_fn == "original":
        return lr * math.sqrt(max(1.0, rows / cols))
    if adjust_lr_fn == "match_rms_adamw":
        return lr * 0.2 * math.sqrt(max(rows, cols))
    if adjust_lr_fn == "spectral_unclamped":
        return lr * math.sqrt(rows / cols)
    return lr


def muon_variant(
    param,
    grad,
    state,
    *,
    lr=1e-3,
    weight_decay=0.1,
    momentum=0.95,
    nesterov=True,
    ns_coefficients=NS_COEFFICIENTS,
    eps=1e-7,
    ns_steps=5,
    adjust_lr_fn=None,
    adjust=True,
    decay_with_adjusted_lr=False,
    ignore_nesterov=False,
    sgd_buffer=False,
):
    """Muon's step in the parameter's dtype; the last four flags make known mistakes."""
    if "momentum_buffer" not in state:
        state["momentum_buffer"] = torch.zeros_like(param)
    buf = state["momentum_buffer"]
    if sgd_buffer:  # SGD's sum mu*B + g: the same direction, 1/(1 - mu) times the size
        buf.mul_(momentum).add_(grad)
        update = grad + momentum * buf if nesterov and not ignore_nesterov else buf
    else:
        buf.lerp_(grad, 1 - momentum)
        update = grad.lerp(buf, momentum) if nesterov and not ignore_nesterov else buf
    direction = reference_newton_schulz(update, ns_steps, ns_coefficients, eps)
    rate = adjusted_lr(lr, adjust_lr_fn, param.shape) if adjust else lr
    param.mul_(1 - (rate if decay_with_adjusted_lr else lr) * weight_decay)
    param.sub_(rate * direction)


def muon_float64(param, grad, state, **hyper) -> None:
    """torch.optim.Muon's algorithm with Newton–Schulz in the parameter's dtype."""
    muon_variant(param, grad, state, **hyper)


muon_float64.__name__ = N_("torch.optim.Muon's algorithm in float64")

MUON_MISTAKES = {
    "the learning rate not adjusted to the matrix's shape (adjust_lr_fn)": partial(
        muon_variant, adjust=False
    ),
    "weight decay scaled by the adjusted learning rate (torch decays with the plain lr)": (
        partial(muon_variant, decay_with_adjusted_lr=True)
    ),
    "nesterov ignored": partial(muon_variant, ignore_nesterov=True),
    "SGD's buffer (mu*B + g) instead of Muon's average (mu*B + (1 - mu)*g): the direction is "
    "the same, but its size matters where its norm is below eps": partial(
        muon_variant, sgd_buffer=True
    ),
}


def bfloat16_atol(case: OptimCase, step: int) -> float:
    """What torch's bfloat16 arithmetic allows after ``step + 1`` steps of ``case``."""
    hyper = dict(case.hyper)
    fn = hyper.get("adjust_lr_fn")
    total = 0.0
    for s in range(step + 1):
        lr = case.lrs[s] if case.lrs is not None else hyper.get("lr", 1e-3)
        total += max(adjusted_lr(lr, fn, p.shape) for p in case.params)
    return BFLOAT16_ATOL * total


def check_muon(
    step_fn,
    cases: Iterable[OptimCase],
    *,
    public: bool = True,
    forbid: Iterable[str] = (),
    mistakes: Mapping | None = None,
) -> None:
    """Strictly against torch's algorithm in float64, then within bfloat16's precision
    against ``torch.optim.Muon`` itself."""
    cases = list(cases)
    check_optimizer(
        step_fn,
        muon_float64,
        cases,
        public=public,
        forbid=forbid,
        mistakes=MUON_MISTAKES if mistakes is None else mistakes,
    )
    check_optimizer(
        step_fn,
        torch.optim.Muon,
        cases,
        public=public,
        rtol=0.0,
        atol=bfloat16_atol,
        note=tr(BFLOAT16_NOTE, atol=f"{BFLOAT16_ATOL:g}"),
    )
