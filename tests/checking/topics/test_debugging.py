"""The capstone: every kind of run shows its own symptoms, and the fit check names each bug."""

import math

import pytest
import torch

from autograder.checking import CheckFailed
from autograder.checking.topics import debugging as d


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.mark.filterwarnings("ignore")
@pytest.mark.parametrize("seed", range(6))
def test_the_reference_reads_every_kind_of_run_right(seed):
    for kind in d.VERDICTS:
        report = d.mystery_run(kind, 1000 + seed)
        assert d.reference_diagnose(report) == kind, (kind, seed)


def test_report_cases_hold_every_verdict_and_named_mistakes_are_wrong():
    cases = d.report_cases(seed=1, draws=10)
    verdicts = [d.reference_diagnose(*c.args) for c in cases]
    assert set(verdicts) == set(d.VERDICTS) and len(cases) == 10
    for name, wrong in d.diagnose_mistakes().items():
        named = [(wrong(*c.args), v) for c, v in zip(cases, verdicts, strict=True)]
        assert any(w is not None for w, _ in named), name
        assert all(w != v for w, v in named if w is not None), name


def right_fit_zero_grad_last(
    model, inputs, targets, loss_fn, optimizer, epochs=3, batch_size=32, seed=0
):
    """Right, written differently: gradients reset after each step, the mean by a count."""
    gen = torch.Generator().manual_seed(seed)
    history = []
    optimizer.zero_grad()
    for _ in range(epochs):
        model.train()
        order = torch.randperm(len(inputs), generator=gen)
        losses = []
        for batch in order.split(batch_size):
            loss = loss_fn(model(inputs[batch]), targets[batch])
            loss.backward()
            optimizer.step()
            optimizer.zero_grad()
            losses.append(loss.item())
        history.append(sum(losses) / len(losses))
    return history


def variant(bug):
    def fit(model, inputs, targets, loss_fn, optimizer, epochs=3, batch_size=32, seed=0):
        gen = torch.Generator().manual_seed(seed)
        history = []
        if bug == d.EVAL_MODE:
            model.eval()
        for _ in range(epochs):
            if bug != d.EVAL_MODE:
                model.train()
            order = torch.randperm(len(inputs), generator=gen)
            labels = targets[torch.randperm(len(targets))] if bug == d.SHUFFLED_LABELS else None
            running = 0.0
            for start in range(0, len(inputs), batch_size):
                batch = order[start : start + batch_size]
                if bug != d.NO_ZERO_GRAD:
                    optimizer.zero_grad()
                outputs = model(inputs[batch])
                if bug == d.SOFTMAX:
                    outputs = torch.softmax(outputs, dim=1)
                wanted = (
                    labels[start : start + batch_size] if labels is not None else targets[batch]
                )
                loss = loss_fn(outputs, wanted)
                loss.backward()
                optimizer.step()
                running = running + (loss if bug == d.LOSS_TENSOR else loss.item())
            value = running.item() if isinstance(running, torch.Tensor) else running
            history.append(value / math.ceil(len(inputs) / batch_size))
        return history

    return fit


def test_check_fit_accepts_right_loops():
    d.check_fit(d.reference_fit, seed=0)
    d.check_fit(right_fit_zero_grad_last, seed=3)
    d.check_fit(right_fit_zero_grad_last, seed=None, epochs=2, batch_size=24)


@pytest.mark.parametrize(
    "bug", [d.EVAL_MODE, d.SHUFFLED_LABELS, d.NO_ZERO_GRAD, d.SOFTMAX, d.LOSS_TENSOR]
)
def test_check_fit_names_each_bug_left_in(bug):
    with pytest.raises(CheckFailed, match=bug):
        d.check_fit(variant(bug), seed=0)


@pytest.mark.filterwarnings("ignore")
def test_drawn_runs_always_show_their_own_bug():
    for seed in range(3):
        for case in d.report_cases(seed=100 + seed, draws=8):
            report = case.args[0]
            assert d.reference_diagnose(report) in d.VERDICTS
    # the rejection keeps the truth honest: the verdict is the bug that was planted
    kinds = []
    for case in d.report_cases(seed=7):
        kinds.append(d.reference_diagnose(*case.args))
    assert sorted(kinds) == sorted(d.VERDICTS)
