"""Running a step function next to ``torch.optim`` and comparing every step.

:func:`check_optimizer` runs the student's step function for several steps on the runs of
:mod:`.cases`, next to the real ``torch.optim`` class with the same hyper-parameters (in
float64), and compares the parameters after *every* step. A failure names the step, the
parameter and, when the wrong numbers match one, the known mistake. The gradient a step
function receives belongs to its caller (in ``torch.optim`` it is ``param.grad``, which the
training loop may still read): a step function that changes it in place fails, even when
its parameters come out right.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import torch

from ..checks import CheckFailed, begin_check, call_quietly, refuse_if_tampered, student_errors
from ..comparison import compare, describe
from .cases import OptimCase

_float64 = torch.float64
_clone = torch.Tensor.clone
_detach = torch.Tensor.detach
_equal = torch.equal
_Tensor = torch.Tensor
_Optimizer = torch.optim.Optimizer


@contextlib.contextmanager
def _default_float64():
    """Let torch.optim keep its scalar state (ASGD's eta, NAdam's mu product) in float64."""
    old = torch.get_default_dtype()
    torch.set_default_dtype(_float64)
    try:
        yield
    finally:
        torch.set_default_dtype(old)


def _run_torch(
    cls: type, case: OptimCase, state_keys: tuple[str, ...], torch_kwargs: Mapping[str, Any]
) -> list[list[dict]]:
    """After each step, each parameter's value and the requested state entries."""
    with _default_float64():
        params = [_clone(p).requires_grad_(True) for p in case.params]
        hyper = dict(case.hyper) | dict(torch_kwargs)
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


@dataclass
class _Step:
    """One call of a step function: where it ran, and what it left behind."""

    step: int
    index: int
    before: torch.Tensor  # the parameter before the call
    param: torch.Tensor  # the parameter after it
    state: dict
    grad_changed: bool  # whether the call changed its ``grad`` argument in place


def _run_step_fn(step_fn: Callable, case: OptimCase, quiet: bool = False) -> Iterator[_Step]:
    """Yield each call's :class:`_Step` as a step function runs."""
    params = [_clone(p) for p in case.params]
    states: list[dict] = [{} for _ in params]
    call: Callable[..., Any] = call_quietly if quiet else (lambda fn, *a, **k: fn(*a, **k))
    for step, grads in enumerate(case.grads):
        hyper = dict(case.hyper) | case.lr_at(step)
        for index, (p, g, state) in enumerate(zip(params, grads, states, strict=True)):
            before, given = _clone(p), _clone(g)
            call(step_fn, p, given, state, **hyper)
            changed = not (given.shape == g.shape and _equal(given, g))
            yield _Step(step, index, before, p, state, changed)


def reference_path(
    reference: Any, case: OptimCase, state_keys=(), torch_kwargs: Mapping[str, Any] | None = None
) -> list[list[dict]]:
    """The path of a torch optimizer class or of a (reference) step function."""
    if isinstance(reference, type) and issubclass(reference, _Optimizer):
        return _run_torch(reference, case, tuple(state_keys), torch_kwargs or {})
    path: list[list[dict]] = [[] for _ in range(case.steps)]
    for call in _run_step_fn(reference, case):
        path[call.step].append(
            {"param": _clone(call.param)} | {k: _clone(call.state[k]) for k in state_keys}
        )
    return path


def _name(reference: Any, torch_kwargs: Mapping[str, Any] | None = None) -> str:
    if isinstance(reference, type):
        options = ", ".join(f"{k}={v!r}" for k, v in (torch_kwargs or {}).items())
        return f"torch.optim.{reference.__name__}" + (f"({options})" if options else "")
    return getattr(reference, "__name__", "the reference")


GRAD_CHANGED = (
    "your function changed its `grad` argument in place (for example `grad.neg_()` for "
    "maximize, or `grad.add_(...)` for weight decay). The gradient belongs to the caller: "
    "in torch.optim it is `param.grad`, which the training loop may read again (to log its "
    "norm, to clip it, or at the next step with gradient accumulation). Work on a new "
    "tensor instead: `g = -grad`, `g = grad + weight_decay * param`."
)


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
    atol: float | Callable[[OptimCase, int], float] = 1e-10,
    torch_kwargs: Mapping[str, Any] | None = None,
    note: str = "",
) -> None:
    """Run ``step_fn`` and ``reference`` (a ``torch.optim`` class or a step function) side by
    side on every case, comparing every parameter after every step.

    ``state_keys`` names state entries that must match torch's too (ASGD's average ``ax``
    never touches the parameter). ``mistakes`` maps a mistake's name to a wrong step
    function: a failure that matches one is told so by name. ``torch_kwargs`` go to the
    torch optimizer only (``decoupled_weight_decay=True`` turns Adam into AdamW).
    ``atol`` may depend on the case and the step (a function ``(case, step) -> atol``),
    for a reference that is only as precise as its own arithmetic; ``note`` says why, in
    every failure message.
    """
    kind, name = begin_check(step_fn, public=public, forbid=forbid)
    state_keys = tuple(state_keys)
    count = 0
    for count, case in enumerate(cases, start=1):  # noqa: B007
        expected = reference_path(reference, case, state_keys, torch_kwargs)
        runs = _run_step_fn(step_fn, case, quiet=True)
        while True:
            with student_errors(kind, name, case.label):
                try:
                    call = next(runs)
                except StopIteration:
                    break
            step, index, before, got, state = (
                call.step,
                call.index,
                call.before,
                call.param,
                call.state,
            )
            want = expected[step][index]
            where = (
                f"{kind} '{case.label}' failed at step {step + 1} of {case.steps}, "
                f"parameter {index + 1} of {len(case.params)} (shape {tuple(before.shape)})"
            )
            step_atol = atol(case, step) if callable(atol) else atol
            problem = compare(got, want["param"], rtol=rtol, atol=step_atol)
            if problem:
                message = (
                    f"{where}:\n  param {problem}\n"
                    f"  expected ({_name(reference, torch_kwargs)}): {describe(want['param'])}\n"
                    f"  got:      {describe(got)}\n"
                    f"  (tolerance: rtol={rtol:g}, atol={step_atol:g})"
                )
                if note:
                    message += f"\n  {note}"
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
                if call.grad_changed:  # often the reason the values differ: say it
                    message += f"\n  Also, {GRAD_CHANGED}"
                mistake = _matching_mistake(got, case, step, index, mistakes, rtol, step_atol)
                if mistake:
                    message += f"\n  This matches a known mistake: {mistake}."
                raise CheckFailed(message)
            if call.grad_changed:
                raise CheckFailed(f"{where}: {GRAD_CHANGED}")
            for key in state_keys:
                if not isinstance(state, dict) or key not in state:
                    raise CheckFailed(f"{where}: keep the state entry {key!r} in `state`.")
                problem = compare(state[key], want[key], rtol=rtol, atol=step_atol, dtype=False)
                if problem:
                    raise CheckFailed(
                        f"{where}:\n  state[{key!r}] {problem}\n"
                        f"  expected: {describe(want[key])}\n  got:      {describe(state[key])}"
                    )
    if count == 0:
        raise CheckFailed(f"{kind}: no cases were given for {name} (a bug in the course).")
    refuse_if_tampered(kind)


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
