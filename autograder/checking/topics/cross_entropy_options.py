"""Inputs and known mistakes for the cross-entropy family (topic 04).

Every case label carries its seed, so a failure can be reproduced exactly. The specials
come first in every list: a batch of one, K-dimensional inputs, an ``ignore_index`` that
is a real class, and a batch whose targets are all ignored.
"""

from __future__ import annotations

from typing import Any

import torch
import torch.nn.functional as F

from .. import REDUCTIONS, Case, generator, integrity, reduction_mistakes
from ..draw import alternating_dtype as _dtype
from ..i18n import N_

# (shape of the input, options): the cases every check tries before the random ones.
SPECIALS: list[tuple[tuple[int, ...], dict[str, Any]]] = [
    ((1, 3), {}),
    ((4, 2), {"weight": True}),
    ((6, 4), {"weight": True, "ignore": "-100"}),
    ((2, 3, 4), {"weight": True, "ignore": "class"}),
    ((2, 3, 2, 2), {"ignore": "-100"}),
    ((3, 3), {"weight": True, "ignore": "all"}),
    ((5, 3), {"weight": True, "ignore": "negative"}),
]


def _random_shape(gen: torch.Generator) -> tuple[int, ...]:
    n, c, k = (int(v) for v in torch.randint(1, 7, (3,), generator=gen))
    extra = tuple(int(d) for d in torch.randint(1, 4, (k % 3,), generator=gen))
    return (n, max(c, 2), *extra)


def _random_options(gen: torch.Generator) -> dict:
    u = torch.rand(3, generator=gen)
    ignore = "-100" if u[1] < 0.3 else "class" if u[1] < 0.5 else "negative" if u[1] < 0.6 else None
    return {"weight": bool(u[0] < 0.6), "ignore": ignore}


def _describe(shape, dtype, scale, options, reduction, seed) -> str:
    parts = [f"input {shape}", str(dtype)[6:], f"scale {scale:g}"]
    parts += [key for key in ("weight",) if options.get("weight")]
    if options.get("ignore"):
        parts.append(f"ignore_index ({options['ignore']})")
    if options.get("smoothing"):
        parts.append("label_smoothing")
    return ", ".join(parts) + f", reduction={reduction!r}, seed {seed}"


def logit_cases(seed: int | None = None, *, draws: int = 4, scale: float = 3.0) -> list[Case]:
    """Logits ``(N, C, d1, ..., dk)`` alone, for ``log_softmax`` over dimension 1."""
    gen, seed = generator(seed)
    shapes = [shape for shape, _ in SPECIALS] + [_random_shape(gen) for _ in range(draws)]
    cases = []
    for i, shape in enumerate(shapes):
        dtype = _dtype(i)
        x = (torch.randn(shape, generator=gen, dtype=torch.float64) * scale).to(dtype)
        label = f"input {shape}, {str(dtype)[6:]}, scale {scale:g}, seed {seed}"
        cases.append(Case(label, (x,)))
    return cases


def logsoftmax_mistakes() -> dict:
    """Known wrong versions of ``F.log_softmax(input, dim=1)``."""

    def no_shift(input):
        return input - torch.log(torch.exp(input).sum(dim=1, keepdim=True))

    def whole_tensor_shift(input):
        m = input.max()
        return input - m - torch.log(torch.exp(input - m).sum(dim=1, keepdim=True))

    def not_subtracted(input):
        m = input.amax(dim=1, keepdim=True)
        return input - torch.log(torch.exp(input - m).sum(dim=1, keepdim=True))

    return {
        "softmax probabilities instead of their log": lambda input: F.softmax(input, dim=1),
        "log-softmax over the last dimension instead of dimension 1": lambda input: (
            F.log_softmax(input, dim=-1) if input.dim() > 2 else None
        ),
        "no max shift: e^x overflows (or underflows) for logits of 1000": no_shift,
        "one shift for the whole tensor (input.max()), not one per row along dimension 1: "
        "rows far below the largest logit underflow to log(0)": whole_tensor_shift,
        "the shift m inside the log only: x - log sum e^(x - m) needs - m as well": (
            not_subtracted
        ),
    }


def index_cases(
    seed: int | None = None,
    *,
    draws: int = 4,
    scale: float = 3.0,
    log_probs: bool = False,
    smoothing: bool = False,
) -> list[Case]:
    """``(input, target)`` with class-index targets and every option, every reduction.

    ``log_probs`` turns the logits into log-probabilities (the input ``nll_loss`` expects);
    ``smoothing`` adds ``label_smoothing`` to every other case.
    """
    gen, seed = generator(seed)
    plans = list(SPECIALS) + [(_random_shape(gen), _random_options(gen)) for _ in range(draws)]
    cases = []
    for i, (shape, options) in enumerate(plans):
        options = dict(options)
        dtype = _dtype(i)
        n, c, *extra = shape
        x = torch.randn(shape, generator=gen, dtype=torch.float64) * scale
        if log_probs:
            x = F.log_softmax(x, dim=1)
        x = x.to(dtype)
        target = torch.randint(0, c, (n, *extra), generator=gen)
        kwargs: dict = {}
        if options.get("weight"):
            w = torch.rand(c, generator=gen, dtype=torch.float64) * 2 + 0.1
            kwargs["weight"] = w.to(dtype)
        ignore = options.get("ignore")
        if ignore:
            if ignore in ("-100", "all"):
                index = -100
            elif ignore == "negative":  # another negative index, not the default -100
                index = -int(torch.randint(1, 100, (1,), generator=gen))
            else:
                index = int(torch.randint(0, c, (1,), generator=gen))
            if ignore == "all":
                mask = torch.ones(target.shape, dtype=torch.bool)
            else:
                mask = torch.rand(target.shape, generator=gen) < 0.4
                mask.view(-1)[0] = True  # one ignored position at least
            target = torch.where(mask, torch.full_like(target, index), target)
            if index != -100 or i % 2:  # -100 is the default: pass it only sometimes
                kwargs["ignore_index"] = index
        if smoothing and i % 2 == 0:
            kwargs["label_smoothing"] = round(float(torch.rand(1, generator=gen)) * 0.5 + 0.05, 3)
            options["smoothing"] = True
        for reduction in REDUCTIONS:
            label = _describe(shape, dtype, scale, options, reduction, seed)
            cases.append(Case(label, (x, target), {**kwargs, "reduction": reduction}))
    return cases


def prob_cases(seed: int | None = None, *, draws: int = 4, scale: float = 3.0) -> list[Case]:
    """``(input, target)`` where the target holds class probabilities, same shape as input."""
    gen, seed = generator(seed)
    shapes = [(1, 3), (4, 2), (2, 3, 4), (3, 5)] + [_random_shape(gen) for _ in range(draws)]
    cases = []
    for i, shape in enumerate(shapes):
        dtype = _dtype(i)
        x = (torch.randn(shape, generator=gen, dtype=torch.float64) * scale).to(dtype)
        target = F.softmax(torch.randn(shape, generator=gen, dtype=torch.float64) * 2, dim=1)
        target = target.to(dtype)
        kwargs: dict = {}
        options = {}
        if i % 3 != 0:
            w = torch.rand(shape[1], generator=gen, dtype=torch.float64) * 2 + 0.1
            kwargs["weight"] = w.to(dtype)
            options["weight"] = True
        if i % 2 == 0:
            kwargs["label_smoothing"] = round(float(torch.rand(1, generator=gen)) * 0.5 + 0.05, 3)
            options["smoothing"] = True
        for reduction in REDUCTIONS:
            label = "probabilities, " + _describe(shape, dtype, scale, options, reduction, seed)
            cases.append(Case(label, (x, target), {**kwargs, "reduction": reduction}))
    return cases


def grad_cases(seed: int | None = None, *, draws: int = 4, scale: float = 3.0) -> list[Case]:
    """Logits ``(N, C)`` and class indices, with and without ``weight``, every reduction."""
    gen, seed = generator(seed)
    sizes = [(1, 3), (4, 2), (5, 4)]
    sizes += [(int(n), max(int(c), 2)) for n, c in torch.randint(1, 8, (draws, 2), generator=gen)]
    cases = []
    for i, (n, c) in enumerate(sizes):
        dtype = _dtype(i)
        x = (torch.randn(n, c, generator=gen, dtype=torch.float64) * scale).to(dtype)
        target = torch.randint(0, c, (n,), generator=gen)
        weight = (torch.rand(c, generator=gen, dtype=torch.float64) * 2 + 0.1).to(dtype)
        for with_weight in (False, True):
            kwargs = {"weight": weight} if with_weight else {}
            for reduction in REDUCTIONS:
                options = {"weight": with_weight}
                label = _describe((n, c), dtype, scale, options, reduction, seed)
                cases.append(Case(label, (x, target), {**kwargs, "reduction": reduction}))
    return cases


# ---------------------------------------------------------------------------------------
# Known mistakes. Each takes the arguments of a case and returns the wrong value the
# mistake gives, or ``None`` where it does not apply.


def _class_shape(input: torch.Tensor) -> tuple[int, ...]:
    return (1, input.shape[1]) + (1,) * (input.dim() - 2)


def _selected_weights(input, target, weight, ignore_index):
    keep = target != ignore_index
    safe = torch.where(keep, target, torch.zeros_like(target))
    w = torch.ones(input.shape[1], dtype=input.dtype) if weight is None else weight
    return w[safe] * keep, keep, safe


def smoothed_ce(
    input,
    target,
    weight=None,
    ignore_index=-100,
    reduction="mean",
    label_smoothing=0.0,
    *,
    weigh_smoothing=True,
    spread=None,
    denominator="weights",
):
    """Cross-entropy with class indices, with switches that reproduce known mistakes.

    ``weigh_smoothing=False`` leaves the class weights out of the smoothing term;
    ``spread="others"`` spreads the smoothing over the C-1 wrong classes only;
    ``denominator="n"`` divides the mean by the number of targets.
    """
    c = input.shape[1]
    lp = F.log_softmax(input, dim=1)
    wt, keep, safe = _selected_weights(input, target, weight, ignore_index)
    w = torch.ones(c, dtype=input.dtype) if weight is None or not weigh_smoothing else weight
    picked = -lp.gather(1, safe.unsqueeze(1)).squeeze(1)
    every = -(lp * w.reshape(_class_shape(input))).sum(dim=1)
    if spread == "others":
        every_other = every - picked * w[safe]
        losses = (1 - label_smoothing) * picked * wt + label_smoothing / (
            c - 1
        ) * every_other * keep
    else:
        losses = (1 - label_smoothing) * picked * wt + label_smoothing / c * every * keep
    if reduction == "none":
        return losses
    if reduction == "sum":
        return losses.sum()
    return losses.sum() / (wt.sum() if denominator == "weights" else target.numel())


def divided_by_n(reference):
    """The mean divided by N, the number of targets, instead of the selected weights' sum."""

    def wrong(input, target, *args, reduction="mean", **kwargs):
        if reduction != "mean":
            return None
        return reference(input, target, *args, reduction="sum", **kwargs) / target.numel()

    return wrong


def ignore_not_skipped(reference):
    """``ignore_index`` not honoured: the ignored class counted like any other."""

    def wrong(input, target, *args, ignore_index=-100, **kwargs):
        if ignore_index < 0 or not bool((target == ignore_index).any()):
            return None
        return reference(input, target, *args, **kwargs)

    return wrong


def weight_left_out(reference):
    """``weight`` given but not used."""

    def wrong(input, target, weight=None, **kwargs):
        return None if weight is None else reference(input, target, **kwargs)

    return wrong


def weighted_sum_over_count(reference):
    """Weighted losses summed, then divided by the number of kept targets, not their weights."""

    def wrong(input, target, weight=None, ignore_index=-100, reduction="mean", **kwargs):
        if weight is None or reduction != "mean":
            return None
        total = reference(
            input, target, weight=weight, ignore_index=ignore_index, reduction="sum", **kwargs
        )
        return total / (target != ignore_index).sum()

    return wrong


def all_ignored_zero(input, target, *args, ignore_index=-100, reduction="mean", **kwargs):
    """0 returned for the mean of a batch whose targets are all ignored (torch gives nan)."""
    if reduction != "mean" or bool((target != ignore_index).any()):
        return None
    return torch.zeros((), dtype=input.dtype)


NAME_ALL_IGNORED = N_("0 instead of nan for the mean when every target is ignored (0/0 is nan)")

NAME_DIVIDED_BY_N = N_(
    "the mean divided by N (the number of targets) instead of by the sum of the weights of the "
    "targets that are not ignored"
)


def nll_mistakes() -> dict:
    return {
        NAME_ALL_IGNORED: all_ignored_zero,
        **reduction_mistakes(F.nll_loss),
        NAME_DIVIDED_BY_N: divided_by_n(F.nll_loss),
        "weighted losses divided by the number of kept targets, not by their summed weights": (
            weighted_sum_over_count(F.nll_loss)
        ),
        "ignore_index not honoured (the ignored class was counted)": ignore_not_skipped(F.nll_loss),
        "weight not used": weight_left_out(F.nll_loss),
        "the sign: +input[target] instead of -input[target]": lambda *a, **k: -F.nll_loss(*a, **k),
    }


def ce_mistakes() -> dict:
    """Mistakes of cross-entropy with class-index targets, label smoothing included."""

    def smoothing(**switches):
        def wrong(*args, label_smoothing=0.0, **kwargs):
            if not label_smoothing:
                return None
            return smoothed_ce(*args, label_smoothing=label_smoothing, **kwargs, **switches)  # type: ignore[misc]

        return wrong

    def softmax_first(input, *args, **kwargs):
        return F.cross_entropy(F.softmax(input, dim=1), *args, **kwargs)

    def no_log_softmax(input, target, *args, label_smoothing=0.0, **kwargs):
        return None if label_smoothing else F.nll_loss(input, target, *args, **kwargs)

    return {
        NAME_ALL_IGNORED: all_ignored_zero,
        **reduction_mistakes(F.cross_entropy),
        NAME_DIVIDED_BY_N: divided_by_n(F.cross_entropy),
        "weighted losses divided by the number of kept targets, not by their summed weights": (
            weighted_sum_over_count(F.cross_entropy)
        ),
        "ignore_index not honoured (the ignored class was counted)": ignore_not_skipped(
            F.cross_entropy
        ),
        "weight not used": weight_left_out(F.cross_entropy),
        "label smoothing: the smoothing term left unweighted (torch weighs each class c by "
        "weight[c])": smoothing(weigh_smoothing=False),
        "label smoothing spread over the C-1 wrong classes instead of all C classes": smoothing(
            spread="others"
        ),
        "softmax applied before cross-entropy (so twice)": softmax_first,
        "NLLLoss on the raw logits (LogSoftmax forgotten)": no_log_softmax,
    }


def soft_ce_mistakes() -> dict:
    """Mistakes of cross-entropy with class-probability targets."""

    def by_weights(input, target, weight=None, reduction="mean", label_smoothing=0.0):
        if weight is None or reduction != "mean":
            return None
        total = F.cross_entropy(
            input, target, weight=weight, reduction="sum", label_smoothing=label_smoothing
        )
        return total / (target * weight.reshape(_class_shape(input))).sum()

    def no_smoothing(input, target, label_smoothing=0.0, **kwargs):
        return F.cross_entropy(input, target, **kwargs) if label_smoothing else None

    def by_elements(input, target, reduction="mean", **kwargs):
        if reduction != "mean":
            return None
        return F.cross_entropy(input, target, reduction="sum", **kwargs) / input.numel()

    return {
        **reduction_mistakes(F.cross_entropy),
        "the mean divided by the summed weights (with probabilities torch divides by N)": (
            by_weights
        ),
        "the mean taken over every element of the input (N*C*...) instead of over N*d1*...": (
            by_elements
        ),
        "label_smoothing not applied": no_smoothing,
        "weight not used": weight_left_out(F.cross_entropy),
    }


def autograd_ce_grad(input, target, weight=None, reduction="mean"):
    """dL/dinput by autograd in float64, returned in the input's dtype.

    For ``reduction="none"`` it is the gradient of the sum of the per-sample losses.
    """
    x = input.detach().to(torch.float64).requires_grad_()
    w = None if weight is None else weight.to(torch.float64)
    loss = F.cross_entropy(x, target, weight=w, reduction=reduction)
    (grad,) = torch.autograd.grad(loss.sum(), x)
    return grad.to(input.dtype)


def grad_mistakes() -> dict:
    def variant(*, weighted=True, divide="weights", sign=1.0):  # divide: "weights" or "n"
        def wrong(input, target, weight=None, reduction="mean"):
            x = input.detach().to(torch.float64)
            onehot = F.one_hot(target, x.shape[1]).to(torch.float64)
            w = torch.ones(x.shape[1], dtype=torch.float64) if weight is None else weight
            wt = w.to(torch.float64)[target] if weighted else torch.ones(len(target))
            g = sign * (F.softmax(x, dim=1) - onehot) * wt.to(torch.float64).unsqueeze(1)
            if reduction == "mean":
                g = g / (wt.sum() if divide == "weights" else len(target))
            return g.to(input.dtype)

        return wrong

    def sum_for_mean(input, target, weight=None, reduction="mean"):
        if reduction != "mean":
            return None
        return autograd_ce_grad(input, target, weight=weight, reduction="sum")

    return {
        "the sign: one-hot minus softmax instead of softmax minus one-hot": variant(sign=-1.0),
        "weight[target] left out of the gradient": variant(weighted=False),
        "for the weighted mean, divided by N instead of by the sum of the selected weights": (
            variant(divide="n")
        ),
        "the gradient of the sum given for reduction='mean'": sum_for_mean,
    }


# --- a weighted mean by hand, from Python numbers ------------------------------------------


def weighted_mean_reference(logits: list, target: list, weight: list) -> float:
    """``F.cross_entropy(..., weight=weight)`` (reduction mean) in float64 of Python lists."""
    return float(
        F.cross_entropy(
            torch.tensor(logits, dtype=torch.float64),
            torch.tensor(target),
            weight=torch.tensor(weight, dtype=torch.float64),
        )
    )


def weighted_mean_cases(seed: int | None = None, *, draws: int = 6) -> list[Case]:
    """Two to six samples of two to four classes, positive class weights, as Python lists."""
    gen, seed = generator(seed)
    cases = []
    for _ in range(draws):
        n = int(torch.randint(2, 7, (1,), generator=gen))
        c = int(torch.randint(2, 5, (1,), generator=gen))
        logits = [[round(float(v), 2) for v in row] for row in torch.randn(n, c, generator=gen)]
        target = [int(t) for t in torch.randint(0, c, (n,), generator=gen)]
        target[1] = (target[0] + 1) % c  # two classes at least, so the weights matter
        weight = [round(float(w), 2) for w in torch.rand(c, generator=gen) * 3 + 0.2]
        label = f"logits {logits}, target {target}, weight {weight}, seed {seed}"
        cases.append(Case(label, (logits, target, weight)))
    return cases


def weighted_mean_mistakes() -> dict:
    def weighted_sum(logits, target, weight):
        return weighted_mean_reference(logits, target, weight) * sum(weight[t] for t in target)

    return {
        "divided by N instead of by the targets' weights": lambda logits, target, weight: (
            weighted_sum(logits, target, weight) / len(target)
        ),
        "divided by the sum of the class weights instead of the targets' weights": (
            lambda logits, target, weight: weighted_sum(logits, target, weight) / sum(weight)
        ),
        "the weighted sum, not divided at all": weighted_sum,
        "the unweighted mean (weight forgotten)": lambda logits, target, weight: (
            weighted_mean_reference(logits, target, [1.0] * len(weight))
        ),
    }


WEIGHTED_MEAN_FORBID = [
    "torch.nn.functional.cross_entropy",
    "torch.nn.functional.nll_loss",
    "torch.nn.functional.log_softmax",
    "torch.logsumexp",
    "torch.nn.CrossEntropyLoss",
    "autograder.checking.topics.cross_entropy_options.weighted_mean_reference",
]


integrity.watch(__import__(__name__, fromlist=["*"]))
