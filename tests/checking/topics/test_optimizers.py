"""The optimizer-API checks of topic 08: a correct use of torch.optim passes, a slip fails."""

import io

import pytest
import torch

from autograder.checking import CheckFailed, integrity
from autograder.checking.topics.optimizers import (
    check_closure,
    check_fit_line,
    check_param_groups,
    check_resume,
    rosenbrock_value,
    scheduler_cases,
    scheduler_lr,
)


def fit_line(w, x, y, *, lr, steps, zero=True):
    optimizer = torch.optim.SGD([w], lr=lr)
    losses = []
    for _ in range(steps):
        if zero:
            optimizer.zero_grad()
        loss = ((x @ w - y) ** 2).mean()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    return losses


def test_fit_line_check():
    check_fit_line(fit_line, seed=0)
    with pytest.raises(CheckFailed, match="zero_grad"):
        check_fit_line(lambda *a, **k: fit_line(*a, zero=False, **k), seed=0)


def test_param_groups_check():
    def groups(w1, w2, loss_fn, *, lr, lr2, momentum, steps, second_lr=True):
        optimizer = torch.optim.SGD([w1], lr=lr, momentum=momentum)
        optimizer.add_param_group({"params": [w2], "lr": lr2} if second_lr else {"params": [w2]})
        for _ in range(steps):
            optimizer.zero_grad()
            loss_fn(w1, w2).backward()
            optimizer.step()
        return optimizer

    check_param_groups(groups, seed=0)
    with pytest.raises(CheckFailed, match="learning rate of each param group"):
        check_param_groups(lambda *a, **k: groups(*a, second_lr=False, **k), seed=0)


def test_resume_check_demands_an_exact_resume():
    def resume(w, loss_fn, *, lr, momentum, steps, stop, load=True):
        optimizer = torch.optim.SGD([w], lr=lr, momentum=momentum)
        checkpoint = b""
        for i in range(steps):
            if i == stop:
                buffer = io.BytesIO()
                torch.save(optimizer.state_dict(), buffer)
                checkpoint = buffer.getvalue()
                optimizer = torch.optim.SGD([w], lr=lr, momentum=momentum)
                if load:
                    optimizer.load_state_dict(torch.load(io.BytesIO(checkpoint)))
            optimizer.zero_grad()
            loss_fn(w).backward()
            optimizer.step()
        return checkpoint

    check_resume(resume, seed=0)
    with pytest.raises(CheckFailed, match="momentum restarted from zero"):
        check_resume(lambda *a, **k: resume(*a, load=False, **k), seed=0)
    assert not integrity.verify(restore=False)


def test_closure_check():
    def make_closure(optimizer, xy, zero=True):
        def closure():
            if zero:
                optimizer.zero_grad()
            loss = rosenbrock_value(xy)
            loss.backward()
            return loss

        return closure

    check_closure(make_closure, seed=0)
    with pytest.raises(CheckFailed, match="zero_grad"):
        check_closure(lambda o, xy: make_closure(o, xy, zero=False), seed=0)


def test_scheduler_cases_use_defaults_and_options():
    for name, option in (("step_lr", "gamma"), ("cosine_annealing_lr", "eta_min")):
        cases = scheduler_cases(name, seed=0)
        assert any(option in c.kwargs for c in cases)
        assert any(option not in c.kwargs for c in cases)
    assert scheduler_lr("step_lr", 1.0, 7, step_size=3, gamma=0.5) == 0.25
