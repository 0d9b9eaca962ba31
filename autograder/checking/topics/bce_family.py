"""Inputs and known mistakes for the binary cross-entropy family (topic 05).

Every case label carries its seed, so a failure can be reproduced exactly. The specials
come first: a batch of one, probabilities of exactly 0 and 1 (where torch clamps the log
at -100), weights and ``pos_weight`` of several broadcast shapes.
"""

from __future__ import annotations

import math
from functools import partial

import torch
import torch.nn.functional as F

from .. import REDUCTIONS, Case, generator, integrity, reduce_losses, reduction_mistakes
from ..draw import alternating_dtype as _dtype
from ..draw import any_shape
from ..i18n import N_, tr
from .basic_losses import FIRST_DIM, mean_over_first_dim

SHAPES = [(1,), (1, 3), (4, 2), (2, 3, 4), (5, 3)]


def _targets(gen, shape, soft: bool) -> torch.Tensor:
    if soft:
        return torch.rand(shape, generator=gen, dtype=torch.float64)
    return (torch.rand(shape, generator=gen) < 0.5).to(torch.float64)


def _weight(gen, shape, kind: str | None) -> torch.Tensor | None:
    """A positive weight of the kind asked for: one per class (last dim), full, ``(1,)``, a
    0-dim one (``scalar``) or a row ``(1, C)`` (for inputs of two dimensions or more)."""
    if kind is None:
        return None
    wshape = {
        "class": shape[-1:],
        "full": shape,
        "one": (1,),
        "scalar": (),
        "row": (1, *shape[-1:]),
    }[kind]
    return torch.rand(wshape, generator=gen, dtype=torch.float64) * 2 + 0.1


def _label(shape, dtype, scale, options, reduction, seed) -> str:
    parts = [f"input {shape}", str(dtype)[6:]]
    if scale is not None:
        parts.append(f"scale {scale:g}")
    parts += [f"{k} ({v})" if v is not True else k for k, v in options.items() if v]
    return ", ".join(parts) + f", reduction={reduction!r}, seed {seed}"


def _plans(gen, draws):
    """(shape, soft targets?, weight kind, pos_weight kind) for specials and random draws."""
    kinds = [None, "class", "full", "one", "scalar", "row"]
    plans = [
        ((1,), False, None, None),
        ((1, 3), False, "class", "class"),
        ((4, 2), True, "full", "one"),
        ((2, 3, 4), False, "class", "class"),
        ((5, 3), True, None, "class"),
        ((), False, None, None),  # a 0-dim input: one number
        ((), True, "scalar", None),
        ((3, 4), False, "row", "class"),
        ((2, 2, 3), True, "scalar", "one"),
    ]
    for _ in range(draws):
        shape = any_shape(gen)
        u = torch.randint(0, 6, (3,), generator=gen)
        wkind = kinds[int(u[1])]
        if wkind == "row" and len(shape) < 2:
            wkind = "class"
        plans.append((shape, bool(u[0] == 0), wkind, kinds[int(u[2]) % 4]))
    return plans


def prob_cases(seed: int | None = None, *, draws: int = 4) -> list[Case]:
    """``(input, target)`` for BCELoss: probabilities (some exactly 0 or 1), every reduction."""
    gen, seed = generator(seed)
    cases = []
    for i, (shape, soft, wkind, _) in enumerate(_plans(gen, draws)):
        dtype = _dtype(i)
        p = torch.sigmoid(torch.randn(shape, generator=gen, dtype=torch.float64) * 3)
        target = _targets(gen, shape, soft)
        if i in (2, 3, 6) or i >= 9 and i % 2:  # some probabilities of exactly 0 and 1
            edge = torch.rand(shape, generator=gen) < 0.3
            p = torch.where(edge, (torch.rand(shape, generator=gen) < 0.5).to(p.dtype), p)
        kwargs = {}
        weight = _weight(gen, shape, wkind)
        if weight is not None:
            kwargs["weight"] = weight.to(dtype)
        options = {N_("soft targets"): soft, "weight": wkind}
        for reduction in REDUCTIONS:
            label = _label(shape, dtype, None, options, reduction, seed)
            case = Case(label, (p.to(dtype), target.to(dtype)), {**kwargs, "reduction": reduction})
            cases.append(case)
    return cases


def logit_cases(
    seed: int | None = None, *, draws: int = 4, scale: float = 3.0, pos_weight: bool = True
) -> list[Case]:
    """``(input, target)`` for BCEWithLogitsLoss: logits, ``weight`` and ``pos_weight``."""
    gen, seed = generator(seed)
    cases = []
    for i, (shape, soft, wkind, pkind) in enumerate(_plans(gen, draws)):
        dtype = _dtype(i)
        x = torch.randn(shape, generator=gen, dtype=torch.float64) * scale
        target = _targets(gen, shape, soft)
        kwargs = {}
        weight = _weight(gen, shape, wkind)
        if weight is not None:
            kwargs["weight"] = weight.to(dtype)
        pkind = pkind if pos_weight and pkind != "full" and shape else None
        if pkind:
            pw = torch.rand(shape[-1:] if pkind == "class" else (1,), generator=gen) * 4
            kwargs["pos_weight"] = pw.to(dtype)
        options = {N_("soft targets"): soft, "weight": wkind, "pos_weight": pkind}
        for reduction in REDUCTIONS:
            label = _label(shape, dtype, scale, options, reduction, seed)
            case = Case(label, (x.to(dtype), target.to(dtype)), {**kwargs, "reduction": reduction})
            cases.append(case)
    return cases


def margin_cases(seed: int | None = None, *, draws: int = 4, scale: float = 3.0) -> list[Case]:
    """``(input, target)`` for SoftMarginLoss: targets of -1 and 1, every reduction.

    Large scales are drawn in float64 only: torch computes log(1 + exp(-y x)) as written,
    which overflows to inf in float32 once -y x passes about 88.
    """
    gen, seed = generator(seed)
    shapes = list(SHAPES) + [any_shape(gen) for _ in range(draws)]
    cases = []
    for i, shape in enumerate(shapes):
        dtype = _dtype(i) if scale <= 5 else torch.float64
        x = (torch.randn(shape, generator=gen, dtype=torch.float64) * scale).to(dtype)
        y = ((torch.rand(shape, generator=gen) < 0.5).to(dtype) * 2 - 1).to(dtype)
        for reduction in REDUCTIONS:
            label = _label(shape, dtype, scale, {}, reduction, seed)
            cases.append(Case(label, (x, y), {"reduction": reduction}))
    return cases


def multilabel_cases(seed: int | None = None, *, draws: int = 4, scale: float = 3.0) -> list[Case]:
    """``(input, target)`` of shape ``(N, C)`` with 0/1 targets (in the input's dtype, or
    int64 one case in four), ``weight`` of shape ``(C,)``."""
    gen, seed = generator(seed)
    sizes = [(1, 3), (4, 2), (3, 5), (2, 1)]
    sizes += [(int(n), int(c)) for n, c in torch.randint(1, 7, (draws, 2), generator=gen)]
    cases = []
    for i, (n, c) in enumerate(sizes):
        dtype = _dtype(i)
        x = (torch.randn(n, c, generator=gen, dtype=torch.float64) * scale).to(dtype)
        integer = i % 4 == 1
        y = (torch.rand(n, c, generator=gen) < 0.5).to(torch.int64 if integer else dtype)
        kwargs = {}
        if i % 3 != 0:
            kwargs["weight"] = (torch.rand(c, generator=gen, dtype=torch.float64) * 2 + 0.1).to(
                dtype
            )
        options = {"weight": "weight" in kwargs, "int64 targets": integer}
        for reduction in REDUCTIONS:
            label = _label((n, c), dtype, scale, options, reduction, seed)
            cases.append(Case(label, (x, y), {**kwargs, "reduction": reduction}))
    return cases


# ---------------------------------------------------------------------------------------
# Known mistakes. Each takes the arguments of a case and returns the wrong value the
# mistake gives, or ``None`` where it does not apply.


def _mean_by_weights(reference):
    def wrong(input, target, weight=None, reduction="mean", **kwargs):
        if weight is None or reduction != "mean":
            return None
        total = reference(input, target, weight=weight, reduction="sum", **kwargs)
        return total / torch.broadcast_to(weight, input.shape).sum()

    return wrong


def _weight_left_out(reference):
    def wrong(input, target, weight=None, **kwargs):
        return None if weight is None else reference(input, target, **kwargs)

    return wrong


def bce_mistakes() -> dict:
    def unclamped(input, target, weight=None, reduction="mean"):
        losses = -(target * torch.log(input) + (1 - target) * torch.log(1 - input))
        return reduce_losses(losses if weight is None else losses * weight, reduction)

    def swapped(input, target, **kwargs):
        return F.binary_cross_entropy(target, input, **kwargs)

    def log_of_target(input, target, weight=None, reduction="mean", clamp=True):
        def log(t):
            return torch.clamp(torch.log(t), min=-100) if clamp else torch.log(t)

        losses = -(target * log(input) + (1 - target) * log(1 - target))
        return reduce_losses(losses if weight is None else losses * weight, reduction)

    def clamped_probabilities(eps):
        def wrong(input, target, weight=None, reduction="mean"):
            p = torch.clamp(input, eps, 1 - eps)
            losses = -(target * torch.log(p) + (1 - target) * torch.log(1 - p))
            return reduce_losses(losses if weight is None else losses * weight, reduction)

        return wrong

    clamps = {
        tr(
            "the probabilities clamped to [{eps}, 1 - {eps}] instead of each log at -100 "
            "(torch.clamp(torch.log(...), min=-100))",
            eps=f"{eps:g}",
        ): clamped_probabilities(eps)
        for eps in (1e-7, 1e-8, 1e-12)
    }
    return {
        **clamps,
        "(1 - y) log(1 - y) where (1 - y) log(1 - p) belongs (the study notes' bug): the log "
        "takes the prediction": log_of_target,
        "(1 - y) log(1 - y) where (1 - y) log(1 - p) belongs (the study notes' bug), and "
        "0 * log(0) left as nan": partial(log_of_target, clamp=False),
        **reduction_mistakes(F.binary_cross_entropy),
        "the log not clamped at -100 (log(0) gives -inf, and 0 * -inf gives nan)": unclamped,
        "the mean divided by the sum of the weights (that is the rule of CrossEntropyLoss "
        "with class indices; BCELoss divides by the number of elements)": _mean_by_weights(
            F.binary_cross_entropy
        ),
        "weight not used": _weight_left_out(F.binary_cross_entropy),
        "input and target swapped": swapped,
    }


def _pos_weight_variant(where: str):
    """BCE with logits with ``pos_weight`` put in the wrong place."""

    def wrong(input, target, weight=None, reduction="mean", pos_weight=None):
        if pos_weight is None:
            return None
        sp = F.softplus(-input)  # -log(sigmoid(x))
        if where == "negative":
            losses = target * sp + pos_weight * (1 - target) * (input + sp)
        else:  # "everywhere": the whole softplus term scaled, negatives too
            losses = (1 - target) * input + pos_weight * sp
        return reduce_losses(losses if weight is None else losses * weight, reduction)

    return wrong


def bce_logits_mistakes() -> dict:
    def naive(input, target, weight=None, reduction="mean", pos_weight=None):
        if pos_weight is not None:
            return None
        return F.binary_cross_entropy(
            torch.sigmoid(input), target, weight=weight, reduction=reduction
        )

    def pos_weight_ignored(input, target, pos_weight=None, **kwargs):
        if pos_weight is None:
            return None
        return F.binary_cross_entropy_with_logits(input, target, **kwargs)

    def naive_softplus(input, target, weight=None, reduction="mean", pos_weight=None):
        q = 1.0 if pos_weight is None else pos_weight
        sp = torch.log(1 + torch.exp(-input))
        losses = (1 - target) * input + (1 + (q - 1) * target) * sp
        return reduce_losses(losses if weight is None else losses * weight, reduction)

    return {
        "softplus(-x) written as log(1 + exp(-x)): exp(-x) overflows for large negative x "
        "(use max(-x, 0) + log1p(exp(-|x|)))": naive_softplus,
        **reduction_mistakes(F.binary_cross_entropy_with_logits),
        "BCE of sigmoid(x): loses precision, then hits the -100 clamp, for large |x|": naive,
        "pos_weight applied to the negative term (1 - y) instead of the positive one": (
            _pos_weight_variant("negative")
        ),
        "pos_weight scaling the whole log(1 + exp(-x)) term, for negatives too": (
            _pos_weight_variant("everywhere")
        ),
        "pos_weight not used": pos_weight_ignored,
        "weight not used": _weight_left_out(F.binary_cross_entropy_with_logits),
        "the mean divided by the sum of the weights (BCEWithLogitsLoss divides by the number "
        "of elements)": _mean_by_weights(F.binary_cross_entropy_with_logits),
    }


def soft_margin_mistakes() -> dict:
    def sign(input, target, reduction="mean"):
        return F.soft_margin_loss(-input, target, reduction=reduction)

    def log2(input, target, reduction="mean"):
        return F.soft_margin_loss(input, target, reduction=reduction) / torch.log(
            torch.tensor(2.0, dtype=input.dtype)
        )

    return {
        **reduction_mistakes(F.soft_margin_loss),
        FIRST_DIM: mean_over_first_dim(F.soft_margin_loss),
        "the sign: exp(+y*x) instead of exp(-y*x)": sign,
        "log base 2 instead of the natural log": log2,
    }


def multilabel_mistakes() -> dict:
    def summed_over_classes(input, target, weight=None, reduction="mean"):
        losses = F.binary_cross_entropy_with_logits(
            input, target.to(input.dtype), weight=weight, reduction="none"
        )
        return reduce_losses(losses.sum(dim=1), reduction)

    def flat_sum(input, target, weight=None, reduction="mean"):
        if reduction != "sum":
            return None
        return F.binary_cross_entropy_with_logits(
            input, target.to(input.dtype), weight=weight, reduction="sum"
        )

    def over_samples(input, target, weight=None, reduction="mean"):
        if reduction == "mean" or input.shape[0] == input.shape[1]:
            return None  # the mean of everything agrees; a square batch hides the shape
        losses = F.binary_cross_entropy_with_logits(
            input, target.to(input.dtype), weight=weight, reduction="none"
        )
        return reduce_losses(losses.mean(dim=0), reduction)

    return {
        "averaged over the N samples (dim 0) instead of the C classes (dim 1): C is the "
        "number of classes, not of samples": over_samples,
        **reduction_mistakes(F.multilabel_soft_margin_loss),
        "each sample's losses summed over the classes instead of averaged over C": (
            summed_over_classes
        ),
        "for reduction='sum', every element summed (each sample's loss is a mean over C)": (
            flat_sum
        ),
        "weight not used": _weight_left_out(F.multilabel_soft_margin_loss),
    }


def autograd_bce_logits_grad(input, target, weight=None, reduction="mean", pos_weight=None):
    """dL/dinput by autograd in float64, returned in the input's dtype.

    For ``reduction="none"`` it is the gradient of the sum of the per-element losses.
    """
    x = input.detach().to(torch.float64).requires_grad_()

    def wide(t):
        return None if t is None else t.to(torch.float64)

    loss = F.binary_cross_entropy_with_logits(
        x,
        target.to(torch.float64),
        weight=wide(weight),
        reduction=reduction,
        pos_weight=wide(pos_weight),
    )
    (g,) = torch.autograd.grad(loss.sum(), x)
    return g.to(input.dtype)


def bce_grad_mistakes() -> dict:
    def variant(kind):
        def wrong(input, target, weight=None, reduction="mean", pos_weight=None):
            x = input.detach().to(torch.float64)
            y = target.to(torch.float64)
            s = torch.sigmoid(x)
            pw = 1.0 if pos_weight is None else pos_weight.to(torch.float64)
            if kind == "pw_times":
                if pos_weight is None:
                    return None
                g = (s - y) * (1 + (pw - 1) * y)  # the whole difference scaled
            else:  # "plain"
                if pos_weight is None:
                    return None
                g = s - y
            if weight is not None:
                g = g * weight.to(torch.float64)
            if reduction == "mean":
                g = g / x.numel()
            return g.to(input.dtype)

        return wrong

    def sum_for_mean(input, target, reduction="mean", **kwargs):
        if reduction != "mean":
            return None
        return autograd_bce_logits_grad(input, target, reduction="sum", **kwargs)

    return {
        "the sign: y - sigmoid(x) instead of sigmoid(x) - y": lambda *a, **k: (
            -autograd_bce_logits_grad(*a, **k)
        ),
        "pos_weight left out: sigmoid(x) - y": variant("plain"),
        "(sigmoid(x) - y) scaled by 1 + (pos_weight - 1) y: the sigmoid term and the target "
        "term scale differently": variant("pw_times"),
        "the gradient of the sum given for reduction='mean'": sum_for_mean,
    }


# --- where BCE of a sigmoid breaks ---------------------------------------------------------


def naive_and_stable(k: int, dtype: torch.dtype, target: int) -> tuple[float, float]:
    """Both losses at the logit ``k`` (target 0) or ``-k`` (target 1), in ``dtype``."""
    y = torch.full((1,), float(target), dtype=dtype)
    x = torch.tensor([float(k if target == 0 else -k)], dtype=dtype)
    naive = F.binary_cross_entropy(torch.sigmoid(x), y).item()
    stable = F.binary_cross_entropy_with_logits(x, y).item()
    return naive, stable


def first_broken_reference(dtype=torch.float32, target=0, threshold=0.01) -> int:
    """The smallest integer k >= 0 at which the naive loss is off by more than ``threshold``
    (relative to the stable one), moving the logit away from the target one step at a time."""
    for k in range(100_000):
        naive, stable = naive_and_stable(k, dtype, target)
        if abs(naive - stable) > threshold * stable:
            return k
    raise RuntimeError("no broken logit below 100000 (a bug in the course)")


def first_broken_cases(seed: int | None = None, *, draws: int = 4) -> list[Case]:
    """Both dtypes with both targets in every run (the text promises them: a draw left to
    chance can miss float64, and with it an answer computed in the default dtype), and
    relative thresholds from 1e-4 to 0.9."""
    gen, seed = generator(seed)
    cases = []
    pairs = [(torch.float32, 0), (torch.float32, 1), (torch.float64, 0), (torch.float64, 1)]
    top = math.log10(0.9) + 4  # the exponent's range: 1e-4 .. 0.9
    for i in range(draws):
        dtype, target = pairs[i % len(pairs)]
        threshold = float(f"{10 ** float(torch.rand((), generator=gen) * top - 4):.2g}")
        label = f"dtype {str(dtype)[6:]}, target {target}, threshold {threshold:g}, seed {seed}"
        kwargs = {"target": target, "threshold": threshold}
        cases.append(Case(label, (dtype,), kwargs))
    return cases


def first_broken_mistakes() -> dict:
    def other_dtype(dtype=torch.float32, target=0, threshold=0.01):
        other = torch.float64 if dtype == torch.float32 else torch.float32
        return first_broken_reference(other, target, threshold)

    def absolute(dtype=torch.float32, target=0, threshold=0.01):
        for k in range(100_000):
            naive, stable = naive_and_stable(k, dtype, target)
            if abs(naive - stable) > threshold:
                return k
        return None

    def last_good(dtype=torch.float32, target=0, threshold=0.01):
        return first_broken_reference(dtype, target, threshold) - 1

    return {
        "the answer for the other dtype: compute in the dtype you are given": other_dtype,
        "an absolute difference, not one relative to the stable loss": absolute,
        "the last integer that still agrees, not the first that does not": last_good,
    }


integrity.watch(__import__(__name__, fromlist=["*"]))
