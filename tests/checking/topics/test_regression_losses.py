"""The regression topic's cases and the notebook's own kl_div solution, against torch."""

import warnings

import jupytext
import torch
import torch.nn.functional as F

from autograder import paths
from autograder.checking import compare
from autograder.checking.topics import regression_losses
from autograder.checking.topics.basic_losses import reduce


def solution(answer: str) -> dict:
    """Run one answer cell of the regression notebook; return what it defines."""
    nb = jupytext.read(paths.NOTEBOOKS / "06_regression_losses.py")
    cell = next(c for c in nb.cells if c.metadata.get("answer") == answer)
    namespace = {"torch": torch, "F": F, "reduce": reduce}
    exec(compile(cell.source, f"<{answer}>", "exec"), namespace)
    return namespace


def test_kl_cases_include_0_dim_inputs():
    shapes = {tuple(c.args[0].shape) for c in regression_losses.kl_cases(seed=0)}
    assert () in shapes


def test_the_kl_div_solution_matches_torch_on_every_case_0_dim_batchmean_included():
    """The first edition's solution raised IndexError for a 0-dim input with batchmean,
    where torch returns the sum."""
    kl_div = solution("kl_div")["kl_div"]
    for seed in range(3):
        for case in regression_losses.kl_cases(seed=seed):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                expected = F.kl_div(*case.args, **case.kwargs)
            got = kl_div(*case.args, **case.kwargs)
            assert compare(got, expected, rtol=1e-6, atol=1e-8) is None, case.label


def test_threshold_and_poisson_cases_include_0_dim_and_4_d_inputs():
    for cases in (
        regression_losses.threshold_cases(seed=None),
        regression_losses.threshold_cases(seed=None, option="delta", weight=True),
        regression_losses.poisson_cases(seed=None),
    ):
        dims = {c.args[0].dim() for c in cases}
        assert 0 in dims and 4 in dims
