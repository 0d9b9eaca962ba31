"""The solutions of the schedule and clipping exercises against torch, on the configurations
PyTorch's own test suite runs them with.

``torch.testing._internal`` has no database of scheduler or clipping inputs (``optim_db``
covers optimizers only: :mod:`tests.checking.optim.test_optim_db`), so the configurations of
``test/optim/test_lrscheduler.py`` (StepLR, ExponentialLR, CosineAnnealingLR, OneCycleLR,
CosineAnnealingWarmRestarts, ReduceLROnPlateau, LinearLR chained by SequentialLR) and of
``test_nn.py``'s ``test_clip_grad_norm``/``test_clip_grad_value`` are written out here, with
the expected rates PyTorch's tests state where they state them. Each solution (found by its
grade_id) is run next to the real scheduler or ``clip_grad_*_`` on every one of them.

Out of scope, as the exercises say: a ``norm_type`` given as the string ``'inf'`` (the
exercise asks for ``math.inf``), ``None`` among the gradients, a single tensor instead of a
list, per-group ``min_lr`` lists (the exercise has one rate), and schedulers resumed with
``last_epoch`` or stepped with an explicit epoch.
"""

from __future__ import annotations

import math
from functools import partial

import pytest
import torch

from autograder.checking import compare
from autograder.checking.topics.schedules_clipping import (
    SCHEDULERS,
    _warmup_cosine,
    torch_lrs,
    torch_plateau_lrs,
)

from .notebooks import find, solutions


def solution(name: str, grade_id: str):
    return solutions(find(grade_id).topic)[name]


# (exercise function, base lr, options, epochs): torch's test_lrscheduler.py configurations.
SCHEDULES = [
    ("step_lr", 0.05, {"step_size": 3, "gamma": 0.1}, 12),
    ("step_lr", 0.5, {"step_size": 3, "gamma": 0.1}, 12),
    ("step_lr", 0.05, {"step_size": 2}, 12),
    ("step_lr", 0.1, {"step_size": 3, "gamma": 0.1}, 20),
    ("step_lr", 0.05, {"step_size": 1, "gamma": 0.01 / 2}, 20),
    ("step_lr", 0.05, {"step_size": 10, "gamma": 0.9}, 100),  # optim_db's scheduler_inputs
    ("step_lr", 0.05, {"step_size": 500, "gamma": 1 - 1e-5}, 1200),
    ("step_lr", 0.05, {"step_size": 300, "gamma": 0.99999}, 700),
    ("exponential_lr", 0.05, {"gamma": 0.9}, 20),
    ("exponential_lr", 0.5, {"gamma": 0.8}, 20),
    ("exponential_lr", 0.05, {"gamma": 0.1}, 20),
    ("exponential_lr", 0.05, {"gamma": 0.01}, 20),
    ("exponential_lr", 0.05, {"gamma": 0.99}, 300),
    ("cosine_annealing_lr", 0.05, {"T_max": 10, "eta_min": 1e-10}, 40),
    ("cosine_annealing_lr", 0.5, {"T_max": 10, "eta_min": 1e-10}, 40),
    ("cosine_annealing_lr", 0.05, {"T_max": 5, "eta_min": 1e-10}, 20),
    ("cosine_annealing_lr", 0.05, {"T_max": 5, "eta_min": 5e-11}, 20),
    ("cosine_annealing_lr", 0.05, {"T_max": 5, "eta_min": 0.1}, 20),  # eta_min above lr0
    ("warm_restarts_lr", 0.05, {"T_0": 10, "T_mult": 1, "eta_min": 1e-10}, 100),
    ("warm_restarts_lr", 0.5, {"T_0": 10, "T_mult": 2, "eta_min": 1e-10}, 100),
    ("warm_restarts_lr", 0.05, {"T_0": 10, "T_mult": 4, "eta_min": 1e-10}, 100),
    ("warm_restarts_lr", 0.05, {"T_0": 10, "T_mult": 3, "eta_min": 1e-10}, 100),
    ("warm_restarts_lr", 0.05, {"T_0": 4}, 40),
]

# OneCycleLR's three tests, with the rates test_lrscheduler.py expects (cos: annealing_cos).
ONE_CYCLE = [
    (
        {"max_lr": 25, "final_div_factor": 2, "total_steps": 10, "anneal_strategy": "linear"},
        [1, 13, 25, 21.5, 18, 14.5, 11, 7.5, 4, 0.5],
    ),
    (
        {
            "max_lr": 25,
            "div_factor": 25,
            "total_steps": 10,
            "anneal_strategy": "linear",
            "pct_start": 0.4,
            "final_div_factor": 4,
            "three_phase": True,
        },
        [1, 9, 17, 25, 17, 9, 1, 0.75, 0.5, 0.25],
    ),
    (
        {"max_lr": 25, "final_div_factor": 2, "total_steps": 10},
        [1, 13, 25]
        + [0.5 + (25 - 0.5) / 2 * (math.cos(math.pi * k / 7) + 1) for k in range(1, 7)]
        + [0.5],
    ),
]

# ReduceLROnPlateau: test_reduce_lr_on_plateau1..8 (group 0, lr 0.5, each min_lr of test 8
# on its own), the state_dict test's scores and the one that cuts at once (patience 0).
PLATEAU = [
    (
        {"threshold_mode": "abs", "mode": "min", "threshold": 0.01, "patience": 5, "cooldown": 5},
        [10 - i * 0.0167 for i in range(20)],
    ),
    (
        {"patience": 5, "cooldown": 0, "threshold_mode": "abs", "mode": "min", "threshold": 0.1},
        [10 - i * 0.0165 for i in range(22)],
    ),
    (
        {"mode": "max", "patience": 5, "cooldown": 5, "threshold_mode": "abs"},
        [-0.8] * 2 + [-0.234] * 20,
    ),
    (
        {"mode": "max", "patience": 3, "threshold_mode": "rel", "threshold": 0.1},
        [1.5 * 1.025**i for i in range(20)],
    ),
    (
        {"mode": "max", "threshold_mode": "rel", "threshold": 0.1, "patience": 5, "cooldown": 5},
        [1.5 * 1.005**i for i in range(20)],
    ),
    (
        {"mode": "min", "threshold_mode": "rel", "threshold": 0.1},
        [1.5 * 0.85**i for i in range(20)],
    ),
    (
        {"mode": "min", "threshold_mode": "rel", "threshold": 0.1, "patience": 5, "cooldown": 5},
        [1] * 7 + [0.6] + [0.5] * 12,
    ),
    *[
        (
            {
                "mode": "max",
                "threshold_mode": "rel",
                "min_lr": min_lr,
                "threshold": 0.1,
                "patience": 5,
                "cooldown": 5,
            },
            [1.5 * 1.005**i for i in range(20)],
        )
        for min_lr in (0.4, 0.3)
    ],
    (
        {"mode": "min", "factor": 0.1, "patience": 2},
        [1.0, 2.0, 3.0, 4.0, 3.0, 4.0, 5.0, 3.0, 2.0, 1.0],
    ),
    ({"mode": "min", "patience": 0}, [1.0, 2.0]),
]

# A LinearLR warm-up (test_linearlr's start factors and lengths) chained into a cosine.
WARMUP_COSINE = [
    {"warmup_iters": 4, "start_factor": 0.5, "T_max": 10},
    {"warmup_iters": 4, "start_factor": 0.25, "T_max": 10, "min_factor": 0.2},
    {"warmup_iters": 5, "start_factor": 0.1, "T_max": 5},
    {"warmup_iters": 3, "start_factor": 1 / 3, "T_max": 20, "min_factor": 1e-9},
    {"warmup_iters": 10, "start_factor": 0.1, "T_max": 110},  # the notebook's own example
]


def _close(got: list[float], want: list[float], rtol: float = 1e-9) -> str | None:
    atol = 1e-12 * max(abs(w) for w in want)
    for epoch, (g, w) in enumerate(zip(got, want, strict=True)):
        if not math.isclose(g, w, rel_tol=rtol, abs_tol=atol):
            return f"epoch {epoch}: got {g!r}, torch {w!r}"
    return None


@pytest.mark.parametrize(
    ("name", "lr", "options", "epochs"),
    SCHEDULES,
    ids=[f"{n}-{lr}-{o}" for n, lr, o, _ in SCHEDULES],
)
def test_schedules_agree_with_torch(name, lr, options, epochs):
    exercise_1 = ("step_lr", "exponential_lr", "cosine_annealing_lr")
    student = solution(name, "schedulers" if name in exercise_1 else name)
    want = torch_lrs(partial(SCHEDULERS[name], **options), lr, epochs)
    got = [student(lr, epoch, **options) for epoch in range(epochs + 1)]
    assert _close(got, want) is None, _close(got, want)


@pytest.mark.parametrize(("options", "stated"), ONE_CYCLE)
def test_one_cycle_agrees_with_torch_and_its_tests(options, stated):
    student = solution("one_cycle_lr", "one_cycle_lr")
    last = options["total_steps"] - 1
    want = torch_lrs(partial(SCHEDULERS["one_cycle_lr"], **options), 1.0, last)
    got = [student(step, **options) for step in range(last + 1)]
    assert _close(got, want) is None, _close(got, want)
    assert _close(got, [float(v) for v in stated], rtol=1e-12) is None


@pytest.mark.parametrize(("options", "metrics"), PLATEAU)
def test_plateau_agrees_with_torch(options, metrics):
    student = solution("plateau_lrs", "plateau_lrs")
    want = torch_plateau_lrs(0.5, metrics, **options)
    assert student(0.5, list(metrics), **options) == want


@pytest.mark.parametrize("options", WARMUP_COSINE)
def test_warmup_cosine_factor_gives_torchs_sequential_schedule(options):
    student = solution("warmup_cosine_factor", "warmup_cosine_factor")
    last = options["warmup_iters"] + options["T_max"]
    lambda_lr = torch.optim.lr_scheduler.LambdaLR

    def factor(epoch):
        return student(epoch, **options)

    for lr in (0.05, 0.5):
        want = torch_lrs(partial(_warmup_cosine, **options), lr, last)
        got = torch_lrs(lambda o: lambda_lr(o, factor), lr, last)
        assert _close(got, want) is None, _close(got, want)


# -- clipping: test_nn.py's gradients, max_norm 2 and its five norm types ----------------------

CLIP_GRADS = {
    "large (clipped)": lambda: [torch.arange(1.0, 101).view(10, 10), torch.ones(10) / 1000],
    "small (left alone)": lambda: [
        torch.rand(10, 10, generator=torch.Generator().manual_seed(0)) / 10000,
        torch.ones(10) / 500,
    ],
}


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("norm_type", [0.5, 1.5, 2.0, 4.0, math.inf])
@pytest.mark.parametrize("grads", list(CLIP_GRADS))
def test_clip_grad_norm_agrees_with_torch(grads, norm_type, dtype):
    student = solution("clip_grad_norm", "clip_grad_norm")
    given = [g.to(dtype) for g in CLIP_GRADS[grads]()]
    params = [torch.zeros_like(g, requires_grad=True) for g in given]
    for p, g in zip(params, given, strict=True):
        p.grad = g.clone()
    want_total = torch.nn.utils.clip_grad_norm_(params, 2.0, norm_type=norm_type)
    total = student(given, 2.0, norm_type)
    for p, g in zip(params, given, strict=True):
        assert compare(g, p.grad, rtol=1e-6 if dtype == torch.float32 else 1e-12, atol=0) is None
    assert compare(total, float(want_total), rtol=1e-6, atol=0, dtype=False) is None


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_clip_grad_value_agrees_with_torch(dtype):
    student = solution("clip_grad_value", "clip_grad_value")
    given = [torch.arange(-50.0, 50).view(10, 10) / 5, torch.ones(10) * 2]
    given = [g.to(dtype) for g in given]
    params = [torch.zeros_like(g, requires_grad=True) for g in given]
    for p, g in zip(params, given, strict=True):
        p.grad = g.clone()
    torch.nn.utils.clip_grad_value_(params, 2.5)
    student(given, 2.5)
    for p, g in zip(params, given, strict=True):
        assert torch.equal(g, p.grad)
