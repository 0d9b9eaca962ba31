"""The runs an optimizer is checked on: hyper-parameters, starting parameters, gradients.

A student's optimizer is a *step function* with explicit state::

    sgd_step(param, grad, state, *, lr=1e-3, momentum=0, ...)

Each :class:`OptimCase` is one run of such a function: the hyper-parameters, the starting
parameters and the gradient of every step (and, optionally, a learning rate per step, as a
scheduler would set it). :data:`HYPER_SETS` says, per optimizer, which hyper-parameter sets
exercise every option it has.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import torch

from ..comparison import describe
from ..draw import coin, generator, log_uniform, uniform

_float64 = torch.float64

# What a step function may not call: the optimizer it re-implements, as a class, as the
# functional form behind it, and as the module-level function.
FORBID = {
    name: [f"torch.optim.{cls}", f"torch.optim._functional.{fn}", f"torch.optim.{fn}.{fn}"]
    for name, cls, fn in [
        ("sgd", "SGD", "sgd"),
        ("adagrad", "Adagrad", "adagrad"),
        ("rmsprop", "RMSprop", "rmsprop"),
        ("adadelta", "Adadelta", "adadelta"),
        ("adam", "Adam", "adam"),
        ("adamw", "AdamW", "adamw"),
        ("adamax", "Adamax", "adamax"),
        ("asgd", "ASGD", "asgd"),
        ("rprop", "Rprop", "rprop"),
        ("nadam", "NAdam", "nadam"),
    ]
}
# AdamW is Adam with one option changed, and NAdam's decoupled decay is AdamW's: forbid all.
for _key in ("adam", "adamw", "nadam"):
    FORBID[_key] = FORBID["adam"] + FORBID["adamw"] + FORBID["nadam"]


@dataclass(frozen=True)
class OptimCase:
    """One run: hyper-parameters, starting parameters and the gradient of every step.

    ``lrs``, when given, is the learning rate of each step (it overrides ``hyper['lr']``:
    the step function receives it, the torch optimizer gets it in its param group).
    """

    label: str
    hyper: Mapping[str, Any]
    params: tuple[torch.Tensor, ...]
    grads: tuple[tuple[torch.Tensor, ...], ...]  # grads[step][param]
    lrs: tuple[float, ...] | None = None
    seed: int = 0

    @property
    def steps(self) -> int:
        return len(self.grads)

    def lr_at(self, step: int) -> dict:
        return {} if self.lrs is None else {"lr": self.lrs[step]}


def _shapes(gen: torch.Generator, public: bool) -> list[tuple[int, ...]]:
    if public:
        return [(3,), (2, 3)]
    shapes = []
    for _ in range(int(torch.randint(1, 4, (), generator=gen))):
        ndim = int(torch.randint(1, 3, (), generator=gen))
        shapes.append(tuple(int(d) for d in torch.randint(1, 5, (ndim,), generator=gen)))
    return shapes


def make_case(
    label: str,
    hyper: Mapping[str, Any],
    gen: torch.Generator,
    seed: int,
    *,
    public: bool,
    steps: int | None = None,
    lrs: Iterable[float] | None = None,
) -> OptimCase:
    """Random parameters and gradients for one run (gradient sizes change from step to step,
    so that running averages rise and fall)."""
    shapes = _shapes(gen, public)
    if lrs is not None:
        lrs = tuple(float(lr) for lr in lrs)
        steps = len(lrs)
    elif steps is None:
        steps = 6 if public else int(torch.randint(5, 9, (), generator=gen))
    params = tuple(torch.randn(s, generator=gen, dtype=_float64) for s in shapes)
    grads = []
    for _ in range(steps):
        scale = math.exp(0.8 * float(torch.randn((), generator=gen, dtype=_float64)))
        grads.append(tuple(scale * torch.randn(s, generator=gen, dtype=_float64) for s in shapes))
    hyper_text = ", ".join(f"{k}={describe(v)}" for k, v in hyper.items()) or "defaults"
    full = f"{label} ({hyper_text}), {steps} steps, seed {seed}"
    return OptimCase(full, dict(hyper), params, tuple(grads), lrs, seed)


@dataclass
class _Draws:
    """Random hyper-parameters from one generator, in the order the tables below ask."""

    gen: torch.Generator

    def u(self, low: float, high: float) -> float:
        return uniform(self.gen, low, high)

    def lu(self, low: float, high: float) -> float:
        return log_uniform(self.gen, low, high)

    def lr(self) -> float:
        return log_uniform(self.gen, 1e-2, 0.3)

    def coin(self) -> bool:
        return coin(self.gen)

    def betas(self) -> tuple[float, float]:
        return (self.u(0.5, 0.95), self.u(0.6, 0.99))


# ---------------------------------------------- hyper-parameter sets, one table per optimizer
# Each function returns (label, hyper-parameters) pairs: the defaults, each option on its
# own, and all options together.


def _sgd(d: _Draws) -> list[tuple[str, dict]]:
    nesterov = d.coin()
    return [
        ("defaults", {}),
        ("momentum", {"lr": d.lr(), "momentum": d.u(0.5, 0.95)}),
        (
            "momentum and dampening",
            {"lr": d.lr(), "momentum": d.u(0.5, 0.95), "dampening": d.u(0.1, 0.9)},
        ),
        ("Nesterov momentum", {"lr": d.lr(), "momentum": d.u(0.5, 0.95), "nesterov": True}),
        ("weight decay", {"lr": d.lr(), "weight_decay": d.u(0.05, 0.5)}),
        ("maximize", {"lr": d.lr(), "momentum": d.u(0.3, 0.9), "maximize": True}),
        (
            "all options",
            {
                "lr": d.lr(),
                "momentum": d.u(0.3, 0.95),
                "dampening": 0.0 if nesterov else d.u(0.1, 0.9),
                "weight_decay": d.u(0.05, 0.5),
                "nesterov": nesterov,
                "maximize": True,
            },
        ),
    ]


def _adagrad(d: _Draws) -> list[tuple[str, dict]]:
    return [
        ("defaults", {}),
        ("lr_decay", {"lr": d.lr(), "lr_decay": d.u(0.05, 0.5)}),
        ("initial_accumulator_value", {"lr": d.lr(), "initial_accumulator_value": d.u(0.1, 2.0)}),
        ("a large eps", {"lr": d.lr(), "eps": d.lu(0.05, 0.5)}),
        ("weight decay", {"lr": d.lr(), "weight_decay": d.u(0.05, 0.5)}),
        ("maximize", {"lr": d.lr(), "maximize": True}),
        (
            "all options",
            {
                "lr": d.lr(),
                "lr_decay": d.u(0.05, 0.5),
                "weight_decay": d.u(0.05, 0.5),
                "initial_accumulator_value": d.u(0.1, 2.0),
                "eps": d.lu(1e-3, 0.5),
                "maximize": d.coin(),
            },
        ),
    ]


def _rmsprop(d: _Draws) -> list[tuple[str, dict]]:
    return [
        ("defaults", {}),
        ("alpha", {"lr": d.lr(), "alpha": d.u(0.5, 0.95)}),
        ("centered", {"lr": d.lr(), "alpha": d.u(0.5, 0.95), "centered": True}),
        ("momentum", {"lr": d.lr(), "momentum": d.u(0.3, 0.9)}),
        ("a large eps", {"lr": d.lr(), "eps": d.lu(0.05, 0.5)}),
        ("weight decay", {"lr": d.lr(), "weight_decay": d.u(0.05, 0.5)}),
        ("maximize", {"lr": d.lr(), "maximize": True}),
        (
            "all options",
            {
                "lr": d.lr(),
                "alpha": d.u(0.5, 0.95),
                "eps": d.lu(1e-3, 0.5),
                "weight_decay": d.u(0.05, 0.5),
                "momentum": d.u(0.3, 0.9),
                "centered": True,
                "maximize": d.coin(),
            },
        ),
    ]


def _adadelta(d: _Draws) -> list[tuple[str, dict]]:
    return [
        ("defaults", {}),
        ("lr and rho", {"lr": d.u(0.5, 2.0), "rho": d.u(0.5, 0.95)}),
        ("a large eps", {"eps": d.lu(1e-3, 0.1)}),
        ("weight decay", {"weight_decay": d.u(0.05, 0.5)}),
        ("maximize", {"maximize": True}),
        (
            "all options",
            {
                "lr": d.u(0.5, 2.0),
                "rho": d.u(0.5, 0.95),
                "eps": d.lu(1e-4, 0.1),
                "weight_decay": d.u(0.05, 0.5),
                "maximize": d.coin(),
            },
        ),
    ]


def _adam(d: _Draws, amsgrad: bool = True) -> list[tuple[str, dict]]:
    """Adam and AdamW (and, without ``amsgrad``, Adamax): the same options."""
    sets: list[tuple[str, dict]] = [
        ("defaults", {}),
        ("lr and betas", {"lr": d.lr(), "betas": d.betas()}),
        ("a large eps", {"lr": d.lr(), "eps": d.lu(0.05, 0.5)}),
        ("weight decay", {"lr": d.lr(), "weight_decay": d.u(0.05, 0.5)}),
    ]
    if amsgrad:
        betas = (d.u(0.5, 0.9), d.u(0.3, 0.7))
        sets.append(("amsgrad", {"lr": d.lr(), "betas": betas, "amsgrad": True}))
    sets.append(("maximize", {"lr": d.lr(), "maximize": True}))
    everything = {"lr": d.lr(), "betas": d.betas(), "eps": d.lu(1e-3, 0.5)}
    everything |= {"weight_decay": d.u(0.05, 0.5)}
    if amsgrad:
        everything["amsgrad"] = True
    everything["maximize"] = d.coin()
    sets.append(("all options", everything))
    return sets


def _adamax(d: _Draws) -> list[tuple[str, dict]]:
    return _adam(d, amsgrad=False)


def _asgd(d: _Draws) -> list[tuple[str, dict]]:
    return [
        ("defaults", {}),
        ("lambd and alpha", {"lr": d.lr(), "lambd": d.u(0.2, 2.0), "alpha": d.u(0.3, 1.0)}),
        (
            "averaging from t0",
            {"lr": d.lr(), "t0": float(torch.randint(0, 3, (), generator=d.gen))},
        ),
        ("weight decay", {"lr": d.lr(), "weight_decay": d.u(0.05, 0.5)}),
        ("maximize", {"lr": d.lr(), "maximize": True}),
        (
            "all options",
            {
                "lr": d.lr(),
                "lambd": d.u(0.2, 2.0),
                "alpha": d.u(0.3, 1.0),
                "t0": d.u(0.0, 3.0),
                "weight_decay": d.u(0.05, 0.5),
                "maximize": d.coin(),
            },
        ),
    ]


def _rprop(d: _Draws) -> list[tuple[str, dict]]:
    return [
        ("defaults", {}),
        ("lr and etas", {"lr": d.lr(), "etas": (d.u(0.2, 0.8), d.u(1.1, 2.0))}),
        (
            "tight step_sizes",
            {"lr": 0.05, "etas": (0.5, 1.5), "step_sizes": (d.u(0.02, 0.04), d.u(0.06, 0.1))},
        ),
        ("maximize", {"lr": d.lr(), "maximize": True}),
        (
            "all options",
            {
                "lr": d.lr(),
                "etas": (d.u(0.2, 0.8), d.u(1.1, 2.0)),
                "step_sizes": (d.lu(1e-3, 1e-2), d.u(0.05, 0.2)),
                "maximize": d.coin(),
            },
        ),
    ]


def _nadam(d: _Draws) -> list[tuple[str, dict]]:
    return [
        ("defaults", {}),
        ("lr and betas", {"lr": d.lr(), "betas": d.betas()}),
        ("momentum_decay", {"lr": d.lr(), "momentum_decay": d.lu(0.05, 2.0)}),
        ("a large eps", {"lr": d.lr(), "eps": d.lu(0.05, 0.5)}),
        ("weight decay (L2)", {"lr": d.lr(), "weight_decay": d.u(0.05, 0.5)}),
        (
            "decoupled weight decay",
            {"lr": d.lr(), "weight_decay": d.u(0.05, 0.5), "decoupled_weight_decay": True},
        ),
        ("maximize", {"lr": d.lr(), "maximize": True}),
        (
            "all options",
            {
                "lr": d.lr(),
                "betas": d.betas(),
                "eps": d.lu(1e-3, 0.5),
                "weight_decay": d.u(0.05, 0.5),
                "momentum_decay": d.lu(0.05, 2.0),
                "decoupled_weight_decay": d.coin(),
                "maximize": d.coin(),
            },
        ),
    ]


HYPER_SETS: dict[str, Callable[[_Draws], list[tuple[str, dict]]]] = {
    "sgd": _sgd,
    "adagrad": _adagrad,
    "rmsprop": _rmsprop,
    "adadelta": _adadelta,
    "adam": _adam,
    "adamw": _adam,
    "adamax": _adamax,
    "asgd": _asgd,
    "rprop": _rprop,
    "nadam": _nadam,
}


def optimizer_cases(name: str, seed: int | None = None, *, extra: int = 0) -> list[OptimCase]:
    """Runs for optimizer ``name`` (``"sgd"``, ``"adam"``, ...): its defaults, each option on
    its own, all options together, and ``extra`` more draws of all options.

    ``seed=None`` (hidden checks) draws fresh shapes, hyper-parameters and step counts."""
    public = seed is not None
    gen, seed = generator(seed)
    sets = HYPER_SETS[name](_Draws(gen))
    for _ in range(extra):
        sets.append(HYPER_SETS[name](_Draws(gen))[-1])
    return [make_case(label, hyper, gen, seed, public=public) for label, hyper in sets]


def schedule_cases(seed: int | None = None, *, momentum: float | None = None) -> list[OptimCase]:
    """SGD with momentum, at a constant learning rate and with the rate cut part-way."""
    public = seed is not None
    gen, seed = generator(seed)
    cases = []
    for kind in ("constant lr", "lr cut", "lr raised"):
        rho = momentum if momentum is not None else uniform(gen, 0.5, 0.95)
        lr = log_uniform(gen, 0.02, 0.2)
        steps = 8 if public else int(torch.randint(6, 11, (), generator=gen))
        change = 4 if public else int(torch.randint(2, steps - 1, (), generator=gen))
        factor = {"constant lr": 1.0, "lr cut": 0.1, "lr raised": 3.0}[kind]
        lrs = [lr] * change + [lr * factor] * (steps - change)
        label = f"{kind}: lr {lr:.4g} for {change} steps, then {lr * factor:.4g}"
        cases.append(make_case(label, {"momentum": rho}, gen, seed, public=public, lrs=lrs))
    return cases
