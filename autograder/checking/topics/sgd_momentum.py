"""Checks for topic 10: the optimizer API, SGD and momentum.

The hand-written step functions (SGD, the "other" momentum convention, ASGD) are checked
by :mod:`autograder.checking.optim`; this module checks the rest: gradient descent on a
parabola, the learning-rate limits, a training loop with ``zero_grad``/``backward``/``step``,
parameter groups, resuming from a ``state_dict``, when the two momentum conventions part,
and the best momentum for a quadratic. Every expected value is computed by running the
method (autograd, ``torch.optim``, an eigenvalue search), not typed in.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Sequence

import torch

from .. import Case, CheckFailed, check_kind, describe, generator, integrity, refuse_if_tampered
from ..draw import log_uniform, uniform
from ..optim.api import call_student, expect, leaf, least_squares, require_floats
from ..optim.mistakes import sgd_other_convention

_float64 = torch.float64
_clone = torch.Tensor.clone
_detach = torch.Tensor.detach


# ------------------------------------------------------------ gradient descent on a parabola


def gd_closed_form(x0: float, lr: float, steps: int) -> torch.Tensor:
    """``x_t = (1 - 8 lr)^t x0``: gradient descent on ``y = 4x²``, unrolled."""
    t = torch.arange(steps + 1, dtype=_float64)
    return x0 * (1 - 8 * lr) ** t


def gd_cases(seed: int | None, draws: int = 4) -> list[Case]:
    """Learning rates on both sides of the threshold; fixed ones first for public checks."""
    gen, seed = generator(seed)
    fixed = [(2.0, 0.1, 5), (2.0, 0.2, 8), (2.0, 0.26, 6), (-1.5, 0.01, 10)]
    drawn = [
        (
            3 * float(torch.randn((), generator=gen, dtype=_float64)),
            uniform(gen, 0.0, 0.35),
            int(torch.randint(1, 15, (), generator=gen)),
        )
        for _ in range(draws)
    ]
    return [
        Case(f"x0={x0:.4g}, lr={lr:.4g}, steps={n}, seed {seed}", (x0, lr, n))
        for x0, lr, n in fixed + drawn
    ]


def _one_step(curvature: float, lr: float, x0: float) -> float:
    """One step of gradient descent on ``f(x) = curvature/2 · x²``, the gradient by autograd."""
    x = torch.tensor(x0, dtype=_float64, requires_grad=True)
    (grad,) = torch.autograd.grad(curvature / 2 * x**2, x)
    return float(_detach(x) - lr * grad)


def check_lr_limits(student: Callable, seed: int | None, *, public: bool = True) -> None:
    """``student(curvature)`` returns ``(lr_limit, lr_fastest)`` for ``f(x) = h/2 · x²``.

    Checked by what gradient descent does at those rates: at ``lr_limit`` one step maps
    ``x`` to ``-x`` (it bounces for ever), at ``lr_fastest`` to ``0``."""
    kind = check_kind(public)
    refuse_if_tampered(kind)
    gen, seed = generator(seed)
    curvatures = [8.0, 2.0] if public else []
    curvatures += [log_uniform(gen, 0.05, 50.0) for _ in range(3)]
    for h in curvatures:
        label = f"curvature h={h:.6g}, seed {seed}"
        got = call_student(kind, student, label, h)
        if not isinstance(got, tuple | list) or len(got) != 2:
            raise CheckFailed(
                f"{kind} '{label}' failed: return the pair (lr_limit, lr_fastest), got "
                f"{describe(got)}"
            )
        limit, fastest = got
        for what, value in (("lr_limit", limit), ("lr_fastest", fastest)):
            if type(value) not in (int, float) or not math.isfinite(value) or value <= 0:
                raise CheckFailed(
                    f"{kind} '{label}' failed: {what} should be a positive Python number, "
                    f"got {describe(value)}"
                )
        x0 = 1.5
        expect(
            kind,
            label,
            "one step at lr_limit should land on -x0 (the factor 1 - lr·h is -1)",
            _one_step(h, limit, x0),
            -x0,
            rtol=1e-9,
            atol=1e-12,
            mistakes={
                "1/h is the rate that reaches the minimum in one step, not the limit": (
                    _one_step(h, 1 / h, x0)
                ),
                "the gradient of h/2·x² is h·x, not h/2·x": _one_step(h, 4 / h, x0),
                "the rates of y = 4x² (h = 8) whatever the curvature: write them in terms of "
                "h": _one_step(h, 0.25, x0),
            },
        )
        expect(
            kind,
            label,
            "one step at lr_fastest should land on the minimum 0",
            _one_step(h, fastest, x0),
            0.0,
            rtol=0.0,
            atol=1e-12,
            mistakes={
                "2/h is the limit, where the factor 1 - lr·h is -1": _one_step(h, 2 / h, x0),
                "the rates of y = 4x² (h = 8) whatever the curvature: write them in terms of "
                "h": _one_step(h, 0.125, x0),
            },
        )
    refuse_if_tampered(kind)


# ------------------------------------------------------------------ the optimizer API


def check_fit_line(student: Callable, seed: int | None, *, public: bool = True, draws: int = 3):
    """``student(w, x, y, *, lr, steps)`` runs SGD on ``mean((x @ w - y)**2)`` with
    ``zero_grad``/``backward``/``step``; it returns the loss before each step as Python
    floats and leaves the trained weights in ``w``. The expected numbers come from the
    gradient worked out by hand."""
    kind = check_kind(public)
    refuse_if_tampered(kind)
    gen, seed = generator(seed)
    for _ in range(draws):
        data = least_squares(gen)
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
        w = leaf(data.w)
        got = call_student(kind, student, label, w, data.x, data.y, lr=lr, steps=steps)
        got = require_floats(kind, label, "the list of losses you return", got)
        forgot = {"gradients accumulated: zero_grad() was not called": losses_acc}
        expect(kind, label, "the losses returned", got, losses, mistakes=forgot)
        expect(
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
        a = least_squares(gen)
        b = least_squares(gen, n=a.x.shape[0])
        lr, lr2 = log_uniform(gen, 0.01, 0.1), log_uniform(gen, 1e-3, 0.3)
        momentum = uniform(gen, 0.5, 0.95)
        steps = int(torch.randint(3, 7, (), generator=gen))
        label = f"lr={lr:.4g}, lr2={lr2:.4g}, momentum={momentum:.3g}, steps={steps}, seed {seed}"

        def loss_fn(w1, w2, a=a, b=b):
            return (((a.x @ w1) * (b.x @ w2) - a.y) ** 2).mean()

        r1, r2 = leaf(a.w), leaf(b.w)
        opt1 = torch.optim.SGD([r1], lr=lr, momentum=momentum)
        opt2 = torch.optim.SGD([r2], lr=lr2, momentum=momentum)
        for _ in range(steps):
            opt1.zero_grad()
            opt2.zero_grad()
            loss_fn(r1, r2).backward()
            opt1.step()
            opt2.step()
        # The mistake: both tensors trained at lr.
        s1, s2 = leaf(a.w), leaf(b.w)
        same = torch.optim.SGD([s1, s2], lr=lr, momentum=momentum)
        for _ in range(steps):
            same.zero_grad()
            loss_fn(s1, s2).backward()
            same.step()
        w1, w2 = leaf(a.w), leaf(b.w)
        optimizer = call_student(
            kind, student, label, w1, w2, loss_fn, lr=lr, lr2=lr2, momentum=momentum, steps=steps
        )
        if not isinstance(optimizer, torch.optim.SGD):
            raise CheckFailed(
                f"{kind} '{label}' failed: return the torch.optim.SGD optimizer, got "
                f"{describe(optimizer)}"
            )
        groups = optimizer.param_groups
        lrs = [g.get("lr") for g in groups]
        expect(kind, label, "the learning rate of each param group", lrs, [lr, lr2])
        for i, group in enumerate(groups):
            expect(kind, label, f"group {i}'s momentum", group.get("momentum"), momentum)
            params = group.get("params", [])
            if len(params) != 1 or params[0] is not (w1, w2)[i]:
                raise CheckFailed(
                    f"{kind} '{label}' failed: param group {i} should hold exactly "
                    f"{'w1' if i == 0 else 'w2'} (the tensor you were given)."
                )
        expect(kind, label, "w1 after training", _detach(w1), _detach(r1))
        expect(
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
        data = least_squares(gen)
        lr, momentum = log_uniform(gen, 0.01, 0.1), uniform(gen, 0.5, 0.95)
        stop = 10
        steps = stop + int(torch.randint(3, 8, (), generator=gen))
        label = f"lr={lr:.4g}, momentum={momentum:.3g}, stop={stop}, steps={steps}, seed {seed}"

        def run(restart: bool, data=data, lr=lr, momentum=momentum, steps=steps, stop=stop):
            w = leaf(data.w)
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
        w = leaf(data.w)
        checkpoint = call_student(
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
        assert saved is not None
        expect(
            kind,
            label,
            f"the momentum buffer saved after {stop} steps",
            buffers[0],
            saved["buf"],
            rtol=0,
            atol=0,
        )
        groups = state["param_groups"]
        expect(kind, label, "the saved lr", groups[0].get("lr"), lr, rtol=0, atol=0)
        expect(
            kind, label, "the saved momentum", groups[0].get("momentum"), momentum, rtol=0, atol=0
        )
        expect(
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


# ------------------------------------------------------------- the two momentum conventions


def first_differing_by_running(
    lrs: Sequence[float], momentum: float, *, seed: int = 0, tol: float = 1e-12
) -> int | None:
    """Run torch's SGD and the lr-inside-the-buffer convention side by side on random
    gradients; the first step (from 1) after which they differ by more than ``tol``."""
    gen = torch.Generator().manual_seed(seed)
    p_torch = torch.randn(4, generator=gen, dtype=_float64).requires_grad_(True)
    p_other = _clone(_detach(p_torch))
    optimizer = torch.optim.SGD([p_torch], lr=lrs[0], momentum=momentum)
    state: dict = {}
    for step, lr in enumerate(lrs, start=1):
        grad = torch.randn(4, generator=gen, dtype=_float64)
        optimizer.param_groups[0]["lr"] = lr
        p_torch.grad = _clone(grad)
        optimizer.step()
        sgd_other_convention(p_other, _clone(grad), state, lr=lr, momentum=momentum)
        if float((_detach(p_torch) - p_other).abs().max()) > tol:
            return step
    return None


def first_differing_cases(seed: int | None) -> list[Case]:
    """Rate sequences: constant, cut, raised at one step, a warm-up step, and momentum 0.
    Public checks add four fixed ones; hidden checks draw all of theirs afresh."""
    gen, seed = generator(seed)
    runs: list[tuple[list[float], float]] = []
    if seed is not None:
        runs += [
            ([0.1] * 4 + [0.01] * 6, 0.9),
            ([0.1] * 3, 0.9),
            ([0.05, 0.1, 0.1, 0.1], 0.5),
            ([0.1] * 3 + [0.01] * 3, 0.0),
        ]
    for kind in range(5):
        steps = int(torch.randint(3, 9, (), generator=gen))
        base = log_uniform(gen, 0.01, 0.3)
        change = int(torch.randint(1, steps, (), generator=gen))
        lrs = [base] * steps
        if kind == 1:  # cut from `change` on
            lrs[change:] = [base * 0.1] * (steps - change)
        elif kind == 2:  # raised at one step only
            lrs[change] = base * 3
        elif kind == 3:  # a warm-up: the first step smaller than the rest
            lrs[0] = base * 0.25
        elif kind == 4:  # cut, but without momentum
            lrs[change:] = [base * 0.1] * (steps - change)
        momentum = 0.0 if kind == 4 else uniform(gen, 0.3, 0.95)
        runs.append((lrs, momentum))
    return [
        Case(f"lrs={describe(lrs)}, momentum={momentum:.3g}, seed {seed}", (lrs, momentum))
        for lrs, momentum in runs
    ]


# --------------------------------------------------------------- the best momentum


def heavy_ball_rate(lr: float, curvature: float, momentum: float) -> float:
    """How fast SGD with momentum converges on ``f(x) = h/2 · x²``: the spectral radius of
    the map ``(x_t, x_{t-1}) -> (x_{t+1}, x_t)``, from its eigenvalues."""
    a = lr * curvature
    matrix = torch.tensor([[1 + momentum - a, -momentum], [1.0, 0.0]], dtype=_float64)
    return float(torch.linalg.eigvals(matrix).abs().max())


def best_momentum_by_search(lr: float, curvature: float) -> float:
    """The momentum in [0, 1) with the smallest :func:`heavy_ball_rate`, by golden-section
    search (the rate falls, then rises, as momentum grows)."""
    low, high = 0.0, 1.0 - 1e-12
    ratio = (math.sqrt(5) - 1) / 2
    for _ in range(200):
        m1, m2 = high - ratio * (high - low), low + ratio * (high - low)
        if heavy_ball_rate(lr, curvature, m1) < heavy_ball_rate(lr, curvature, m2):
            high = m2
        else:
            low = m1
    return (low + high) / 2


def best_momentum_cases(seed: int | None) -> list[Case]:
    """``(lr, curvature)`` with ``lr·h`` between 0.001 and 0.9; the notes' example first."""
    gen, seed = generator(seed)
    pairs = [(0.01, 8.0)] if seed is not None else []
    pairs += [(log_uniform(gen, 1e-3, 0.1), 0.0) for _ in range(4)]
    cases = []
    for lr, h in pairs:
        if h == 0.0:
            h = log_uniform(gen, 1e-3, 0.9) / lr
        cases.append(Case(f"lr={lr:.4g}, curvature={h:.4g}, seed {seed}", (lr, h)))
    return cases


integrity.watch(__import__(__name__, fromlist=["*"]))
