"""The optimizer checks: torch itself passes them, and a slip in any option fails them."""

import inspect

import pytest
import torch

from autograder.checking import CheckFailed, integrity
from autograder.checking.optim import (
    ADAM_MISTAKES,
    SGD_MISTAKES,
    check_optimizer,
    optimizer_cases,
    sgd_other_convention,
)
from tests.gate.mutation import off_by_a_little

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
    from autograder.checking.optim import schedule_cases

    constant, *changing = schedule_cases(seed=0)
    check_optimizer(sgd_other_convention, torch.optim.SGD, [constant])
    for case in changing:
        with pytest.raises(CheckFailed, match="failed at step"):
            check_optimizer(sgd_other_convention, torch.optim.SGD, [case])
