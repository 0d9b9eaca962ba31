"""The case generators and known mistakes of topics 04 and 05.

A known mistake must be a real mistake (it differs from torch on some case it applies to),
and the case lists must contain the edge cases the topics promise to check.
"""

import math

import pytest
import torch
import torch.nn.functional as F

from autograder.checking import compare
from autograder.checking.topics import bce_family as bce_cases
from autograder.checking.topics import cross_entropy_options as ce_cases


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    """Tiny tensors: a second thread only adds waiting on a busy machine."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


FAMILIES = {
    "logsoftmax": (
        lambda input: F.log_softmax(input, dim=1),
        ce_cases.logsoftmax_mistakes,
        lambda: ce_cases.logit_cases(seed=0) + ce_cases.logit_cases(seed=1, scale=1000.0),
    ),
    "nll": (
        F.nll_loss,
        ce_cases.nll_mistakes,
        lambda: ce_cases.index_cases(seed=0, draws=6, log_probs=True),
    ),
    "cross_entropy": (
        F.cross_entropy,
        ce_cases.ce_mistakes,
        lambda: ce_cases.index_cases(seed=0, draws=6, smoothing=True),
    ),
    "soft_cross_entropy": (
        F.cross_entropy,
        ce_cases.soft_ce_mistakes,
        lambda: ce_cases.prob_cases(seed=0, draws=6),
    ),
    "cross_entropy_grad": (
        ce_cases.autograd_ce_grad,
        ce_cases.grad_mistakes,
        lambda: ce_cases.grad_cases(seed=0),
    ),
    "bce": (F.binary_cross_entropy, bce_cases.bce_mistakes, lambda: bce_cases.prob_cases(seed=0)),
    "bce_with_logits": (
        F.binary_cross_entropy_with_logits,
        bce_cases.bce_logits_mistakes,
        lambda: bce_cases.logit_cases(seed=0) + bce_cases.logit_cases(seed=1, scale=1000.0),
    ),
    "soft_margin": (
        F.soft_margin_loss,
        bce_cases.soft_margin_mistakes,
        lambda: bce_cases.margin_cases(seed=0),
    ),
    "multilabel_soft_margin": (
        F.multilabel_soft_margin_loss,
        bce_cases.multilabel_mistakes,
        lambda: bce_cases.multilabel_cases(seed=0),
    ),
    "bce_with_logits_grad": (
        bce_cases.autograd_bce_logits_grad,
        bce_cases.bce_grad_mistakes,
        lambda: bce_cases.logit_cases(seed=0),
    ),
}


@pytest.mark.parametrize("family", sorted(FAMILIES))
def test_every_known_mistake_is_wrong_somewhere(family):
    reference, mistakes, cases = FAMILIES[family]
    cases = cases()
    for name, wrong in mistakes().items():
        differs = False
        for case in cases:
            value = wrong(*case.args, **dict(case.kwargs))
            if value is None:
                continue
            expected = reference(*case.args, **dict(case.kwargs))
            if compare(value, expected, rtol=1e-6, atol=1e-8, dtype=False) is not None:
                differs = True
                break
        assert differs, f"{family}: the mistake {name!r} never differs from torch"


def test_label_smoothing_formula_matches_torch():
    cases = ce_cases.index_cases(seed=5, draws=20, smoothing=True)
    cases += ce_cases.index_cases(seed=6, draws=5, smoothing=True, scale=1000.0)
    for case in cases:
        got = ce_cases.smoothed_ce(*case.args, **dict(case.kwargs))
        expected = F.cross_entropy(*case.args, **dict(case.kwargs))
        assert compare(got, expected, rtol=1e-6, atol=1e-8) is None, case.label


def test_ce_gradient_reference_is_softmax_minus_one_hot():
    for case in ce_cases.grad_cases(seed=7):
        x, t = case.args
        weight, reduction = case.kwargs.get("weight"), case.kwargs["reduction"]
        w = torch.ones(x.shape[1], dtype=x.dtype) if weight is None else weight
        rows = (F.softmax(x, dim=1) - F.one_hot(t, x.shape[1])) * w[t][:, None]
        expected = rows / w[t].sum() if reduction == "mean" else rows
        got = ce_cases.autograd_ce_grad(x, t, weight=weight, reduction=reduction)
        assert compare(got, expected, rtol=1e-6, atol=1e-8) is None, case.label


def test_ce_cases_hold_the_promised_edge_cases():
    cases = ce_cases.index_cases(seed=None, smoothing=True)
    shapes = {tuple(c.args[0].shape) for c in cases}
    assert (1, 3) in shapes  # a batch of one
    assert any(len(s) >= 3 for s in shapes)  # K-dimensional
    assert {c.args[0].dtype for c in cases} == {torch.float32, torch.float64}
    all_ignored = [c for c in cases if bool((c.args[1] == -100).all())]
    assert all_ignored and all(
        torch.isnan(F.cross_entropy(*c.args, **dict(c.kwargs)))
        for c in all_ignored
        if c.kwargs["reduction"] == "mean"
    )
    assert any(c.kwargs.get("ignore_index", -100) >= 0 for c in cases)
    negative = [c for c in cases if -100 < c.kwargs.get("ignore_index", -100) < 0]
    assert negative and all(bool((c.args[1] == c.kwargs["ignore_index"]).any()) for c in negative)
    assert any("weight" in c.kwargs and "label_smoothing" in c.kwargs for c in cases)


def test_bce_cases_hold_the_promised_edge_cases():
    probs = bce_cases.prob_cases(seed=None)
    assert any(bool(((c.args[0] == 0) | (c.args[0] == 1)).any()) for c in probs)
    assert any(tuple(c.args[0].shape) == (1,) for c in probs)
    logits = bce_cases.logit_cases(seed=None, scale=1000.0)
    assert any("pos_weight" in c.kwargs and "weight" in c.kwargs for c in logits)
    assert any(c.args[0].abs().max() > 100 for c in logits)
    assert {c.args[0].dtype for c in logits} == {torch.float32, torch.float64}
    for cases in (probs, logits):
        assert any(c.args[0].dim() == 0 for c in cases)  # a 0-dim input
        weights = [tuple(c.kwargs["weight"].shape) for c in cases if "weight" in c.kwargs]
        assert () in weights  # a 0-dim weight
        assert any(len(w) == 2 and w[0] == 1 and w[1] > 1 for w in weights)  # (1, C)
    multilabel = bce_cases.multilabel_cases(seed=None)
    assert any(c.args[1].dtype == torch.int64 for c in multilabel)


def test_weighted_mean_by_hand_reference_and_mistakes():
    example = ([[2.0, 0.0], [0.0, 1.0], [1.0, 1.0]], [0, 1, 1], [1.0, 3.0])
    by_formula = [-2 + math.log(math.exp(2) + 1), -1 + math.log(1 + math.e), math.log(2)]
    expected = (by_formula[0] + 3 * by_formula[1] + 3 * by_formula[2]) / 7
    assert ce_cases.weighted_mean_reference(*example) == pytest.approx(expected, rel=1e-12)
    cases = ce_cases.weighted_mean_cases(seed=3)
    for name, wrong in ce_cases.weighted_mean_mistakes().items():
        differs = [
            wrong(*c.args) != pytest.approx(ce_cases.weighted_mean_reference(*c.args), rel=1e-6)
            for c in cases
        ]
        assert sum(differs) >= len(cases) // 2, name


def test_first_broken_cases_and_mistakes():
    cases = bce_cases.first_broken_cases(seed=0, draws=12)
    answers = {bce_cases.first_broken_reference(*c.args, **c.kwargs) for c in cases}
    assert len(answers) >= 3, "the hidden cases must not share one answer"
    for name, wrong in bce_cases.first_broken_mistakes().items():
        differs = [
            wrong(*c.args, **c.kwargs) != bce_cases.first_broken_reference(*c.args, **c.kwargs)
            for c in cases
        ]
        assert any(differs), name


def test_the_bce_notebook_does_not_give_away_the_public_answer():
    """The first edition's summary said the naive loss was "1 % off around x = 15": the
    public check's own answer."""
    from autograder import paths

    answer = bce_cases.first_broken_reference(torch.float32, 0, 0.01)
    text = (paths.NOTEBOOKS / "05_bce_family.py").read_text(encoding="utf-8")
    markdown = "\n".join(line for line in text.splitlines() if line.startswith("#"))
    assert f"x = {answer}$" not in markdown and f"x = {answer} " not in markdown
    assert "around $x = 15$" not in markdown
