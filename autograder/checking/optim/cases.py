"""The runs an optimizer is checked on: hyper-parameters, starting parameters, gradients.

A student's optimizer is a *step function* with explicit state::

    sgd_step(param, grad, state, *, lr=1e-3, momentum=0, ...)

Each :class:`OptimCase` is one run of such a function: the hyper-parameters, the starting
parameters, the gradient of every step and, except for the run at the defaults, a learning
rate per step that changes part-way, as a scheduler would set it. (A method that agrees
with torch only while the rate is constant, such as momentum with the rate inside its
buffer, fails there.) :data:`HYPER_SETS` says, per optimizer, which hyper-parameter sets
exercise every option it has; :data:`SPECS` how many steps and which shapes it needs.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

import torch

from ..comparison import describe
from ..draw import coin, generator, log_uniform, uniform
from ..i18n import N_, tr

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
        ("radam", "RAdam", "radam"),
    ]
}
FORBID["adafactor"] = ["torch.optim.Adafactor", "torch.optim._adafactor.adafactor"]
FORBID["muon"] = [
    "torch.optim.Muon",
    "torch.optim._muon.muon",
    "torch.optim._muon._zeropower_via_newtonschulz",
]
# AdamW is Adam with one option changed, and NAdam's and RAdam's decoupled decay is
# AdamW's: forbid the whole family to each of them.
_ADAM_FAMILY = FORBID["adam"] + FORBID["adamw"] + FORBID["nadam"] + FORBID["radam"]
for _key in ("adam", "adamw", "nadam", "radam"):
    FORBID[_key] = list(_ADAM_FAMILY)
# The course's own step functions (references and mistake variants, some of them correct
# with their default flags) are off limits to every answer too.
COURSE_STEPS = [
    f"autograder.checking.optim.{name}"
    for name in (
        "mistakes.torch_step",
        "mistakes.sgd_variant",
        "mistakes.sgd_dampened_first_step",
        "mistakes.sgd_no_nesterov",
        "mistakes.sgd_other_convention",
        "mistakes.sgd_torch_convention",
        "mistakes.sgd_other_lr_twice",
        "mistakes.asgd_variant",
        "mistakes.adagrad_variant",
        "mistakes.rmsprop_variant",
        "mistakes.rmsprop_lr_in_buffer",
        "mistakes.rmsprop_eps_inside_sqrt",
        "mistakes.adadelta_variant",
        "mistakes.rprop_variant",
        "mistakes.adam_variant",
        "mistakes.adam_no_bias_correction",
        "mistakes.adam_eps_inside_sqrt",
        "mistakes.adam_decoupled",
        "mistakes.adamw_as_l2",
        "mistakes.adam_max_of_corrected",
        "mistakes.adamax_variant",
        "mistakes.nadam_variant",
        "mistakes.radam_variant",
        "mistakes.adafactor_variant",
        "muon.muon_variant",
        "muon.muon_float64",
        "muon.reference_newton_schulz",
    )
]
for _names in FORBID.values():
    _names += COURSE_STEPS


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


@dataclass(frozen=True)
class Spec:
    """What runs an optimizer needs: how many steps, which shapes, where its rate starts."""

    steps: int = 6  # public runs
    hidden_steps: tuple[int, int] = (6, 9)  # hidden runs: low .. high ("six or more steps")
    shapes: str = "any"  # "any" (1-D, 2-D), "matrix" (2-D only), "nd" (1-D to 3-D)
    lr: tuple[float, float] = (1e-2, 0.3)  # log-uniform range of drawn rates
    tiny: float = 0.0  # if set, one more run with gradients this small (where eps matters)


SPECS: dict[str, Spec] = {
    "radam": Spec(steps=10, hidden_steps=(10, 14)),  # "ten or more"; rectified from step 6
    # lr is capped by 1/sqrt(t): cross it. Gradients of 1e-9 make V fall below eps1**2 for
    # float32's eps1 (1.2e-7) but not for float64's (2.2e-16), the parameters' dtype.
    "adafactor": Spec(shapes="nd", lr=(0.05, 1.5), tiny=1e-9),
    "muon": Spec(shapes="matrix", lr=(1e-3, 0.1)),
}


def _shapes(gen: torch.Generator, public: bool, kind: str) -> list[tuple[int, ...]]:
    if kind == "matrix":
        if public:
            return [(3, 5), (6, 4)]  # wide and tall: Newton-Schulz transposes tall ones
        count = int(torch.randint(1, 4, (), generator=gen))
        return [
            tuple(int(d) for d in torch.randint(1, 7, (2,), generator=gen)) for _ in range(count)
        ]
    if public:
        return [(3,), (2, 3)] if kind == "any" else [(3,), (2, 3), (2, 3, 4)]
    shapes = []
    top = 3 if kind == "nd" else 2
    for _ in range(int(torch.randint(1, 4, (), generator=gen))):
        ndim = int(torch.randint(1, top + 1, (), generator=gen))
        shapes.append(tuple(int(d) for d in torch.randint(1, 5, (ndim,), generator=gen)))
    return shapes


def lr_schedule(gen: torch.Generator, lr: float, steps: int, public: bool) -> list[float]:
    """A learning rate per step that changes twice, as a scheduler would: from ``lr`` to
    another rate (cut or raised, between 0.1 and 3 times), then to a third."""
    if public:
        changes = [min(2, steps - 1), min(4, steps - 1)]
    else:
        # two different steps, as the texts promise ("changed twice part-way")
        first = int(torch.randint(1, steps - 1, (), generator=gen))
        changes = [first, int(torch.randint(first + 1, steps, (), generator=gen))]
    rates, rate = [], lr
    for step in range(steps):
        if step in changes:
            rate = rate * log_uniform(gen, 0.1, 3.0)
        rates.append(rate)
    return rates


def _describe_lrs(lrs: list[float]) -> str:
    text = f"lr {lrs[0]:.4g}"
    for step in range(1, len(lrs)):
        if lrs[step] != lrs[step - 1]:
            text = tr(
                "{before}, then {lr} from step {step}",
                before=text,
                lr=f"{lrs[step]:.4g}",
                step=step + 1,
            )
    return text


def make_case(
    label: str,
    hyper: Mapping[str, Any],
    gen: torch.Generator,
    seed: int,
    *,
    public: bool,
    steps: int | None = None,
    lrs: Iterable[float] | None = None,
    shapes: str = "any",
) -> OptimCase:
    """Random parameters and gradients for one run (gradient sizes change from step to step,
    so that running averages rise and fall)."""
    drawn = _shapes(gen, public, shapes)
    if lrs is not None:
        lrs = tuple(float(lr) for lr in lrs)
        steps = len(lrs)
    elif steps is None:
        steps = 6 if public else int(torch.randint(5, 9, (), generator=gen))
    params = tuple(torch.randn(s, generator=gen, dtype=_float64) for s in drawn)
    grads = []
    for _ in range(steps):
        scale = math.exp(0.8 * float(torch.randn((), generator=gen, dtype=_float64)))
        grads.append(tuple(scale * torch.randn(s, generator=gen, dtype=_float64) for s in drawn))
    shown = {k: v for k, v in hyper.items() if not (lrs is not None and k == "lr")}
    hyper_text = ", ".join(f"{k}={describe(v)}" for k, v in shown.items())
    if lrs is not None:
        hyper_text = ", ".join(filter(None, [_describe_lrs(list(lrs)), hyper_text]))
    options = hyper_text or N_("defaults")
    run_label = f"{label} ({options}), {steps} steps, seed {seed}"
    return OptimCase(run_label, dict(hyper), params, tuple(grads), lrs, seed)


@dataclass
class _Draws:
    """Random hyper-parameters from one generator, in the order the tables below ask."""

    gen: torch.Generator
    lr_range: tuple[float, float] = (1e-2, 0.3)

    def u(self, low: float, high: float) -> float:
        return uniform(self.gen, low, high)

    def lu(self, low: float, high: float) -> float:
        return log_uniform(self.gen, low, high)

    def lr(self) -> float:
        return log_uniform(self.gen, *self.lr_range)

    def coin(self) -> bool:
        return coin(self.gen)

    def int(self, low: int, high: int) -> int:
        return int(torch.randint(low, high + 1, (), generator=self.gen))

    def betas(self) -> tuple[float, float]:
        return (self.u(0.5, 0.95), self.u(0.6, 0.99))


# ---------------------------------------------- hyper-parameter sets, one table per optimizer
# Each function returns (label, hyper-parameters) pairs: the defaults, each option on its
# own, and all options together.


def _sgd(d: _Draws) -> list[tuple[str, dict]]:
    nesterov = d.coin()
    return [
        (N_("defaults"), {}),
        (N_("momentum"), {"lr": d.lr(), "momentum": d.u(0.5, 0.95)}),
        (
            N_("momentum and dampening"),
            {"lr": d.lr(), "momentum": d.u(0.5, 0.95), "dampening": d.u(0.1, 0.9)},
        ),
        (N_("Nesterov momentum"), {"lr": d.lr(), "momentum": d.u(0.5, 0.95), "nesterov": True}),
        (N_("weight decay"), {"lr": d.lr(), "weight_decay": d.u(0.05, 0.5)}),
        (N_("maximize"), {"lr": d.lr(), "momentum": d.u(0.3, 0.9), "maximize": True}),
        (
            N_("all options"),
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
        (N_("defaults"), {}),
        (N_("lr_decay"), {"lr": d.lr(), "lr_decay": d.u(0.05, 0.5)}),
        (
            N_("initial_accumulator_value"),
            {"lr": d.lr(), "initial_accumulator_value": d.u(0.1, 2.0)},
        ),
        (N_("a large eps"), {"lr": d.lr(), "eps": d.lu(0.05, 0.5)}),
        (N_("weight decay"), {"lr": d.lr(), "weight_decay": d.u(0.05, 0.5)}),
        (N_("maximize"), {"lr": d.lr(), "maximize": True}),
        (
            N_("all options"),
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
        (N_("defaults"), {}),
        (N_("alpha"), {"lr": d.lr(), "alpha": d.u(0.5, 0.95)}),
        (N_("centered"), {"lr": d.lr(), "alpha": d.u(0.5, 0.95), "centered": True}),
        (N_("momentum"), {"lr": d.lr(), "momentum": d.u(0.3, 0.9)}),
        (N_("a large eps"), {"lr": d.lr(), "eps": d.lu(0.05, 0.5)}),
        (N_("weight decay"), {"lr": d.lr(), "weight_decay": d.u(0.05, 0.5)}),
        (N_("maximize"), {"lr": d.lr(), "maximize": True}),
        (
            N_("all options"),
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
        (N_("defaults"), {}),
        (N_("lr and rho"), {"lr": d.u(0.5, 2.0), "rho": d.u(0.5, 0.95)}),
        (N_("a large eps"), {"lr": d.u(0.5, 2.0), "eps": d.lu(1e-3, 0.1)}),
        (N_("weight decay"), {"lr": d.u(0.5, 2.0), "weight_decay": d.u(0.05, 0.5)}),
        (N_("maximize"), {"lr": d.u(0.5, 2.0), "maximize": True}),
        (
            N_("all options"),
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
        (N_("defaults"), {}),
        (N_("lr and betas"), {"lr": d.lr(), "betas": d.betas()}),
        (N_("a large eps"), {"lr": d.lr(), "eps": d.lu(0.05, 0.5)}),
        (N_("weight decay"), {"lr": d.lr(), "weight_decay": d.u(0.05, 0.5)}),
    ]
    if amsgrad:
        betas = (d.u(0.5, 0.9), d.u(0.3, 0.7))
        sets.append((N_("amsgrad"), {"lr": d.lr(), "betas": betas, "amsgrad": True}))
    sets.append((N_("maximize"), {"lr": d.lr(), "maximize": True}))
    everything = {"lr": d.lr(), "betas": d.betas(), "eps": d.lu(1e-3, 0.5)}
    everything |= {"weight_decay": d.u(0.05, 0.5)}
    if amsgrad:
        everything["amsgrad"] = True
    everything["maximize"] = d.coin()
    sets.append((N_("all options"), everything))
    return sets


def _adamax(d: _Draws) -> list[tuple[str, dict]]:
    return _adam(d, amsgrad=False)


def _asgd(d: _Draws) -> list[tuple[str, dict]]:
    return [
        (N_("defaults"), {}),
        (N_("lambd and alpha"), {"lr": d.lr(), "lambd": d.u(0.2, 2.0), "alpha": d.u(0.3, 1.0)}),
        (N_("averaging from t0"), {"lr": d.lr(), "t0": float(d.int(0, 2))}),
        (N_("weight decay"), {"lr": d.lr(), "weight_decay": d.u(0.05, 0.5)}),
        (N_("maximize"), {"lr": d.lr(), "maximize": True}),
        (
            N_("all options"),
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
        (N_("defaults"), {}),
        (N_("lr and etas"), {"lr": d.lr(), "etas": (d.u(0.2, 0.8), d.u(1.1, 2.0))}),
        (  # bounds that bind at the second step, whatever the gradients' signs: a step
            # size of 0.05 grows to 0.075 (above every max) or shrinks to 0.025 (below every
            # min), so an unclamped step size is seen in every run, public or hidden
            N_("tight step_sizes"),
            {"lr": 0.05, "etas": (0.5, 1.5), "step_sizes": (d.u(0.026, 0.04), d.u(0.055, 0.07))},
        ),
        (N_("maximize"), {"lr": d.lr(), "maximize": True}),
        (
            N_("all options"),
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
        (N_("defaults"), {}),
        (N_("lr and betas"), {"lr": d.lr(), "betas": d.betas()}),
        (N_("momentum_decay"), {"lr": d.lr(), "momentum_decay": d.lu(0.05, 2.0)}),
        (N_("a large eps"), {"lr": d.lr(), "eps": d.lu(0.05, 0.5)}),
        (N_("weight decay (L2)"), {"lr": d.lr(), "weight_decay": d.u(0.05, 0.5)}),
        (
            N_("decoupled weight decay"),
            {"lr": d.lr(), "weight_decay": d.u(0.05, 0.5), "decoupled_weight_decay": True},
        ),
        (N_("maximize"), {"lr": d.lr(), "maximize": True}),
        (
            N_("all options"),
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


def _radam(d: _Draws) -> list[tuple[str, dict]]:
    def rectified_betas() -> tuple[float, float]:  # rho_t passes 5 within the run
        return (d.u(0.5, 0.95), d.u(0.9, 0.999))

    return [
        (N_("defaults"), {}),
        (N_("lr and betas"), {"lr": d.lr(), "betas": rectified_betas()}),
        # With beta2 < 2/3 the approximated SMA never exceeds 5: plain momentum throughout.
        (
            N_("a small beta2 (never rectified)"),
            {"lr": d.lr(), "betas": (d.u(0.5, 0.9), d.u(0.3, 0.6))},
        ),
        (N_("a large eps"), {"lr": d.lr(), "eps": d.lu(0.05, 0.5)}),
        (N_("weight decay (L2)"), {"lr": d.lr(), "weight_decay": d.u(0.05, 0.5)}),
        (
            N_("decoupled weight decay"),
            {"lr": d.lr(), "weight_decay": d.u(0.05, 0.5), "decoupled_weight_decay": True},
        ),
        (N_("maximize"), {"lr": d.lr(), "maximize": True}),
        (
            N_("all options"),
            {
                "lr": d.lr(),
                "betas": rectified_betas(),
                "eps": d.lu(1e-3, 0.5),
                "weight_decay": d.u(0.05, 0.5),
                "decoupled_weight_decay": d.coin(),
                "maximize": d.coin(),
            },
        ),
    ]


def _adafactor(d: _Draws) -> list[tuple[str, dict]]:
    return [
        (N_("defaults"), {}),
        (N_("lr above 1/sqrt(t)"), {"lr": d.u(0.4, 1.5)}),
        (N_("beta2_decay"), {"lr": d.lr(), "beta2_decay": d.u(-1.0, -0.3)}),
        (N_("a large eps1"), {"lr": d.lr(), "eps": (d.u(0.3, 1.0), 1e-3)}),
        (N_("a large eps2"), {"lr": d.lr(), "eps": (None, d.u(1.5, 3.0))}),
        (N_("clipping threshold d"), {"lr": d.lr(), "d": d.u(1.0, 1.3)}),
        (N_("weight decay"), {"lr": d.lr(), "weight_decay": d.u(0.05, 0.5)}),
        (N_("maximize"), {"lr": d.lr(), "maximize": True}),
        (
            N_("all options"),
            {
                "lr": d.lr(),
                "beta2_decay": d.u(-1.0, -0.3),
                "eps": (d.u(0.05, 1.0) if d.coin() else None, d.u(0.5, 2.0)),
                "d": d.u(1.0, 1.5),
                "weight_decay": d.u(0.05, 0.5),
                "maximize": d.coin(),
            },
        ),
    ]


def _muon(d: _Draws) -> list[tuple[str, dict]]:
    # Newton–Schulz coefficients that keep the iteration bounded: torch's default, the one
    # torch's own tests use, and the classic cubic and quintic Newton–Schulz polynomials.
    # (Random ones can make the iteration blow up.)
    stable = [(3.4445, -4.775, 2.0315), (3.4, -4.7, 2.0), (1.5, -0.5, 0.0), (1.875, -1.25, 0.375)]

    def coefficients() -> tuple[float, float, float]:
        return stable[d.int(1, len(stable) - 1)]

    return [
        (N_("defaults"), {}),
        (N_("lr and weight decay"), {"lr": d.lr(), "weight_decay": d.u(0.0, 0.5)}),
        (N_("momentum"), {"lr": d.lr(), "momentum": d.u(0.5, 0.99)}),
        (N_("without Nesterov"), {"lr": d.lr(), "momentum": d.u(0.5, 0.99), "nesterov": False}),
        (N_("ns_steps"), {"lr": d.lr(), "ns_steps": d.int(1, 8)}),
        (N_("ns_coefficients"), {"lr": d.lr(), "ns_coefficients": coefficients()}),
        (N_("a large eps"), {"lr": d.lr(), "eps": d.u(20.0, 50.0)}),
        (N_("adjust_lr_fn original"), {"lr": d.lr(), "adjust_lr_fn": "original"}),
        (N_("adjust_lr_fn match_rms_adamw"), {"lr": d.lr(), "adjust_lr_fn": "match_rms_adamw"}),
        (
            N_("adjust_lr_fn spectral_unclamped"),
            {"lr": d.lr(), "adjust_lr_fn": "spectral_unclamped"},
        ),
        (
            N_("all options"),
            {
                "lr": d.lr(),
                "weight_decay": d.u(0.0, 0.5),
                "momentum": d.u(0.5, 0.99),
                "nesterov": d.coin(),
                "ns_coefficients": coefficients(),
                "eps": d.lu(1e-7, 30.0),
                "ns_steps": d.int(1, 8),
                "adjust_lr_fn": ["original", "match_rms_adamw", "spectral_unclamped"][d.int(0, 2)],
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
    "radam": _radam,
    "adafactor": _adafactor,
    "muon": _muon,
}


def optimizer_cases(name: str, seed: int | None = None, *, extra: int = 0) -> list[OptimCase]:
    """Runs for optimizer ``name`` (``"sgd"``, ``"adam"``, ...): its defaults, each option on
    its own, all options together, and ``extra`` more draws of all options.

    Every run but the one at the defaults changes its learning rate twice part-way.
    ``seed=None`` (hidden checks) draws fresh shapes, hyper-parameters and step counts."""
    public = seed is not None
    gen, seed = generator(seed)
    spec = SPECS.get(name, Spec())
    draws = _Draws(gen, spec.lr)
    sets = HYPER_SETS[name](draws)
    for _ in range(extra):
        sets.append(HYPER_SETS[name](draws)[-1])
    cases = []
    for label, hyper in sets:
        steps = (
            spec.steps
            if public
            else int(
                torch.randint(spec.hidden_steps[0], spec.hidden_steps[1] + 1, (), generator=gen)
            )
        )
        lrs = None
        if "lr" in hyper:
            lrs = lr_schedule(gen, hyper["lr"], steps, public)
        cases.append(
            make_case(
                label, hyper, gen, seed, public=public, steps=steps, lrs=lrs, shapes=spec.shapes
            )
        )
    if spec.tiny:
        case = cases[0]
        grads = tuple(tuple(spec.tiny * g for g in step) for step in case.grads)
        tiny = tr("gradients of size {size}", size=f"{spec.tiny:g}")
        label = case.label.replace("defaults (", f"{tiny} (", 1)
        cases.append(replace(case, label=label, grads=grads))
    return cases


def with_hyper(cases: Iterable[OptimCase], **defaults: Any) -> list[OptimCase]:
    """The same runs, with ``defaults`` added where a run leaves that option out: to compare
    with an optimizer whose defaults differ (Adam's ``weight_decay`` is 0, AdamW's 0.01)."""
    return [replace(case, hyper={**defaults, **case.hyper}) for case in cases]


def schedule_cases(seed: int | None = None, *, momentum: float | None = None) -> list[OptimCase]:
    """SGD with momentum, at a constant learning rate and with the rate cut part-way."""
    public = seed is not None
    gen, seed = generator(seed)
    cases = []
    for kind, factor in ((N_("constant lr"), 1.0), (N_("lr cut"), 0.1), (N_("lr raised"), 3.0)):
        rho = momentum if momentum is not None else uniform(gen, 0.5, 0.95)
        lr = log_uniform(gen, 0.02, 0.2)
        steps = 8 if public else int(torch.randint(6, 11, (), generator=gen))
        change = 4 if public else int(torch.randint(2, steps - 1, (), generator=gen))
        lrs = [lr] * change + [lr * factor] * (steps - change)
        label = f"{kind}: lr {lr:.4g} for {change} steps, then {lr * factor:.4g}"
        cases.append(make_case(label, {"momentum": rho}, gen, seed, public=public, lrs=lrs))
    return cases
