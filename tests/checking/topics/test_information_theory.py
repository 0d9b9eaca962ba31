"""The information-theory topic: references agree with the formulas, mistakes differ."""

import math

import pytest
import torch
import torch.nn.functional as F

from autograder.checking import compare
from autograder.checking.topics import information_theory as info


@pytest.mark.parametrize("seed", range(10))
def test_references_agree_with_the_formulas_and_the_identity(seed):
    for case in info.pair_cases(seed=seed):
        p, q = (t.double() for t in case.args)
        h = -torch.xlogy(p, p).sum(-1)
        ce = -torch.xlogy(p, q).sum(-1)
        assert torch.allclose(info.entropy_reference(p), h, atol=1e-12)
        assert torch.allclose(info.cross_entropy_reference(p, q), ce, atol=1e-12)
        assert torch.allclose(info.kl_reference(p, q), ce - h, atol=1e-12)
        assert bool((info.kl_reference(p, q) >= -1e-12).all())


def test_cases_have_zeros_batches_and_both_dtypes():
    cases = info.distribution_cases(seed=0, draws=8)
    tensors = [c.args[0] for c in cases]
    assert any(bool((t == 0).any()) for t in tensors)
    assert {t.dtype for t in tensors} == {torch.float32, torch.float64}
    assert {t.dim() for t in tensors} >= {1, 2}
    for t in tensors:
        assert torch.allclose(t.double().sum(-1), torch.ones(t.shape[:-1], dtype=torch.float64))


def test_named_mistakes_differ_from_the_truth():
    for table, reference, cases in (
        (info.entropy_mistakes(), info.entropy_reference, info.distribution_cases(seed=1)),
        (info.kl_mistakes(), info.kl_reference, info.pair_cases(seed=1)),
        (info.cross_entropy_mistakes(), info.cross_entropy_reference, info.pair_cases(seed=1)),
    ):
        for name, wrong in table.items():
            differs = False
            for case in cases:
                value = wrong(*case.args)
                if value is not None:
                    truth = reference(*case.args)
                    differs |= compare(value, truth, rtol=1e-6, atol=1e-8) is not None
            assert differs, name


def test_initial_loss_cases_are_both_sane_and_overconfident():
    verdicts = []
    caught = set()
    for seed in range(5):
        for case in info.initial_loss_cases(seed=seed):
            loss, chance, ok = info.initial_loss_reference(*case.args, **case.kwargs)
            assert chance == math.log(case.args[0].shape[1])
            assert loss == pytest.approx(float(F.cross_entropy(*case.args)))
            verdicts.append(ok)
            for name, wrong in info.initial_loss_mistakes().items():
                value = wrong(*case.args, **case.kwargs)
                if compare(value, (loss, chance, ok), rtol=1e-9, atol=0) is not None:
                    caught.add(name)
    assert True in verdicts and False in verdicts
    assert caught == set(info.initial_loss_mistakes())


def test_initial_loss_cases_hold_a_loss_far_below_chance():
    """A check of one side only (loss <= (1 + tolerance) ln C) must fail somewhere."""
    for seed in range(5):
        below = []
        for case in info.initial_loss_cases(seed=seed):
            loss, chance, _ = info.initial_loss_reference(*case.args, **case.kwargs)
            below.append(chance - loss > case.kwargs["tolerance"] * chance)
        assert any(below), seed
