"""Topic 12's checks: schedules against torch for hundreds of steps, clipping, L-BFGS.

Right answers written differently from the notebook's solutions pass; an answer deaf to
any one option fails; each named mistake is named.
"""

from __future__ import annotations

import math
import re

import pytest
import torch

from autograder.checking import CheckFailed, integrity
from autograder.checking.optim.clipping import (
    CLIP_NORM_MISTAKES,
    check_clip_norm,
    check_clip_value,
    check_clipped_training,
)
from autograder.checking.optim.lbfgs import check_closure, check_minimum, rosenbrock_value
from autograder.checking.topics.schedules_clipping import (
    LAMBDA_MISTAKES,
    PLATEAU_MISTAKES,
    SCHEDULE_MISTAKES,
    check_lambda_lr,
    check_plateau,
    check_schedule,
    plateau_cases,
    schedules,
)

# -- right answers, written differently from the notebook's ------------------------------------


def step_lr(base_lr, epoch, *, step_size, gamma=0.1):
    return base_lr * gamma ** math.floor(epoch / step_size)


def exponential_lr(base_lr, epoch, *, gamma):
    return base_lr * math.exp(epoch * math.log(gamma))


def cosine_annealing_lr(base_lr, epoch, *, T_max, eta_min=0.0):
    return eta_min + (base_lr - eta_min) * math.cos(math.pi * epoch / T_max / 2) ** 2


def one_cycle_lr(
    step,
    *,
    max_lr,
    total_steps,
    pct_start=0.3,
    anneal_strategy="cos",
    div_factor=25.0,
    final_div_factor=1e4,
    three_phase=False,
):
    low = max_lr / div_factor
    ends = [pct_start * total_steps - 1]
    rates = [low, max_lr]
    if three_phase:
        ends.append(2 * pct_start * total_steps - 2)
        rates.append(low)
    ends.append(total_steps - 1)
    rates.append(low / final_div_factor)
    phase = next((i for i, end in enumerate(ends) if step <= end), len(ends) - 1)
    begin = 0.0 if phase == 0 else ends[phase - 1]
    x = (step - begin) / (ends[phase] - begin)
    a, b = rates[phase], rates[phase + 1]
    if anneal_strategy == "linear":
        return a + (b - a) * x
    return b + (a - b) * (math.cos(math.pi * x) + 1) / 2


def warm_restarts_lr(base_lr, epoch, *, T_0, T_mult=1, eta_min=0.0):
    if T_mult == 1:
        t_cur, t_i = epoch % T_0, T_0
    else:
        n = 0
        while T_0 * (T_mult ** (n + 1) - 1) // (T_mult - 1) <= epoch:
            n += 1
        t_cur, t_i = epoch - T_0 * (T_mult**n - 1) // (T_mult - 1), T_0 * T_mult**n
    return eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * t_cur / t_i)) / 2


def warmup_cosine_factor(epoch, *, warmup_iters, start_factor, T_max, min_factor=0.0):
    if epoch < warmup_iters:
        return start_factor * (1 - epoch / warmup_iters) + epoch / warmup_iters
    t = (epoch - warmup_iters) / T_max
    return min_factor + (1 - min_factor) * (0.5 + 0.5 * math.cos(math.pi * t))


SCHEDULES = {
    "step_lr": step_lr,
    "exponential_lr": exponential_lr,
    "cosine_annealing_lr": cosine_annealing_lr,
    "one_cycle_lr": one_cycle_lr,
    "warm_restarts_lr": warm_restarts_lr,
}


@pytest.mark.parametrize("name", SCHEDULES)
@pytest.mark.parametrize("seed", [0, None, None])
def test_right_schedules_pass(name, seed):
    check_schedule(SCHEDULES[name], name, seed, public=seed is not None)


@pytest.mark.parametrize("name", SCHEDULES)
def test_schedules_run_for_hundreds_of_steps_over_every_option(name):
    found = schedules(name, 0)
    assert all(len(s.lrs) >= 100 for s in found)
    assert any(len(s.lrs) >= 300 for s in found) or name == "one_cycle_lr"
    optional = {"step_lr": "gamma", "cosine_annealing_lr": "eta_min", "one_cycle_lr": "pct_start"}
    optional |= {"warm_restarts_lr": "T_mult", "exponential_lr": None}
    if optional[name]:
        assert any(optional[name] not in s.options for s in found), "the defaults, once"
        assert any(optional[name] in s.options for s in found), "every option, drawn"


def deaf(fn, option):
    """The same answer, deaf to one option (it always uses the default)."""

    def answer(*args, **options):
        options.pop(option, None)
        return fn(*args, **options)

    return answer


@pytest.mark.parametrize(
    ("name", "option"),
    [
        ("step_lr", "gamma"),
        ("cosine_annealing_lr", "eta_min"),
        ("one_cycle_lr", "pct_start"),
        ("one_cycle_lr", "anneal_strategy"),
        ("one_cycle_lr", "div_factor"),
        ("one_cycle_lr", "final_div_factor"),
        ("one_cycle_lr", "three_phase"),
        ("warm_restarts_lr", "T_mult"),
        ("warm_restarts_lr", "eta_min"),
    ],
)
def test_an_answer_deaf_to_an_option_fails(name, option):
    with pytest.raises(CheckFailed):
        check_schedule(deaf(SCHEDULES[name], option), name, 0)


@pytest.mark.parametrize(
    ("name", "mistake"), [(n, m) for n, ms in SCHEDULE_MISTAKES.items() for m in ms]
)
def test_schedule_mistakes_are_named(name, mistake):
    with pytest.raises(CheckFailed, match="known mistake: " + re.escape(mistake[:30])):
        check_schedule(SCHEDULE_MISTAKES[name][mistake], name, 0)


def test_a_schedule_returning_a_tensor_fails():
    with pytest.raises(CheckFailed, match="Python float"):
        check_schedule(lambda *a, **k: torch.tensor(step_lr(*a, **k)), "step_lr", 0)


# -- LambdaLR ------------------------------------------------------------------------------------


def test_lambda_lr_passes_a_right_factor():
    check_lambda_lr(warmup_cosine_factor, 0)
    check_lambda_lr(warmup_cosine_factor, None, public=False)


@pytest.mark.parametrize("mistake", list(LAMBDA_MISTAKES))
def test_lambda_lr_mistakes_are_named(mistake):
    with pytest.raises(CheckFailed, match="known mistake: " + re.escape(mistake[:30])):
        check_lambda_lr(LAMBDA_MISTAKES[mistake], 0)


@pytest.mark.parametrize("option", ["start_factor", "min_factor"])
def test_lambda_lr_deaf_to_an_option_fails(option):
    def factor(epoch, **options):
        options[option] = {"start_factor": 1 / 3, "min_factor": 0.0}[option]
        return warmup_cosine_factor(epoch, **options)

    with pytest.raises(CheckFailed):
        check_lambda_lr(factor, 0)


def test_lambda_lr_wants_the_factor_not_the_rate():
    with pytest.raises(CheckFailed):
        check_lambda_lr(lambda epoch, **o: 0.1 * warmup_cosine_factor(epoch, **o), 0)
    with pytest.raises(CheckFailed, match="Python float"):
        check_lambda_lr(lambda epoch, **o: torch.tensor(warmup_cosine_factor(epoch, **o)), 0)


# -- ReduceLROnPlateau -------------------------------------------------------------------------


def plateau_lrs(lr, metrics, *, mode="min", factor=0.1, patience=10, threshold=1e-4,
                threshold_mode="rel", cooldown=0, min_lr=0.0, eps=1e-8):  # fmt: skip
    sign = 1 if mode == "min" else -1
    best, bad, cooling, found = None, 0, 0, []
    for x in metrics:
        if best is None:
            improved = True
        elif threshold_mode == "rel":
            improved = sign * x < sign * best * (1 - sign * threshold)
        else:
            improved = sign * x < sign * best - threshold
        bad = 0 if improved else bad + 1
        best = x if improved else best
        if cooling:
            cooling, bad = cooling - 1, 0
        if bad > patience:
            if lr - max(lr * factor, min_lr) > eps:
                lr = max(lr * factor, min_lr)
            cooling, bad = cooldown, 0
        found.append(float(lr))
    return found


@pytest.mark.parametrize("seed", [0, None, None, None])
def test_plateau_passes_a_right_answer(seed):
    check_plateau(plateau_lrs, seed, public=seed is not None)


@pytest.mark.parametrize("mistake", list(PLATEAU_MISTAKES))
def test_plateau_mistakes_are_named(mistake):
    with pytest.raises(CheckFailed, match="known mistake: " + re.escape(mistake[:25])):
        check_plateau(PLATEAU_MISTAKES[mistake], 0)


@pytest.mark.parametrize(
    "option",
    ["mode", "factor", "patience", "threshold", "threshold_mode", "cooldown", "min_lr", "eps"],
)
def test_plateau_deaf_to_an_option_fails(option):
    with pytest.raises(CheckFailed):
        check_plateau(deaf(plateau_lrs, option), 0)


def test_plateau_cases_cut_the_rate_and_use_every_option():
    from autograder.checking.topics.schedules_clipping import torch_plateau_lrs

    cases = plateau_cases(0)
    assert {k for _, _, _, options in cases for k in options} == {
        "mode", "factor", "patience", "threshold", "threshold_mode", "cooldown", "min_lr", "eps"
    }  # fmt: skip
    for label, lr, metrics, options in cases:
        assert 200 <= len(metrics) <= 400
        lrs = torch_plateau_lrs(lr, metrics, **options)
        assert len(set(lrs)) >= 2, f"{label}: the rate is cut at least once"


def test_plateau_wants_floats():
    with pytest.raises(CheckFailed, match="float"):
        check_plateau(lambda *a, **k: [torch.tensor(v) for v in plateau_lrs(*a, **k)], 0)


# -- clipping ----------------------------------------------------------------------------------


def clip_by_total_norm(grads, max_norm, norm_type=2.0):
    flat = torch.cat([g.flatten() for g in grads])
    total = (
        flat.abs().max()
        if norm_type == math.inf
        else (flat.abs() ** norm_type).sum() ** (1 / norm_type)
    )
    coef = torch.clamp(max_norm / (total + 1e-6), max=1.0)
    for g in grads:
        g *= coef
    return float(total)


def clip_grad_value(grads, clip_value):
    for g in grads:
        torch.clamp(g, -clip_value, clip_value, out=g)


def test_clipping_passes_right_answers():
    for seed in (0, None, None):
        check_clip_norm(clip_by_total_norm, seed, public=seed is not None)
        check_clip_value(clip_grad_value, seed, public=seed is not None)


@pytest.mark.parametrize("mistake", list(CLIP_NORM_MISTAKES))
def test_clip_norm_mistakes_are_named(mistake):
    with pytest.raises(CheckFailed, match="known mistake: " + re.escape(mistake[:25])):
        check_clip_norm(CLIP_NORM_MISTAKES[mistake], 0)


def test_clipping_must_change_the_tensors_in_place():
    def copies(grads, max_norm, norm_type=2.0):
        clipped = [g.clone() for g in grads]
        return clip_by_total_norm(clipped, max_norm, norm_type)

    with pytest.raises(CheckFailed, match="changed in place"):
        check_clip_norm(copies, 0)
    with pytest.raises(CheckFailed, match="changed in place"):
        check_clip_value(lambda grads, v: [g.clamp(-v, v) for g in grads], 0)


def test_clipping_may_not_call_torch():
    def by_torch(grads, max_norm, norm_type=2.0):
        params = [torch.zeros_like(g, requires_grad=True) for g in grads]
        for p, g in zip(params, grads, strict=True):
            p.grad = g
        return torch.nn.utils.clip_grad_norm_(params, max_norm, norm_type)

    with pytest.raises(CheckFailed, match="clip_grad_norm_"):
        check_clip_norm(by_torch, 0)


def train_clipped(w, loss_fn, *, lr, steps, max_norm, where="between"):
    optimizer = torch.optim.SGD([w], lr=lr)
    losses = []
    for _ in range(steps):
        optimizer.zero_grad()
        if where == "before":
            torch.nn.utils.clip_grad_norm_([w], max_norm)
        loss = loss_fn(w)
        loss.backward()
        if where == "between":
            torch.nn.utils.clip_grad_norm_([w], max_norm)
        optimizer.step()
        if where == "after":
            torch.nn.utils.clip_grad_norm_([w], max_norm)
        losses.append(loss.item())
    return losses


def test_clipped_training():
    check_clipped_training(train_clipped, 0)
    check_clipped_training(train_clipped, None, public=False)
    for where in ("before", "after"):
        with pytest.raises(CheckFailed, match="not clipped"):
            check_clipped_training(
                lambda *a, where=where, **k: train_clipped(*a, where=where, **k), 0
            )


# -- L-BFGS ----------------------------------------------------------------------------------


def make_closure(optimizer, xy, zero=True):
    def closure():
        if zero:
            optimizer.zero_grad()
        loss = rosenbrock_value(xy)
        loss.backward()
        return loss

    return closure


def minimise(start, finish=lambda xy: xy.detach(), max_iter=200):
    xy = torch.tensor(start, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS(
        [xy], lr=1, max_iter=max_iter, tolerance_grad=1e-12, tolerance_change=1e-14,
        line_search_fn="strong_wolfe",
    )  # fmt: skip
    for _ in range(2):
        optimizer.step(make_closure(optimizer, xy))
    return finish(xy)


def test_closure_check():
    check_closure(make_closure, seed=0)
    with pytest.raises(CheckFailed, match="zero_grad"):
        check_closure(lambda o, xy: make_closure(o, xy, zero=False), seed=0)


def test_minimum_check_passes_a_detached_result():
    check_minimum(minimise, seed=0)
    check_minimum(lambda s: minimise(s, finish=lambda xy: xy.detach().clone()), seed=None)
    assert not integrity.verify(restore=False)


def test_minimum_check_refuses_a_tensor_that_still_requires_grad():
    """The leaf itself, right values: it still requires grad."""
    with pytest.raises(CheckFailed, match="still requires grad"):
        check_minimum(lambda s: minimise(s, finish=lambda xy: xy), seed=0)
    with pytest.raises(CheckFailed, match="still requires grad"):
        check_minimum(lambda s: minimise(s, finish=lambda xy: xy * 1), seed=0)


def test_minimum_check_refuses_float32_and_a_point_not_reached():
    with pytest.raises(CheckFailed, match="float64"):
        check_minimum(lambda s: minimise(s, finish=lambda xy: xy.detach().float()), seed=0)
    with pytest.raises(CheckFailed, match="minimum found"):
        check_minimum(lambda s: minimise(s, max_iter=3), seed=0)


# -- promises besides the values ----------------------------------------------------------------


def test_a_schedule_may_not_use_torchs_scheduler():
    def by_scheduler(base_lr, epoch, *, step_size, gamma=0.1):
        optimizer = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=base_lr)
        scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size, gamma)
        for _ in range(epoch):
            optimizer.step()
            scheduler.step()
        return scheduler.get_last_lr()[0]

    with pytest.raises(CheckFailed, match="StepLR|lr_scheduler"):
        check_schedule(by_scheduler, "step_lr", 0)


def test_the_one_cycle_variant_without_flags_is_torchs():
    from autograder.checking.topics.schedules_clipping import one_cycle_variant

    for seed in (0, 1, None):
        check_schedule(one_cycle_variant, "one_cycle_lr", seed, public=seed is not None)


def test_clipping_that_replaces_the_lists_items_is_told_so():
    def replaces(grads, max_norm, norm_type=2.0):
        total = clip_by_total_norm([g.clone() for g in grads], max_norm, norm_type)
        scale = min(1.0, max_norm / (total + 1e-6))
        for i, g in enumerate(grads):
            grads[i] = g * scale
        return total

    with pytest.raises(CheckFailed, match="not changed in place"):
        check_clip_norm(replaces, 0)

    def rebinds(grads, clip_value):
        for g in grads:
            g = g.clamp(-clip_value, clip_value)  # noqa: PLW2901

    with pytest.raises(CheckFailed, match="left as they were"):
        check_clip_value(rebinds, 0)


def test_clipped_training_names_a_forgotten_zero_grad_and_clipping_by_value():
    def forgets(w, loss_fn, *, lr, steps, max_norm):
        optimizer = torch.optim.SGD([w], lr=lr)
        losses = []
        for _ in range(steps):
            loss = loss_fn(w)
            loss.backward()
            torch.nn.utils.clip_grad_norm_([w], max_norm)
            optimizer.step()
            losses.append(loss.item())
        return losses

    with pytest.raises(CheckFailed, match="zero_grad"):
        check_clipped_training(forgets, 0)

    def by_value(w, loss_fn, *, lr, steps, max_norm):
        optimizer = torch.optim.SGD([w], lr=lr)
        losses = []
        for _ in range(steps):
            optimizer.zero_grad()
            loss = loss_fn(w)
            loss.backward()
            torch.nn.utils.clip_grad_value_([w], max_norm)
            optimizer.step()
            losses.append(loss.item())
        return losses

    with pytest.raises(CheckFailed, match="clip_grad_value_"):
        check_clipped_training(by_value, 0)
