"""Inputs and known mistakes for the margin losses (topic 05).

Every ``*_cases`` function returns :class:`~autograder.checking.Case` lists with fixed inputs
for a given ``seed`` (public checks) or fresh ones for ``seed=None`` (hidden checks). Each
covers every option of its loss, every reduction, float64 and float32, and the edge cases
named in its docstring. Every case label carries its seed, so a failure can be reproduced.

The ``*_mistakes`` functions map a mistake's name to a function computing the wrong value
it gives (``None`` where it does not apply), for ``check_function(mistakes=...)``.
"""

from __future__ import annotations

import itertools
from typing import Any

import torch
import torch.nn.functional as F

from .. import (
    REDUCTIONS,
    Case,
    generator,
    integrity,
    reduce_losses,
    reduction_mistakes,
)
from ..draw import any_shape
from ..draw import dtype_name as _name
from ..draw import integer as _int
from ..i18n import tr

# The course's one check of an unknown reduction, which this topic's cells import from here.
from .basic_losses import check_rejects_bad_reduction as check_rejects_bad_reduction

_F64, _F32 = torch.float64, torch.float32


def _signs(gen: torch.Generator, shape: tuple[int, ...], dtype: torch.dtype) -> torch.Tensor:
    """Random +1 / -1 of the given shape, with both signs present when there are two slots."""
    signs = torch.randint(0, 2, shape, generator=gen).mul(2).sub(1)
    flat = signs.view(-1)
    if flat.numel() >= 2:
        flat[0], flat[1] = 1, -1
    return signs.to(dtype)


def _with_reductions(label: str, args: tuple, kwargs: dict) -> list[Case]:
    return [Case(f"{label}, reduction={r!r}", args, {**kwargs, "reduction": r}) for r in REDUCTIONS]


# ---------------------------------------------------------------- MarginRankingLoss


def margin_ranking_cases(seed: int | None = None, *, draws: int = 4) -> list[Case]:
    """``(input1, input2, target)`` of one shape (0-dim, then 1 to 3 dims), target +1/-1.

    Margins 0, 0.5, 1 and 2 (margin 0 and a positive one in every run); some pairs are ties
    (``input1 == input2``), where the loss is exactly the margin.
    """
    gen, seed = generator(seed)
    shapes: list[tuple[int, ...]] = [(1,), (6,), ()] + [any_shape(gen) for _ in range(draws)]
    margins = (0.0, 0.5, 1.0, 2.0)
    cases = []
    for i, shape in enumerate(shapes):
        dtype = _F32 if i % 2 else _F64
        margin = margins[i % len(margins)]
        x1 = torch.randn(shape, generator=gen, dtype=_F64)
        x2 = torch.randn(shape, generator=gen, dtype=_F64)
        tie = torch.rand(shape, generator=gen) < 0.25
        x2 = torch.where(tie, x1, x2)
        target = _signs(gen, shape, _F64)
        label = f"shape {shape}, {_name(dtype)}, margin={margin}, seed {seed}"
        args = (x1.to(dtype), x2.to(dtype), target.to(dtype))
        cases += _with_reductions(label, args, {"margin": margin})
    return cases


def margin_ranking_mistakes() -> dict:
    def sign_flipped(input1, input2, target, margin=0.0, reduction="mean"):
        return reduce_losses((target * (input1 - input2) + margin).clamp(min=0), reduction)

    def margin_subtracted(input1, input2, target, margin=0.0, reduction="mean"):
        return reduce_losses((-target * (input1 - input2) - margin).clamp(min=0), reduction)

    def no_clamp(input1, input2, target, margin=0.0, reduction="mean"):
        return reduce_losses(-target * (input1 - input2) + margin, reduction)

    return {
        **reduction_mistakes(F.margin_ranking_loss),
        "the sign of the target flipped (+y (x1 - x2) instead of -y (x1 - x2))": sign_flipped,
        "the margin subtracted instead of added": margin_subtracted,
        "no max(0, .): negative losses were kept": no_clamp,
    }


# ---------------------------------------------------------------- HingeEmbeddingLoss


def hinge_embedding_cases(seed: int | None = None, *, draws: int = 4) -> list[Case]:
    """``(input, target)`` of one shape (0-dim, then 1 to 3 dims), target +1/-1 in the
    input's dtype, or as int64 one case in three.

    Inputs are mostly distances (non-negative), a few negative; margins 1, 0.5, 2 and 0;
    one input sits exactly on the margin.
    """
    gen, seed = generator(seed)
    shapes: list[tuple[int, ...]] = [(1,), (6,), ()] + [any_shape(gen) for _ in range(draws)]
    margins = (1.0, 0.5, 2.0, 0.0)
    cases = []
    for i, shape in enumerate(shapes):
        dtype = _F32 if i % 2 else _F64
        margin = margins[i % len(margins)]
        x = torch.rand(shape, generator=gen, dtype=_F64) * 2.5
        negative = torch.rand(shape, generator=gen) < 0.15
        x = torch.where(negative, -x / 4, x)
        if x.numel() > 1:
            x.view(-1)[-1] = margin
        integer = i % 3 == 1
        target = _signs(gen, shape, _F64).to(torch.int64 if integer else dtype)
        kind = ", int64 target" if integer else ""
        label = f"shape {shape}, {_name(dtype)}{kind}, margin={margin}, seed {seed}"
        cases += _with_reductions(label, (x.to(dtype), target), {"margin": margin})
    return cases


def hinge_embedding_mistakes() -> dict:
    def hinge_for_both(input, target, margin=1.0, reduction="mean"):
        return reduce_losses((margin - input).clamp(min=0), reduction)

    def labels_swapped(input, target, margin=1.0, reduction="mean"):
        return F.hinge_embedding_loss(input, -target, margin=margin, reduction=reduction)

    def no_clamp(input, target, margin=1.0, reduction="mean"):
        return reduce_losses(torch.where(target == 1, input, margin - input), reduction)

    return {
        **reduction_mistakes(F.hinge_embedding_loss),
        "max(0, margin - x) used for y = 1 too (similar pairs just give x)": hinge_for_both,
        "the roles of y = 1 and y = -1 swapped": labels_swapped,
        "no max(0, .) for y = -1: negative losses were kept": no_clamp,
    }


# ---------------------------------------------------------------- CosineEmbeddingLoss


def cosine_embedding_cases(seed: int | None = None, *, draws: int = 4) -> list[Case]:
    """``(input1, input2, target)``: inputs ``(N, D)`` with ``D >= 2``, a 1-D target of +1/-1.

    Margins 0, 0.5, -0.3 and 0.9; one case holds an all-zero row (torch's tiny 1e-12 in
    the norms keeps it finite: cosine 0) and one a pair of parallel vectors.
    """
    gen, seed = generator(seed)
    sizes = [(1, 3), (4, 2)] + [(_int(gen, 1, 6), _int(gen, 2, 6)) for _ in range(draws)]
    margins = (0.0, 0.5, -0.3, 0.9)
    cases = []
    for i, (n, d) in enumerate(sizes):
        dtype = _F32 if i % 2 else _F64
        margin = margins[i % len(margins)]
        x1 = torch.randn(n, d, generator=gen, dtype=_F64)
        x2 = torch.randn(n, d, generator=gen, dtype=_F64)
        if i == 2:
            x1[0] = 0.0
        if i == 3:
            x2[-1] = 2.5 * x1[-1]
        target = _signs(gen, (n,), _F64)
        label = f"N={n}, D={d}, {_name(dtype)}, margin={margin}, seed {seed}"
        args = (x1.to(dtype), x2.to(dtype), target.to(dtype))
        cases += _with_reductions(label, args, {"margin": margin})
    return cases


def _cosine(x1: torch.Tensor, x2: torch.Tensor, eps: float = 1e-12) -> torch.Tensor:
    dot = (x1 * x2).sum(dim=-1)
    return dot / ((x1 * x1).sum(dim=-1) + eps).mul((x2 * x2).sum(dim=-1) + eps).sqrt()


def cosine_embedding_mistakes() -> dict:
    def one_minus_for_both(input1, input2, target, margin=0.0, reduction="mean"):
        cos = _cosine(input1, input2)
        return reduce_losses(torch.where(target == 1, 1 - cos, 1 + cos), reduction)

    def margin_ignored(input1, input2, target, margin=0.0, reduction="mean"):
        return F.cosine_embedding_loss(input1, input2, target, margin=0.0, reduction=reduction)

    def no_clamp(input1, input2, target, margin=0.0, reduction="mean"):
        cos = _cosine(input1, input2)
        return reduce_losses(torch.where(target == 1, 1 - cos, cos - margin), reduction)

    def dot_product(input1, input2, target, margin=0.0, reduction="mean"):
        dot = (input1 * input2).sum(dim=-1)
        return reduce_losses(
            torch.where(target == 1, 1 - dot, (dot - margin).clamp(min=0)), reduction
        )

    return {
        **reduction_mistakes(F.cosine_embedding_loss),
        "1 + cos used for y = -1 (the loss for y = -1 is max(0, cos - margin))": (
            one_minus_for_both
        ),
        "the margin ignored": margin_ignored,
        "no max(0, .) for y = -1: negative losses were kept": no_clamp,
        "the dot product used without dividing by the norms": dot_product,
    }


# ---------------------------------------------------------------- MultiMarginLoss


def multi_margin_cases(seed: int | None = None) -> list[Case]:
    """``(input, target)``: scores ``(N, C)`` and class indices ``(N,)``.

    Every combination of ``p`` (1, 2), ``weight`` (none, positive per-class weights) and
    dtype, each with a random size (N = 1 and C = 2 included) and a margin of 1, 0.5, 2
    or 0; then, for ``p`` of 1 and 2, a negative margin with class weights some of which
    are negative (torch accepts both).
    """
    gen, seed = generator(seed)
    margins = (1.0, 0.5, 2.0, 0.0)
    cases = []
    combos = [
        *itertools.product((1, 2), (False, True), (_F64, _F32)),
        (1, "negative", _F64),
        (2, "negative", _F32),
    ]
    for i, (p, weighted, dtype) in enumerate(combos):
        n, c = ((1, 3), (5, 2))[i] if i < 2 else (_int(gen, 1, 6), _int(gen, 2, 6))
        margin = -0.5 if weighted == "negative" else margins[i % len(margins)]
        x = torch.randn(n, c, generator=gen, dtype=_F64)
        target = torch.randint(0, c, (n,), generator=gen)
        kwargs: dict[str, Any] = {"p": p, "margin": margin}
        text = tr("no weight")
        if weighted:
            w = torch.rand(c, generator=gen, dtype=_F64) * 2 + 0.2
            if weighted == "negative":
                w[0::2] = -w[0::2]  # every other class weight negative
            kwargs["weight"] = w.to(dtype)
            text = "weight" if weighted is True else tr("weights of both signs")
        label = f"N={n}, C={c}, {_name(dtype)}, p={p}, margin={margin}, {text}, seed {seed}"
        cases += _with_reductions(label, (x.to(dtype), target), kwargs)
    return cases


def _multi_margin_terms(input, target, p, margin):
    """The hinge terms (N, C) with the target's own column zeroed."""
    picked = input.gather(1, target.unsqueeze(1))
    terms = (margin - picked + input).clamp(min=0) ** p
    own = torch.zeros_like(input, dtype=torch.bool).scatter(1, target.unsqueeze(1), True)
    return terms.masked_fill(own, 0.0), own


def multi_margin_mistakes() -> dict:
    def divided_by_summed_weights(input, target, p=1, margin=1.0, weight=None, reduction="mean"):
        if weight is None or reduction != "mean":
            return None
        losses = F.multi_margin_loss(
            input, target, p=p, margin=margin, weight=weight, reduction="sum"
        )
        return losses / weight[target].sum()

    def weight_before_power(input, target, p=1, margin=1.0, weight=None, reduction="mean"):
        if weight is None or p == 1:
            return None
        terms, _ = _multi_margin_terms(input, target, 1, margin)
        losses = ((terms * weight[target].unsqueeze(1)) ** 2).sum(dim=1) / input.shape[1]
        return reduce_losses(losses, reduction)

    def own_class_included(input, target, p=1, margin=1.0, weight=None, reduction="mean"):
        picked = input.gather(1, target.unsqueeze(1))
        terms = (margin - picked + input).clamp(min=0) ** p
        if weight is not None:
            terms = terms * weight[target].unsqueeze(1)
        return reduce_losses(terms.sum(dim=1) / input.shape[1], reduction)

    def by_c_minus_one(input, target, p=1, margin=1.0, weight=None, reduction="mean"):
        c = input.shape[1]
        if c < 2:
            return None
        losses = F.multi_margin_loss(
            input, target, p=p, margin=margin, weight=weight, reduction="none"
        )
        return reduce_losses(losses * c / (c - 1), reduction)

    def weight_ignored(input, target, p=1, margin=1.0, weight=None, reduction="mean"):
        if weight is None:
            return None
        return F.multi_margin_loss(input, target, p=p, margin=margin, reduction=reduction)

    return {
        **reduction_mistakes(F.multi_margin_loss),
        "a weighted mean (divided by the summed weights); torch divides by N": (
            divided_by_summed_weights
        ),
        "the weight applied before squaring (torch multiplies after the power)": (
            weight_before_power
        ),
        "the target's own class included in the sum (it adds margin**p)": own_class_included,
        "divided by C - 1 instead of C": by_c_minus_one,
        "the weight ignored": weight_ignored,
    }


# ---------------------------------------------------------------- MultiLabelMarginLoss


def multilabel_margin_cases(seed: int | None = None, *, draws: int = 4) -> list[Case]:
    """``(input, target)``: scores ``(N, C)``, target ``(N, C)`` of distinct class indices
    that stop at the first -1.

    Rows have 0 to C labels: a row that starts with -1 (no labels, loss 0) and a full row
    with no -1 at all; some rows carry class indices *after* the first -1, which torch
    ignores.
    """
    gen, seed = generator(seed)
    sizes = [(1, 4), (3, 5)] + [(_int(gen, 1, 6), _int(gen, 2, 6)) for _ in range(draws)]
    cases = []
    for i, (n, c) in enumerate(sizes):
        dtype = _F32 if i % 2 else _F64
        x = torch.randn(n, c, generator=gen, dtype=_F64)
        target = torch.full((n, c), -1, dtype=torch.long)
        for row in range(n):
            k = _int(gen, 0, c)
            if i == 1:  # one row with no labels, one full row, one with junk after the -1
                k = (0, c, 1)[row]
            labels = torch.randperm(c, generator=gen)[:k]
            target[row, :k] = labels
            if k + 1 < c and (i == 1 or _int(gen, 0, 1)):
                junk = torch.randperm(c, generator=gen)[: c - k - 1]
                target[row, k + 1 :] = junk
        label = f"N={n}, C={c}, {_name(dtype)}, seed {seed}"
        cases += _with_reductions(label, (x.to(dtype), target), {})
    return cases


def _labels(row: torch.Tensor, stop: bool = True) -> list[int]:
    labels = []
    for j in row.tolist():
        if j < 0:
            if stop:
                break
            continue
        labels.append(j)
    return labels


def _multilabel(input, target, stop=True, divide_by_labels=False):
    rows = []
    for x, t in zip(input, target, strict=True):
        labels = _labels(t, stop)
        others = [i for i in range(x.shape[0]) if i not in labels]
        terms = (1 - x[labels].unsqueeze(1) + x[others].unsqueeze(0)).clamp(min=0)
        rows.append(terms.sum() / (max(len(labels), 1) if divide_by_labels else x.shape[0]))
    return torch.stack(rows)


def multilabel_margin_mistakes() -> dict:
    def no_stop(input, target, reduction="mean"):
        return reduce_losses(_multilabel(input, target, stop=False), reduction)

    def by_labels(input, target, reduction="mean"):
        return reduce_losses(_multilabel(input, target, divide_by_labels=True), reduction)

    def over_all_classes(input, target, reduction="mean"):
        rows = []
        for x, t in zip(input, target, strict=True):
            labels = _labels(t)
            terms = (1 - x[labels].unsqueeze(1) + x.unsqueeze(0)).clamp(min=0)
            rows.append(terms.sum() / x.shape[0])
        return reduce_losses(torch.stack(rows), reduction)

    return {
        **reduction_mistakes(F.multilabel_margin_loss),
        "the -1 stop ignored (class indices after the first -1 were read as labels)": no_stop,
        "divided by the number of labels instead of the number of classes C": by_labels,
        "the sum ran over all classes, labels included (it should skip them)": over_all_classes,
    }


# ---------------------------------------------------------------- TripletMarginLoss


def triplet_cases(seed: int | None = None) -> list[Case]:
    """``(anchor, positive, negative)`` of shape ``(N, D)`` with ``D >= 2``.

    Every combination of ``p`` (1, 2, 3) and ``swap`` (off, on), each with a random size
    (N = 1 included), margins 1, 0.5 and 2, and ``eps`` of 1e-6 (the default), 0 and 0.3
    (large enough that where it is added matters).
    """
    gen, seed = generator(seed)
    margins = (1.0, 0.5, 2.0)
    epses = (1e-6, 0.0, 0.3, 0.3)
    cases = []
    for i, (p, swap) in enumerate(itertools.product((1.0, 2.0, 3.0), (False, True))):
        dtype = _F32 if i % 2 else _F64
        n, d = (1, 3) if i == 0 else (_int(gen, 2, 6), _int(gen, 2, 5))
        margin, eps = margins[i % len(margins)], epses[i % len(epses)]
        a, pos, neg = (torch.randn(n, d, generator=gen, dtype=_F64) for _ in range(3))
        if swap:  # make the swap matter: move the first positive next to its negative
            pos[0] = neg[0] + 0.1 * torch.randn(d, generator=gen, dtype=_F64)
        kwargs = {"margin": margin, "p": p, "eps": eps, "swap": swap}
        label = (
            f"N={n}, D={d}, {_name(dtype)}, p={p:g}, eps={eps:g}, swap={swap}, "
            f"margin={margin}, seed {seed}"
        )
        cases += _with_reductions(label, (a.to(dtype), pos.to(dtype), neg.to(dtype)), kwargs)
    return cases


def _distance(x1, x2, p, eps, where="difference"):
    diff = x1 - x2 + (eps if where == "difference" else 0.0)
    norm = (diff.abs() ** p).sum(dim=-1) ** (1 / p)
    return norm + eps if where == "norm" else norm


def _triplet(anchor, positive, negative, margin, p, eps, swap, reduction, where="difference"):
    d_pos = _distance(anchor, positive, p, eps, where)
    d_neg = _distance(anchor, negative, p, eps, where)
    if swap:
        d_neg = torch.minimum(d_neg, _distance(positive, negative, p, eps, where))
    return reduce_losses((margin + d_pos - d_neg).clamp(min=0), reduction)


def triplet_mistakes() -> dict:
    def eps_on_norm(
        anchor, positive, negative, margin=1.0, p=2.0, eps=1e-6, swap=False, reduction="mean"
    ):
        return _triplet(anchor, positive, negative, margin, p, eps, swap, reduction, "norm")

    def eps_ignored(
        anchor, positive, negative, margin=1.0, p=2.0, eps=1e-6, swap=False, reduction="mean"
    ):
        return _triplet(anchor, positive, negative, margin, p, 0.0, swap, reduction)

    def swap_ignored(
        anchor, positive, negative, margin=1.0, p=2.0, eps=1e-6, swap=False, reduction="mean"
    ):
        if not swap:
            return None
        return _triplet(anchor, positive, negative, margin, p, eps, False, reduction)

    def swap_max(
        anchor, positive, negative, margin=1.0, p=2.0, eps=1e-6, swap=False, reduction="mean"
    ):
        if not swap:
            return None
        d_pos = _distance(anchor, positive, p, eps)
        d_neg = torch.maximum(
            _distance(anchor, negative, p, eps), _distance(positive, negative, p, eps)
        )
        return reduce_losses((margin + d_pos - d_neg).clamp(min=0), reduction)

    def no_root(
        anchor, positive, negative, margin=1.0, p=2.0, eps=1e-6, swap=False, reduction="mean"
    ):
        d = lambda u, v: ((u - v + eps).abs() ** p).sum(dim=-1)  # noqa: E731
        d_neg = d(anchor, negative)
        if swap:
            d_neg = torch.minimum(d_neg, d(positive, negative))
        return reduce_losses((margin + d(anchor, positive) - d_neg).clamp(min=0), reduction)

    return {
        **reduction_mistakes(F.triplet_margin_loss),
        "eps added to the distance instead of to the difference x1 - x2": eps_on_norm,
        "eps ignored (torch adds it to every difference x1 - x2 before the norm)": eps_ignored,
        "swap ignored": swap_ignored,
        "swap took the larger distance instead of the smaller": swap_max,
        "the p-th root of the norm forgotten": no_root,
    }


# ---------------------------------------------------------------- TripletMarginWithDistanceLoss


def cosine_distance(x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
    """1 - cosine similarity, row by row: 0 for the same direction, 2 for opposite ones."""
    return 1.0 - F.cosine_similarity(x1, x2, dim=-1)


def squared_euclidean(x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
    return ((x1 - x2) ** 2).sum(dim=-1)


def chebyshev(x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
    """The largest coordinate difference (the L-infinity distance)."""
    return (x1 - x2).abs().amax(dim=-1)


class ManhattanDistance(torch.nn.Module):
    """A distance given as an ``nn.Module`` (any callable is accepted): the L1 distance."""

    def forward(self, x1: torch.Tensor, x2: torch.Tensor) -> torch.Tensor:
        return (x1 - x2).abs().sum(dim=-1)


def _distance_name(distance: Any) -> str:
    if distance is None:
        return "None (pairwise_distance)"
    if isinstance(distance, torch.nn.Module):
        return tr("the nn.Module {distance_type}()", distance_type=type(distance).__name__)
    return str(distance.__name__)


DISTANCES = (None, cosine_distance, squared_euclidean, chebyshev, ManhattanDistance())


def triplet_distance_cases(seed: int | None = None) -> list[Case]:
    """``(anchor, positive, negative)`` of shape ``(N, D)``, every ``distance_function``
    (the default ``None``, cosine distance, squared Euclidean, Chebyshev, and the L1
    distance as an ``nn.Module``) with ``swap`` off and on, margins 1, 0.2 and 0.5, float64
    and float32."""
    gen, seed = generator(seed)
    margins = (1.0, 0.2, 0.5)
    cases = []
    for i, (distance, swap) in enumerate(itertools.product(DISTANCES, (False, True))):
        dtype = _F32 if i % 2 else _F64
        n, d = (1, 3) if i == 0 else (_int(gen, 2, 6), _int(gen, 2, 5))
        margin = margins[i % len(margins)]
        a, pos, neg = (torch.randn(n, d, generator=gen, dtype=_F64) for _ in range(3))
        if swap:
            pos[0] = neg[0] + 0.1 * torch.randn(d, generator=gen, dtype=_F64)
        name = _distance_name(distance)
        kwargs = {"distance_function": distance, "margin": margin, "swap": swap}
        label = f"N={n}, D={d}, {_name(dtype)}, distance {name}, swap={swap}, margin={margin}"
        cases += _with_reductions(
            f"{label}, seed {seed}", (a.to(dtype), pos.to(dtype), neg.to(dtype)), kwargs
        )
    return cases


def triplet_distance_mistakes() -> dict:
    reference = F.triplet_margin_with_distance_loss

    def always_euclidean(
        anchor,
        positive,
        negative,
        *,
        distance_function=None,
        margin=1.0,
        swap=False,
        reduction="mean",
    ):
        if distance_function is None:
            return None
        return reference(anchor, positive, negative, margin=margin, swap=swap, reduction=reduction)

    def swap_ignored(
        anchor,
        positive,
        negative,
        *,
        distance_function=None,
        margin=1.0,
        swap=False,
        reduction="mean",
    ):
        if not swap:
            return None
        return reference(
            anchor,
            positive,
            negative,
            distance_function=distance_function,
            margin=margin,
            reduction=reduction,
        )

    return {
        **reduction_mistakes(reference),
        "distance_function ignored (the Euclidean distance used throughout)": always_euclidean,
        "swap ignored": swap_ignored,
    }


integrity.watch(__import__(__name__, fromlist=["*"]))
