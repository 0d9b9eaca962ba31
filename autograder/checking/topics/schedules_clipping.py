"""Checks for topic 12's learning-rate schedules; its clipping and L-BFGS checks are in
``optim/clipping.py`` and ``optim/lbfgs.py``, imported here for the notebook's cells.

Every schedule is checked against ``torch.optim.lr_scheduler`` itself, run for hundreds
of steps on a probe optimizer, over its options. Public checks use fixed seeds, hidden ones
(``seed=None``) fresh options.
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
from ..draw import coin, integer, log_uniform, uniform
from ..i18n import N_, tr
from ..optim.api import (
    Expectations,
    call_student,
    differing_item,
    require_floats,
)

# The notebook's clipping and L-BFGS checks live in optim/; its cells import them from here.
from ..optim.clipping import (  # noqa: F401
    check_clip_norm,
    check_clip_value,
    check_clipped_training,
)
from ..optim.lbfgs import check_closure, check_minimum, rosenbrock_value  # noqa: F401

_lr_scheduler = torch.optim.lr_scheduler

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
                # both strategies in every run: linear in draws 1 and 2, the cosine in 3 and 0
                "anneal_strategy": "linear" if draw < 3 else "cos",
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
            shown=partial(differing_item, got, schedule.lrs),
        )
    verdicts.verdict()
    refuse_if_tampered(kind)


def _rates(fn: Callable, name: str, schedule: Schedule) -> list[float]:
    """A (wrong) schedule function's rate at every epoch of ``schedule``."""
    return [fn(*_args(name, schedule, e), **schedule.options) for e in range(len(schedule.lrs))]


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
            shown=partial(differing_item, got, want),
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
            shown=partial(differing_item, got, want),
        )
    verdicts.verdict()
    refuse_if_tampered(kind)


integrity.watch(__import__(__name__, fromlist=["*"]))
