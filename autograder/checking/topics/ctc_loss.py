"""Inputs, references and known mistakes for the CTC topic (``notebooks/08_ctc_loss.py``).

Every case label carries its seed, so a failure can be reproduced exactly. Targets never
contain the blank; repeated labels are drawn on purpose, since they change how many frames
a target needs (a blank must separate two equal labels).
"""

from __future__ import annotations

import itertools
import math

import torch
import torch.nn.functional as F

from .. import REDUCTIONS, Case, generator, integrity, reduction_mistakes
from ..draw import integer as _int
from ..i18n import tr

CTC_FORBID = [
    "torch.nn.functional.ctc_loss",
    "torch.nn.CTCLoss",
    "torch.ctc_loss",
    "torch._ctc_loss",
]


# --- small helpers ----------------------------------------------------------------------


def collapse_reference(path, blank=0):
    """Merge runs of equal symbols, then drop the blanks (a list of ints, or of letters)."""
    return [symbol for symbol, _ in itertools.groupby(path) if symbol != blank]


def min_frames(target) -> int:
    """Fewest frames that can emit ``target``: one per label, plus a blank between repeats."""
    labels = [int(v) for v in target]
    return len(labels) + sum(a == b for a, b in itertools.pairwise(labels))


def paths_for(target: str, frames: int, alphabet: str = "-ab") -> list[str]:
    """Every path of ``frames`` symbols over ``alphabet`` ('-' the blank) that collapses to
    ``target``, found by trying all of them (independent of the forward recursion)."""
    found = []
    for path in itertools.product(alphabet, repeat=frames):
        if "".join(collapse_reference(path, blank="-")) == target:
            found.append("".join(path))
    return sorted(found)


def ctc_by_hand_reference(probs: list, target: str, alphabet: str = "-ab") -> float:
    """-ln p(target) from ``F.ctc_loss`` for a table of per-frame probabilities (lists)."""
    table = torch.tensor(probs, dtype=torch.float64)
    labels = torch.tensor([alphabet.index(c) for c in target])
    return float(torch_ctc_single(table.log(), labels))


def by_hand_cases(seed: int | None = None, *, draws: int = 4) -> list[Case]:
    """Tables of 2 to 4 frames over '-ab' or '-abc' (rows sum to 1) and a reachable target,
    repeated labels included, as Python lists and strings."""
    gen, seed = generator(seed)
    cases = []
    for i in range(draws):
        alphabet = "-ab" if i % 2 == 0 else "-abc"
        frames = int(torch.randint(2, 5, (1,), generator=gen))
        while True:
            length = int(torch.randint(1, frames + 1, (1,), generator=gen))
            picks = torch.randint(1, len(alphabet), (length,), generator=gen).tolist()
            target = "".join(alphabet[k] for k in picks)
            if i == 1 and frames >= 3:
                target = alphabet[1] * 2  # a double letter: the blank must come between
            if len(target) + sum(a == b for a, b in itertools.pairwise(target)) <= frames:
                break
        rows = torch.softmax(torch.randn(frames, len(alphabet), generator=gen), dim=1)
        probs = [[round(float(v), 4) for v in row] for row in rows]
        probs = [[v / sum(row) for v in row] for row in probs]
        label = f"{frames} frames over '{alphabet}', target '{target}', seed {seed}"
        cases.append(Case(label, (probs, target), {"alphabet": alphabet}))
    return cases


def alignments_mistakes() -> dict:
    """Wrong lists of alignments: paths collapsed in the wrong order, or half collapsed."""

    def collapsed_with(collapse):
        def wrong(target, frames, alphabet="-ab"):
            return sorted(
                "".join(path)
                for path in itertools.product(alphabet, repeat=frames)
                if "".join(collapse(path, alphabet[0])) == target
            )

        return wrong

    def blanks_first(path, blank):
        return [s for s, _ in itertools.groupby(c for c in path if c != blank)]

    def no_merge(path, blank):
        return [c for c in path if c != blank]

    return {
        "paths collapsed with the blanks removed first (so 'a-a' counted for 'a')": (
            collapsed_with(blanks_first)
        ),
        "paths collapsed without merging repeats (so 'aab' missed for 'ab')": (
            collapsed_with(no_merge)
        ),
    }


def by_hand_mistakes() -> dict:
    def path_p(probs, path, alphabet):
        return math.prod(probs[t][alphabet.index(c)] for t, c in enumerate(path))

    def best_path(probs, target, alphabet="-ab"):
        paths = paths_for(target, len(probs), alphabet)
        return -math.log(max(path_p(probs, q, alphabet) for q in paths))

    def probability(probs, target, alphabet="-ab"):
        return math.exp(-ctc_by_hand_reference(probs, target, alphabet))

    def shorter_counted(probs, target, alphabet="-ab"):
        if len(set(target)) == len(target):
            return None
        shorter = "".join(c for i, c in enumerate(target) if i == 0 or c != target[i - 1])
        paths = paths_for(target, len(probs), alphabet) + paths_for(shorter, len(probs), alphabet)
        return -math.log(sum(path_p(probs, q, alphabet) for q in paths))

    return {
        "only the most likely path instead of the sum over all paths": best_path,
        "the probability p(target) instead of -ln p(target)": probability,
        "paths that collapse to the shorter target (such as 'aa-' for 'aa') counted": (
            shorter_counted
        ),
    }


def _labels(gen: torch.Generator, length: int, classes: int, blank: int) -> torch.Tensor:
    """``length`` labels from the non-blank classes; half the time from only one or two of
    them, so that repeated labels are common."""
    pool = torch.tensor([c for c in range(classes) if c != blank])
    if length and _int(gen, 0, 1):
        pool = pool[torch.randperm(len(pool), generator=gen)[: _int(gen, 1, min(2, len(pool)))]]
    return pool[torch.randint(0, len(pool), (length,), generator=gen)]


def _feasible_labels(gen, frames: int, classes: int, blank: int, high: int) -> torch.Tensor:
    labels = _labels(gen, _int(gen, 0, min(high, frames)), classes, blank)
    while min_frames(labels) > frames:
        labels = labels[:-1]
    return labels


def _infeasible_labels(gen, frames: int, classes: int, blank: int) -> torch.Tensor:
    """A target that ``frames`` frames cannot emit: too long, or too many repeats."""
    if frames >= 2 and _int(gen, 0, 1):
        repeats = (frames + 1) // 2 + 1  # needs 2 * repeats - 1 > frames frames
        label = _labels(gen, 1, classes, blank)
        return label.repeat(repeats)
    return _labels(gen, frames + _int(gen, 1, 2), classes, blank)


def _log_probs(gen, shape, scale: float, dtype=torch.float64) -> torch.Tensor:
    logits = torch.randn(shape, generator=gen, dtype=torch.float64) * scale
    return logits.log_softmax(-1).to(dtype)


# --- collapsing paths -------------------------------------------------------------------


def collapse_cases(seed: int | None = None, *, draws: int = 12) -> list[Case]:
    """Paths (lists of ints) and a ``blank``: empty, all blanks, repeats split by a blank,
    and random paths over a few classes so that runs and repeats are common."""
    gen, seed = generator(seed)
    fixed = [
        ([], 0),
        ([0, 0, 0], 0),
        ([1, 1, 0, 1], 0),
        ([2, 2, 1, 2, 2], 0),
        ([0, 3, 3, 0, 0, 3, 1, 1], 0),
        ([1, 0, 0, 2, 2, 1], 2),
    ]
    for _ in range(draws):
        classes = _int(gen, 2, 5)
        path = torch.randint(0, classes, (_int(gen, 0, 12),), generator=gen).tolist()
        fixed.append((path, _int(gen, 0, classes - 1)))
    return [
        Case(f"path {path}, blank={blank}, seed {seed}", (path,), {"blank": blank})
        for path, blank in fixed
    ]


def collapse_mistakes() -> dict:
    """Wrong collapses: the two steps swapped, or one of them forgotten."""

    def blanks_first(path, blank=0):
        return [s for s, _ in itertools.groupby(v for v in path if v != blank)]

    def no_merge(path, blank=0):
        return [v for v in path if v != blank]

    def blanks_kept(path, blank=0):
        return [s for s, _ in itertools.groupby(path)]

    return {
        "blanks removed before merging repeats (so 'a-a' became 'a')": blanks_first,
        "repeats not merged": no_merge,
        "blanks not removed": blanks_kept,
    }


# --- one sequence -----------------------------------------------------------------------


def torch_ctc_single(log_probs, target, blank=0):
    """-log p(target | log_probs) from PyTorch, for one sequence (unbatched form)."""
    return F.ctc_loss(
        log_probs,
        target,
        torch.tensor(log_probs.shape[0]),
        torch.tensor(target.shape[0]),
        blank=blank,
        reduction="none",
    )


def single_cases(seed: int | None = None, *, draws: int = 8) -> list[Case]:
    """``(log_probs (T, C), target (S,))`` and ``blank``: random sizes, repeats, an empty
    target, one frame only, an infeasible target, and a sequence so long that the path
    probabilities underflow float64 unless one works with logarithms."""
    gen, seed = generator(seed)
    cases = []

    def add(what, log_probs, target, blank):
        T, C = log_probs.shape
        label = (
            f"{what}: T={T}, C={C}, target {target.tolist() if len(target) <= 8 else '...'}, "
            f"blank={blank}, {str(log_probs.dtype)[6:]}, seed {seed}"
        )
        cases.append(Case(label, (log_probs, target), {"blank": blank}))

    add(tr("repeated label"), _log_probs(gen, (5, 3), 1.0), torch.tensor([1, 1]), 0)
    add(tr("empty target"), _log_probs(gen, (4, 3), 1.0), torch.tensor([], dtype=torch.long), 0)
    add(tr("one frame"), _log_probs(gen, (1, 4), 1.0), torch.tensor([3]), 0)
    add(tr("infeasible (needs 5 frames)"), _log_probs(gen, (4, 3), 1.0), torch.tensor([2, 2, 2]), 0)
    add(tr("blank is the last class"), _log_probs(gen, (6, 4), 2.0), torch.tensor([0, 2, 2]), 3)
    add(tr("long sequence (T=600)"), _log_probs(gen, (600, 20), 1.0), _labels(gen, 40, 20, 0), 0)
    for i in range(draws):
        T, C = _int(gen, 1, 10), _int(gen, 2, 6)
        blank = _int(gen, 0, C - 1)
        dtype = torch.float32 if i == 0 else torch.float64
        if i % 4 == 3:
            what, target = tr("random, infeasible"), _infeasible_labels(gen, T, C, blank)
        else:
            what, target = tr("random"), _feasible_labels(gen, T, C, blank, high=5)
        add(what, _log_probs(gen, (T, C), _int(gen, 1, 3), dtype), target, blank)
    return cases


def _log_p_end_in_blank(log_probs, target, blank):
    """log of the probability of the paths that collapse to ``target`` and end on a blank."""
    T = log_probs.shape[0]
    if T == 1:
        return log_probs[0, blank] if len(target) == 0 else torch.tensor(-math.inf).to(log_probs)
    return -torch_ctc_single(log_probs[:-1], target, blank) + log_probs[-1, blank]


def single_mistakes() -> dict:
    """Known wrong answers for one sequence, computed from PyTorch's own loss."""

    def end_in_label_only(log_probs, target, blank=0):
        if len(target) == 0:
            return None
        log_p = -torch_ctc_single(log_probs, target, blank)
        log_b = _log_p_end_in_blank(log_probs, target, blank)
        return -(log_p + torch.log1p(-torch.exp(log_b - log_p)))

    def end_in_blank_only(log_probs, target, blank=0):
        return -_log_p_end_in_blank(log_probs, target, blank) if len(target) else None

    def blank_zero(log_probs, target, blank=0):
        return torch_ctc_single(log_probs, target, 0) if blank != 0 else None

    def underflow(log_probs, target, blank=0):
        # exp(-746) is 0 in float64: a product of probabilities that small underflows
        loss = torch_ctc_single(log_probs, target, blank)
        return torch.full_like(loss, math.inf) if math.isfinite(loss) and loss > 745 else None

    return {
        "the probability p(target) instead of -log p(target)": lambda *a, **k: torch.exp(
            -torch_ctc_single(*a, **k)
        ),
        "log p(target) without the minus sign": lambda *a, **k: -torch_ctc_single(*a, **k),
        "log base 2 instead of the natural log": lambda *a, **k: (
            torch_ctc_single(*a, **k) / math.log(2)
        ),
        "only the paths ending on the last label (the final blank state is forgotten)": (
            end_in_label_only
        ),
        "only the paths ending on the final blank (the last label state is forgotten)": (
            end_in_blank_only
        ),
        "the blank taken as class 0 instead of the `blank` argument": blank_zero,
        "probabilities multiplied outside log space, so p(target) underflowed to 0": underflow,
    }


# --- a batch ----------------------------------------------------------------------------


def batch_cases(
    seed: int | None = None,
    *,
    draws: int = 4,
    form: str = "padded",
    infeasible: bool = False,
) -> list[Case]:
    """``(log_probs (T, N, C), targets, input_lengths, target_lengths)`` with ``blank``,
    every reduction, and (when ``infeasible``) both values of ``zero_infinity``.

    ``form`` is ``"padded"`` (targets of shape (N, S), padded with arbitrary classes past
    each target length) or ``"concatenated"`` (all targets one after the other, 1-D).
    With ``infeasible``, at least one sequence of each batch cannot emit its target.
    Input lengths vary and the frames past them hold random values. Targets are int64, or
    int32 (as torch accepts) in every third batch; the last batch is as long as torch's own
    tests: 50 frames, targets up to 29 labels.
    """
    gen, seed = generator(seed)
    cases = []
    for i in range(draws + 1):
        long = i == draws
        T, C = (50, _int(gen, 10, 20)) if long else (_int(gen, 1, 10), _int(gen, 2, 6))
        N = 1 if i == 1 else _int(gen, 2, 3 if long else 4)
        blank = 0 if i == 0 else _int(gen, 0, C - 1)
        input_lengths = torch.randint(1, T + 1, (N,), generator=gen)
        input_lengths[_int(gen, 0, N - 1)] = T
        bad = _int(gen, 0, N - 1) if infeasible else -1
        targets = []
        for n in range(N):
            frames = int(input_lengths[n])
            if n == bad:
                targets.append(_infeasible_labels(gen, frames, C, blank))
            elif long and frames == T:  # the longest target torch's tests use: 29 labels
                labels = _labels(gen, 29, C, blank)
                while min_frames(labels) > frames:
                    labels = labels[:-1]
                targets.append(labels)
            else:
                targets.append(_feasible_labels(gen, frames, C, blank, high=29 if long else 5))
        target_lengths = torch.tensor([len(t) for t in targets], dtype=torch.long)
        target_dtype = torch.int32 if i % 3 == 2 or long else torch.int64
        targets = [t.to(target_dtype) for t in targets]
        if form == "padded":
            width = int(target_lengths.max()) + _int(gen, 0, 2)
            padded = torch.randint(0, C, (N, width), generator=gen).to(target_dtype)
            for n, t in enumerate(targets):
                padded[n, : len(t)] = t
            target_arg = padded
        else:
            target_arg = torch.cat(targets)
        dtype = torch.float32 if i == 3 else torch.float64
        log_probs = _log_probs(gen, (T, N, C), _int(gen, 1, 3), dtype)
        options = (False, True) if infeasible else (False,)
        for zero_infinity, reduction in itertools.product(options, REDUCTIONS):
            label = (
                f"T={T}, N={N}, C={C}, blank={blank}, {form} targets "
                f"({str(target_dtype)[6:]}), "
                f"input_lengths={input_lengths.tolist()}, "
                f"target_lengths={target_lengths.tolist()}, {str(dtype)[6:]}, "
                f"reduction={reduction!r}, zero_infinity={zero_infinity}, seed {seed}"
            )
            kwargs = {"blank": blank, "reduction": reduction, "zero_infinity": zero_infinity}
            args = (log_probs, target_arg, input_lengths, target_lengths)
            cases.append(Case(label, args, kwargs))
    return cases


def batch_mistakes() -> dict:
    """Known wrong answers for a batch: reductions, lengths, blank and zero_infinity."""

    def none_losses(lp, targets, il, tl, blank=0, zero_infinity=False):
        return F.ctc_loss(
            lp, targets, il, tl, blank=blank, reduction="none", zero_infinity=zero_infinity
        )

    def mean_of(divide_by):
        def wrong(lp, targets, il, tl, blank=0, reduction="mean", zero_infinity=False):
            if reduction != "mean":
                return None
            losses = none_losses(lp, targets, il, tl, blank, zero_infinity)
            return divide_by(losses, il, tl)

        return wrong

    def zero_infinity_ignored(lp, targets, il, tl, blank=0, reduction="mean", zero_infinity=False):
        if not zero_infinity:
            return None
        return F.ctc_loss(lp, targets, il, tl, blank=blank, reduction=reduction)

    def all_frames(lp, targets, il, tl, blank=0, reduction="mean", zero_infinity=False):
        full = torch.full_like(il, lp.shape[0])
        return F.ctc_loss(
            lp, targets, full, tl, blank=blank, reduction=reduction, zero_infinity=zero_infinity
        )

    def blank_zero(lp, targets, il, tl, blank=0, reduction="mean", zero_infinity=False):
        if blank == 0:
            return None
        return F.ctc_loss(lp, targets, il, tl, reduction=reduction, zero_infinity=zero_infinity)

    def concatenated_from_start(
        lp, targets, il, tl, blank=0, reduction="mean", zero_infinity=False
    ):
        if targets.dim() != 1 or len(tl) < 2:
            return None
        padded = torch.zeros(len(tl), max(int(tl.max()), 1), dtype=torch.long)
        for n, length in enumerate(tl.tolist()):
            padded[n, :length] = targets[:length]
        return F.ctc_loss(
            lp, padded, il, tl, blank=blank, reduction=reduction, zero_infinity=zero_infinity
        )

    return {
        "every concatenated target read from the start of `targets` (sequence n starts after "
        "the lengths of the targets before it)": concatenated_from_start,
        **reduction_mistakes(F.ctc_loss),
        "'mean' averaged over the batch without dividing by the target lengths": mean_of(
            lambda losses, il, tl: losses.mean()
        ),
        "'mean' as the sum divided by the total target length": mean_of(
            lambda losses, il, tl: losses.sum() / tl.sum().clamp(min=1)
        ),
        "'mean' divided by the input lengths instead of the target lengths": mean_of(
            lambda losses, il, tl: (losses / il).mean()
        ),
        "zero_infinity ignored (infinite losses kept)": zero_infinity_ignored,
        "input_lengths ignored (every sequence uses all T frames)": all_frames,
        "the blank taken as class 0 instead of the `blank` argument": blank_zero,
    }


integrity.watch(__import__(__name__, fromlist=["*"]))
