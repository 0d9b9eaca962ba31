"""Cases for topic 01, the basic losses, and the course's ``reduce``.

Fixed seeds for public checks, fresh ones (``seed=None``) for hidden checks; every case
label carries its seed, so a failure can be reproduced exactly.

:func:`reduce` is the course's version of the function students write in Exercise 2: later
notebooks import it, so that the ``reduction`` switch is written once in the course.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F

from .. import REDUCTIONS, Case, CheckFailed, call_quietly, check_kind, generator, integrity
from ..draw import shape as _shape
from ..i18n import N_, tr
from ..mistakes import reduction_mistakes

_type = type


def reduce(losses: torch.Tensor, reduction: str) -> torch.Tensor:
    """Per-element ``losses`` reduced as ``reduction`` says: ``none``, ``sum`` or ``mean``.

    Any other value raises ``ValueError``, with the message PyTorch gives.
    """
    if reduction == "none":
        return losses
    if reduction == "sum":
        return losses.sum()
    if reduction == "mean":
        return losses.mean()
    raise ValueError(f"{reduction} is not a valid value for reduction")


REDUCE_FORBID = [
    "autograder.checking.topics.basic_losses.reduce",
    "autograder.checking.mistakes.reduce_losses",
    "autograder.checking.reduce_losses",
]


def check_rejects_bad_reduction(
    student: Callable,
    case: Case,
    bad: object = "average",
    *,
    public: bool = True,
    names_value: bool = False,
) -> None:
    """The student's function must raise ``ValueError`` for a ``reduction`` torch does not know.

    ``names_value``: the error's message must name the bad value, as torch's does ("a
    ``ValueError`` whose message names the bad value", Exercise 2).
    """
    kind = check_kind(public)
    name = getattr(student, "__name__", tr("your function"))
    kwargs = {**case.kwargs, "reduction": bad}
    try:
        call_quietly(student, *case.args, **kwargs)
    except ValueError as error:
        if names_value and str(bad) not in str(error):
            raise CheckFailed(
                tr(
                    "{kind}: {name}(..., reduction={bad}) raised ValueError({error}), whose "
                    "message does not name the bad value {bad}: say which value was wrong, as "
                    "torch does.",
                    kind=kind,
                    name=name,
                    bad=f"{bad!r}",
                    error=f"{str(error)!r}",
                )
            ) from None
        return
    except NotImplementedError:
        raise CheckFailed(
            tr("{kind}: {name} is not implemented yet.", kind=kind, name=name)
        ) from None
    except Exception as error:
        raise CheckFailed(
            tr(
                "{kind}: {name}(..., reduction={bad}) raised {error}; it should raise a "
                "ValueError.",
                kind=kind,
                name=name,
                bad=f"{bad!r}",
                error=_type(error).__name__,
            )
        ) from None
    raise CheckFailed(
        tr(
            "{kind}: {name}(..., reduction={bad}) returned a value; it should raise a ValueError "
            "(an unknown reduction is a mistake to report, not to guess at).",
            kind=kind,
            name=name,
            bad=f"{bad!r}",
        )
    )


def mean_over_first_dim(reference: Callable) -> Callable:
    """The mistake "the sum divided by ``len(losses)``": the size of the first dimension, not
    the number of elements (``None`` where it does not apply: other reductions, 0-dim)."""

    def wrong(input, *args, reduction="mean", **kwargs):
        if reduction != "mean" or input.dim() == 0:
            return None
        return reference(input, *args, reduction="sum", **kwargs) / input.shape[0]

    return wrong


FIRST_DIM = N_(
    "the mean over the first dimension only (the sum divided by its size, len(x), not by the "
    "number of elements)"
)


def reduce_mistakes() -> dict[str, Callable]:
    """Exercise 2's known mistakes: a wrong reduction, a mean over the first dimension."""
    return {**reduction_mistakes(reduce), FIRST_DIM: mean_over_first_dim(reduce)}


def regression_mistakes(reference: Callable, *, squared: bool) -> dict[str, Callable]:
    """Known mistakes of ``l1_loss`` (``squared=False``) and ``mse_loss`` (``squared=True``).

    Each is named only when it explains every failing case, so MSE's ``0.5 d^2`` is never
    taken for L1's ``|d|`` because the two agree on the worked example's errors (0, 0, 2).
    """

    def half(input, target, reduction="mean"):
        return 0.5 * F.mse_loss(input, target, reduction=reduction)

    def rmse(input, target, reduction="mean"):
        if reduction == "none":
            return None
        return F.mse_loss(input, target, reduction=reduction).sqrt()

    found = {**reduction_mistakes(reference), FIRST_DIM: mean_over_first_dim(reference)}
    if squared:
        found[tr("half the squared error (0.5 (x - y)^2, a textbook convention, not torch's)")] = (
            half
        )
        found[tr("the square root of the mean (RMSE)")] = rmse
        found[tr("absolute errors (that is L1, not MSE)")] = F.l1_loss
    else:
        found[tr("squared errors (that is MSE, not L1)")] = F.mse_loss
    return found


def reduce_cases(seed: int | None = None, *, draws: int = 3) -> list[Case]:
    """Per-element losses of 1 to 3 dimensions (one element included), every reduction."""
    gen, seed = generator(seed)
    shapes = [(1,), (2, 3)] + [
        _shape(gen, int(torch.randint(1, 4, (1,), generator=gen))) for _ in range(draws)
    ]
    cases = []
    for i, shape in enumerate(shapes):
        dtype = torch.float32 if i % 2 else torch.float64
        losses = torch.rand(shape, generator=gen, dtype=torch.float64).to(dtype) * 3
        for reduction in REDUCTIONS:
            label = f"losses of shape {shape}, {str(dtype)[6:]}, reduction={reduction!r}"
            label += f", seed {seed}"
            cases.append(Case(label, (losses,), {"reduction": reduction}))
    return cases


# --- Exercise 1: a cross-entropy by hand, from Python numbers -----------------------------

CE_BY_HAND_FORBID = [
    "torch.nn.functional.cross_entropy",
    "torch.nn.functional.log_softmax",
    "torch.nn.functional.nll_loss",
    "torch.logsumexp",
    "torch.log_softmax",
    "torch.nn.CrossEntropyLoss",
    "autograder.checking.topics.basic_losses.ce_of_lists",
]


def ce_of_lists(logits: list[float], target: int) -> float:
    """The reference: ``F.cross_entropy`` in float64 of one sample given as Python numbers."""
    x = torch.tensor([logits], dtype=torch.float64)
    return float(F.cross_entropy(x, torch.tensor([target])))


def ce_by_hand_cases(seed: int | None = None, *, draws: int = 8) -> list[Case]:
    """Logits as lists of 2 to 8 Python floats (standard deviation 2) and a class index."""
    gen, seed = generator(seed)
    cases = []
    for _ in range(draws):
        c = int(torch.randint(2, 9, (1,), generator=gen))
        logits = [round(float(v), 3) for v in torch.randn(c, generator=gen) * 2]
        target = int(torch.randint(0, c, (1,), generator=gen))
        cases.append(Case(f"logits {logits}, class {target}, seed {seed}", (logits, target)))
    return cases


def ce_by_hand_mistakes() -> dict[str, Callable]:
    def log2(logits, target):
        return ce_of_lists(logits, target) / math.log(2)

    def sum_of_logits(logits, target):
        return -logits[target] + sum(logits)

    def probability(logits, target):
        return math.exp(-ce_of_lists(logits, target))

    def sign(logits, target):
        return -ce_of_lists(logits, target)

    def other_class(logits, target):
        return -logits[target - 1] + math.log(sum(math.exp(x) for x in logits))

    return {
        "log base 2 instead of the natural log": log2,
        "the sum of the logits instead of the log-sum-exp": sum_of_logits,
        "the probability p_t instead of -log p_t": probability,
        "the sign flipped: log p_t (a negative number) instead of -log p_t": sign,
        "classes counted from 1 (logits[target - 1]); target is an index from 0": other_class,
    }


# --- Exercises 5 and 6: cross-entropy of a batch ------------------------------------------

CE_FORBID = [
    "torch.nn.functional.cross_entropy",
    "torch.nn.functional.nll_loss",
    "torch.nn.functional.log_softmax",
    "torch.log_softmax",
    "torch.logsumexp",
    "torch.nn.CrossEntropyLoss",
    "torch.nn.NLLLoss",
    "torch.nn.LogSoftmax",
]


def ce_mistakes() -> dict[str, Callable]:
    """Known wrong versions of ``F.cross_entropy`` on logits ``(N, C)`` and classes ``(N,)``."""

    def softmax_twice(input, target, reduction="mean"):
        return F.cross_entropy(F.softmax(input, dim=1), target, reduction=reduction)

    def log2(input, target, reduction="mean"):
        return F.cross_entropy(input, target, reduction=reduction) / math.log(2)

    def sum_of_logits(input, target, reduction="mean"):
        losses = -input.gather(1, target.unsqueeze(1)).squeeze(1) + input.sum(dim=1)
        return reduce(losses, reduction)

    def no_logsumexp(input, target, reduction="mean"):
        return F.nll_loss(input, target, reduction=reduction)

    def every_logit(input, target, reduction="mean"):
        if reduction != "mean":
            return None
        return F.cross_entropy(input, target, reduction="sum") / input.numel()

    return {
        **reduction_mistakes(F.cross_entropy),
        "softmax applied before cross-entropy (so twice)": softmax_twice,
        "log base 2 instead of the natural log": log2,
        "the sum of the logits instead of the log-sum-exp": sum_of_logits,
        "the log-sum-exp term forgotten (only -x[target])": no_logsumexp,
        "the sum divided by N * C (every logit) instead of N (every sample)": every_logit,
    }


def stable_ce_mistakes() -> dict[str, Callable]:
    """Exercise 6's known mistakes on top of :func:`ce_mistakes`: the shift left out, not
    added back, or taken over the whole batch instead of each row."""

    def picked(input, target):
        return input.gather(1, target.unsqueeze(1)).squeeze(1)

    def no_shift(input, target, reduction="mean"):
        return reduce(torch.log(torch.exp(input).sum(dim=1)) - picked(input, target), reduction)

    def not_added_back(input, target, reduction="mean"):
        m = input.max(dim=1, keepdim=True).values
        return reduce(torch.log(torch.exp(input - m).sum(dim=1)) - picked(input, target), reduction)

    def batch_max(input, target, reduction="mean"):
        m = input.max()
        lse = m + torch.log(torch.exp(input - m).sum(dim=1))
        return reduce(lse - picked(input, target), reduction)

    return {
        **ce_mistakes(),
        "no max shift: e^x overflows (or underflows) for logits of 1000": no_shift,
        "the max shift m not added back (log sum e^(x - m) needs + m)": not_added_back,
        "one shift for the whole batch (input.max()), not one per row: rows far below the "
        "largest logit underflow to log(0)": batch_max,
    }


def regression_cases(seed: int | None = None, *, draws: int = 4) -> list[Case]:
    """Pairs ``(input, target)`` of equal shape, every reduction, float64 and float32: a
    0-dim pair (one number each), one element, a row, a 4-D batch, then 1 to 3 dimensions."""
    gen, seed = generator(seed)
    cases = []
    shapes = [(), (1,), (7,), _shape(gen, 4, high=3)] + [
        _shape(gen, int(torch.randint(1, 4, (1,), generator=gen))) for _ in range(draws)
    ]
    for i, shape in enumerate(shapes):
        dtype = torch.float32 if i % 2 else torch.float64
        input = torch.randn(shape, generator=gen, dtype=torch.float64).to(dtype)
        target = torch.randn(shape, generator=gen, dtype=torch.float64).to(dtype)
        for reduction in REDUCTIONS:
            label = f"shape {shape}, {str(dtype)[6:]}, reduction={reduction!r}, seed {seed}"
            cases.append(Case(label, (input, target), {"reduction": reduction}))
    return cases


def classification_cases(
    seed: int | None = None, *, draws: int = 4, scale: float = 3.0
) -> list[Case]:
    """Logits ``(N, C)`` and class indices ``(N,)``, every reduction; N=1 included."""
    gen, seed = generator(seed)
    cases = []
    sizes = [(1, 3), (4, 2)] + [
        (int(n), int(c)) for n, c in torch.randint(1, 9, (draws, 2), generator=gen)
    ]
    for i, (n, c) in enumerate(sizes):
        c = max(c, 2)
        dtype = torch.float32 if i % 2 else torch.float64
        logits = (torch.randn(n, c, generator=gen, dtype=torch.float64) * scale).to(dtype)
        target = torch.randint(0, c, (n,), generator=gen)
        for reduction in REDUCTIONS:
            label = (
                f"N={n}, C={c}, {str(dtype)[6:]}, scale {scale:g}, "
                f"reduction={reduction!r}, seed {seed}"
            )
            cases.append(Case(label, (logits, target), {"reduction": reduction}))
    return cases


integrity.watch(__import__(__name__, fromlist=["*"]))
