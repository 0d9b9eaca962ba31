"""The optimizer checks: torch itself passes them, and a slip in any option fails them."""

import inspect
import re
from dataclasses import replace

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
    "radam": torch.optim.RAdam,
    "adafactor": torch.optim.Adafactor,
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


# -- the learning rate changes between steps, and `grad` belongs to the caller -----------------


@pytest.mark.parametrize("name", [*OPTIMIZERS, "muon"])
def test_every_run_but_the_defaults_changes_its_learning_rate(name):
    for seed in (0, None):
        for case in optimizer_cases(name, seed):
            if case.hyper:
                assert case.lrs is not None and len(set(case.lrs)) >= 2, case.label
                assert case.lrs[0] == case.hyper["lr"]
            else:
                assert case.lrs is None, "the defaults run keeps torch's default lr"


def sgd_grad_in_place(
    param,
    grad,
    state,
    *,
    lr=1e-3,
    momentum=0,
    dampening=0,
    weight_decay=0,
    nesterov=False,
    maximize=False,
):
    """Right numbers, but maximize and weight decay applied to the caller's grad."""
    if maximize:
        grad.neg_()
    if weight_decay != 0:
        grad.add_(param, alpha=weight_decay)
    if momentum != 0:
        if "momentum_buffer" not in state:
            state["momentum_buffer"] = grad.clone()
        else:
            state["momentum_buffer"].mul_(momentum).add_(grad, alpha=1 - dampening)
        buf = state["momentum_buffer"]
        grad = grad + momentum * buf if nesterov else buf
    param.sub_(lr * grad)


def test_sgd_that_changes_grad_in_place_fails_and_is_told_why():
    with pytest.raises(CheckFailed, match="changed its `grad` argument in place"):
        check_optimizer(sgd_grad_in_place, torch.optim.SGD, optimizer_cases("sgd", seed=86))


def test_a_step_function_may_read_grad_freely():
    def sgd_reading_grad(param, grad, state, **hyper):
        grad.abs().sum()  # reading is fine
        torch_backed(torch.optim.SGD)(param, grad, state, **hyper)

    check_optimizer(sgd_reading_grad, torch.optim.SGD, optimizer_cases("sgd", seed=86))


def rmsprop_lr_in_buffer(
    param,
    grad,
    state,
    *,
    lr=1e-2,
    alpha=0.99,
    eps=1e-8,
    weight_decay=0,
    momentum=0,
    centered=False,
    maximize=False,
):
    """RMSprop with the learning rate inside its momentum buffer, written as a student would."""
    g = -grad if maximize else grad
    if weight_decay:
        g = g + weight_decay * param
    if not state:
        state["square_avg"] = torch.zeros_like(param)
        state["grad_avg"] = torch.zeros_like(param)
        state["buf"] = torch.zeros_like(param)
    state["square_avg"].mul_(alpha).addcmul_(g, g, value=1 - alpha)
    if centered:
        state["grad_avg"].mul_(alpha).add_(g, alpha=1 - alpha)
        denom = (state["square_avg"] - state["grad_avg"] ** 2).sqrt() + eps
    else:
        denom = state["square_avg"].sqrt() + eps
    if momentum > 0:
        state["buf"].mul_(momentum).add_(lr * g / denom)
        param.sub_(state["buf"])
    else:
        param.sub_(lr * g / denom)


def test_rmsprop_with_the_lr_inside_its_buffer_fails_and_is_named():
    from autograder.checking.optim import RMSPROP_MISTAKES

    cases = optimizer_cases("rmsprop", seed=92)
    with pytest.raises(CheckFailed, match="learning rate inside the momentum buffer"):
        check_optimizer(rmsprop_lr_in_buffer, torch.optim.RMSprop, cases, mistakes=RMSPROP_MISTAKES)
    # At a constant learning rate the two agree: only the schedule tells them apart.
    constant = [replace(c, lrs=None) for c in cases]
    check_optimizer(rmsprop_lr_in_buffer, torch.optim.RMSprop, constant)


def test_rmsprop_mistakes_are_named():
    from autograder.checking.optim import RMSPROP_MISTAKES

    for mistake, wrong in RMSPROP_MISTAKES.items():
        with pytest.raises(CheckFailed, match="known mistake: " + re.escape(mistake[:30])):
            check_optimizer(
                wrong, torch.optim.RMSprop, optimizer_cases("rmsprop", 0), mistakes=RMSPROP_MISTAKES
            )


def test_adam_with_decoupled_weight_decay_is_adamw():
    cases = [c for c in optimizer_cases("adamw", seed=0) if "weight_decay" in c.hyper]
    check_optimizer(
        torch_backed(torch.optim.AdamW),
        torch.optim.Adam,
        cases,
        torch_kwargs={"decoupled_weight_decay": True},
    )
    # Adam's own L2 penalty is not it, and the message names the reference it missed.
    with pytest.raises(CheckFailed, match=re.escape("torch.optim.Adam(decoupled_weight_decay")):
        check_optimizer(
            torch_backed(torch.optim.Adam),
            torch.optim.Adam,
            cases,
            torch_kwargs={"decoupled_weight_decay": True},
        )


def test_the_course_steps_are_forbidden_to_every_answer():
    from autograder.checking.optim import FORBID
    from autograder.checking.optim.mistakes import adam_decoupled

    def adamw_step(param, grad, state, **hyper):
        adam_decoupled(param, grad, state, **hyper)

    with pytest.raises(CheckFailed, match="adam_decoupled"):
        check_optimizer(
            adamw_step, torch.optim.AdamW, optimizer_cases("adamw", 0), forbid=FORBID["adamw"]
        )
    for names in FORBID.values():
        assert "autograder.checking.optim.mistakes.sgd_variant" in names


# -- every run is played out; a mistake is named only when it explains every failing run ------

from functools import partial  # noqa: E402

from autograder.checking.optim import mistakes as known  # noqa: E402

VARIANTS = {
    "sgd": (known.sgd_variant, known.SGD_MISTAKES),
    "asgd": (known.asgd_variant, known.ASGD_MISTAKES),
    "adagrad": (known.adagrad_variant, known.ADAGRAD_MISTAKES),
    "rmsprop": (known.rmsprop_variant, known.RMSPROP_MISTAKES),
    "adadelta": (known.adadelta_variant, known.ADADELTA_MISTAKES),
    "rprop": (known.rprop_variant, known.RPROP_MISTAKES),
    "adam": (known.adam_variant, known.ADAM_MISTAKES),
    "adamw": (
        partial(known.adam_variant, decoupled=True, weight_decay=1e-2),
        known.ADAMW_MISTAKES,
    ),
    "adamax": (known.adamax_variant, known.ADAMAX_MISTAKES),
    "nadam": (known.nadam_variant, known.NADAM_MISTAKES),
    "radam": (known.radam_variant, known.RADAM_MISTAKES),
    "adafactor": (known.adafactor_variant, known.ADAFACTOR_MISTAKES),
}


@pytest.mark.parametrize("name", VARIANTS)
def test_each_variant_without_its_flags_is_the_optimizer(name):
    variant, _ = VARIANTS[name]
    keys = STATE_KEYS.get(name, ())
    for seed in (0, None):
        check_optimizer(variant, OPTIMIZERS[name], optimizer_cases(name, seed), state_keys=keys)


@pytest.mark.parametrize(
    ("name", "mistake"), [(n, m) for n, (_, ms) in VARIANTS.items() for m in ms]
)
def test_each_known_mistake_differs_from_torch_and_is_named_as_itself(name, mistake):
    _, mistakes = VARIANTS[name]
    for seed in (0, None):
        with pytest.raises(CheckFailed) as failure:
            check_optimizer(
                mistakes[mistake],
                OPTIMIZERS[name],
                optimizer_cases(name, seed),
                mistakes=mistakes,
                state_keys=STATE_KEYS.get(name, ()),
            )
        assert f"known mistake: {mistake}." in str(failure.value)


def test_two_mistakes_at_once_are_not_named_as_one():
    """Nesterov ignored and the first step dampened: each explains some failing runs, neither
    all of them, so neither is named (the first failing run alone would match one)."""
    both = partial(known.sgd_variant, ignore_nesterov=True, dampen_first=True)
    with pytest.raises(CheckFailed) as failure:
        check_optimizer(both, torch.optim.SGD, optimizer_cases("sgd", 86), mistakes=SGD_MISTAKES)
    assert "known mistake" not in str(failure.value)
    assert "runs failed" in str(failure.value)


def test_a_failure_lists_the_failing_runs_and_shows_one_tolerance():
    with pytest.raises(CheckFailed) as failure:
        check_optimizer(
            known.sgd_no_nesterov,
            torch.optim.SGD,
            optimizer_cases("sgd", 86),
            mistakes=SGD_MISTAKES,
        )
    message = str(failure.value)
    assert "'Nesterov momentum" in message
    assert message.count("tolerance") == 1
    assert "known mistake: nesterov ignored." in message


def test_grad_changed_and_put_back_is_refused():
    """Values restored, but the caller's tensor was written to in place."""

    def sgd_negates_and_restores(param, grad, state, **hyper):
        grad.neg_()
        grad.neg_()
        torch_backed(torch.optim.SGD)(param, grad, state, **hyper)

    with pytest.raises(CheckFailed, match="written to in place"):
        check_optimizer(sgd_negates_and_restores, torch.optim.SGD, optimizer_cases("sgd", 86))


def test_state_may_be_kept_under_any_key_and_the_result_is_ignored():
    def sgd_own_keys(param, grad, state, **hyper):
        inner = state.setdefault("mine", {})
        torch_backed(torch.optim.SGD)(param, grad, inner, **hyper)
        return param

    check_optimizer(sgd_own_keys, torch.optim.SGD, optimizer_cases("sgd", 86))


# -- Expectations: the topic checks' own comparisons ---------------------------------------------


def test_expectations_name_a_mistake_only_when_it_explains_every_miss():
    from autograder.checking.optim.api import Expectations

    verdicts = Expectations("Public check")
    verdicts.expect("a", "x", 2.0, 1.0, mistakes={"doubled": 2.0, "tripled": 3.0})
    verdicts.expect("b", "x", 5.0, 2.0, mistakes={"doubled": 4.0, "tripled": 6.0})
    with pytest.raises(CheckFailed) as failure:
        verdicts.verdict()
    assert "known mistake" not in str(failure.value)
    assert "2 of 2 cases failed" in str(failure.value)

    verdicts = Expectations("Public check")
    verdicts.expect("a", "x", 2.0, 1.0, mistakes={"doubled": 2.0})
    verdicts.expect("b", "x", 4.0, 2.0, mistakes={"doubled": lambda: 4.0})
    verdicts.expect("c", "x", 3.0, 3.0, mistakes={"doubled": 6.0})
    with pytest.raises(CheckFailed, match="known mistake: doubled"):
        verdicts.verdict()
