"""Checks for hand-written optimizers: every step compared with ``torch.optim``.

A student's optimizer is a *step function* with explicit state::

    sgd_step(param, grad, state, *, lr=1e-3, momentum=0, ...)

It updates ``param`` in place and keeps whatever it needs between steps in the dict
``state`` (empty before the first step). :func:`check_optimizer` runs it for several steps
on a few random parameters and gradients, next to the real ``torch.optim`` class with the
same hyper-parameters (in float64), and compares the parameters after *every* step.

The module also holds the cases (random hyper-parameters covering every option of each
optimizer), a few wrong step functions that name common mistakes, and the checks of the
optimizer-API exercises (``zero_grad``/``step``, parameter groups, ``state_dict``).
"""

from __future__ import annotations

import contextlib
import io
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import torch

from .checks import (
    CheckFailed,
    _refuse_if_tampered,
    call_quietly,
    compare,
    describe,
    generator,
)
from .forbid import forbid_calls

_float64 = torch.float64
_clone = torch.Tensor.clone
_detach = torch.Tensor.detach
_equal = torch.equal
_Tensor = torch.Tensor
_Optimizer = torch.optim.Optimizer

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


@contextlib.contextmanager
def _default_float64():
    """Let torch.optim keep its scalar state (ASGD's eta, NAdam's mu product) in float64."""
    old = torch.get_default_dtype()
    torch.set_default_dtype(_float64)
    try:
        yield
    finally:
        torch.set_default_dtype(old)


# ----------------------------------------------------------------------------- inputs


def _uniform(gen: torch.Generator, low: float, high: float) -> float:
    return low + (high - low) * float(torch.rand((), generator=gen, dtype=_float64))


def _log_uniform(gen: torch.Generator, low: float, high: float) -> float:
    return math.exp(_uniform(gen, math.log(low), math.log(high)))


def _coin(gen: torch.Generator) -> bool:
    return bool(torch.rand((), generator=gen) < 0.5)


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


def _lr(gen: torch.Generator, low: float = 1e-2, high: float = 0.3) -> float:
    return _log_uniform(gen, low, high)


def _betas(gen: torch.Generator) -> tuple[float, float]:
    return (_uniform(gen, 0.5, 0.95), _uniform(gen, 0.6, 0.99))


def _hyper_sets(name: str, gen: torch.Generator) -> list[tuple[str, dict]]:
    """Hyper-parameter sets that exercise every option of optimizer ``name``."""
    u, lu, lr, coin = (
        lambda a, b: _uniform(gen, a, b),
        lambda a, b: _log_uniform(gen, a, b),
        lambda: _lr(gen),
        lambda: _coin(gen),
    )
    if name == "sgd":
        nesterov = coin()
        return [
            ("defaults", {}),
            ("momentum", {"lr": lr(), "momentum": u(0.5, 0.95)}),
            (
                "momentum and dampening",
                {"lr": lr(), "momentum": u(0.5, 0.95), "dampening": u(0.1, 0.9)},
            ),
            ("Nesterov momentum", {"lr": lr(), "momentum": u(0.5, 0.95), "nesterov": True}),
            ("weight decay", {"lr": lr(), "weight_decay": u(0.05, 0.5)}),
            ("maximize", {"lr": lr(), "momentum": u(0.3, 0.9), "maximize": True}),
            (
                "all options",
                {
                    "lr": lr(),
                    "momentum": u(0.3, 0.95),
                    "dampening": 0.0 if nesterov else u(0.1, 0.9),
                    "weight_decay": u(0.05, 0.5),
                    "nesterov": nesterov,
                    "maximize": True,
                },
            ),
        ]
    if name == "adagrad":
        return [
            ("defaults", {}),
            ("lr_decay", {"lr": lr(), "lr_decay": u(0.05, 0.5)}),
            ("initial_accumulator_value", {"lr": lr(), "initial_accumulator_value": u(0.1, 2.0)}),
            ("a large eps", {"lr": lr(), "eps": lu(0.05, 0.5)}),
            ("weight decay", {"lr": lr(), "weight_decay": u(0.05, 0.5)}),
            ("maximize", {"lr": lr(), "maximize": True}),
            (
                "all options",
                {
                    "lr": lr(),
                    "lr_decay": u(0.05, 0.5),
                    "weight_decay": u(0.05, 0.5),
                    "initial_accumulator_value": u(0.1, 2.0),
                    "eps": lu(1e-3, 0.5),
                    "maximize": coin(),
                },
            ),
        ]
    if name == "rmsprop":
        return [
            ("defaults", {}),
            ("alpha", {"lr": lr(), "alpha": u(0.5, 0.95)}),
            ("centered", {"lr": lr(), "alpha": u(0.5, 0.95), "centered": True}),
            ("momentum", {"lr": lr(), "momentum": u(0.3, 0.9)}),
            ("a large eps", {"lr": lr(), "eps": lu(0.05, 0.5)}),
            ("weight decay", {"lr": lr(), "weight_decay": u(0.05, 0.5)}),
            ("maximize", {"lr": lr(), "maximize": True}),
            (
                "all options",
                {
                    "lr": lr(),
                    "alpha": u(0.5, 0.95),
                    "eps": lu(1e-3, 0.5),
                    "weight_decay": u(0.05, 0.5),
                    "momentum": u(0.3, 0.9),
                    "centered": True,
                    "maximize": coin(),
                },
            ),
        ]
    if name == "adadelta":
        return [
            ("defaults", {}),
            ("lr and rho", {"lr": u(0.5, 2.0), "rho": u(0.5, 0.95)}),
            ("a large eps", {"eps": lu(1e-3, 0.1)}),
            ("weight decay", {"weight_decay": u(0.05, 0.5)}),
            ("maximize", {"maximize": True}),
            (
                "all options",
                {
                    "lr": u(0.5, 2.0),
                    "rho": u(0.5, 0.95),
                    "eps": lu(1e-4, 0.1),
                    "weight_decay": u(0.05, 0.5),
                    "maximize": coin(),
                },
            ),
        ]
    if name in ("adam", "adamw"):
        return [
            ("defaults", {}),
            ("lr and betas", {"lr": lr(), "betas": _betas(gen)}),
            ("a large eps", {"lr": lr(), "eps": lu(0.05, 0.5)}),
            ("weight decay", {"lr": lr(), "weight_decay": u(0.05, 0.5)}),
            ("amsgrad", {"lr": lr(), "betas": (u(0.5, 0.9), u(0.3, 0.7)), "amsgrad": True}),
            ("maximize", {"lr": lr(), "maximize": True}),
            (
                "all options",
                {
                    "lr": lr(),
                    "betas": _betas(gen),
                    "eps": lu(1e-3, 0.5),
                    "weight_decay": u(0.05, 0.5),
                    "amsgrad": True,
                    "maximize": coin(),
                },
            ),
        ]
    if name == "adamax":
        return [
            ("defaults", {}),
            ("lr and betas", {"lr": lr(), "betas": _betas(gen)}),
            ("a large eps", {"lr": lr(), "eps": lu(0.05, 0.5)}),
            ("weight decay", {"lr": lr(), "weight_decay": u(0.05, 0.5)}),
            ("maximize", {"lr": lr(), "maximize": True}),
            (
                "all options",
                {
                    "lr": lr(),
                    "betas": _betas(gen),
                    "eps": lu(1e-3, 0.5),
                    "weight_decay": u(0.05, 0.5),
                    "maximize": coin(),
                },
            ),
        ]
    if name == "asgd":
        return [
            ("defaults", {}),
            ("lambd and alpha", {"lr": lr(), "lambd": u(0.2, 2.0), "alpha": u(0.3, 1.0)}),
            (
                "averaging from t0",
                {"lr": lr(), "t0": float(torch.randint(0, 3, (), generator=gen))},
            ),
            ("weight decay", {"lr": lr(), "weight_decay": u(0.05, 0.5)}),
            ("maximize", {"lr": lr(), "maximize": True}),
            (
                "all options",
                {
                    "lr": lr(),
                    "lambd": u(0.2, 2.0),
                    "alpha": u(0.3, 1.0),
                    "t0": u(0.0, 3.0),
                    "weight_decay": u(0.05, 0.5),
                    "maximize": coin(),
                },
            ),
        ]
    if name == "rprop":
        return [
            ("defaults", {}),
            ("lr and etas", {"lr": lr(), "etas": (u(0.2, 0.8), u(1.1, 2.0))}),
            (
                "tight step_sizes",
                {"lr": 0.05, "etas": (0.5, 1.5), "step_sizes": (u(0.02, 0.04), u(0.06, 0.1))},
            ),
            ("maximize", {"lr": lr(), "maximize": True}),
            (
                "all options",
                {
                    "lr": lr(),
                    "etas": (u(0.2, 0.8), u(1.1, 2.0)),
                    "step_sizes": (lu(1e-3, 1e-2), u(0.05, 0.2)),
                    "maximize": coin(),
                },
            ),
        ]
    if name == "nadam":
        return [
            ("defaults", {}),
            ("lr and betas", {"lr": lr(), "betas": _betas(gen)}),
            ("momentum_decay", {"lr": lr(), "momentum_decay": lu(0.05, 2.0)}),
            ("a large eps", {"lr": lr(), "eps": lu(0.05, 0.5)}),
            ("weight decay (L2)", {"lr": lr(), "weight_decay": u(0.05, 0.5)}),
            (
                "decoupled weight decay",
                {"lr": lr(), "weight_decay": u(0.05, 0.5), "decoupled_weight_decay": True},
            ),
            ("maximize", {"lr": lr(), "maximize": True}),
            (
                "all options",
                {
                    "lr": lr(),
                    "betas": _betas(gen),
                    "eps": lu(1e-3, 0.5),
                    "weight_decay": u(0.05, 0.5),
                    "momentum_decay": lu(0.05, 2.0),
                    "decoupled_weight_decay": coin(),
                    "maximize": coin(),
                },
            ),
        ]
    raise KeyError(name)


def optimizer_cases(name: str, seed: int | None = None, *, extra: int = 0) -> list[OptimCase]:
    """Runs for optimizer ``name`` (``"sgd"``, ``"adam"``, ...): its defaults, each option on
    its own, all options together, and ``extra`` more draws of all options.

    ``seed=None`` (hidden checks) draws fresh shapes, hyper-parameters and step counts."""
    public = seed is not None
    gen, seed = generator(seed)
    sets = _hyper_sets(name, gen)
    for _ in range(extra):
        sets.append(_hyper_sets(name, gen)[-1])
    return [make_case(label, hyper, gen, seed, public=public) for label, hyper in sets]


def schedule_cases(seed: int | None = None, *, momentum: float | None = None) -> list[OptimCase]:
    """SGD with momentum, at a constant learning rate and with the rate cut part-way."""
    public = seed is not None
    gen, seed = generator(seed)
    cases = []
    for kind in ("constant lr", "lr cut", "lr raised"):
        rho = momentum if momentum is not None else _uniform(gen, 0.5, 0.95)
        lr = _lr(gen, 0.02, 0.2)
        steps = 8 if public else int(torch.randint(6, 11, (), generator=gen))
        change = 4 if public else int(torch.randint(2, steps - 1, (), generator=gen))
        factor = {"constant lr": 1.0, "lr cut": 0.1, "lr raised": 3.0}[kind]
        lrs = [lr] * change + [lr * factor] * (steps - change)
        label = f"{kind}: lr {lr:.4g} for {change} steps, then {lr * factor:.4g}"
        cases.append(make_case(label, {"momentum": rho}, gen, seed, public=public, lrs=lrs))
    return cases


# ----------------------------------------------------------------------------- running


def _run_torch(cls: type, case: OptimCase, state_keys: tuple[str, ...]) -> list[list[dict]]:
    """After each step, each parameter's value and the requested state entries."""
    with _default_float64():
        params = [_clone(p).requires_grad_(True) for p in case.params]
        hyper = dict(case.hyper)
        if case.lrs is not None:
            hyper["lr"] = case.lrs[0]
        optimizer = cls(params, **hyper)
        path = []
        for step, grads in enumerate(case.grads):
            for group in optimizer.param_groups:
                group.update(case.lr_at(step))
            for p, g in zip(params, grads, strict=True):
                p.grad = _clone(g)
            optimizer.step()
            path.append(
                [
                    {"param": _clone(_detach(p))}
                    | {k: _clone(optimizer.state[p][k]) for k in state_keys}
                    for p in params
                ]
            )
    return path


def _run_step_fn(
    step_fn: Callable, case: OptimCase, state_keys: tuple[str, ...], quiet: bool = False
) -> Iterable[tuple[int, int, torch.Tensor, dict, dict]]:
    """Yield (step, index, param before, param after, state) as a step function runs."""
    params = [_clone(p) for p in case.params]
    states: list[dict] = [{} for _ in params]
    call = call_quietly if quiet else (lambda fn, *a, **k: fn(*a, **k))
    for step, grads in enumerate(case.grads):
        hyper = dict(case.hyper) | case.lr_at(step)
        for index, (p, g, state) in enumerate(zip(params, grads, states, strict=True)):
            before = _clone(p)
            call(step_fn, p, _clone(g), state, **hyper)
            yield step, index, before, p, state


def reference_path(reference: Any, case: OptimCase, state_keys=()) -> list[list[dict]]:
    """The path of a torch optimizer class or of a (reference) step function."""
    if isinstance(reference, type) and issubclass(reference, _Optimizer):
        return _run_torch(reference, case, tuple(state_keys))
    path: list[list[dict]] = [[] for _ in range(case.steps)]
    for step, _, _, p, state in _run_step_fn(reference, case, tuple(state_keys)):
        path[step].append({"param": _clone(p)} | {k: _clone(state[k]) for k in state_keys})
    return path


def _name(reference: Any) -> str:
    if isinstance(reference, type):
        return f"torch.optim.{reference.__name__}"
    return getattr(reference, "__name__", "the reference")


def check_optimizer(
    step_fn: Callable,
    reference: Any,
    cases: Iterable[OptimCase],
    *,
    public: bool = True,
    forbid: Iterable[str] = (),
    mistakes: Mapping[str, Callable] | None = None,
    state_keys: Iterable[str] = (),
    rtol: float = 1e-8,
    atol: float = 1e-10,
) -> None:
    """Run ``step_fn`` and ``reference`` (a ``torch.optim`` class or a step function) side by
    side on every case, comparing every parameter after every step.

    ``state_keys`` names state entries that must match torch's too (ASGD's average ``ax``
    never touches the parameter). ``mistakes`` maps a mistake's name to a wrong step
    function: a failure that matches one is told so by name.
    """
    kind = "Public check" if public else "Hidden check"
    _refuse_if_tampered(kind)
    name = getattr(step_fn, "__name__", "your step function")
    if not callable(step_fn):
        raise CheckFailed(f"{kind}: {name} should be a function, got {describe(step_fn)}")
    forbid = tuple(forbid)
    if forbid:
        problem = forbid_calls(step_fn, forbid)
        if problem:
            raise CheckFailed(f"{kind}: {name} {problem}")
    state_keys = tuple(state_keys)
    count = 0
    for count, case in enumerate(cases, start=1):  # noqa: B007
        expected = reference_path(reference, case, state_keys)
        runs = _run_step_fn(step_fn, case, state_keys, quiet=True)
        while True:
            try:
                step, index, before, got, state = next(runs)
            except StopIteration:
                break
            except NotImplementedError:
                raise CheckFailed(f"{kind}: {name} is not implemented yet.") from None
            except Exception as error:
                raise CheckFailed(
                    f"{kind} '{case.label}' failed: {name} raised {type(error).__name__}: {error}"
                ) from None
            want = expected[step][index]
            where = (
                f"{kind} '{case.label}' failed at step {step + 1} of {case.steps}, "
                f"parameter {index + 1} of {len(case.params)} (shape {tuple(before.shape)})"
            )
            problem = compare(got, want["param"], rtol=rtol, atol=atol)
            if problem:
                message = (
                    f"{where}:\n  param {problem}\n"
                    f"  expected ({_name(reference)}): {describe(want['param'])}\n"
                    f"  got:      {describe(got)}\n  (tolerance: rtol={rtol:g}, atol={atol:g})"
                )
                if _tiny_difference(got, want["param"]):
                    message += (
                        "\n  The difference is tiny but real: is a float32 number hiding in your "
                        "computation? (torch.tensor(0.5) and torch.where(c, 0.5, 1.0) are float32; "
                        "use Python numbers or tensors made with dtype=param.dtype.)"
                    )
                if _equal(got, before) and not _equal(want["param"], before):
                    message += (
                        "\n  Your function left `param` unchanged: update it in place "
                        "(param.add_(...), param.sub_(...), param -= ...), do not rebind it."
                    )
                mistake = _matching_mistake(got, case, step, index, mistakes, rtol, atol)
                if mistake:
                    message += f"\n  This matches a known mistake: {mistake}."
                raise CheckFailed(message)
            for key in state_keys:
                if not isinstance(state, dict) or key not in state:
                    raise CheckFailed(f"{where}: keep the state entry {key!r} in `state`.")
                problem = compare(state[key], want[key], rtol=rtol, atol=atol, dtype=False)
                if problem:
                    raise CheckFailed(
                        f"{where}:\n  state[{key!r}] {problem}\n"
                        f"  expected: {describe(want[key])}\n  got:      {describe(state[key])}"
                    )
    if count == 0:
        raise CheckFailed(f"{kind}: no cases were given for {name} (a bug in the course).")
    _refuse_if_tampered(kind)


def _tiny_difference(got: Any, want: torch.Tensor) -> bool:
    if not isinstance(got, _Tensor) or got.shape != want.shape or got.dtype != want.dtype:
        return False
    return bool(torch.allclose(_detach(got), want, rtol=1e-6, atol=1e-8))


def _matching_mistake(got, case, step, index, mistakes, rtol, atol) -> str | None:
    for mistake, wrong in (mistakes or {}).items():
        try:
            value = reference_path(wrong, case)[step][index]["param"]
        except Exception:
            continue
        if compare(got, value, rtol=rtol, atol=atol, dtype=False) is None:
            return mistake
    return None


# ------------------------------------------------------------------ wrong step functions
# Each is one named mistake, used to tell a student which error their numbers show.


def sgd_dampened_first_step(
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
    """SGD whose first momentum step is dampened too (torch starts the buffer at the grad)."""
    g = -grad if maximize else grad
    g = g + weight_decay * param
    if momentum != 0:
        buf = state.get("momentum_buffer", torch.zeros_like(param))
        buf = momentum * buf + (1 - dampening) * g
        state["momentum_buffer"] = buf
        g = g + momentum * buf if nesterov else buf
    param.sub_(lr * g)


def sgd_no_nesterov(
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
    """SGD that ignores ``nesterov``."""
    g = -grad if maximize else grad
    g = g + weight_decay * param
    if momentum != 0:
        if "momentum_buffer" not in state:
            state["momentum_buffer"] = g.clone()
        else:
            state["momentum_buffer"] = momentum * state["momentum_buffer"] + (1 - dampening) * g
        g = state["momentum_buffer"]
    param.sub_(lr * g)


def _adam_like(
    param,
    grad,
    state,
    *,
    lr,
    betas,
    eps,
    weight_decay,
    amsgrad,
    maximize,
    bias_correction=True,
    eps_inside=False,
    decoupled=False,
):
    g = -grad if maximize else grad
    if decoupled:
        param.mul_(1 - lr * weight_decay)
    else:
        g = g + weight_decay * param
    b1, b2 = betas
    t = state["step"] = state.get("step", 0) + 1
    m = state["exp_avg"] = b1 * state.get("exp_avg", torch.zeros_like(param)) + (1 - b1) * g
    v = state["exp_avg_sq"] = (
        b2 * state.get("exp_avg_sq", torch.zeros_like(param)) + (1 - b2) * g * g
    )
    if amsgrad:
        v = state["max"] = torch.maximum(state.get("max", torch.zeros_like(param)), v)
    bc1, bc2 = (1 - b1**t, 1 - b2**t) if bias_correction else (1.0, 1.0)
    denom = (v / bc2 + eps).sqrt() if eps_inside else (v / bc2).sqrt() + eps
    param.sub_(lr * (m / bc1) / denom)


def adam_no_bias_correction(
    param,
    grad,
    state,
    *,
    lr=1e-3,
    betas=(0.9, 0.999),
    eps=1e-8,
    weight_decay=0,
    amsgrad=False,
    maximize=False,
):
    """Adam without the bias corrections 1 - beta^t."""
    _adam_like(
        param,
        grad,
        state,
        lr=lr,
        betas=betas,
        eps=eps,
        weight_decay=weight_decay,
        amsgrad=amsgrad,
        maximize=maximize,
        bias_correction=False,
    )


def adam_eps_inside_sqrt(
    param,
    grad,
    state,
    *,
    lr=1e-3,
    betas=(0.9, 0.999),
    eps=1e-8,
    weight_decay=0,
    amsgrad=False,
    maximize=False,
):
    """Adam with eps added under the square root instead of after it."""
    _adam_like(
        param,
        grad,
        state,
        lr=lr,
        betas=betas,
        eps=eps,
        weight_decay=weight_decay,
        amsgrad=amsgrad,
        maximize=maximize,
        eps_inside=True,
    )


def adam_decoupled(
    param,
    grad,
    state,
    *,
    lr=1e-3,
    betas=(0.9, 0.999),
    eps=1e-8,
    weight_decay=0,
    amsgrad=False,
    maximize=False,
):
    """Adam with AdamW's decoupled weight decay instead of the L2 penalty."""
    _adam_like(
        param,
        grad,
        state,
        lr=lr,
        betas=betas,
        eps=eps,
        weight_decay=weight_decay,
        amsgrad=amsgrad,
        maximize=maximize,
        decoupled=True,
    )


def adamw_as_l2(
    param,
    grad,
    state,
    *,
    lr=1e-3,
    betas=(0.9, 0.999),
    eps=1e-8,
    weight_decay=1e-2,
    amsgrad=False,
    maximize=False,
):
    """AdamW whose weight decay is added to the gradient (that is Adam's L2 penalty)."""
    _adam_like(
        param,
        grad,
        state,
        lr=lr,
        betas=betas,
        eps=eps,
        weight_decay=weight_decay,
        amsgrad=amsgrad,
        maximize=maximize,
    )


def sgd_other_convention(param, grad, state, *, lr, momentum):
    """The "other frameworks" momentum: v = rho*v + lr*g; p = p - v."""
    v = state.get("velocity", torch.zeros_like(param))
    v = momentum * v + lr * grad
    state["velocity"] = v
    param.sub_(v)


SGD_MISTAKES = {
    "the first momentum step dampened (torch starts the buffer at the gradient)": (
        sgd_dampened_first_step
    ),
    "nesterov ignored": sgd_no_nesterov,
}
ADAM_MISTAKES = {
    "no bias correction": adam_no_bias_correction,
    "eps added under the square root": adam_eps_inside_sqrt,
    "decoupled weight decay (that is AdamW) instead of Adam's L2 penalty": adam_decoupled,
}
ADAMW_MISTAKES = {
    "weight decay added to the gradient (Adam's L2 penalty), not decoupled": adamw_as_l2,
    "no bias correction": adam_no_bias_correction,
}


# ------------------------------------------------------------------ optimizer-API checks


@dataclass
class _Inputs:
    """A small least-squares problem: ``loss(w) = mean((x @ w - y)**2)``."""

    x: torch.Tensor
    y: torch.Tensor
    w: torch.Tensor

    def loss_grad(self, w: torch.Tensor) -> torch.Tensor:
        """The gradient worked out by hand: 2/n X^T (X w - y)."""
        return 2.0 / self.x.shape[0] * self.x.T @ (self.x @ w - self.y)

    def loss(self, w: torch.Tensor) -> torch.Tensor:
        return ((self.x @ w - self.y) ** 2).mean()


def _least_squares(gen: torch.Generator, n: int | None = None, d: int | None = None) -> _Inputs:
    n = n or int(torch.randint(4, 12, (), generator=gen))
    d = d or int(torch.randint(2, 5, (), generator=gen))
    x = torch.randn(n, d, generator=gen, dtype=_float64)
    y = torch.randn(n, generator=gen, dtype=_float64)
    w = torch.randn(d, generator=gen, dtype=_float64)
    return _Inputs(x, y, w)


def _leaf(t: torch.Tensor) -> torch.Tensor:
    return _clone(_detach(t)).requires_grad_(True)


def _call(kind: str, fn: Callable, label: str, *args, **kwargs) -> Any:
    name = getattr(fn, "__name__", "your function")
    if not callable(fn):
        raise CheckFailed(f"{kind}: {name} should be a function, got {describe(fn)}")
    try:
        return call_quietly(fn, *args, **kwargs)
    except NotImplementedError:
        raise CheckFailed(f"{kind}: {name} is not implemented yet.") from None
    except Exception as error:
        raise CheckFailed(
            f"{kind} '{label}' failed: {name} raised {type(error).__name__}: {error}"
        ) from None


def _expect(
    kind: str,
    label: str,
    what: str,
    got: Any,
    want: Any,
    *,
    rtol=1e-10,
    atol=1e-12,
    mistakes: Mapping[str, Any] | None = None,
) -> None:
    problem = compare(got, want, rtol=rtol, atol=atol, dtype=False)
    if problem:
        message = (
            f"{kind} '{label}' failed: {what}: {problem}\n"
            f"  expected: {describe(want)}\n  got:      {describe(got)}"
        )
        for mistake, wrong in (mistakes or {}).items():
            if wrong is not None and compare(got, wrong, rtol=rtol, atol=atol, dtype=False) is None:
                message += f"\n  This matches a known mistake: {mistake}."
                break
        raise CheckFailed(message)


def check_fit_line(student: Callable, seed: int | None, *, public: bool = True, draws: int = 3):
    """``student(w, x, y, *, lr, steps)`` runs SGD on ``mean((x @ w - y)**2)`` with
    ``zero_grad``/``backward``/``step``; it returns the loss before each step and leaves the
    trained weights in ``w``. The expected numbers come from the gradient worked out by hand.
    """
    kind = "Public check" if public else "Hidden check"
    _refuse_if_tampered(kind)
    gen, seed = generator(seed)
    for _ in range(draws):
        data = _least_squares(gen)
        lr = _log_uniform(gen, 0.01, 0.1)
        steps = int(torch.randint(3, 8, (), generator=gen))
        label = f"x {tuple(data.x.shape)}, lr={lr:.4g}, steps={steps}, seed {seed}"
        w_ref, w_acc, acc = _clone(data.w), _clone(data.w), torch.zeros_like(data.w)
        losses, losses_acc = [], []
        for _ in range(steps):
            losses.append(float(data.loss(w_ref)))
            w_ref = w_ref - lr * data.loss_grad(w_ref)
            losses_acc.append(float(data.loss(w_acc)))
            acc = acc + data.loss_grad(w_acc)
            w_acc = w_acc - lr * acc
        w = _leaf(data.w)
        got = _call(kind, student, label, w, data.x, data.y, lr=lr, steps=steps)
        if isinstance(got, _Tensor):
            got = [float(v) for v in _detach(got).reshape(-1)]
        forgot = {"gradients accumulated: zero_grad() was not called": losses_acc}
        _expect(kind, label, "the losses returned", got, losses, mistakes=forgot)
        _expect(
            kind,
            label,
            "the weights left in w",
            _detach(w),
            w_ref,
            mistakes={"gradients accumulated: zero_grad() was not called": w_acc},
        )
    _refuse_if_tampered(kind)


def check_param_groups(student: Callable, seed: int | None, *, public: bool = True):
    """``student(w1, w2, loss_fn, *, lr, lr2, momentum, steps)`` trains ``w1`` at ``lr`` and
    ``w2`` (added with ``add_param_group``) at ``lr2`` and returns the optimizer. The truth is
    two separate optimizers, one per tensor."""
    kind = "Public check" if public else "Hidden check"
    _refuse_if_tampered(kind)
    gen, seed = generator(seed)
    for _ in range(3):
        a = _least_squares(gen)
        b = _least_squares(gen, n=a.x.shape[0])
        lr, lr2 = _log_uniform(gen, 0.01, 0.1), _log_uniform(gen, 1e-3, 0.3)
        momentum = _uniform(gen, 0.5, 0.95)
        steps = int(torch.randint(3, 7, (), generator=gen))
        label = f"lr={lr:.4g}, lr2={lr2:.4g}, momentum={momentum:.3g}, steps={steps}, seed {seed}"

        def loss_fn(w1, w2, a=a, b=b):
            return (((a.x @ w1) * (b.x @ w2) - a.y) ** 2).mean()

        r1, r2 = _leaf(a.w), _leaf(b.w)
        opt1 = torch.optim.SGD([r1], lr=lr, momentum=momentum)
        opt2 = torch.optim.SGD([r2], lr=lr2, momentum=momentum)
        for _ in range(steps):
            opt1.zero_grad()
            opt2.zero_grad()
            loss_fn(r1, r2).backward()
            opt1.step()
            opt2.step()
        # The mistake: both tensors trained at lr.
        s1, s2 = _leaf(a.w), _leaf(b.w)
        same = torch.optim.SGD([s1, s2], lr=lr, momentum=momentum)
        for _ in range(steps):
            same.zero_grad()
            loss_fn(s1, s2).backward()
            same.step()
        w1, w2 = _leaf(a.w), _leaf(b.w)
        optimizer = _call(
            kind, student, label, w1, w2, loss_fn, lr=lr, lr2=lr2, momentum=momentum, steps=steps
        )
        if not isinstance(optimizer, torch.optim.SGD):
            raise CheckFailed(
                f"{kind} '{label}' failed: return the torch.optim.SGD optimizer, got "
                f"{describe(optimizer)}"
            )
        groups = optimizer.param_groups
        lrs = [g.get("lr") for g in groups]
        _expect(kind, label, "the learning rate of each param group", lrs, [lr, lr2])
        for i, group in enumerate(groups):
            _expect(kind, label, f"group {i}'s momentum", group.get("momentum"), momentum)
            params = group.get("params", [])
            if len(params) != 1 or params[0] is not (w1, w2)[i]:
                raise CheckFailed(
                    f"{kind} '{label}' failed: param group {i} should hold exactly "
                    f"{'w1' if i == 0 else 'w2'} (the tensor you were given)."
                )
        _expect(kind, label, "w1 after training", _detach(w1), _detach(r1))
        _expect(
            kind,
            label,
            "w2 after training",
            _detach(w2),
            _detach(r2),
            mistakes={"w2 trained at lr instead of lr2": _detach(s2)},
        )
    _refuse_if_tampered(kind)


def check_resume(student: Callable, seed: int | None, *, public: bool = True):
    """``student(w, loss_fn, *, lr, momentum, steps, stop)`` trains for ``stop`` steps, saves
    the optimizer's ``state_dict`` with ``torch.save``, loads it into a fresh optimizer, trains
    the remaining steps and returns the checkpoint's bytes.
    ``w`` must end exactly where an uninterrupted run ends."""
    kind = "Public check" if public else "Hidden check"
    _refuse_if_tampered(kind)
    gen, seed = generator(seed)
    for _ in range(2):
        data = _least_squares(gen)
        lr, momentum = _log_uniform(gen, 0.01, 0.1), _uniform(gen, 0.5, 0.95)
        stop = 10
        steps = stop + int(torch.randint(3, 8, (), generator=gen))
        label = f"lr={lr:.4g}, momentum={momentum:.3g}, stop={stop}, steps={steps}, seed {seed}"

        def run(restart: bool, data=data, lr=lr, momentum=momentum, steps=steps, stop=stop):
            w = _leaf(data.w)
            opt = torch.optim.SGD([w], lr=lr, momentum=momentum)
            saved = None
            for i in range(steps):
                if i == stop:
                    saved = {"buf": _clone(opt.state[w]["momentum_buffer"])}
                    if restart:
                        opt = torch.optim.SGD([w], lr=lr, momentum=momentum)
                opt.zero_grad()
                data.loss(w).backward()
                opt.step()
            return _detach(w), saved

        (w_ref, saved), (w_lost, _) = run(False), run(True)
        w = _leaf(data.w)
        checkpoint = _call(
            kind, student, label, w, data.loss, lr=lr, momentum=momentum, steps=steps, stop=stop
        )
        if not isinstance(checkpoint, bytes):
            raise CheckFailed(
                f"{kind} '{label}' failed: return the bytes of the checkpoint you saved with "
                f"torch.save (buffer.getvalue()), got {describe(checkpoint)}"
            )
        try:
            state = torch.load(io.BytesIO(checkpoint))
        except Exception as error:
            raise CheckFailed(
                f"{kind} '{label}' failed: torch.load cannot read the bytes you returned "
                f"({type(error).__name__}: {error})"
            ) from None
        if not isinstance(state, dict) or "state" not in state or "param_groups" not in state:
            raise CheckFailed(
                f"{kind} '{label}' failed: the checkpoint should hold optimizer.state_dict(), "
                f"found {describe(state)}"
            )
        try:
            buffers = [s["momentum_buffer"] for s in state["state"].values()]
        except (KeyError, TypeError, AttributeError):
            buffers = []
        if len(buffers) != 1:
            raise CheckFailed(
                f"{kind} '{label}' failed: the saved state dict should hold one momentum "
                f"buffer, found {describe(state.get('state'))}"
            )
        _expect(
            kind,
            label,
            f"the momentum buffer saved after {stop} steps",
            buffers[0],
            saved["buf"],
            rtol=0,
            atol=0,
        )
        groups = state["param_groups"]
        _expect(kind, label, "the saved lr", groups[0].get("lr"), lr, rtol=0, atol=0)
        _expect(
            kind, label, "the saved momentum", groups[0].get("momentum"), momentum, rtol=0, atol=0
        )
        _expect(
            kind,
            label,
            "w after the resumed run (must equal an uninterrupted run exactly)",
            _detach(w),
            w_ref,
            rtol=0,
            atol=0,
            mistakes={"the state was not loaded: momentum restarted from zero": w_lost},
        )
    _refuse_if_tampered(kind)


# ------------------------------------------------------------------ learning-rate schedulers

SCHEDULERS = {
    "step_lr": "StepLR",
    "exponential_lr": "ExponentialLR",
    "cosine_annealing_lr": "CosineAnnealingLR",
}


def scheduler_lr(name: str, base_lr: float, epoch: int, **kwargs: Any) -> float:
    """The learning rate ``torch.optim.lr_scheduler`` gives after ``epoch`` scheduler steps."""
    cls = getattr(torch.optim.lr_scheduler, SCHEDULERS[name])
    probe = torch.zeros(1, requires_grad=True)
    optimizer = torch.optim.SGD([probe], lr=base_lr)
    scheduler = cls(optimizer, **kwargs)
    for _ in range(epoch):
        optimizer.step()  # no gradient: changes nothing, but keeps the call order torch expects
        scheduler.step()
    return float(scheduler.get_last_lr()[0])


def scheduler_cases(name: str, seed: int | None = None) -> list:
    """Cases ``(base_lr, epoch)`` with the scheduler's options, over a few periods."""
    from .checks import Case

    gen, seed = generator(seed)
    cases = []
    for draw in range(3):  # the first draw leaves the optional argument at its default
        base_lr = _log_uniform(gen, 1e-3, 1.0)
        if name == "step_lr":
            kwargs = {"step_size": int(torch.randint(1, 6, (), generator=gen))}
            if draw > 0:
                kwargs["gamma"] = _uniform(gen, 0.1, 0.9)
            last = 4 * kwargs["step_size"]
        elif name == "exponential_lr":
            kwargs = {"gamma": _uniform(gen, 0.5, 0.99)}
            last = 12
        else:
            kwargs = {"T_max": int(torch.randint(2, 10, (), generator=gen))}
            if draw > 0:
                kwargs["eta_min"] = base_lr * _uniform(gen, 0.01, 0.5)
            last = 2 * kwargs["T_max"] + 2
        for epoch in range(last + 1):
            label = f"base_lr={base_lr:.4g}, epoch {epoch}, {kwargs}, seed {seed}"
            cases.append(Case(label, (base_lr, epoch), kwargs))
    return cases


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
    kind = "Public check" if public else "Hidden check"
    _refuse_if_tampered(kind)
    gen, seed = generator(seed)
    for _ in range(3):
        point = 2 * torch.randn(2, generator=gen, dtype=_float64)
        label = f"xy = {describe(point)}, seed {seed}"
        xy = _leaf(point)
        optimizer = torch.optim.LBFGS([xy])
        closure = _call(kind, make_closure, label, optimizer, xy)
        if not callable(closure):
            raise CheckFailed(f"{kind} '{label}' failed: return the closure (a function)")
        xy.grad = torch.full_like(xy, 123.0)  # left over from an earlier step
        true_grad = rosenbrock_gradient(point)
        for call, stale in (("first", 123.0 + true_grad), ("second", 123.0 + 2 * true_grad)):
            loss = _call(kind, closure, label)
            what = f"the {call} call of your closure"
            _expect(kind, label, f"{what}: the loss it returns", loss, rosenbrock_value(point))
            grad = xy.grad
            if grad is None:
                raise CheckFailed(f"{kind} '{label}' failed: {what} left xy.grad empty")
            forgot = {"the old gradient was not cleared first (zero_grad)": stale}
            _expect(kind, label, f"{what}: xy.grad", _detach(grad), true_grad, mistakes=forgot)
    _refuse_if_tampered(kind)
