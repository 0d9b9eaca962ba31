"""Checks for topic 12: learning-rate schedules, gradient clipping and L-BFGS.

Every schedule is checked against ``torch.optim.lr_scheduler`` itself, run for hundreds
of steps on a probe optimizer, over its options; clipping against ``torch.nn.utils``;
L-BFGS's closure and result against Rosenbrock's function and its gradient worked out by
hand. Public checks use fixed seeds, hidden ones (``seed=None``) fresh options.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import torch

from .. import (
    CheckFailed,
    begin_check,
    check_kind,
    describe,
    generator,
    integrity,
    refuse_if_tampered,
)
from ..checks import case_failed
from ..draw import coin, integer, log_uniform, uniform
from ..i18n import N_, tr
from ..optim.api import Expectations, call_student, leaf, require_call, require_floats

_float64 = torch.float64
_clone = torch.Tensor.clone
_detach = torch.Tensor.detach
_Tensor = torch.Tensor
_lr_scheduler = torch.optim.lr_scheduler
_clip_grad_norm_ = torch.nn.utils.clip_grad_norm_
_clip_grad_value_ = torch.nn.utils.clip_grad_value_

# ------------------------------------------------------------------ learning-rate schedules


def _probe(lr: float, momentum: float = 0.0) -> torch.optim.Optimizer:
    """An optimizer whose only job is to carry a learning rate for a scheduler."""
    return torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=lr, momentum=momentum)


def torch_lrs(make: Callable[[torch.optim.Optimizer], Any], lr: float, steps: int) -> list[float]:
    """The learning rate a scheduler sets before each of ``steps + 1`` optimizer steps
    (``get_last_lr()`` at epochs 0, 1, ..., ``steps``)."""
    optimizer = _probe(lr, momentum=0.9)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        scheduler = make(optimizer)
        lrs = []
        for _ in range(steps + 1):
            lrs.append(float(scheduler.get_last_lr()[0]))
            optimizer.step()  # no gradient: changes nothing, keeps the order torch expects
            scheduler.step()
    return lrs


def torch_plateau_lrs(lr: float, metrics: Sequence[float], **options: Any) -> list[float]:
    """The learning rate after each ``ReduceLROnPlateau.step(metric)``."""
    optimizer = _probe(lr)
    scheduler = _lr_scheduler.ReduceLROnPlateau(optimizer, **options)
    lrs = []
    for metric in metrics:
        optimizer.step()
        scheduler.step(metric)
        lrs.append(float(optimizer.param_groups[0]["lr"]))
    return lrs


def _warmup_cosine(o, *, warmup_iters, start_factor, T_max, min_factor=0.0):
    base = o.param_groups[0]["lr"]
    return _lr_scheduler.SequentialLR(
        o,
        [
            _lr_scheduler.LinearLR(o, start_factor=start_factor, total_iters=warmup_iters),
            _lr_scheduler.CosineAnnealingLR(o, T_max=T_max, eta_min=min_factor * base),
        ],
        milestones=[warmup_iters],
    )


# name -> (the torch scheduler, built from a probe optimizer and the options)
SCHEDULERS: dict[str, Callable[..., Any]] = {
    "step_lr": lambda o, **k: _lr_scheduler.StepLR(o, **k),
    "exponential_lr": lambda o, **k: _lr_scheduler.ExponentialLR(o, **k),
    "cosine_annealing_lr": lambda o, **k: _lr_scheduler.CosineAnnealingLR(o, **k),
    "one_cycle_lr": lambda o, **k: _lr_scheduler.OneCycleLR(o, **k),
    "warm_restarts_lr": lambda o, **k: _lr_scheduler.CosineAnnealingWarmRestarts(o, **k),
}


@dataclass
class Schedule:
    """One configuration of a schedule, and torch's learning rate at every epoch."""

    label: str
    base_lr: float
    options: dict
    lrs: list[float] = field(default_factory=list)


def _options(name: str, gen: torch.Generator, draw: int) -> tuple[float, dict, int]:
    """``(base_lr, options, last epoch)``; draw 0 leaves the optional arguments out."""
    base = log_uniform(gen, 1e-4, 1.0)
    full = draw > 0
    if name == "step_lr":
        options: dict = {"step_size": integer(gen, 1, 60)}
        if full:
            options["gamma"] = uniform(gen, 0.1, 0.95)
        return base, options, 300
    if name == "exponential_lr":
        return base, {"gamma": uniform(gen, 0.95, 0.999)}, 300
    if name == "cosine_annealing_lr":
        options = {"T_max": integer(gen, 20, 150)}
        if full:
            options["eta_min"] = base * uniform(gen, 0.01, 0.5)
        return base, options, 300
    if name == "warmup_cosine_factor":
        options = {
            "warmup_iters": integer(gen, 2, 50),
            "start_factor": uniform(gen, 0.01, 0.5),
            "T_max": integer(gen, 100, 300),
        }
        if full:
            options["min_factor"] = uniform(gen, 0.01, 0.3)
        return 1.0, options, options["warmup_iters"] + options["T_max"]
    if name == "one_cycle_lr":
        total = integer(gen, 100, 400)
        options = {"max_lr": base, "total_steps": total}
        if full:
            options |= {
                "pct_start": uniform(gen, 0.1, 0.5),
                "anneal_strategy": "linear" if coin(gen) else "cos",
                "div_factor": uniform(gen, 5.0, 50.0),
                "final_div_factor": log_uniform(gen, 10.0, 1e5),
                "three_phase": draw % 2 == 1,
            }
        return base, options, total - 1
    if name == "warm_restarts_lr":
        options = {"T_0": integer(gen, 5, 40)}
        if full:
            options |= {"T_mult": integer(gen, 1, 3), "eta_min": base * uniform(gen, 0.01, 0.5)}
        return base, options, 300
    raise KeyError(name)


def schedules(name: str, seed: int | None) -> list[Schedule]:
    """Configurations of schedule ``name`` (its defaults, then three draws of every option),
    each with torch's learning rate at every epoch."""
    gen, seed = generator(seed)
    found = []
    for draw in range(4):
        base, options, last = _options(name, gen, draw)
        make = SCHEDULERS[name]
        lrs = torch_lrs(partial(make, **options), base, last)
        text = ", ".join(f"{k}={describe(v)}" for k, v in options.items())
        prefix = "" if name == "one_cycle_lr" else f"base_lr={describe(base)}, "
        found.append(Schedule(f"{prefix}{text}, seed {seed}", base, options, lrs))
    return found


def _step_lr_no_floor(base_lr, epoch, *, step_size, gamma=0.1):
    return base_lr * gamma ** (epoch / step_size)


def _step_lr_one_ahead(base_lr, epoch, *, step_size, gamma=0.1):
    return base_lr * gamma ** ((epoch + 1) // step_size)


def _exponential_one_ahead(base_lr, epoch, *, gamma):
    return base_lr * gamma ** (epoch + 1)


def _cosine_no_pi(base_lr, epoch, *, T_max, eta_min=0.0):
    return eta_min + (base_lr - eta_min) * (1 + math.cos(epoch / T_max)) / 2


def _cosine_no_floor(base_lr, epoch, *, T_max, eta_min=0.0):
    return base_lr * (1 + math.cos(math.pi * epoch / T_max)) / 2


def _restarts_every_t0(base_lr, epoch, *, T_0, T_mult=1, eta_min=0.0):
    return eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * (epoch % T_0) / T_0)) / 2


def _restarts_late(base_lr, epoch, *, T_0, T_mult=1, eta_min=0.0):
    """A period ends only once T_cur passes T_i (``>`` for ``>=``): at each restart epoch the
    rate is still eta_min instead of back at base_lr."""
    t_cur, t_i = epoch, T_0
    while t_cur > t_i:
        t_cur -= t_i
        t_i *= T_mult
    return eta_min + (base_lr - eta_min) * (1 + math.cos(math.pi * t_cur / t_i)) / 2


def one_cycle_variant(
    step,
    *,
    max_lr,
    total_steps,
    pct_start=0.3,
    anneal_strategy="cos",
    div_factor=25.0,
    final_div_factor=1e4,
    three_phase=False,
    late_boundary=False,
    min_from_max=False,
    always_cos=False,
):
    """OneCycleLR's rate at ``step`` written out, with one of its details changed by a flag:
    ``late_boundary`` ends the phases at pct_start·total_steps (and twice that), not one
    (and two) steps before; ``min_from_max`` divides max_lr, not the initial rate, by
    final_div_factor; ``always_cos`` ignores anneal_strategy."""
    initial = max_lr / div_factor
    minimum = (max_lr if min_from_max else initial) / final_div_factor
    first = pct_start * total_steps - (0 if late_boundary else 1)
    phases = [(first, initial, max_lr)]
    if three_phase:
        phases.append((2 * pct_start * total_steps - (0 if late_boundary else 2), max_lr, initial))
        phases.append((total_steps - 1, initial, minimum))
    else:
        phases.append((total_steps - 1, max_lr, minimum))
    start = 0.0
    for i, (end, rate_from, rate_to) in enumerate(phases):
        if step <= end or i == len(phases) - 1:
            x = (step - start) / (end - start)
            if anneal_strategy == "cos" or always_cos:
                return rate_to + (rate_from - rate_to) * (1 + math.cos(math.pi * x)) / 2
            return rate_from + (rate_to - rate_from) * x
        start = end
    raise AssertionError("unreachable")


ONE_EPOCH_AHEAD = N_("one epoch ahead: after e epochs the rate has been changed e times, not e + 1")
SCHEDULE_MISTAKES: dict[str, dict[str, Callable]] = {
    "step_lr": {
        N_("gamma**(epoch / step_size) without the floor"): _step_lr_no_floor,
        ONE_EPOCH_AHEAD: _step_lr_one_ahead,
    },
    "exponential_lr": {ONE_EPOCH_AHEAD: _exponential_one_ahead},
    "cosine_annealing_lr": {
        N_("cos(e/T) instead of cos(π e/T)"): _cosine_no_pi,
        N_("eta_min ignored"): _cosine_no_floor,
    },
    "warm_restarts_lr": {
        N_("T_mult ignored (every period T_0 long)"): _restarts_every_t0,
        N_(
            "eta_min at each restart epoch instead of base_lr: T_cur runs from 0 to T_i - 1, so "
            "the period restarts when T_cur reaches T_i (>=, not >)"
        ): _restarts_late,
    },
    "one_cycle_lr": {
        N_(
            "the first phase ends at pct_start·total_steps (torch ends it one step earlier, at "
            "pct_start·total_steps − 1)"
        ): partial(one_cycle_variant, late_boundary=True),
        N_(
            "the final rate max_lr / final_div_factor: torch divides the initial rate, max_lr / "
            "div_factor, by final_div_factor"
        ): partial(one_cycle_variant, min_from_max=True),
        N_("anneal_strategy ignored (always the cosine)"): partial(
            one_cycle_variant, always_cos=True
        ),
    },
}

# Each schedule exercise is written without torch's scheduler for it (Exercise 1 forbids
# every scheduler object; the others the one they re-implement).
SCHEDULE_FORBID: dict[str, list[str]] = {
    "step_lr": ["torch.optim.lr_scheduler"],
    "exponential_lr": ["torch.optim.lr_scheduler"],
    "cosine_annealing_lr": ["torch.optim.lr_scheduler"],
    "one_cycle_lr": ["torch.optim.lr_scheduler.OneCycleLR"],
    "warm_restarts_lr": ["torch.optim.lr_scheduler.CosineAnnealingWarmRestarts"],
}
PLATEAU_FORBID = ["torch.optim.lr_scheduler.ReduceLROnPlateau"]


def _python_float(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def check_schedule(
    student: Callable,
    name: str,
    seed: int | None,
    *,
    public: bool = True,
    mistakes: Mapping[str, Callable] | None = None,
    rtol: float = 1e-9,
) -> None:
    """``student`` gives the learning rate at an epoch (for ``one_cycle_lr``, at a step);
    compared with torch's scheduler at every epoch of every configuration, hundreds of
    epochs each. ``mistakes`` defaults to the schedule's :data:`SCHEDULE_MISTAKES`; one is
    named only when it gives the student's rate at every epoch of every failing
    configuration."""
    mistakes = SCHEDULE_MISTAKES.get(name, {}) if mistakes is None else mistakes
    kind, _ = begin_check(student, public=public, forbid=SCHEDULE_FORBID.get(name, ()))
    verdicts = Expectations(kind)
    for schedule in schedules(name, seed):
        atol = 1e-12 * max(abs(v) for v in schedule.lrs)
        got = []
        for epoch in range(len(schedule.lrs)):
            label = f"{schedule.label}, epoch {epoch}"
            args = _args(name, schedule, epoch)
            value = call_student(kind, student, label, *args, **schedule.options)
            if not _python_float(value):
                raise CheckFailed(
                    tr(
                        "{kind} '{label}' failed: return a Python float, got {value}",
                        kind=kind,
                        label=label,
                        value=describe(value),
                    )
                )
            got.append(float(value))
        wrong = {
            mistake: partial(_rates, fn, name, schedule) for mistake, fn in (mistakes or {}).items()
        }
        if name == "one_cycle_lr":  # two whole sentences: a unit alone cannot be translated
            what = tr(
                "the rate at every step, from 0 to {n_got} (torch.optim.lr_scheduler; item e is "
                "step e)",
                n_got=len(got) - 1,
            )
        else:
            what = tr(
                "the rate at every epoch, from 0 to {n_got} (torch.optim.lr_scheduler; item e is "
                "epoch e)",
                n_got=len(got) - 1,
            )
        verdicts.expect(
            schedule.label,
            what,
            got,
            schedule.lrs,
            rtol=rtol,
            atol=atol,
            mistakes=wrong,
            shown=partial(_differing_item, got, schedule.lrs),
        )
    verdicts.verdict()
    refuse_if_tampered(kind)


def _rates(fn: Callable, name: str, schedule: Schedule) -> list[float]:
    """A (wrong) schedule function's rate at every epoch of ``schedule``."""
    return [fn(*_args(name, schedule, e), **schedule.options) for e in range(len(schedule.lrs))]


def _differing_item(got: list, want: list, problem: str) -> tuple[Any, Any]:
    """The items ``compare`` found differing ("item 37: ..."), to show instead of the lists."""
    head = problem.split(":")[0]
    if head.startswith("item "):
        index = int(head.removeprefix("item "))
        return want[index], got[index]
    return want, got


def _args(name: str, schedule: Schedule, epoch: int) -> tuple:
    return (epoch,) if name == "one_cycle_lr" else (schedule.base_lr, epoch)


def _factor_variant(
    epoch,
    *,
    warmup_iters,
    start_factor,
    T_max,
    min_factor=0.0,
    cosine_from_zero=False,
    one_short=False,
    no_floor=False,
):
    """The warm-up and cosine factor, with one of its details changed by a flag."""
    if epoch < warmup_iters:
        done = epoch + 1 if one_short else epoch
        return start_factor + (1 - start_factor) * done / warmup_iters
    decay = epoch if cosine_from_zero else epoch - warmup_iters
    floor = 0.0 if no_floor else min_factor
    return floor + (1 - floor) * (1 + math.cos(math.pi * decay / T_max)) / 2


LAMBDA_MISTAKES = {
    "the cosine counted from epoch 0, not from the end of the warm-up": partial(
        _factor_variant, cosine_from_zero=True
    ),
    "the warm-up reaching 1 one epoch early ((epoch + 1) / warmup_iters)": partial(
        _factor_variant, one_short=True
    ),
    "min_factor ignored: the cosine decays to min_factor, not to 0": partial(
        _factor_variant, no_floor=True
    ),
}


def check_lambda_lr(
    student: Callable,
    seed: int | None,
    *,
    public: bool = True,
    mistakes: Mapping[str, Callable] | None = None,
) -> None:
    """``student(epoch, **options)`` used as ``LambdaLR``'s ``lr_lambda`` must give the
    learning rates of ``SequentialLR([LinearLR, CosineAnnealingLR])`` at every epoch.
    ``mistakes`` defaults to :data:`LAMBDA_MISTAKES`."""
    mistakes = LAMBDA_MISTAKES if mistakes is None else mistakes
    kind = check_kind(public)
    refuse_if_tampered(kind)
    gen, seed = generator(seed)
    verdicts = Expectations(kind)
    for draw in range(3):
        _, options, last = _options("warmup_cosine_factor", gen, draw)
        base = log_uniform(gen, 1e-4, 1.0)
        want = torch_lrs(partial(_warmup_cosine, **options), base, last)
        label = f"base_lr={base:.4g}, {describe(options)}, {last + 1} epochs, seed {seed}"
        lambda_lrs = partial(_lambda_lrs, kind=kind, label=label, options=options, base=base)
        name = getattr(student, "__name__", tr("your function"))
        got = call_student(kind, lambda_lrs, label, student, last, name=name)
        wrong = {}
        for mistake, fn in (mistakes or {}).items():
            try:
                wrong[mistake] = lambda_lrs(fn, last)
            except Exception:
                continue
        verdicts.expect(
            label,
            tr("the rates LambdaLR sets with your factor at epochs 0 to {last}", last=last),
            got,
            want,
            rtol=1e-9,
            atol=1e-12 * base,
            mistakes=wrong,
            shown=partial(_differing_item, got, want),
        )
    verdicts.verdict()
    refuse_if_tampered(kind)


def _lambda_lrs(
    fn: Callable, last: int, *, kind: str, label: str, options: dict, base: float
) -> list[float]:
    """The rates ``LambdaLR`` sets when ``fn(epoch, **options)`` is its factor."""

    def factor(epoch: int) -> float:
        value = fn(epoch, **options)
        if not _python_float(value):
            raise CheckFailed(
                tr(
                    "{kind} '{label}' failed: at epoch {epoch}, return a Python float, got {value}",
                    kind=kind,
                    label=label,
                    epoch=epoch,
                    value=describe(value),
                )
            )
        return value

    return torch_lrs(lambda o: _lr_scheduler.LambdaLR(o, factor), base, last)


def plateau_metrics(gen: torch.Generator, length: int, mode: str, slack: float) -> list[float]:
    """A validation curve that improves for a while, then stalls, again and again.

    A loss for ``"min"``, and its reciprocal, a score that rises, for ``"max"``. On a
    plateau the values stay above the best so far, except now and then by less than
    ``slack`` (relative), which only a threshold larger than ``slack`` refuses to count."""
    values: list[float] = []
    best = uniform(gen, 0.5, 2.0)
    while len(values) < length:
        for _ in range(integer(gen, 1, 8)):  # improving
            best *= uniform(gen, 0.9, 0.99)
            values.append(best)
        for _ in range(integer(gen, 3, 30)):  # stalled
            near = coin(gen) and coin(gen)
            values.append(
                best * (1 - uniform(gen, 0.0, slack) if near else 1 + uniform(gen, 0, 0.05))
            )
    values = values[:length]
    return values if mode == "min" else [1 / v for v in values]


def plateau_cases(seed: int | None) -> list[tuple[str, float, list[float], dict]]:
    """``(label, lr, metrics, options)``: the defaults, then every option."""
    gen, seed = generator(seed)
    cases = []
    option_sets: list[dict] = [
        {},
        {"factor": uniform(gen, 0.2, 0.9), "patience": integer(gen, 0, 6)},
        {"patience": integer(gen, 0, 8), "threshold": log_uniform(gen, 1e-3, 0.05)},
        # an absolute threshold, set below to a few percent of the metric's size
        {"patience": integer(gen, 0, 8), "threshold_mode": "abs", "threshold": 0.0},
        {"patience": integer(gen, 0, 5), "cooldown": integer(gen, 1, 6)},
        {"patience": integer(gen, 0, 5), "factor": uniform(gen, 0.1, 0.5), "min_lr": 0.0},
        {"patience": integer(gen, 0, 5), "factor": 0.5, "eps": 0.0},
        {"mode": "max", "patience": integer(gen, 0, 8), "factor": uniform(gen, 0.2, 0.9)},
        {
            "mode": "max" if coin(gen) else "min",
            "factor": uniform(gen, 0.2, 0.9),
            "patience": integer(gen, 0, 8),
            "threshold": log_uniform(gen, 1e-4, 0.05),
            "threshold_mode": "abs" if coin(gen) else "rel",
            "cooldown": integer(gen, 0, 5),
        },
    ]
    for options in option_sets:
        lr = log_uniform(gen, 1e-3, 1.0)
        if "min_lr" in options:  # a floor the cuts reach
            options["min_lr"] = lr * uniform(gen, 0.01, 0.2)
        if "eps" in options:  # cuts smaller than eps are skipped: the rate stops falling
            options["eps"] = lr * uniform(gen, 0.02, 0.1)
        scale = log_uniform(gen, 0.01, 100.0)  # the metric's size: a loss, a perplexity...
        if options.get("threshold_mode") == "abs":
            options["threshold"] = scale * uniform(gen, 0.01, 0.05)
        threshold = options.get("threshold", 1e-4)
        relative = threshold if options.get("threshold_mode", "rel") == "rel" else threshold / scale
        mode = options.get("mode", "min")
        metrics = plateau_metrics(gen, integer(gen, 200, 400), mode, relative / 2)
        metrics = [m * scale if mode == "min" else m / scale for m in metrics]
        label = f"lr={lr:.4g}, {describe(options) if options else 'defaults'}, seed {seed}"
        cases.append((label, lr, metrics, options))
    return cases


def plateau_variant(
    lr: float,
    metrics: Sequence[float],
    *,
    mode: str = "min",
    factor: float = 0.1,
    patience: int = 10,
    threshold: float = 1e-4,
    threshold_mode: str = "rel",
    cooldown: int = 0,
    min_lr: float = 0.0,
    eps: float = 1e-8,
    at_patience: bool = False,
    ignore_threshold: bool = False,
    ignore_cooldown: bool = False,
    ignore_min_lr: bool = False,
    ignore_eps: bool = False,
) -> list[float]:
    """ReduceLROnPlateau written out, with one of its details changed by a flag."""
    best = math.inf if mode == "min" else -math.inf
    bad = cool = 0
    lrs = []
    for metric in metrics:
        margin = 0.0 if ignore_threshold else threshold
        if mode == "min":
            limit = best * (1 - margin) if threshold_mode == "rel" else best - margin
            better = metric < limit
        else:
            limit = best * (1 + margin) if threshold_mode == "rel" else best + margin
            better = metric > limit
        best, bad = (metric, 0) if better else (best, bad + 1)
        if cool > 0 and not ignore_cooldown:
            cool -= 1
            bad = 0
        if bad > patience or (at_patience and bad == patience):
            new = lr * factor if ignore_min_lr else max(lr * factor, min_lr)
            if lr - new > (0.0 if ignore_eps else eps):
                lr = new
            cool, bad = cooldown, 0
        lrs.append(lr)
    return lrs


PLATEAU_MISTAKES = {
    "the rate cut after `patience` bad epochs (torch waits for more than patience)": partial(
        plateau_variant, at_patience=True
    ),
    "threshold ignored (any improvement counts)": partial(plateau_variant, ignore_threshold=True),
    "cooldown ignored": partial(plateau_variant, ignore_cooldown=True),
    "min_lr ignored: the rate never goes below min_lr": partial(
        plateau_variant, ignore_min_lr=True
    ),
    "eps ignored: a cut smaller than eps is not taken": partial(plateau_variant, ignore_eps=True),
}


def check_plateau(
    student: Callable,
    seed: int | None,
    *,
    public: bool = True,
    mistakes: Mapping[str, Callable] | None = None,
) -> None:
    """``student(lr, metrics, **options)`` returns the learning rate after each epoch's
    ``ReduceLROnPlateau.step(metric)``, as a list of floats. ``mistakes`` defaults to
    :data:`PLATEAU_MISTAKES`."""
    mistakes = PLATEAU_MISTAKES if mistakes is None else mistakes
    kind, _ = begin_check(student, public=public, forbid=PLATEAU_FORBID)
    verdicts = Expectations(kind)
    for label, lr, metrics, options in plateau_cases(seed):
        label = f"{label}, {len(metrics)} epochs"
        want = torch_plateau_lrs(lr, metrics, **options)
        got = call_student(kind, student, label, lr, list(metrics), **options)
        got = require_floats(kind, label, tr("the list of learning rates you return"), got)
        if len(got) != len(want):
            raise CheckFailed(
                tr(
                    "{kind} '{label}' failed: return one learning rate per metric, {n_want} of "
                    "them, got {n_got}",
                    kind=kind,
                    label=label,
                    n_want=len(want),
                    n_got=len(got),
                )
            )
        verdicts.expect(
            label,
            tr("the rate after each epoch's metric (ReduceLROnPlateau; item e is epoch e)"),
            got,
            want,
            rtol=1e-12,
            atol=0.0,
            mistakes={
                k: partial(fn, lr, list(metrics), **options) for k, fn in (mistakes or {}).items()
            },
            shown=partial(_differing_item, got, want),
        )
    verdicts.verdict()
    refuse_if_tampered(kind)


# ------------------------------------------------------------------------ gradient clipping


def _random_grads(gen: torch.Generator) -> list[torch.Tensor]:
    return [
        log_uniform(gen, 0.01, 100.0) * torch.randn(*_shape(gen), generator=gen, dtype=_float64)
        for _ in range(integer(gen, 1, 4))
    ]


def total_norm(grads: Sequence[torch.Tensor], norm_type: float = 2.0) -> float:
    """The norm of all the tensors together, as if concatenated into one vector."""
    norms = torch.stack([torch.linalg.vector_norm(g, norm_type) for g in grads])
    return float(torch.linalg.vector_norm(norms, norm_type))


def clip_cases(seed: int | None) -> list[tuple[str, list[torch.Tensor], dict]]:
    """``(label, grads, options)``: several tensors, with a ``max_norm`` that clips and one
    that does not, and the norms 2, 1, 3 and infinity."""
    gen, seed = generator(seed)
    cases = []
    for i, norm_type in enumerate([2.0, 2.0, 1.0, math.inf, 3.0, 2.0]):
        grads = _random_grads(gen)
        total = total_norm(grads, norm_type)
        clips = i != 1
        max_norm = total * (uniform(gen, 0.05, 0.9) if clips else uniform(gen, 1.1, 3.0))
        options = {"max_norm": max_norm} | ({} if i < 2 else {"norm_type": norm_type})
        shapes = [tuple(g.shape) for g in grads]
        label = f"shapes {shapes}, {describe(options)} (total norm {total:.4g}), seed {seed}"
        cases.append((label, grads, options))
    return cases


def clip_value_cases(seed: int | None) -> list[tuple[str, list[torch.Tensor], float]]:
    """``(label, grads, clip_value)``, with a clip value that clips some entries."""
    gen, seed = generator(seed)
    cases = []
    for _ in range(4):
        grads = _random_grads(gen)
        middle = float(torch.cat([g.flatten() for g in grads]).abs().median())
        clip_value = middle * uniform(gen, 0.5, 1.5)
        shapes = [tuple(g.shape) for g in grads]
        label = f"shapes {shapes}, clip_value={clip_value:.4g}, seed {seed}"
        cases.append((label, grads, clip_value))
    return cases


def _shape(gen: torch.Generator) -> tuple[int, ...]:
    return tuple(integer(gen, 1, 5) for _ in range(integer(gen, 1, 3)))


def torch_clip_norm(grads: Sequence[torch.Tensor], max_norm: float, norm_type: float = 2.0):
    """What ``torch.nn.utils.clip_grad_norm_`` leaves in the ``.grad``s, and returns."""
    params = [torch.zeros_like(g, requires_grad=True) for g in grads]
    for p, g in zip(params, grads, strict=True):
        p.grad = _clone(g)
    total = _clip_grad_norm_(params, max_norm, norm_type=norm_type)
    return [p.grad for p in params], float(total)


def clip_norm_variant(
    grads: Sequence[torch.Tensor],
    max_norm: float,
    norm_type: float = 2.0,
    *,
    per_tensor: bool = False,
    summed: bool = False,
    no_epsilon: bool = False,
    no_minimum: bool = False,
    after: bool = False,
) -> float:
    """Clipping by the total norm, with one of its details changed by a flag."""
    norms = [float(torch.linalg.vector_norm(g, norm_type)) for g in grads]
    total = sum(norms) if summed else total_norm(grads, norm_type)
    for g, own in zip(grads, norms, strict=True):
        ratio = max_norm / ((own if per_tensor else total) + (0.0 if no_epsilon else 1e-6))
        g.mul_(ratio if no_minimum else min(1.0, ratio))
    return total_norm(grads, norm_type) if after else total


CLIP_NORM_MISTAKES = {
    "each tensor clipped by its own norm, not by the norm of all of them together": partial(
        clip_norm_variant, per_tensor=True
    ),
    "the total norm taken as the sum of the tensors' norms": partial(
        clip_norm_variant, summed=True
    ),
    "max_norm / total without torch's + 1e-6": partial(clip_norm_variant, no_epsilon=True),
    "gradients scaled up when their norm is below max_norm: the factor is min(1, max_norm / "
    "(N + 1e-6))": partial(clip_norm_variant, no_minimum=True),
    "the norm after clipping returned: return N, the norm before": partial(
        clip_norm_variant, after=True
    ),
}


CLIP_NORM_FORBID = [
    "torch.nn.utils.clip_grad_norm_",
    "torch.nn.utils.clip_grads_with_norm_",
    "torch.nn.utils.get_total_norm",
]
CLIP_VALUE_FORBID = ["torch.nn.utils.clip_grad_value_"]

NOT_IN_PLACE = N_(
    "the tensors in grads were not changed in place: the caller's gradients (each p.grad) are "
    "still as they were. Writing grads[i] = ... or g = ... only rebinds a name; change each "
    "tensor itself ({example})"
)


NOT_CHANGED = N_(
    "the tensors left as they were: g = ... makes a new tensor and rebinds the name; change each "
    "tensor in place ({example})"
)


def _changed_in_place(
    kind: str, label: str, given: list, originals: list[torch.Tensor], example: str
) -> list[torch.Tensor]:
    """The tensors the caller gave, after the call: a list whose items were replaced, or
    tensors left as they were while new ones were made, fail here."""
    if len(given) != len(originals) or any(
        a is not b for a, b in zip(given, originals, strict=False)
    ):
        raise CheckFailed(case_failed(kind, label, tr(NOT_IN_PLACE, example=example)))
    return originals


def check_clip_norm(
    student: Callable,
    seed: int | None,
    *,
    public: bool = True,
    mistakes: Mapping[str, Callable] | None = None,
) -> None:
    """``student(grads, max_norm, norm_type=2.0)`` scales the tensors of ``grads`` in place
    and returns their total norm before clipping (a float or a 0-dim tensor). ``mistakes``
    defaults to :data:`CLIP_NORM_MISTAKES`."""
    mistakes = CLIP_NORM_MISTAKES if mistakes is None else mistakes
    kind, _ = begin_check(student, public=public, forbid=CLIP_NORM_FORBID)
    verdicts = Expectations(kind)
    for label, grads, options in clip_cases(seed):
        want_grads, want_total = torch_clip_norm(grads, **options)
        given = [_clone(g) for g in grads]
        originals = list(given)
        total = call_student(kind, student, label, given, **options)
        _changed_in_place(kind, label, given, originals, "g.mul_(c), g *= c")
        if isinstance(total, _Tensor) and total.requires_grad:
            total = _detach(total)
        wrong_grads: dict[str, Any] = {}
        wrong_totals: dict[str, Any] = {}
        for mistake, fn in (mistakes or {}).items():
            copies = [_clone(g) for g in grads]
            try:
                wrong_totals[mistake] = fn(copies, **options)
            except Exception:
                continue
            wrong_grads[mistake] = copies
        wrong_grads[tr(NOT_CHANGED, example="g.mul_(c), g *= c")] = grads
        what = tr("the gradients after clipping (changed in place)")
        verdicts.expect(label, what, originals, want_grads, mistakes=wrong_grads)
        if total is None:
            raise CheckFailed(
                tr(
                    "{kind} '{label}' failed: return the total norm (you returned None)",
                    kind=kind,
                    label=label,
                )
            )
        verdicts.expect(
            label,
            tr("the total norm you return (before clipping)"),
            total,
            want_total,
            rtol=1e-10,
            mistakes=wrong_totals,
        )
    verdicts.verdict()
    refuse_if_tampered(kind)


def check_clip_value(student: Callable, seed: int | None, *, public: bool = True) -> None:
    """``student(grads, clip_value)`` clamps the tensors of ``grads`` in place."""
    kind, _ = begin_check(student, public=public, forbid=CLIP_VALUE_FORBID)
    verdicts = Expectations(kind)
    for label, grads, clip_value in clip_value_cases(seed):
        params = [torch.zeros_like(g, requires_grad=True) for g in grads]
        for p, g in zip(params, grads, strict=True):
            p.grad = _clone(g)
        _clip_grad_value_(params, clip_value)
        given = [_clone(g) for g in grads]
        originals = list(given)
        call_student(kind, student, label, given, clip_value)
        _changed_in_place(kind, label, given, originals, "g.clamp_(...)")
        verdicts.expect(
            label,
            tr("the gradients after clipping (changed in place)"),
            originals,
            [p.grad for p in params],
            mistakes={
                tr(NOT_CHANGED, example="g.clamp_(...)"): grads,
                "clamped to [0, clip_value]": [g.clamp(0, clip_value) for g in grads],
                "clamped from above only: entries below -clip_value were left": [
                    g.clamp(max=clip_value) for g in grads
                ],
            },
        )
    verdicts.verdict()
    refuse_if_tampered(kind)


# ------------------------------------------------------------ where clipping saves a run


def cliff_loss(w: torch.Tensor) -> torch.Tensor:
    """A recurrent weight applied 30 times, fitted to reach 0.5: ``(w³⁰ - 0.5)²``. Flat for
    ``|w| < 0.9``, a cliff above 1 (its gradient, 60·w²⁹·(w³⁰ − 0.5), explodes)."""
    return ((w**30).sum() - 0.5) ** 2


def clipped_reference(w0, loss_fn, *, lr, steps, max_norm, clip=True, accumulate=False):
    """SGD with the gradient's norm clipped, from the gradient and the rule written out.

    ``clip=False`` does not clip, ``clip="value"`` clamps each entry to ``max_norm``
    instead; ``accumulate`` keeps adding into the (clipped) gradient, as a loop that forgot
    ``zero_grad()`` does."""
    w = _clone(_detach(w0))
    losses = []
    kept = None
    for _ in range(steps):
        x = _clone(w).requires_grad_(True)
        loss = loss_fn(x)
        (grad,) = torch.autograd.grad(loss, x)
        losses.append(float(_detach(loss)))
        if accumulate and kept is not None:
            grad = kept + grad
        if clip == "value":
            grad = grad.clamp(-max_norm, max_norm)
        elif clip:
            norm = float(torch.linalg.vector_norm(grad))
            grad = grad * min(1.0, max_norm / (norm + 1e-6))
        kept = grad
        w = w - lr * grad
    return losses, w


def clipped_cases(seed: int | None) -> list[tuple[str, torch.Tensor, Callable, dict]]:
    """Runs on the cliff and on a steep least-squares problem, where clipping acts on some
    steps and not on others."""
    gen, seed = generator(seed)
    cases = []
    for i in range(3):
        if i == 0:
            w0 = torch.tensor([uniform(gen, 1.0, 1.08)], dtype=_float64)
            options = {
                "lr": 1e-3,
                "steps": integer(gen, 20, 60),
                "max_norm": uniform(gen, 0.5, 3.0),
            }
            loss_fn: Callable = cliff_loss
            name = tr("the cliff (w^30 - 0.5)^2")
        else:
            n, d = integer(gen, 4, 10), integer(gen, 2, 4)
            x = log_uniform(gen, 1.0, 10.0) * torch.randn(n, d, generator=gen, dtype=_float64)
            y = torch.randn(n, generator=gen, dtype=_float64)

            def loss_fn(w, x=x, y=y):
                return ((x @ w - y) ** 2).mean()

            w0 = torch.randn(d, generator=gen, dtype=_float64)
            grad_norm = float(torch.linalg.vector_norm(2 / n * x.T @ (x @ w0 - y)))
            options = {
                "lr": uniform(gen, 0.2, 0.9) / float(torch.linalg.matrix_norm(x, 2) ** 2 * 2 / n),
                "steps": integer(gen, 5, 20),
                "max_norm": grad_norm * uniform(gen, 0.05, 0.5),
            }
            name = tr("least squares, x of shape {value}", value=(n, d))
        label = f"{name}, w0={describe(w0)}, {describe(options)}, seed {seed}"
        cases.append((label, w0, loss_fn, options))
    return cases


def check_clipped_training(student: Callable, seed: int | None, *, public: bool = True) -> None:
    """``student(w, loss_fn, *, lr, steps, max_norm)`` trains ``w`` with SGD, clipping the
    gradient's norm between ``backward()`` and ``step()``; returns the losses as floats."""
    kind = check_kind(public)
    refuse_if_tampered(kind)
    verdicts = Expectations(kind)
    for label, w0, loss_fn, options in clipped_cases(seed):
        losses, w_want = clipped_reference(w0, loss_fn, **options)
        variants = {
            N_("the gradient was not clipped (clip between backward() and step())"): (
                clipped_reference(w0, loss_fn, clip=False, **options)
            ),
            N_("gradients accumulated: zero_grad() was not called before each backward()"): (
                clipped_reference(w0, loss_fn, accumulate=True, **options)
            ),
            N_(
                "each entry clamped to max_norm (clip_grad_value_): clip the norm of the whole "
                "gradient (clip_grad_norm_)"
            ): clipped_reference(w0, loss_fn, clip="value", **options),
        }
        after = [*losses[1:], float(_detach(loss_fn(w_want)))]
        w = leaf(w0)
        got = require_call(
            kind,
            label,
            ["torch.optim.SGD"],
            partial(
                call_student,
                kind,
                student,
                label,
                w,
                loss_fn,
                **options,
                arguments=("w", "loss_fn"),
                may_change=("w",),
            ),
            tr(
                "{student} never used torch.optim.SGD: build the optimizer and call its step(), "
                "as the exercise asks",
                student=getattr(student, "__name__", "train_clipped"),
            ),
        )
        got = require_floats(kind, label, tr("the list of losses you return"), got)
        verdicts.expect(
            label,
            tr("the losses"),
            got,
            losses,
            mistakes={k: v[0] for k, v in variants.items()}
            | {N_("each loss recorded after its step (compute it before step())"): after},
            shown=partial(_differing_item, got, losses),
        )
        verdicts.expect(
            label,
            tr("w after training"),
            _detach(w),
            w_want,
            mistakes={k: v[1] for k, v in variants.items()},
        )
    verdicts.verdict()
    refuse_if_tampered(kind)


# ------------------------------------------------------------------ L-BFGS and its closure


def rosenbrock_value(xy: torch.Tensor) -> torch.Tensor:
    """Rosenbrock's function (a=1, b=100), with its minimum 0 at (1, 1)."""
    x, y = xy[0], xy[1]
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def rosenbrock_gradient(xy: torch.Tensor) -> torch.Tensor:
    """Its gradient, worked out by hand."""
    x, y = xy[0], xy[1]
    return torch.stack([-2 * (1 - x) - 400 * x * (y - x**2), 200 * (y - x**2)])


def check_closure(make_closure: Callable, seed: int | None, *, public: bool = True) -> None:
    """``make_closure(optimizer, xy)`` returns a closure that clears the gradient, computes
    Rosenbrock's function at ``xy``, backpropagates and returns the loss."""
    kind = check_kind(public)
    refuse_if_tampered(kind)
    gen, seed = generator(seed)
    verdicts = Expectations(kind)
    for _ in range(3):
        point = 2 * torch.randn(2, generator=gen, dtype=_float64)
        label = f"xy = {describe(point)}, seed {seed}"
        xy = leaf(point)
        optimizer = torch.optim.LBFGS([xy])
        closure = call_student(kind, make_closure, label, optimizer, xy)
        if not callable(closure):
            raise CheckFailed(
                tr(
                    "{kind} '{label}' failed: return the closure (a function)",
                    kind=kind,
                    label=label,
                )
            )
        xy.grad = torch.full_like(xy, 123.0)  # left over from an earlier step
        true_grad = rosenbrock_gradient(point)
        calls = (
            (tr("the first call of your closure"), 123.0 + true_grad),
            (tr("the second call of your closure"), 123.0 + 2 * true_grad),
        )
        for what, stale in calls:
            loss = call_student(kind, closure, label)
            verdicts.expect(
                label,
                tr("{what}: the loss it returns", what=what),
                loss,
                rosenbrock_value(point),
                mistakes={"b = 10 instead of 100 in Rosenbrock's function": _rosenbrock_b10(point)},
            )
            grad = xy.grad
            if grad is None:
                raise CheckFailed(
                    tr(
                        "{kind} '{label}' failed: {what} left xy.grad empty (call backward() on "
                        "the loss)",
                        kind=kind,
                        label=label,
                        what=what,
                    )
                )
            forgot = {N_("the old gradient was not cleared first (zero_grad)"): stale}
            xy_grad = tr("{what}: xy.grad", what=what)
            verdicts.expect(label, xy_grad, _detach(grad), true_grad, mistakes=forgot)
    verdicts.verdict()
    refuse_if_tampered(kind)


def _rosenbrock_b10(xy: torch.Tensor) -> torch.Tensor:
    return (1 - xy[0]) ** 2 + 10 * (xy[1] - xy[0] ** 2) ** 2


def lbfgs_starts(seed: int | None) -> list[tuple[float, float]]:
    """Starting points in [-2, 2]²; public checks add two fixed ones."""
    gen, seed = generator(seed)
    starts = [(-1.5, 2.0), (0.5, -1.0)] if seed is not None else []
    starts += [(uniform(gen, -2.0, 2.0), uniform(gen, -2.0, 2.0)) for _ in range(2)]
    return starts


def check_minimum(student: Callable, seed: int | None, *, public: bool = True) -> None:
    """``student(start)`` returns the point L-BFGS finds: a detached float64 tensor of shape
    (2,), within 1e-6 of (1, 1)."""
    kind = check_kind(public)
    refuse_if_tampered(kind)
    verdicts = Expectations(kind)
    for start in lbfgs_starts(seed):
        label = f"start {describe(start)}"
        got = call_student(kind, student, label, start)
        if not isinstance(got, _Tensor):
            raise CheckFailed(
                tr(
                    "{kind} '{label}' failed: return a tensor, got {got}",
                    kind=kind,
                    label=label,
                    got=describe(got),
                )
            )
        if got.dtype != _float64:
            raise CheckFailed(
                tr(
                    "{kind} '{label}' failed: return a float64 tensor, got {dtype} (build xy with "
                    "dtype=torch.float64: L-BFGS then works in float64 too)",
                    kind=kind,
                    label=label,
                    dtype=got.dtype,
                )
            )
        if got.requires_grad:
            raise CheckFailed(
                tr(
                    "{kind} '{label}' failed: the tensor you return still requires grad (it is "
                    "the optimizer's leaf, or made from it): return xy.detach(), a tensor outside "
                    "the graph",
                    kind=kind,
                    label=label,
                )
            )
        verdicts.expect(
            label,
            tr("the minimum found (within 1e-6 of (1, 1), in float64)"),
            got,
            torch.ones(2, dtype=_float64),
            rtol=0.0,
            atol=1e-6,
        )
    verdicts.verdict()
    refuse_if_tampered(kind)


integrity.watch(__import__(__name__, fromlist=["*"]))
