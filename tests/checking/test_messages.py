"""Failure messages: one tolerance, enough digits to see the difference, and a mistake named
only when it explains every failing case it applies to.

The two wrongly named mistakes are issue 12's, reproduced with small student functions: a
mistake that coincides with the wrong answer on one case (the worked example, a batch of
one row) must not be named when the other failing cases contradict it.
"""

from __future__ import annotations

import re

import pytest
import torch
import torch.nn.functional as F

from autograder.checking import (
    Case,
    CheckFailed,
    check_function,
    check_value,
    compare,
    reduction_mistakes,
)
from autograder.checking.comparison import distinct_digits

from .student import cell, generator, pairs
from .test_forbid import autograd_input_grad


def failure(*args, **kwargs) -> str:
    with pytest.raises(CheckFailed) as info:
        check_function(*args, **kwargs)
    return str(info.value)


WORKED_EXAMPLE = [
    Case(
        f"worked example, reduction={r!r}",
        (torch.tensor([1.0, 2.0, 3.0]), torch.tensor([1.0, 2.0, 5.0])),
        {"reduction": r},
    )
    for r in ("none", "sum", "mean")
]


def _rmse(input, target, reduction="mean"):
    return F.mse_loss(input, target, reduction=reduction).sqrt() if reduction != "none" else None


MSE_MISTAKES = {
    **reduction_mistakes(F.mse_loss),
    "the square root of the mean (RMSE)": _rmse,
    "absolute errors (that is L1, not MSE)": F.l1_loss,
}

HALF_SQUARED = """
def mse_loss(input, target, reduction="mean"):
    losses = 0.5 * (input - target) ** 2
    if reduction == "none":
        return losses
    if reduction == "sum":
        return losses.sum()
    if reduction == "mean":
        return losses.mean()
    raise ValueError(reduction)
"""


def test_half_the_squared_error_is_not_called_absolute_errors():
    """On the worked example 0.5 d^2 = |d| (d = 0, 0, 2): the random cases say otherwise."""
    student = cell(HALF_SQUARED, "mse_loss")
    message = failure(student, F.mse_loss, WORKED_EXAMPLE + pairs(2), mistakes=MSE_MISTAKES)
    assert "worked example" in message  # the first failing case is still the one shown
    assert "known mistake" not in message
    assert "absolute errors" not in message


def test_the_wrong_answer_agrees_with_the_absolute_errors_on_the_worked_example():
    """The coincidence is real: the old rule, which looked at the first failing case only,
    had every reason to name it."""
    student = cell(HALF_SQUARED, "mse_loss")
    case = WORKED_EXAMPLE[0]
    got = student(*case.args, **case.kwargs)
    assert compare(got, F.l1_loss(*case.args, **case.kwargs), rtol=1e-6, atol=1e-8) is None


def grad_mistakes(reference):
    def when(wanted: str, used: str):
        def wrong(input, target, reduction="mean", grad_output=None):
            return reference(input, target, reduction=used) if reduction == wanted else None

        return wrong

    return {
        "the gradient of the sum given for reduction='mean' (the 1/n factor is missing)": when(
            "mean", "sum"
        ),
        "divided by n for reduction='sum'": when("sum", "mean"),
    }


def grad_cases() -> list[Case]:
    gen = generator(3)
    cases = []
    for shape in [(1, 4), (3, 2), (2, 3, 2)]:
        x = torch.randn(shape, generator=gen, dtype=torch.float64)
        y = torch.randn(shape, generator=gen, dtype=torch.float64)
        cases += [
            Case(f"shape {shape}, reduction={r!r}", (x, y), {"reduction": r})
            for r in ("sum", "mean")
        ]
    return cases


def test_dividing_by_the_rows_is_not_called_the_gradient_of_the_sum():
    """With one row, N = 1 and dividing by N gives the gradient of the sum; not with three."""
    student = cell(
        """
        def mse_loss_grad(input, target, reduction="mean", grad_output=None):
            grad = 2 * (input - target)
            if reduction == "mean":
                grad = grad / input.shape[0]
            return grad
        """,
        "mse_loss_grad",
    )
    reference = autograd_input_grad(F.mse_loss)
    message = failure(student, reference, grad_cases(), mistakes=grad_mistakes(reference))
    assert "shape (1, 4), reduction='mean'" in message
    assert "known mistake" not in message
    assert "(3 of 6 cases failed.)" in message


def test_a_mistake_that_explains_every_failing_case_is_named():
    student = cell(
        """
        def mse_loss_grad(input, target, reduction="mean", grad_output=None):
            return 2 * (input - target)
        """,
        "mse_loss_grad",
    )
    reference = autograd_input_grad(F.mse_loss)
    message = failure(student, reference, grad_cases(), mistakes=grad_mistakes(reference))
    assert "This matches a known mistake: the gradient of the sum" in message


def test_a_mistake_is_named_from_the_first_case_it_explains():
    """A wrong ``none`` (not a known mistake) and a sum for the mean (one): the message
    shows a case the named mistake explains, and counts all failures."""
    student = cell(
        """
        def mse_loss(input, target, reduction="mean"):
            losses = (input - target) ** 2
            if reduction == "none":
                return losses * 1.5
            return losses.sum()
        """,
        "mse_loss",
    )
    message = failure(student, F.mse_loss, pairs(4), mistakes=MSE_MISTAKES)
    first_line = message.splitlines()[0]
    assert "reduction='mean'" in first_line
    assert "This matches a known mistake: sum instead of mean." in message
    assert "(6 of 9 cases failed.)" in message


def test_one_tolerance_and_enough_digits_to_see_the_difference():
    student = cell(
        """
        def l1_loss(input, target, reduction="mean"):
            return torch.nn.functional.l1_loss(input, target, reduction=reduction) * (1 + 3e-6)
        """,
        "l1_loss",
    )
    case = Case(
        "close",
        (torch.tensor([0.25, 1.5], dtype=torch.float64), torch.zeros(2, dtype=torch.float64)),
        {"reduction": "none"},
    )
    message = failure(student, F.l1_loss, [case])
    assert message.count("rtol=") == 1 and message.count("atol=") == 1
    expected = re.search(r"expected: (.*)", message).group(1)
    got = re.search(r"got: +(.*)", message).group(1)
    assert expected != got, message
    assert re.search(r"values differ at index 1: expected 1\.5, got 1\.50000\d", message), message


def test_float32_shows_the_widened_tolerance_only():
    student = cell(
        """
        def l1_loss(input, target, reduction="mean"):
            return (input - target).abs().sum() * 1.001
        """,
        "l1_loss",
    )
    x, y = torch.randn(5, generator=generator(5)), torch.zeros(5)
    message = failure(student, F.l1_loss, [Case("float32", (x, y), {"reduction": "sum"})])
    assert message.count("rtol=") == 1
    assert "tolerance for float32: rtol=1.2e-05" in message


def test_check_value_states_the_tolerance_once():
    with pytest.raises(CheckFailed) as info:
        check_value("ce", 1.10194, 1.10193, rtol=1e-6)
    message = str(info.value)
    assert message.count("rtol=") == 1
    assert "got 1.10194, expected 1.10193" in message


@pytest.mark.parametrize(
    ("a", "b", "digits"),
    [(1.0, 1.0, 4), (0.123456, 0.123467, 5), (1.5, 1.5000045, 7), (2.0, 3.0, 4)],
)
def test_distinct_digits(a, b, digits):
    assert distinct_digits(a, b) == digits
