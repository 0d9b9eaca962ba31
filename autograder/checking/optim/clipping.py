"""Checks of gradient clipping (notebook 12): ``clip_grad_norm_`` and ``clip_grad_value_``
written by hand, compared with ``torch.nn.utils`` on random gradients, in place; and a
training run on a loss with a cliff, where only a clipped step survives.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from functools import partial
from typing import Any

import torch

from .. import (
    CheckFailed,
    begin_check,
    check_kind,
    describe,
    generator,
    integrity,
    refuse_if_tampered,
)
from ..checks import case_failed
from ..draw import integer, log_uniform, uniform
from ..i18n import N_, tr
from .api import Expectations, call_student, differing_item, leaf, require_call, require_floats

_float64 = torch.float64
_clone = torch.Tensor.clone
_detach = torch.Tensor.detach
_Tensor = torch.Tensor
_clip_grad_norm_ = torch.nn.utils.clip_grad_norm_
_clip_grad_value_ = torch.nn.utils.clip_grad_value_


def _random_grads(gen: torch.Generator) -> list[torch.Tensor]:
    return [
        log_uniform(gen, 0.01, 100.0) * torch.randn(*_shape(gen), generator=gen, dtype=_float64)
        for _ in range(integer(gen, 1, 4))
    ]


def total_norm(grads: Sequence[torch.Tensor], norm_type: float = 2.0) -> float:
    """The norm of all the tensors together, as if concatenated into one vector."""
    norms = torch.stack([torch.linalg.vector_norm(g, norm_type) for g in grads])
    return float(torch.linalg.vector_norm(norms, norm_type))


def clip_cases(seed: int | None) -> list[tuple[str, list[torch.Tensor], dict]]:
    """``(label, grads, options)``: several tensors, with a ``max_norm`` that clips and one
    that does not, and the norms 2, 1, 3 and infinity."""
    gen, seed = generator(seed)
    cases = []
    for i, norm_type in enumerate([2.0, 2.0, 1.0, math.inf, 3.0, 2.0]):
        grads = _random_grads(gen)
        total = total_norm(grads, norm_type)
        clips = i != 1
        max_norm = total * (uniform(gen, 0.05, 0.9) if clips else uniform(gen, 1.1, 3.0))
        options = {"max_norm": max_norm} | ({} if i < 2 else {"norm_type": norm_type})
        shapes = [tuple(g.shape) for g in grads]
        label = f"shapes {shapes}, {describe(options)} (total norm {total:.4g}), seed {seed}"
        cases.append((label, grads, options))
    return cases


def clip_value_cases(seed: int | None) -> list[tuple[str, list[torch.Tensor], float]]:
    """``(label, grads, clip_value)``, with a clip value that clips some entries."""
    gen, seed = generator(seed)
    cases = []
    for _ in range(4):
        grads = _random_grads(gen)
        middle = float(torch.cat([g.flatten() for g in grads]).abs().median())
        clip_value = middle * uniform(gen, 0.5, 1.5)
        shapes = [tuple(g.shape) for g in grads]
        label = f"shapes {shapes}, clip_value={clip_value:.4g}, seed {seed}"
        cases.append((label, grads, clip_value))
    return cases


def _shape(gen: torch.Generator) -> tuple[int, ...]:
    return tuple(integer(gen, 1, 5) for _ in range(integer(gen, 1, 3)))


def torch_clip_norm(grads: Sequence[torch.Tensor], max_norm: float, norm_type: float = 2.0):
    """What ``torch.nn.utils.clip_grad_norm_`` leaves in the ``.grad``s, and returns."""
    params = [torch.zeros_like(g, requires_grad=True) for g in grads]
    for p, g in zip(params, grads, strict=True):
        p.grad = _clone(g)
    total = _clip_grad_norm_(params, max_norm, norm_type=norm_type)
    return [p.grad for p in params], float(total)


def clip_norm_variant(
    grads: Sequence[torch.Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    *,
    per_tensor: bool = False,
    summed: bool = False,
    no_epsilon: bool = False,
    no_minimum: bool = False,
    after: bool = False,
) -> float:
    """Clipping by the total norm, with one of its details changed by a flag."""
    norms = [float(torch.linalg.vector_norm(g, norm_type)) for g in grads]
    total = sum(norms) if summed else total_norm(grads, norm_type)
    for g, own in zip(grads, norms, strict=True):
        ratio = max_norm / ((own if per_tensor else total) + (0.0 if no_epsilon else 1e-6))
        g.mul_(ratio if no_minimum else min(1.0, ratio))
    return total_norm(grads, norm_type) if after else total


CLIP_NORM_MISTAKES = {
    "each tensor clipped by its own norm, not by the norm of all of them together": partial(
        clip_norm_variant, per_tensor=True
    ),
    "the total norm taken as the sum of the tensors' norms": partial(
        clip_norm_variant, summed=True
    ),
    "max_norm / total without torch's + 1e-6": partial(clip_norm_variant, no_epsilon=True),
    "gradients scaled up when their norm is below max_norm: the factor is min(1, max_norm / "
    "(N + 1e-6))": partial(clip_norm_variant, no_minimum=True),
    "the norm after clipping returned: return N, the norm before": partial(
        clip_norm_variant, after=True
    ),
}


CLIP_NORM_FORBID = [
    "torch.nn.utils.clip_grad_norm_",
    "torch.nn.utils.clip_grads_with_norm_",
    "torch.nn.utils.get_total_norm",
]
CLIP_VALUE_FORBID = ["torch.nn.utils.clip_grad_value_"]

NOT_IN_PLACE = N_(
    "the tensors in grads were not changed in place: the caller's gradients (each p.grad) are "
    "still as they were. Writing grads[i] = ... or g = ... only rebinds a name; change each "
    "tensor itself ({example})"
)


NOT_CHANGED = N_(
    "the tensors left as they were: g = ... makes a new tensor and rebinds the name; change each "
    "tensor in place ({example})"
)


def _changed_in_place(
    kind: str, label: str, given: list, originals: list[torch.Tensor], example: str
) -> list[torch.Tensor]:
    """The tensors the caller gave, after the call: a list whose items were replaced, or
    tensors left as they were while new ones were made, fail here."""
    if len(given) != len(originals) or any(
        a is not b for a, b in zip(given, originals, strict=False)
    ):
        raise CheckFailed(case_failed(kind, label, tr(NOT_IN_PLACE, example=example)))
    return originals


def check_clip_norm(
    student: Callable,
    seed: int | None,
    *,
    public: bool = True,
    mistakes: Mapping[str, Callable] | None = None,
) -> None:
    """``student(grads, max_norm, norm_type=2.0)`` scales the tensors of ``grads`` in place
    and returns their total norm before clipping (a float or a 0-dim tensor). ``mistakes``
    defaults to :data:`CLIP_NORM_MISTAKES`."""
    mistakes = CLIP_NORM_MISTAKES if mistakes is None else mistakes
    kind, _ = begin_check(student, public=public, forbid=CLIP_NORM_FORBID)
    verdicts = Expectations(kind)
    for label, grads, options in clip_cases(seed):
        want_grads, want_total = torch_clip_norm(grads, **options)
        given = [_clone(g) for g in grads]
        originals = list(given)
        total = call_student(kind, student, label, given, **options)
        _changed_in_place(kind, label, given, originals, "g.mul_(c), g *= c")
        if isinstance(total, _Tensor) and total.requires_grad:
            total = _detach(total)
        wrong_grads: dict[str, Any] = {}
        wrong_totals: dict[str, Any] = {}
        for mistake, fn in (mistakes or {}).items():
            copies = [_clone(g) for g in grads]
            try:
                wrong_totals[mistake] = fn(copies, **options)
            except Exception:
                continue
            wrong_grads[mistake] = copies
        wrong_grads[tr(NOT_CHANGED, example="g.mul_(c), g *= c")] = grads
        what = tr("the gradients after clipping (changed in place)")
        verdicts.expect(label, what, originals, want_grads, mistakes=wrong_grads)
        if total is None:
            raise CheckFailed(
                tr(
                    "{kind} '{label}' failed: return the total norm (you returned None)",
                    kind=kind,
                    label=label,
                )
            )
        verdicts.expect(
            label,
            tr("the total norm you return (before clipping)"),
            total,
            want_total,
            rtol=1e-10,
            mistakes=wrong_totals,
        )
    verdicts.verdict()
    refuse_if_tampered(kind)


def check_clip_value(student: Callable, seed: int | None, *, public: bool = True) -> None:
    """``student(grads, clip_value)`` clamps the tensors of ``grads`` in place."""
    kind, _ = begin_check(student, public=public, forbid=CLIP_VALUE_FORBID)
    verdicts = Expectations(kind)
    for label, grads, clip_value in clip_value_cases(seed):
        params = [torch.zeros_like(g, requires_grad=True) for g in grads]
        for p, g in zip(params, grads, strict=True):
            p.grad = _clone(g)
        _clip_grad_value_(params, clip_value)
        given = [_clone(g) for g in grads]
        originals = list(given)
        call_student(kind, student, label, given, clip_value)
        _changed_in_place(kind, label, given, originals, "g.clamp_(...)")
        verdicts.expect(
            label,
            tr("the gradients after clipping (changed in place)"),
            originals,
            [p.grad for p in params],
            mistakes={
                tr(NOT_CHANGED, example="g.clamp_(...)"): grads,
                "clamped to [0, clip_value]": [g.clamp(0, clip_value) for g in grads],
                "clamped from above only: entries below -clip_value were left": [
                    g.clamp(max=clip_value) for g in grads
                ],
            },
        )
    verdicts.verdict()
    refuse_if_tampered(kind)


# ------------------------------------------------------------ where clipping saves a run


def cliff_loss(w: torch.Tensor) -> torch.Tensor:
    """A recurrent weight applied 30 times, fitted to reach 0.5: ``(w³⁰ - 0.5)²``. Flat for
    ``|w| < 0.9``, a cliff above 1 (its gradient, 60·w²⁹·(w³⁰ − 0.5), explodes)."""
    return ((w**30).sum() - 0.5) ** 2


def clipped_reference(w0, loss_fn, *, lr, steps, max_norm, clip=True, accumulate=False):
    """SGD with the gradient's norm clipped, from the gradient and the rule written out.

    ``clip=False`` does not clip, ``clip="value"`` clamps each entry to ``max_norm``
    instead; ``accumulate`` keeps adding into the (clipped) gradient, as a loop that forgot
    ``zero_grad()`` does."""
    w = _clone(_detach(w0))
    losses = []
    kept = None
    for _ in range(steps):
        x = _clone(w).requires_grad_(True)
        loss = loss_fn(x)
        (grad,) = torch.autograd.grad(loss, x)
        losses.append(float(_detach(loss)))
        if accumulate and kept is not None:
            grad = kept + grad
        if clip == "value":
            grad = grad.clamp(-max_norm, max_norm)
        elif clip:
            norm = float(torch.linalg.vector_norm(grad))
            grad = grad * min(1.0, max_norm / (norm + 1e-6))
        kept = grad
        w = w - lr * grad
    return losses, w


def clipped_cases(seed: int | None) -> list[tuple[str, torch.Tensor, Callable, dict]]:
    """Runs on the cliff and on a steep least-squares problem, where clipping acts on some
    steps and not on others."""
    gen, seed = generator(seed)
    cases = []
    for i in range(3):
        if i == 0:
            w0 = torch.tensor([uniform(gen, 1.0, 1.08)], dtype=_float64)
            options = {
                "lr": 1e-3,
                "steps": integer(gen, 20, 60),
                "max_norm": uniform(gen, 0.5, 3.0),
            }
            loss_fn: Callable = cliff_loss
            name = tr("the cliff (w^30 - 0.5)^2")
        else:
            n, d = integer(gen, 4, 10), integer(gen, 2, 4)
            x = log_uniform(gen, 1.0, 10.0) * torch.randn(n, d, generator=gen, dtype=_float64)
            y = torch.randn(n, generator=gen, dtype=_float64)

            def loss_fn(w, x=x, y=y):
                return ((x @ w - y) ** 2).mean()

            w0 = torch.randn(d, generator=gen, dtype=_float64)
            grad_norm = float(torch.linalg.vector_norm(2 / n * x.T @ (x @ w0 - y)))
            options = {
                "lr": uniform(gen, 0.2, 0.9) / float(torch.linalg.matrix_norm(x, 2) ** 2 * 2 / n),
                "steps": integer(gen, 5, 20),
                "max_norm": grad_norm * uniform(gen, 0.05, 0.5),
            }
            name = tr("least squares, x of shape {value}", value=(n, d))
        label = f"{name}, w0={describe(w0)}, {describe(options)}, seed {seed}"
        cases.append((label, w0, loss_fn, options))
    return cases


def check_clipped_training(student: Callable, seed: int | None, *, public: bool = True) -> None:
    """``student(w, loss_fn, *, lr, steps, max_norm)`` trains ``w`` with SGD, clipping the
    gradient's norm between ``backward()`` and ``step()``; returns the losses as floats."""
    kind = check_kind(public)
    refuse_if_tampered(kind)
    verdicts = Expectations(kind)
    for label, w0, loss_fn, options in clipped_cases(seed):
        losses, w_want = clipped_reference(w0, loss_fn, **options)
        variants = {
            N_("the gradient was not clipped (clip between backward() and step())"): (
                clipped_reference(w0, loss_fn, clip=False, **options)
            ),
            N_("gradients accumulated: zero_grad() was not called before each backward()"): (
                clipped_reference(w0, loss_fn, accumulate=True, **options)
            ),
            N_(
                "each entry clamped to max_norm (clip_grad_value_): clip the norm of the whole "
                "gradient (clip_grad_norm_)"
            ): clipped_reference(w0, loss_fn, clip="value", **options),
        }
        after = [*losses[1:], float(_detach(loss_fn(w_want)))]
        w = leaf(w0)
        got = require_call(
            kind,
            label,
            ["torch.optim.SGD"],
            partial(
                call_student,
                kind,
                student,
                label,
                w,
                loss_fn,
                **options,
                arguments=("w", "loss_fn"),
                may_change=("w",),
            ),
            tr(
                "{student} never used torch.optim.SGD: build the optimizer and call its step(), "
                "as the exercise asks",
                student=getattr(student, "__name__", "train_clipped"),
            ),
        )
        got = require_floats(kind, label, tr("the list of losses you return"), got)
        verdicts.expect(
            label,
            tr("the losses"),
            got,
            losses,
            mistakes={k: v[0] for k, v in variants.items()}
            | {N_("each loss recorded after its step (compute it before step())"): after},
            shown=partial(differing_item, got, losses),
        )
        verdicts.expect(
            label,
            tr("w after training"),
            _detach(w),
            w_want,
            mistakes={k: v[1] for k, v in variants.items()},
        )
    verdicts.verdict()
    refuse_if_tampered(kind)


integrity.watch(__import__(__name__, fromlist=["*"]))
