"""Checks for topic 08, the optimizers: the optimizer API, schedulers and L-BFGS's closure.

The hand-written step functions of the same notebook are checked by
:mod:`autograder.checking.optim`; this module checks the exercises that use ``torch.optim``
itself: a training loop with ``zero_grad``/``backward``/``step``, parameter groups,
resuming from a ``state_dict``, the learning-rate schedulers, and L-BFGS's closure.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import torch

from .. import (
    Case,
    CheckFailed,
    call_quietly,
    check_kind,
    compare,
    describe,
    generator,
    integrity,
    refuse_if_tampered,
    student_errors,
)
from ..draw import log_uniform, uniform

_float64 = torch.float64
_clone = torch.Tensor.clone
_detach = torch.Tensor.detach
_Tensor = torch.Tensor


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
    with student_errors(kind, name, label):
        return call_quietly(fn, *args, **kwargs)


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
    kind = check_kind(public)
    refuse_if_tampered(kind)
    gen, seed = generator(seed)
    for _ in range(draws):
        data = _least_squares(gen)
        lr = log_uniform(gen, 0.01, 0.1)
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
    refuse_if_tampered(kind)


def check_param_groups(student: Callable, seed: int | None, *, public: bool = True):
    """``student(w1, w2, loss_fn, *, lr, lr2, momentum, steps)`` trains ``w1`` at ``lr`` and
    ``w2`` (added with ``add_param_group``) at ``lr2`` and returns the optimizer. The truth is
    two separate optimizers, one per tensor."""
    kind = check_kind(public)
    refuse_if_tampered(kind)
    gen, seed = generator(seed)
    for _ in range(3):
        a = _least_squares(gen)
        b = _least_squares(gen, n=a.x.shape[0])
        lr, lr2 = log_uniform(gen, 0.01, 0.1), log_uniform(gen, 1e-3, 0.3)
        momentum = uniform(gen, 0.5, 0.95)
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
    refuse_if_tampered(kind)


def check_resume(student: Callable, seed: int | None, *, public: bool = True):
    """``student(w, loss_fn, *, lr, momentum, steps, stop)`` trains for ``stop`` steps, saves
    the optimizer's ``state_dict`` with ``torch.save``, loads it into a fresh optimizer, trains
    the remaining steps and returns the checkpoint's bytes.
    ``w`` must end exactly where an uninterrupted run ends."""
    kind = check_kind(public)
    refuse_if_tampered(kind)
    gen, seed = generator(seed)
    for _ in range(2):
        data = _least_squares(gen)
        lr, momentum = log_uniform(gen, 0.01, 0.1), uniform(gen, 0.5, 0.95)
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
    refuse_if_tampered(kind)


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
    gen, seed = generator(seed)
    cases = []
    for draw in range(3):  # the first draw leaves the optional argument at its default
        base_lr = log_uniform(gen, 1e-3, 1.0)
        if name == "step_lr":
            kwargs: dict[str, Any] = {"step_size": int(torch.randint(1, 6, (), generator=gen))}
            if draw > 0:
                kwargs["gamma"] = uniform(gen, 0.1, 0.9)
            last = 4 * kwargs["step_size"]
        elif name == "exponential_lr":
            kwargs = {"gamma": uniform(gen, 0.5, 0.99)}
            last = 12
        else:
            kwargs = {"T_max": int(torch.randint(2, 10, (), generator=gen))}
            if draw > 0:
                kwargs["eta_min"] = base_lr * uniform(gen, 0.01, 0.5)
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
    kind = check_kind(public)
    refuse_if_tampered(kind)
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
    refuse_if_tampered(kind)


integrity.watch(__import__(__name__, fromlist=["*"]))
