"""The checks of topic 10 (optimizer API, SGD, momentum): right answers pass, slips fail."""

import io
import math

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from autograder.checking import CheckFailed, check_function, integrity
from autograder.checking.topics.sgd_momentum import (
    best_momentum_by_search,
    best_momentum_cases,
    check_fit_line,
    check_lr_limits,
    check_param_groups,
    check_resume,
    first_differing_by_running,
    first_differing_cases,
    gd_cases,
    gd_closed_form,
    heavy_ball_rate,
)
from tests.checking.strategies import quick, seeds


def fit_line(w, x, y, *, lr, steps, zero=True, keep=lambda loss: loss.item()):
    optimizer = torch.optim.SGD([w], lr=lr)
    losses = []
    for _ in range(steps):
        if zero:
            optimizer.zero_grad()
        loss = ((x @ w - y) ** 2).mean()
        loss.backward()
        optimizer.step()
        losses.append(keep(loss))
    return losses


def test_fit_line_check():
    check_fit_line(fit_line, seed=0)
    with pytest.raises(CheckFailed, match="zero_grad"):
        check_fit_line(lambda *a, **k: fit_line(*a, zero=False, **k), seed=0)


def test_fit_line_refuses_losses_that_keep_their_graph():
    """The loss tensors themselves, graph and all: right values, wrong type."""
    with pytest.raises(CheckFailed, match="still carries its graph"):
        check_fit_line(lambda *a, **k: fit_line(*a, keep=lambda loss: loss, **k), seed=0)


@pytest.mark.parametrize(
    "keep",
    [lambda loss: loss.detach(), lambda loss: loss.detach().numpy(), lambda loss: [loss.item()]],
)
def test_fit_line_wants_python_floats(keep):
    with pytest.raises(CheckFailed, match="float"):
        check_fit_line(lambda *a, **k: fit_line(*a, keep=keep, **k), seed=0)


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
    with pytest.raises(CheckFailed, match="never called load_state_dict"):
        check_resume(lambda *a, **k: resume(*a, load=False, **k), seed=0)
    assert not integrity.verify(restore=False)


# -- gradient descent and its limits -----------------------------------------------------------


def test_gd_closed_form_is_what_autograd_gradient_descent_does():
    for case in gd_cases(0) + gd_cases(None):
        x0, lr, steps = case.args
        x = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
        path = [x0]
        for _ in range(steps):
            (g,) = torch.autograd.grad(4 * x**2, x)
            x = (x - lr * g).detach().requires_grad_(True)
            path.append(float(x.detach()))
        torch.testing.assert_close(
            gd_closed_form(x0, lr, steps), torch.tensor(path, dtype=torch.float64)
        )


def test_lr_limits_check_passes_formulas_written_differently():
    check_lr_limits(lambda h: (2 / h, 1 / h), seed=0)
    check_lr_limits(lambda h: (2.0 * h**-1, 0.5 * (2 / h)), seed=None, public=False)


@pytest.mark.parametrize(
    ("wrong", "named"),
    [
        (lambda h: (1 / h, 1 / h), "1/h is the rate that reaches the minimum in one step"),
        (lambda h: (2 / h, 2 / h), "2/h is the limit"),
        (lambda h: (2 / h * 1.01, 1 / h), None),
        (lambda h: (2 / h, 1 / h * 1.01), None),
        (lambda h: (0.25, 0.125), "whatever the curvature"),  # hard-coded for y = 4x²
        (lambda h: torch.tensor([2 / h, 1 / h]), None),
    ],
)
def test_lr_limits_check_fails_wrong_answers(wrong, named):
    with pytest.raises(CheckFailed) as failure:
        check_lr_limits(wrong, seed=0)
    if named:
        assert named in str(failure.value)


# -- the two momentum conventions --------------------------------------------------------------


def rule(lrs, momentum):
    """The answer reasoned out: they part at the first step whose rate differs from step 1's."""
    if momentum == 0:
        return None
    return next((t for t in range(2, len(lrs) + 1) if lrs[t - 1] != lrs[0]), None)


@quick
@given(seed=seeds)
def test_the_reasoned_rule_agrees_with_running_both_conventions(seed):
    for case in first_differing_cases(seed):
        assert rule(*case.args) == first_differing_by_running(*case.args), case.label


def test_first_differing_cases_cover_every_kind_of_answer():
    answers = [first_differing_by_running(*c.args) for c in first_differing_cases(0)]
    assert None in answers and 2 in answers and 5 in answers
    assert any(c.args[1] == 0 for c in first_differing_cases(None))


def test_first_differing_step_check_fails_a_rule_that_ignores_momentum():
    def forgets_momentum(lrs, momentum):
        return next((t for t in range(2, len(lrs) + 1) if lrs[t - 1] != lrs[0]), None)

    check_function(rule, first_differing_by_running, first_differing_cases(88))
    with pytest.raises(CheckFailed):
        check_function(forgets_momentum, first_differing_by_running, first_differing_cases(88))


# -- the best momentum --------------------------------------------------------------------------


@quick
@given(a=st.floats(1e-3, 0.9), lr=st.floats(1e-3, 0.1))
def test_the_search_finds_the_closed_form(a, lr):
    h = a / lr
    assert best_momentum_by_search(lr, h) == pytest.approx((1 - math.sqrt(a)) ** 2, rel=1e-9)


def test_the_best_momentum_beats_its_neighbours_and_plain_sgd():
    rho = best_momentum_by_search(0.01, 8.0)
    assert rho == pytest.approx(0.5143, abs=1e-4)
    best = heavy_ball_rate(0.01, 8.0, rho)
    assert best == pytest.approx(1 - math.sqrt(0.08), rel=1e-6)
    assert best < heavy_ball_rate(0.01, 8.0, rho * 0.99)
    assert best < heavy_ball_rate(0.01, 8.0, rho * 1.01)
    assert best < abs(1 - 8 * 0.03)  # plain SGD at lr 0.03


def test_best_momentum_cases_keep_lr_times_curvature_below_one():
    for case in best_momentum_cases(0) + best_momentum_cases(None):
        lr, h = case.args
        assert 0 < lr * h < 1


# -- what the exercises promise besides the values ----------------------------------------------


def gd_by_autograd(x0, lr, steps, *, clear=True, scale=1.0):
    x = torch.tensor(x0, dtype=torch.float64, requires_grad=True)
    path = [x0]
    for _ in range(steps):
        (4 * x**2).backward()
        with torch.no_grad():
            x -= lr * scale * x.grad
        if clear:
            x.grad = None
        path.append(x.item())
    return torch.tensor(path, dtype=torch.float64)


def test_gd_path_passes_a_loop_with_backward():
    from autograder.checking.topics.sgd_momentum import check_gd_path

    check_gd_path(gd_by_autograd, seed=8)
    check_gd_path(gd_by_autograd, seed=None, public=False)


def test_gd_path_by_hand_is_refused_and_a_gradient_never_cleared_is_named():
    from autograder.checking.topics.sgd_momentum import check_gd_path

    with pytest.raises(CheckFailed, match="never asked autograd"):
        check_gd_path(lambda x0, lr, n: gd_closed_form(x0, lr, n), seed=8)
    with pytest.raises(CheckFailed, match="gradient never cleared"):
        check_gd_path(lambda x0, lr, n: gd_by_autograd(x0, lr, n, clear=False), seed=8)


def test_fit_line_by_hand_is_refused():
    """Right numbers from an update written by hand: the exercise asks for torch.optim.SGD."""

    def by_hand(w, x, y, *, lr, steps):
        losses = []
        for _ in range(steps):
            loss = ((x @ w - y) ** 2).mean()
            loss.backward()
            with torch.no_grad():
                w -= lr * w.grad
            w.grad = None
            losses.append(loss.item())
        return losses

    with pytest.raises(CheckFailed, match="never used torch.optim.SGD"):
        check_fit_line(by_hand, seed=0)


def test_fit_line_may_not_change_x_and_its_late_losses_are_named():
    def scales_x(w, x, y, *, lr, steps):
        x /= 1.0  # in place, even if the values stay
        return fit_line(w, x, y, lr=lr, steps=steps)

    with pytest.raises(CheckFailed, match="the caller's x was written to in place"):
        check_fit_line(scales_x, seed=0)

    def late(w, x, y, *, lr, steps):
        optimizer = torch.optim.SGD([w], lr=lr)
        losses = []
        for _ in range(steps):
            optimizer.zero_grad()
            ((x @ w - y) ** 2).mean().backward()
            optimizer.step()
            losses.append(((x @ w - y) ** 2).mean().item())
        return losses

    with pytest.raises(CheckFailed, match="recorded after its step"):
        check_fit_line(late, seed=0)


def test_param_groups_given_to_the_constructor_pass():
    def at_once(w1, w2, loss_fn, *, lr, lr2, momentum, steps):
        optimizer = torch.optim.SGD(
            [{"params": [w1]}, {"params": [w2], "lr": lr2}], lr=lr, momentum=momentum
        )
        for _ in range(steps):
            optimizer.zero_grad()
            loss_fn(w1, w2).backward()
            optimizer.step()
        return optimizer

    check_param_groups(at_once, seed=0)


def test_resume_without_load_state_dict_is_refused():
    def never_loads(w, loss_fn, *, lr, momentum, steps, stop):
        optimizer = torch.optim.SGD([w], lr=lr, momentum=momentum)
        checkpoint = b""
        for i in range(steps):
            if i == stop:
                buffer = io.BytesIO()
                torch.save(optimizer.state_dict(), buffer)
                checkpoint = buffer.getvalue()
            optimizer.zero_grad()
            loss_fn(w).backward()
            optimizer.step()
        return checkpoint

    with pytest.raises(CheckFailed, match="never called load_state_dict"):
        check_resume(never_loads, seed=0)
