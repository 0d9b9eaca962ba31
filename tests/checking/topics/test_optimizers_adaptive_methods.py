"""Topic 11's own checks: Newton–Schulz's cases and reference (the step functions' checks
are tested in tests/checking/optim)."""

import re

import pytest
import torch
from hypothesis import given

from autograder.checking import CheckFailed, check_function
from autograder.checking.optim.muon import reference_newton_schulz
from autograder.checking.topics.adaptive_methods import (
    STABLE_COEFFICIENTS,
    newton_schulz_cases,
    newton_schulz_reference,
)
from tests.checking.strategies import quick, seeds
from tests.gate.mutation import off_by_a_little


def newton_schulz_by_svd_polynomial(G, steps=5, coefficients=(3.4445, -4.7750, 2.0315), eps=1e-7):
    """The same iteration written on the singular values: X = U p(p(...p(S/|G|)...)) Vᵀ."""
    a, b, c = coefficients
    u, s, vh = torch.linalg.svd(G, full_matrices=False)
    s = s / max(float(G.norm()), eps)
    for _ in range(steps):
        s = a * s + b * s**3 + c * s**5
    return u @ torch.diag(s) @ vh


def test_the_reference_is_the_polynomial_on_the_singular_values():
    """An independent derivation: each iteration applies p(σ) = aσ + bσ³ + cσ⁵ to every
    singular value and keeps the singular vectors."""
    for case in newton_schulz_cases(0):
        got = newton_schulz_reference(*case.args, **case.kwargs)
        want = newton_schulz_by_svd_polynomial(*case.args, **case.kwargs)
        torch.testing.assert_close(got, want, rtol=1e-8, atol=1e-10, msg=case.label)


def test_a_student_solution_written_differently_passes():
    check_function(
        newton_schulz_by_svd_polynomial,
        newton_schulz_reference,
        newton_schulz_cases(111),
        rtol=1e-8,
    )


@pytest.mark.parametrize(
    "wrong",
    [
        off_by_a_little(reference_newton_schulz),
        # eps ignored
        lambda G, steps=5, coefficients=(3.4445, -4.775, 2.0315), eps=1e-7: reference_newton_schulz(
            G, steps, coefficients, 0.0
        ),
        # steps ignored
        lambda G, steps=5, coefficients=(3.4445, -4.775, 2.0315), eps=1e-7: reference_newton_schulz(
            G, 5, coefficients, eps
        ),
        # coefficients ignored
        lambda G, steps=5, coefficients=(3.4445, -4.775, 2.0315), eps=1e-7: reference_newton_schulz(
            G, steps, (3.4445, -4.775, 2.0315), eps
        ),
        # computed in bfloat16, as torch does
        lambda G, steps=5, coefficients=(3.4445, -4.775, 2.0315), eps=1e-7: reference_newton_schulz(
            G.bfloat16(), steps, coefficients, eps
        ).double(),
    ],
)
def test_wrong_newton_schulz_fails(wrong):
    with pytest.raises(CheckFailed):
        check_function(wrong, newton_schulz_reference, newton_schulz_cases(111), rtol=1e-10)


def _no_transpose(G, steps, coefficients, eps):
    a, b, c = coefficients
    x = G / max(float(G.norm()), eps)
    for _ in range(steps):
        gram = x @ x.T
        x = a * x + (b * gram + c * gram @ gram) @ x
    return x


@quick
@given(seed=seeds)
def test_newton_schulz_cases_stay_bounded(seed):
    """The coefficient sets keep the iteration bounded, so every case checks something."""
    for case in newton_schulz_cases(seed):
        result = newton_schulz_reference(*case.args, **case.kwargs)
        assert torch.isfinite(result).all() and result.abs().max() < 2, case.label
        assert str(seed) in case.label
        if "coefficients" in case.kwargs:
            assert case.kwargs["coefficients"] in STABLE_COEFFICIENTS


def test_cases_cover_every_orientation_and_option():
    cases = newton_schulz_cases(0)
    shapes = [tuple(c.args[0].shape) for c in cases]
    assert any(r > c for r, c in shapes) and any(r < c for r, c in shapes)
    assert any(r == c for r, c in shapes)
    options = {k for c in cases for k in c.kwargs}
    assert options == {"steps", "coefficients", "eps"}
    large_eps = [c for c in cases if c.kwargs.get("eps", 0) > float(c.args[0].norm())]
    assert large_eps, "an eps larger than the matrix's norm, so that it matters"


def test_newton_schulz_mistakes_differ_from_torch_and_are_named():
    from autograder.checking.topics.adaptive_methods import newton_schulz_mistakes

    mistakes = newton_schulz_mistakes()
    for mistake, wrong in mistakes.items():

        def student(G, steps=5, coefficients=(3.4445, -4.7750, 2.0315), eps=1e-7, wrong=wrong):
            value = wrong(G, steps, coefficients, eps)
            return newton_schulz_reference(G, steps, coefficients, eps) if value is None else value

        for seed in (111, None):
            with pytest.raises(CheckFailed, match="known mistake: " + re.escape(mistake)):
                check_function(
                    student,
                    newton_schulz_reference,
                    newton_schulz_cases(seed),
                    rtol=1e-10,
                    mistakes=mistakes,
                    public=seed is not None,
                )
