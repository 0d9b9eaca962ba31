"""Topic 01's cases and named mistakes: each mistake differs from torch somewhere, and is
named only where it explains every failing case."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

from autograder.checking import CheckFailed, check_function, compare
from autograder.checking.topics import basic_losses as bl


def _differs_somewhere(reference, mistakes, cases):
    for name, wrong in mistakes.items():
        differs = False
        for case in cases:
            value = wrong(*case.args, **dict(case.kwargs))
            if value is None:
                continue
            expected = reference(*case.args, **dict(case.kwargs))
            if compare(value, expected, rtol=1e-6, atol=1e-8, dtype=False) is not None:
                differs = True
                break
        assert differs, f"{name!r} agrees with torch on every case"


FAMILIES = {
    "reduce": (bl.reduce, bl.reduce_mistakes, lambda: bl.reduce_cases(seed=0)),
    "l1": (
        F.l1_loss,
        lambda: bl.regression_mistakes(F.l1_loss, squared=False),
        lambda: bl.regression_cases(seed=0),
    ),
    "mse": (
        F.mse_loss,
        lambda: bl.regression_mistakes(F.mse_loss, squared=True),
        lambda: bl.regression_cases(seed=0),
    ),
    "cross_entropy": (F.cross_entropy, bl.ce_mistakes, lambda: bl.classification_cases(seed=0)),
    "stable": (
        F.cross_entropy,
        bl.stable_ce_mistakes,
        lambda: bl.classification_cases(seed=0) + bl.classification_cases(seed=1, scale=1000.0),
    ),
    "ce_by_hand": (bl.ce_of_lists, bl.ce_by_hand_mistakes, lambda: bl.ce_by_hand_cases(seed=0)),
}


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_every_known_mistake_is_wrong_somewhere(family):
    reference, mistakes, cases = FAMILIES[family]
    _differs_somewhere(reference, mistakes(), cases())


def test_regression_cases_hold_0_dim_and_4_d_pairs():
    shapes = {tuple(c.args[0].shape) for c in bl.regression_cases(seed=None)}
    assert () in shapes
    assert any(len(s) == 4 for s in shapes)


def _half_mse(input, target, reduction="mean"):
    return bl.reduce(0.5 * (input - target) ** 2, reduction)


def test_half_the_squared_error_is_not_named_absolute_errors():
    """On the worked example the errors are (0, 0, 2): 0.5 d^2 and |d| agree there, so only
    a mistake that explains every failing case may be named (issue 12)."""
    x, y = torch.tensor([1.0, 2.0, 3.0]), torch.tensor([1.0, 2.0, 5.0])
    cases = [bl.Case("worked", (x, y)), *bl.regression_cases(seed=3)]
    with pytest.raises(CheckFailed, match="half the squared error") as raised:
        check_function(
            _half_mse, F.mse_loss, cases, mistakes=bl.regression_mistakes(F.mse_loss, squared=True)
        )
    assert "absolute errors" not in str(raised.value)


def test_a_mean_over_the_first_dimension_is_named_so():
    def by_rows(input, target, reduction="mean"):
        d = (input - target) ** 2
        if reduction == "mean":
            return d.sum() / len(d)
        return bl.reduce(d, reduction)

    cases = [c for c in bl.regression_cases(seed=0) if c.args[0].dim() >= 1]
    with pytest.raises(CheckFailed, match="first dimension only"):
        check_function(
            by_rows, F.mse_loss, cases, mistakes=bl.regression_mistakes(F.mse_loss, squared=True)
        )


def test_the_reduce_check_wants_the_bad_value_in_the_message():
    case = bl.reduce_cases(seed=0)[0]

    def vague(losses, reduction):
        if reduction in ("none", "sum", "mean"):
            return bl.reduce(losses, reduction)
        raise ValueError("invalid reduction")

    bl.check_rejects_bad_reduction(vague, case, "average")  # the option is off
    with pytest.raises(CheckFailed, match="does not name the bad value"):
        bl.check_rejects_bad_reduction(vague, case, "average", names_value=True)
    bl.check_rejects_bad_reduction(bl.reduce, case, None, names_value=True)
