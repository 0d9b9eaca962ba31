"""Running a step function next to ``torch.optim`` and comparing every step.

:func:`check_optimizer` runs the student's step function for several steps on the runs of
:mod:`.cases`, next to the real ``torch.optim`` class with the same hyper-parameters (in
float64), and compares the parameters after *every* step. Every run is played to its end
before the verdict: a failure shows the first failing step of a failing run, lists the runs
that failed, and names a known mistake only when its numbers match every step of every
failing run it applies to (a mistake that matches one step by chance is never named).

The step function may change only ``param`` and ``state``. The gradient it receives belongs
to its caller (in ``torch.optim`` it is ``param.grad``, which the training loop may still
read): a step function that changes it in place (even if it puts the values back) fails,
even when its parameters come out right.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import torch

from ..checks import (
    CheckFailed,
    begin_check,
    call_quietly,
    known_mistake,
    refuse_if_tampered,
    student_errors,
)
from ..comparison import compare, describe, differing_digits
from ..i18n import N_, case_label, tr
from ..promises import ArgumentSnapshot
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


def _signature(param, grad, state, **hyper):  # pragma: no cover - only its signature is read
    """How a step function's arguments are named in messages, whatever the student called them."""


@dataclass
class _Step:
    """One call of a step function: where it ran, and what it left behind."""

    step: int
    index: int
    before: torch.Tensor  # the parameter before the call
    param: torch.Tensor  # the parameter after it
    state: Any
    changes: list[str]  # what the call changed besides `param` and `state`


def _run_step_fn(step_fn: Callable, case: OptimCase, quiet: bool = False) -> Iterator[_Step]:
    """Yield each call's :class:`_Step` as a step function runs."""
    params = [_clone(p) for p in case.params]
    states: list[dict] = [{} for _ in params]
    call: Callable[..., Any] = call_quietly if quiet else (lambda fn, *a, **k: fn(*a, **k))
    for step, grads in enumerate(case.grads):
        hyper = dict(case.hyper) | case.lr_at(step)
        for index, (p, g, state) in enumerate(zip(params, grads, states, strict=True)):
            before, given = _clone(p), _clone(g)
            snapshot = ArgumentSnapshot(_signature, (p, given, state), hyper) if quiet else None
            call(step_fn, p, given, state, **hyper)
            changes = snapshot.changes(["param", "state"]) if snapshot else []
            yield _Step(step, index, before, p, state, changes)


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
    name = getattr(reference, "__name__", None)
    return tr(name) if name else tr("the reference")  # a name marked with N_ is translated


GRAD_CHANGED = N_(
    "your function changed its `grad` argument in place (for example `grad.neg_()` for "
    "maximize, or `grad.add_(...)` for weight decay). The gradient belongs to the caller: "
    "in torch.optim it is `param.grad`, which the training loop may read again (to log its "
    "norm, to clip it, or at the next step with gradient accumulation). Work on a new "
    "tensor instead: `g = -grad`, `g = grad + weight_decay * param`."
)


@dataclass
class _Run:
    """One run of the student's step function, played to its end, against the reference."""

    case: OptimCase
    path: list[list[torch.Tensor]] = field(default_factory=list)  # path[step][param]
    where: str = ""  # the first failing call, in words
    lines: list[str] = field(default_factory=list)  # what is wrong there
    returned: bool = False  # the failure is a wrong parameter value (a mistake may explain it)

    @property
    def failed(self) -> bool:
        return bool(self.lines)


def _play(
    kind: str,
    name: str,
    step_fn: Callable,
    case: OptimCase,
    expected: list[list[dict]],
    reference_name: str,
    *,
    state_keys: tuple[str, ...],
    rtol: float,
    atol: float | Callable[[OptimCase, int], float],
    note: str,
) -> _Run:
    """Run ``step_fn`` on ``case`` to its last step; note the first failing call."""
    run = _Run(case)
    calls = _run_step_fn(step_fn, case, quiet=True)
    while True:
        with student_errors(kind, name, case.label):
            try:
                call = next(calls)
            except StopIteration:
                break
        if call.index == 0:
            run.path.append([])
        run.path[-1].append(_clone(call.param))
        if run.failed:
            continue  # play the run out: a named mistake must match all of it
        want = expected[call.step][call.index]
        step_atol = atol(case, call.step) if callable(atol) else atol
        run.where = tr(
            "{kind} '{label}' failed at step {step} of {steps}, parameter {index} of {count} "
            "(shape {shape})",
            kind=kind,
            label=case_label(case.label),
            step=call.step + 1,
            steps=case.steps,
            index=call.index + 1,
            count=len(case.params),
            shape=tuple(call.before.shape),
        )
        problem = compare(call.param, want["param"], rtol=rtol, atol=step_atol)
        if problem:
            digits = differing_digits(call.param, want["param"])
            run.lines = [
                f"param {problem}",
                tr(
                    "expected ({reference}): {value}",
                    reference=reference_name,
                    value=describe(want["param"], digits),
                ),
                tr("got:      {value}", value=describe(call.param, digits)),
            ]
            run.returned = True
            if note:
                run.lines.append(note)
            if _tiny_difference(call.param, want["param"]):
                run.lines.append(
                    tr(
                        "The difference is tiny but real: is a float32 number hiding in your "
                        "computation? (torch.tensor(0.5) and torch.where(c, 0.5, 1.0) are "
                        "float32; use Python numbers or tensors made with dtype=param.dtype.)"
                    )
                )
            if _equal(call.param, call.before) and not _equal(want["param"], call.before):
                run.lines.append(
                    tr(
                        "Your function left `param` unchanged: update it in place "
                        "(param.add_(...), param.sub_(...), param -= ...), do not rebind it."
                    )
                )
            if call.changes:  # often the reason the values differ: say it
                run.lines.append(tr("Also, {problem}", problem=tr(GRAD_CHANGED)))
            continue
        if call.changes:
            run.lines = [tr(GRAD_CHANGED), *(f"({change})" for change in call.changes)]
            continue
        for key in state_keys:
            if not isinstance(call.state, dict) or key not in call.state:
                run.lines = [tr("keep the state entry {key} in `state`.", key=repr(key))]
                break
            problem = compare(call.state[key], want[key], rtol=rtol, atol=step_atol, dtype=False)
            if problem:
                digits = differing_digits(call.state[key], want[key])
                run.lines = [
                    f"state[{key!r}] {problem}",
                    tr("expected: {value}", value=describe(want[key], digits)),
                    tr("got:      {value}", value=describe(call.state[key], digits)),
                ]
                break
    return run


def _explaining_mistake(
    runs: list[_Run],
    mistakes: Mapping[str, Callable] | None,
    rtol: float,
    atol: float | Callable[[OptimCase, int], float],
) -> tuple[str, _Run] | None:
    """The known mistake whose path matches the student's at every step of every failing run
    it applies to (it applies where its path differs from the reference's), with the first
    run it explains; the mistake that explains the most runs wins."""
    failed = [r for r in runs if r.returned]
    best: tuple[int, str, _Run] | None = None
    for mistake, wrong in (mistakes or {}).items():
        explained: list[_Run] = []
        for run in failed:
            try:
                path = reference_path(wrong, run.case)
            except Exception:
                explained = []
                break
            if not _same_path(run, path, rtol, atol):
                explained = []
                break
            explained.append(run)
        if explained and (best is None or len(explained) > best[0]):
            best = (len(explained), mistake, explained[0])
    return (best[1], best[2]) if best else None


def _same_path(run: _Run, path: list[list[dict]], rtol: float, atol: Any) -> bool:
    for step, params in enumerate(run.path):
        step_atol = atol(run.case, step) if callable(atol) else atol
        for index, got in enumerate(params):
            if compare(got, path[step][index]["param"], rtol=rtol, atol=step_atol) is not None:
                return False
    return bool(run.path)


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
    function: a failure whose every failing run it reproduces is told so by name.
    ``torch_kwargs`` go to the torch optimizer only (``decoupled_weight_decay=True`` turns
    Adam into AdamW). ``atol`` may depend on the case and the step (a function
    ``(case, step) -> atol``), for a reference that is only as precise as its own
    arithmetic; ``note`` says why, in every failure message.
    """
    kind, name = begin_check(step_fn, public=public, forbid=forbid)
    state_keys = tuple(state_keys)
    reference_name = _name(reference, torch_kwargs)
    runs = []
    for case in cases:
        expected = reference_path(reference, case, state_keys, torch_kwargs)
        runs.append(
            _play(
                kind,
                name,
                step_fn,
                case,
                expected,
                reference_name,
                state_keys=state_keys,
                rtol=rtol,
                atol=atol,
                note=note,
            )
        )
    if not runs:
        raise CheckFailed(
            tr(
                "{kind}: no cases were given for {name} (a bug in the course).",
                kind=kind,
                name=name,
            )
        )
    failed = [r for r in runs if r.failed]
    if failed:
        mistake = _explaining_mistake(failed, mistakes, rtol, atol)
        shown = mistake[1] if mistake else failed[0]
        message = shown.where + ":" + "".join(f"\n  {line}" for line in shown.lines)
        if len(failed) > 1:
            labels = ", ".join(f"'{case_label(r.case.label).split(' (')[0]}'" for r in failed)
            message += "\n  " + tr(
                "({failed} of {total} runs failed: {labels}.)",
                failed=len(failed),
                total=len(runs),
                labels=labels,
            )
        if mistake:
            message += "\n  " + known_mistake(mistake[0])
        raise CheckFailed(message)
    refuse_if_tampered(kind)


def _tiny_difference(got: Any, want: torch.Tensor) -> bool:
    if not isinstance(got, _Tensor) or got.shape != want.shape or got.dtype != want.dtype:
        return False
    return bool(torch.allclose(_detach(got), want, rtol=1e-6, atol=1e-8))
