"""The optimizer checks: torch itself passes them, and a slip in any option fails them."""

import inspect
import io

import pytest
import torch

from autograder import integrity
from autograder.checks import CheckFailed
from autograder.mutation import off_by_a_little
from autograder.optim_cases import (
    ADAM_MISTAKES,
    SGD_MISTAKES,
    check_closure,
    check_fit_line,
    check_optimizer,
    check_param_groups,
    check_resume,
    optimizer_cases,
    rosenbrock_value,
    scheduler_cases,
    scheduler_lr,
    sgd_other_convention,
)

OPTIMIZERS = {
    "sgd": torch.optim.SGD,
    "adagrad": torch.optim.Adagrad,
    "rmsprop": torch.optim.RMSprop,
    "adadelta": torch.optim.Adadelta,
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
    "adamax": torch.optim.Adamax,
    "nadam": torch.optim.NAdam,
    "asgd": torch.optim.ASGD,
    "rprop": torch.optim.Rprop,
}
STATE_KEYS = {"asgd": ["ax"]}


def torch_backed(cls):
    """A step function that lets a real torch optimizer do the work, one per parameter."""

    def step(param, grad, state, **hyper):
        old = torch.get_default_dtype()
        torch.set_default_dtype(torch.float64)
        try:
            if "optimizer" not in state:
                state["p"] = param.detach().clone().requires_grad_(True)
                state["optimizer"] = cls([state["p"]], **hyper)
            state["optimizer"].param_groups[0].update(
                lr=hyper.get("lr", cls([param]).defaults["lr"])
            )
            state["p"].grad = grad.clone()
            state["optimizer"].step()
        finally:
            torch.set_default_dtype(old)
        if "ax" in state["optimizer"].state[state["p"]]:
            state["ax"] = state["optimizer"].state[state["p"]]["ax"]
        with torch.no_grad():
            param.copy_(state["p"])

    return step


def without(step, option):
    """The same step function, deaf to one option (it always gets the default)."""

    def deaf(param, grad, state, **hyper):
        hyper.pop(option, None)
        return step(param, grad, state, **hyper)

    return deaf


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_torch_itself_passes_public_and_hidden_cases(name):
    cls = OPTIMIZERS[name]
    keys = STATE_KEYS.get(name, ())
    check_optimizer(torch_backed(cls), cls, optimizer_cases(name, seed=0), state_keys=keys)
    check_optimizer(
        torch_backed(cls), cls, optimizer_cases(name, None, extra=1), state_keys=keys, public=False
    )
    assert not integrity.verify(restore=False)


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_one_percent_off_fails(name):
    cls = OPTIMIZERS[name]
    with pytest.raises(CheckFailed, match="failed at step 1"):
        check_optimizer(
            off_by_a_little(torch_backed(cls)),
            cls,
            optimizer_cases(name, seed=0),
            state_keys=STATE_KEYS.get(name, ()),
        )


@pytest.mark.parametrize("name", OPTIMIZERS)
def test_every_option_is_exercised(name):
    """Ignoring any one keyword argument of the optimizer fails the public checks."""
    cls = OPTIMIZERS[name]
    options = [
        o
        for o, p in inspect.signature(cls.__init__).parameters.items()
        if o not in ("self", "params", "foreach", "capturable", "differentiable", "fused")
        and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
    ]
    cases = optimizer_cases(name, seed=0)
    used = {k for case in cases for k in case.hyper}
    assert set(options) - {"decoupled_weight_decay"} <= used | {"decoupled_weight_decay"}
    for option in sorted(used):
        with pytest.raises(CheckFailed):
            check_optimizer(
                without(torch_backed(cls), option),
                cls,
                cases,
                state_keys=STATE_KEYS.get(name, ()),
            )


def test_known_mistakes_are_named():
    for mistakes, cls, name in (
        (SGD_MISTAKES, torch.optim.SGD, "sgd"),
        (ADAM_MISTAKES, torch.optim.Adam, "adam"),
    ):
        for mistake, wrong in mistakes.items():
            with pytest.raises(CheckFailed, match="known mistake: " + mistake[:20]):
                check_optimizer(wrong, cls, optimizer_cases(name, seed=0), mistakes=mistakes)


def test_the_other_momentum_convention_matches_torch_only_at_a_constant_lr():
    from autograder.optim_cases import schedule_cases

    constant, *changing = schedule_cases(seed=0)
    check_optimizer(sgd_other_convention, torch.optim.SGD, [constant])
    for case in changing:
        with pytest.raises(CheckFailed, match="failed at step"):
            check_optimizer(sgd_other_convention, torch.optim.SGD, [case])


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
