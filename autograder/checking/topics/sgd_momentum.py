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

from .. import (
    Case,
    CheckFailed,
    check_function,
    check_kind,
    describe,
    generator,
    integrity,
    refuse_if_tampered,
)
from ..draw import log_uniform, uniform
from ..i18n import N_, tr
from ..optim.api import (
    Expectations,
    call_student,
    innermost,
    leaf,
    least_squares,
    require_call,
    require_floats,
)
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


def _gd_accumulated(x0: float, lr: float, steps: int) -> torch.Tensor:
    """Gradient descent on ``y = 4x²`` whose gradient is never cleared: each step moves by
    the sum of every gradient so far (``backward()`` adds into ``x.grad``)."""
    path, x, total = [x0], x0, 0.0
    for _ in range(steps):
        total += 8 * x
        x = x - lr * total
        path.append(x)
    return torch.tensor(path, dtype=_float64)


def gd_mistakes() -> dict[str, Callable]:
    """Exercise 1's known mistakes, as functions of ``(x0, lr, steps)``."""
    return {
        "the learning rate ignored (x <- x - g)": lambda x0, lr, n: gd_closed_form(x0, 1.0, n),
        "the gradient never cleared: backward() adds into x.grad, so each step used the sum "
        "of every gradient so far (set x.grad = None or x.grad.zero_() after each step)": (
            _gd_accumulated
        ),
        "x0 left out: the path starts with x0 and holds steps + 1 values": lambda x0, lr, n: (
            gd_closed_form(x0, lr, n)[1:]
        ),
    }


AUTOGRAD = ["torch.autograd.grad", "torch.autograd.backward", "torch.Tensor.backward"]


def check_gd_path(student: Callable, seed: int | None, *, public: bool = True) -> None:
    """``student(x0, lr, steps)`` is the gradient-descent path on ``y = 4x²``, compared with
    the closed form; its gradients must come from autograd, as the exercise asks."""
    cases = gd_cases(seed) if public else gd_cases(None, draws=8)
    check_function(student, gd_closed_form, cases, rtol=1e-9, public=public, mistakes=gd_mistakes())
    kind = check_kind(public)
    x0, lr, steps = cases[0].args
    require_call(
        kind,
        cases[0].label,
        AUTOGRAD,
        lambda: call_student(kind, student, cases[0].label, x0, lr, steps),
        tr(
            "{student} never asked autograd for a gradient: compute each one with backward() or "
            "torch.autograd.grad, as the exercise asks (not 8x by hand).",
            student=getattr(student, "__name__", "gd_path"),
        ),
    )


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
    verdicts = Expectations(kind)
    for h in curvatures:
        label = f"curvature h={h:.6g}, seed {seed}"
        got = call_student(kind, student, label, h)
        if not isinstance(got, tuple | list) or len(got) != 2:
            raise CheckFailed(
                tr(
                    "{kind} '{label}' failed: return the pair (lr_limit, lr_fastest), got {got}",
                    kind=kind,
                    label=label,
                    got=describe(got),
                )
            )
        limit, fastest = got
        for what, value in (("lr_limit", limit), ("lr_fastest", fastest)):
            python = isinstance(value, int | float) and not isinstance(value, bool)
            if not python or not math.isfinite(value) or value <= 0:
                raise CheckFailed(
                    tr(
                        "{kind} '{label}' failed: {what} should be a positive Python float, got "
                        "{value}",
                        kind=kind,
                        label=label,
                        what=what,
                        value=describe(value),
                    )
                )
        x0 = 1.5

        def steps(limit_rate: float, fastest_rate: float, h=h, x0=x0) -> list[float]:
            return [_one_step(h, limit_rate, x0), _one_step(h, fastest_rate, x0)]

        verdicts.expect(
            label,
            tr(
                "one step from x0 = 1.5 at lr_limit, then at lr_fastest, should land on -x0 (the "
                "factor 1 - lr·h is -1) and on the minimum 0"
            ),
            steps(limit, fastest),
            [-x0, 0.0],
            rtol=1e-9,
            atol=1e-12,
            mistakes={
                "lr_limit and lr_fastest swapped: 1/h reaches the minimum in one step, 2/h is "
                "the limit": steps(1 / h, 2 / h),
                "1/h is the rate that reaches the minimum in one step, not the limit": steps(
                    1 / h, 1 / h
                ),
                "2/h is the limit, where the factor 1 - lr·h is -1, not the fastest rate": steps(
                    2 / h, 2 / h
                ),
                "the gradient of h/2·x² is h·x, not h/2·x": steps(4 / h, 2 / h),
                "the rates of y = 4x² (h = 8) whatever the curvature: write them in terms of "
                "h": None if h == 8.0 else steps(0.25, 0.125),
            },
        )
    verdicts.verdict()
    refuse_if_tampered(kind)


# ------------------------------------------------------------------ the optimizer API


ZERO_GRAD = N_("gradients accumulated: zero_grad() was not called before each backward()")


def check_fit_line(student: Callable, seed: int | None, *, public: bool = True, draws: int = 3):
    """``student(w, x, y, *, lr, steps)`` runs ``torch.optim.SGD`` on
    ``mean((x @ w - y)**2)`` with ``zero_grad``/``backward``/``step``; it returns the loss
    before each step as Python floats, leaves the trained weights in ``w`` and ``x``, ``y``
    as they were. The expected numbers come from the gradient worked out by hand."""
    kind = check_kind(public)
    refuse_if_tampered(kind)
    gen, seed = generator(seed)
    name = getattr(student, "__name__", "fit_line")
    verdicts = Expectations(kind)
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
        after = [*losses[1:], float(data.loss(w_ref))]
        w = leaf(data.w)

        def run(w=w, data=data, lr=lr, steps=steps, label=label):
            return call_student(
                kind,
                student,
                label,
                w,
                data.x,
                data.y,
                lr=lr,
                steps=steps,
                arguments=("w", "x", "y"),
                may_change=("w",),
            )

        got = require_call(
            kind,
            label,
            ["torch.optim.SGD"],
            run,
            tr(
                "{name} never used torch.optim.SGD: build the optimizer and call its step(), as "
                "the exercise asks (not an update written by hand)",
                name=name,
            ),
        )
        got = require_floats(kind, label, tr("the list of losses you return"), got)
        verdicts.expect(
            label,
            tr("the losses returned"),
            got,
            losses,
            mistakes={
                ZERO_GRAD: losses_acc,
                "each loss recorded after its step (compute it before step())": after,
            },
        )
        verdicts.expect(
            label,
            tr("the weights left in w"),
            _detach(w),
            w_ref,
            mistakes={ZERO_GRAD: w_acc},
        )
    verdicts.verdict()
    refuse_if_tampered(kind)


def check_param_groups(student: Callable, seed: int | None, *, public: bool = True):
    """``student(w1, w2, loss_fn, *, lr, lr2, momentum, steps)`` trains ``w1`` at ``lr`` and
    ``w2`` (added with ``add_param_group``) at ``lr2`` and returns the optimizer. The truth is
    two separate optimizers, one per tensor."""
    kind = check_kind(public)
    refuse_if_tampered(kind)
    gen, seed = generator(seed)
    verdicts = Expectations(kind)
    for _ in range(3):
        a = least_squares(gen)
        b = least_squares(gen, n=a.x.shape[0])
        lr, lr2 = log_uniform(gen, 0.01, 0.1), log_uniform(gen, 1e-3, 0.3)
        momentum = uniform(gen, 0.5, 0.95)
        steps = int(torch.randint(3, 7, (), generator=gen))
        label = f"lr={lr:.4g}, lr2={lr2:.4g}, momentum={momentum:.3g}, steps={steps}, seed {seed}"

        def loss_fn(w1, w2, a=a, b=b):
            return (((a.x @ w1) * (b.x @ w2) - a.y) ** 2).mean()

        def train(lrs, momenta, zero=True, a=a, b=b, loss_fn=loss_fn, steps=steps):
            """Two tensors, each with its own SGD (so each its own lr and momentum)."""
            r1, r2 = leaf(a.w), leaf(b.w)
            opts = [
                torch.optim.SGD([r], lr=rate, momentum=m)
                for r, rate, m in zip((r1, r2), lrs, momenta, strict=True)
            ]
            for _ in range(steps):
                if zero:
                    for opt in opts:
                        opt.zero_grad()
                loss_fn(r1, r2).backward()
                for opt in opts:
                    opt.step()
            return _detach(r1), _detach(r2)

        r1, r2 = train((lr, lr2), (momentum, momentum))
        # Each mistake: its groups' (lrs, momenta), and where it leaves w1 and w2 (the loss
        # couples them: a slip in one group moves both tensors).
        variants = {
            N_("w2 trained at lr instead of lr2"): ((lr, lr), (momentum, momentum), True),
            N_(
                "w2's group without momentum: add_param_group takes the momentum from the "
                "optimizer's defaults unless the group sets another"
            ): (
                (lr, lr2),
                (momentum, 0.0),
                True,
            ),
            N_("w1's group without momentum: pass momentum to SGD(...) itself"): (
                (lr, lr2),
                (0.0, momentum),
                True,
            ),
            ZERO_GRAD: ((lr, lr2), (momentum, momentum), False),
        }
        wrong = {k: (*v[:2], train(v[0], v[1], zero=v[2])) for k, v in variants.items()}
        w1, w2 = leaf(a.w), leaf(b.w)
        optimizer = call_student(
            kind,
            student,
            label,
            w1,
            w2,
            loss_fn,
            lr=lr,
            lr2=lr2,
            momentum=momentum,
            steps=steps,
            arguments=("w1", "w2", "loss_fn"),
            may_change=("w1", "w2"),
        )
        if not isinstance(optimizer, torch.optim.SGD):
            raise CheckFailed(
                tr(
                    "{kind} '{label}' failed: return the torch.optim.SGD optimizer, got "
                    "{optimizer}",
                    kind=kind,
                    label=label,
                    optimizer=describe(optimizer),
                )
            )
        groups = optimizer.param_groups
        if len(groups) != 2:
            raise CheckFailed(
                tr(
                    "{kind} '{label}' failed: the optimizer should have two param groups (w1's, "
                    "then w2's, added with add_param_group), it has {n_groups}",
                    kind=kind,
                    label=label,
                    n_groups=len(groups),
                )
            )
        for i, group in enumerate(groups):
            params = group.get("params", [])
            if len(params) != 1 or params[0] is not (w1, w2)[i]:
                raise CheckFailed(
                    tr(
                        "{kind} '{label}' failed: param group {i} should hold exactly {value} "
                        "(the tensor you were given).",
                        kind=kind,
                        label=label,
                        i=i,
                        value="w1" if i == 0 else "w2",
                    )
                )
        verdicts.expect(
            label,
            tr("the learning rate of each param group"),
            [g.get("lr") for g in groups],
            [lr, lr2],
            mistakes={k: list(v[0]) for k, v in wrong.items()},
        )
        verdicts.expect(
            label,
            tr("each group's momentum"),
            [g.get("momentum") for g in groups],
            [momentum, momentum],
            mistakes={k: list(v[1]) for k, v in wrong.items()},
        )
        for i, (got, want) in enumerate(zip((w1, w2), (r1, r2), strict=True)):
            verdicts.expect(
                label,
                tr("w{i} after training", i=i + 1),
                _detach(got),
                want,
                mistakes={k: v[2][i] for k, v in wrong.items()},
            )
    verdicts.verdict()
    refuse_if_tampered(kind)


def check_resume(student: Callable, seed: int | None, *, public: bool = True):
    """``student(w, loss_fn, *, lr, momentum, steps, stop)`` trains for ``stop`` steps, saves
    the optimizer's ``state_dict`` with ``torch.save``, loads it into a fresh optimizer
    (``load_state_dict``), trains the remaining steps and returns the checkpoint's bytes.
    ``w`` must end exactly where an uninterrupted run ends."""
    kind = check_kind(public)
    refuse_if_tampered(kind)
    gen, seed = generator(seed)
    name = getattr(student, "__name__", "resume_sgd")
    verdicts = Expectations(kind)
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
                    saved = _clone(opt.state[w]["momentum_buffer"])
                    if restart:
                        opt = torch.optim.SGD([w], lr=lr, momentum=momentum)
                opt.zero_grad()
                data.loss(w).backward()
                opt.step()
            return _detach(w), saved, _clone(opt.state[w]["momentum_buffer"])

        (w_ref, saved, at_end), (w_lost, _, _) = run(False), run(True)
        w = leaf(data.w)

        def call(w=w, data=data, lr=lr, momentum=momentum, steps=steps, stop=stop, label=label):
            return call_student(
                kind,
                student,
                label,
                w,
                data.loss,
                lr=lr,
                momentum=momentum,
                steps=steps,
                stop=stop,
                arguments=("w", "loss_fn"),
                may_change=("w",),
            )

        checkpoint = require_call(
            kind,
            label,
            [innermost("torch.optim.Optimizer.load_state_dict")],
            call,
            tr(
                "{name} never called load_state_dict: the fresh optimizer must get the saved "
                "state (torch.load, then load_state_dict), as a resumed run would",
                name=name,
            ),
        )
        if not isinstance(checkpoint, bytes):
            raise CheckFailed(
                tr(
                    "{kind} '{label}' failed: return the bytes of the checkpoint you saved with "
                    "torch.save (buffer.getvalue()), got {checkpoint}",
                    kind=kind,
                    label=label,
                    checkpoint=describe(checkpoint),
                )
            )
        try:
            state = torch.load(io.BytesIO(checkpoint))
        except Exception as error:
            raise CheckFailed(
                tr(
                    "{kind} '{label}' failed: torch.load cannot read the bytes you returned "
                    "({error_type}: {error})",
                    kind=kind,
                    label=label,
                    error_type=type(error).__name__,
                    error=error,
                )
            ) from None
        if not isinstance(state, dict) or "state" not in state or "param_groups" not in state:
            raise CheckFailed(
                tr(
                    "{kind} '{label}' failed: the checkpoint should hold optimizer.state_dict(), "
                    "found {state}",
                    kind=kind,
                    label=label,
                    state=describe(state),
                )
            )
        try:
            buffers = [s["momentum_buffer"] for s in state["state"].values()]
        except (KeyError, TypeError, AttributeError):
            buffers = []
        if len(buffers) != 1:
            raise CheckFailed(
                tr(
                    "{kind} '{label}' failed: the saved state dict should hold one momentum "
                    "buffer, found {value}",
                    kind=kind,
                    label=label,
                    value=describe(state.get("state")),
                )
            )
        assert saved is not None
        verdicts.expect(
            label,
            tr("the momentum buffer saved after {stop} steps", stop=stop),
            buffers[0],
            saved,
            rtol=0,
            atol=0,
            mistakes={
                tr(
                    "the state saved after all {steps} steps, not after stop={stop}",
                    steps=steps,
                    stop=stop,
                ): at_end
            },
        )
        groups = state["param_groups"]
        verdicts.expect(label, tr("the saved lr"), groups[0].get("lr"), lr, rtol=0, atol=0)
        verdicts.expect(
            label, tr("the saved momentum"), groups[0].get("momentum"), momentum, rtol=0, atol=0
        )
        verdicts.expect(
            label,
            tr("w after the resumed run (must equal an uninterrupted run exactly)"),
            _detach(w),
            w_ref,
            rtol=0,
            atol=0,
            mistakes={"the state was not loaded: momentum restarted from zero": w_lost},
        )
    verdicts.verdict()
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


def _first_change(lrs: Sequence[float], momentum: float) -> int | None:
    """The first step whose rate differs from the first rate, whatever the momentum."""
    return next((t for t in range(2, len(lrs) + 1) if lrs[t - 1] != lrs[0]), None)


def first_differing_mistakes() -> dict[str, Callable]:
    """Exercise 8's known mistakes, as functions of ``(lrs, momentum)`` (``None`` where one
    gives the right answer)."""

    def from_zero(lrs, momentum):
        step = first_differing_by_running(lrs, momentum)
        return None if step is None else step - 1

    def momentum_zero(lrs, momentum):
        return _first_change(lrs, momentum) if momentum == 0 else None

    return {
        "the first step at the new rate counted from 0 (steps are counted from 1)": from_zero,
        "momentum 0 not set apart: without momentum both conventions are plain SGD, "
        "p -= lr*g, and never part": momentum_zero,
    }


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


def best_momentum_mistakes() -> dict[str, Callable]:
    """Exercise 10's known mistakes, as functions of ``(lr, curvature)``."""
    return {
        "1 - sqrt(lr·h): the rate at the best momentum, not the momentum": lambda lr, h: (
            1 - math.sqrt(lr * h)
        ),
        "the other root, (1 + sqrt(lr·h))², which is above 1": lambda lr, h: (
            (1 + math.sqrt(lr * h)) ** 2
        ),
        "(1 - lr·h)²: the square root of lr·h forgotten": lambda lr, h: (1 - lr * h) ** 2,
    }


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
