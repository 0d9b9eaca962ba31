"""Every case any seed draws is a valid call of the torch function it is checked against.

A case torch itself rejects would fail every student, right or wrong; a case whose shapes
or dtypes differ from what the exercise documents would test something it never taught.
Hypothesis draws the seeds (hidden checks draw theirs from the OS).
"""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given

from autograder.checking import REDUCTIONS
from autograder.checking.topics import (
    basic_losses,
    bce_family,
    cross_entropy_options,
    margin_losses,
    regression_losses,
)
from tests.checking.strategies import draws, quick, seeds

# generator -> (the torch function its cases are checked against, what it promises)
GENERATORS = {
    "basic l1": (basic_losses.regression_cases, F.l1_loss, "same shapes"),
    "basic mse": (basic_losses.regression_cases, F.mse_loss, "same shapes"),
    "basic cross_entropy": (basic_losses.classification_cases, F.cross_entropy, "N, C"),
    "nll": (
        lambda seed, draws: cross_entropy_options.index_cases(seed, draws=draws, log_probs=True),
        F.nll_loss,
        "class indices",
    ),
    "cross_entropy options": (cross_entropy_options.index_cases, F.cross_entropy, "indices"),
    "soft targets": (cross_entropy_options.prob_cases, F.cross_entropy, "probabilities"),
    "bce": (bce_family.prob_cases, F.binary_cross_entropy, "probabilities"),
    "bce with logits": (bce_family.logit_cases, F.binary_cross_entropy_with_logits, "logits"),
    "soft margin": (bce_family.margin_cases, F.soft_margin_loss, "signs"),
    "multilabel soft margin": (
        bce_family.multilabel_cases,
        F.multilabel_soft_margin_loss,
        "multi-hot",
    ),
    "smooth l1": (regression_losses.threshold_cases, F.smooth_l1_loss, "same shapes"),
    "poisson": (regression_losses.poisson_cases, F.poisson_nll_loss, "counts"),
    "gaussian": (regression_losses.gaussian_cases, F.gaussian_nll_loss, "variances"),
    "kl": (regression_losses.kl_cases, F.kl_div, "log-probabilities"),
    "margin ranking": (margin_losses.margin_ranking_cases, F.margin_ranking_loss, "signs"),
    "hinge embedding": (margin_losses.hinge_embedding_cases, F.hinge_embedding_loss, "signs"),
    "cosine embedding": (
        margin_losses.cosine_embedding_cases,
        F.cosine_embedding_loss,
        "signs",
    ),
    "multilabel margin": (
        margin_losses.multilabel_margin_cases,
        F.multilabel_margin_loss,
        "-1 padded",
    ),
}


@pytest.mark.filterwarnings("ignore:reduction. .mean. divides:UserWarning")
@pytest.mark.parametrize("name", GENERATORS)
@quick
@given(seed=seeds, n=draws)
def test_every_drawn_case_is_a_valid_call(name, seed, n):
    generate, reference, _ = GENERATORS[name]
    cases = generate(seed, draws=n)
    assert cases, "a generator must give at least its fixed cases"
    for case in cases:
        assert str(seed) in case.label, "every label carries its seed"
        result = reference(*case.args, **case.kwargs)
        reduction = case.kwargs.get("reduction", "mean")
        assert reduction in (*REDUCTIONS, "batchmean")
        if reduction != "none":
            assert result.dim() == 0, f"{case.label}: a reduced loss is one number"
        floats = [a for a in case.args if isinstance(a, torch.Tensor) and a.is_floating_point()]
        assert {a.dtype for a in floats} <= {torch.float32, torch.float64}


@pytest.mark.parametrize("name", ["triplet", "triplet distance", "multi margin"])
@quick
@given(seed=seeds)
def test_generators_without_draws_are_valid_too(name, seed):
    generate, reference = {
        "multi margin": (margin_losses.multi_margin_cases, F.multi_margin_loss),
        "triplet": (margin_losses.triplet_cases, F.triplet_margin_loss),
        "triplet distance": (
            margin_losses.triplet_distance_cases,
            F.triplet_margin_with_distance_loss,
        ),
    }[name]
    for case in generate(seed):
        reference(*case.args, **case.kwargs)
