"""Inputs, references and known mistakes for topic 02, autograd's basics.

Autograd is the truth every hand-derived gradient is compared with. Public checks pass a
seed; hidden checks pass ``seed=None`` and get fresh inputs. Everything is float64, so a
gradient that is 1% off cannot hide behind rounding.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

from .. import (
    REDUCTIONS,
    Case,
    CheckFailed,
    begin_check,
    call_quietly,
    compare,
    describe,
    generator,
    integrity,
    refuse_if_tampered,
    student_errors,
)
from ..checks import known_mistake
from ..draw import coin
from ..draw import shape as _shape
from ..i18n import tr

DOUBLE = torch.float64

# A gradient derived by hand may not ask autograd for it: these are refused wherever the
# answer reaches them, under any name (a local variable named ``grad`` is the student's own).
AUTOGRAD_FORBID = [
    "torch.autograd.backward",
    "torch.Tensor.backward",
    "torch.func.grad",
    "torch.autograd.grad",
    "torch.Tensor.requires_grad_",
    "torch.autograd.functional.jacobian",
    "torch.autograd.functional.vjp",
    "torch.autograd.functional.jvp",
    "torch.func.vjp",
    "torch.func.jacrev",
    "torch.func.jacfwd",
]
# The course's own references, which an answer may not call either.
REFERENCES = [
    "autograder.checking.topics.autograd_basics.autograd_input_grad",
    "autograder.checking.topics.autograd_basics.reference_snapshots",
    "autograder.checking.topics.autograd_basics.central_difference",
    "autograder.checking.topics.autograd_basics.reference_graph_facts",
    "autograder.checking.topics.autograd_basics.reference_check_gradients",
]
AUTOGRAD_FORBID += REFERENCES


# --- reading the graph ---------------------------------------------------------------------


def reference_graph_facts(t: torch.Tensor) -> dict[str, Any]:
    """What autograd knows about one tensor, as plain values."""
    return {
        "requires_grad": bool(t.requires_grad),
        "is_leaf": bool(t.is_leaf),
        "grad_fn": None if t.grad_fn is None else type(t.grad_fn).__name__,
        "gets_grad": bool(t.requires_grad and (t.is_leaf or t.retains_grad)),
    }


def graph_tensors(seed: int | None) -> tuple[dict[str, torch.Tensor], int]:
    """A small random graph: leaves with and without ``requires_grad``, products, sums,
    a ``detach()``, a result computed under ``torch.no_grad()`` and a ``retain_grad()``."""
    gen, seed = generator(seed)
    n = int(torch.randint(2, 5, (1,), generator=gen))
    a = torch.randn(n, generator=gen, dtype=DOUBLE).requires_grad_(True)
    b = torch.randn(n, generator=gen, dtype=DOUBLE).requires_grad_(coin(gen))
    c = torch.randn(n, generator=gen, dtype=DOUBLE)  # never requires a gradient
    ops: list[tuple[str, Callable[[torch.Tensor, torch.Tensor], torch.Tensor]]] = [
        ("a * b", lambda x, y: x * y),
        ("a + b", lambda x, y: x + y),
        ("a.exp() - b", lambda x, y: x.exp() - y),
        ("torch.sin(a) * b", lambda x, y: torch.sin(x) * y),
    ]
    name, op = ops[int(torch.randint(0, len(ops), (1,), generator=gen))]
    h = op(a, b)
    kept = c * b  # requires a gradient only when b does
    if coin(gen) and kept.requires_grad:
        kept.retain_grad()
    s = h.sum() if coin(gen) else h.mean()
    with torch.no_grad():
        n_t = a * 2
    tensors = {
        tr("a (a leaf, requires_grad=True)"): a,
        tr("b (a leaf, requires_grad={requires_grad})", requires_grad=b.requires_grad): b,
        tr("c (a leaf made without requires_grad)"): c,
        f"h = {name}": h,
        f"s = h.{'sum' if type(s.grad_fn).__name__.startswith('Sum') else 'mean'}()": s,
        "d = h.detach()": h.detach(),
        tr("n = a * 2 under torch.no_grad()"): n_t,
        f"k = c * b{tr(' after k.retain_grad()') if kept.retains_grad else ''}": kept,
    }
    return tensors, seed


def graph_facts_mistakes() -> dict[str, Callable[[torch.Tensor], dict[str, Any]]]:
    """Wrong readings of a tensor's place in the graph, as functions of the tensor."""

    def with_entry(key: str, value: Callable[[torch.Tensor], Any]) -> Callable:
        return lambda t: {**reference_graph_facts(t), key: value(t)}

    return {
        "the grad_fn object, not its name (type(t.grad_fn).__name__)": with_entry(
            "grad_fn", lambda t: t.grad_fn
        ),
        "str(t.grad_fn) is the object's repr ('<SumBackward0 object at ...>'), not its name "
        "(type(t.grad_fn).__name__)": with_entry(
            "grad_fn", lambda t: None if t.grad_fn is None else str(t.grad_fn)
        ),
        "gets_grad taken as requires_grad: only leaves (and tensors that called "
        "retain_grad()) keep a .grad; requiring a gradient is not enough": with_entry(
            "gets_grad", lambda t: bool(t.requires_grad)
        ),
        "gets_grad without retain_grad(): a tensor that called it keeps its .grad too": with_entry(
            "gets_grad", lambda t: bool(t.requires_grad and t.is_leaf)
        ),
        "gets_grad taken as is_leaf: a leaf that does not require a gradient gets none, and "
        "a tensor that called retain_grad() gets one": with_entry(
            "gets_grad", lambda t: bool(t.is_leaf)
        ),
        "gets_grad without requires_grad: a leaf that does not require a gradient gets "
        "none": with_entry("gets_grad", lambda t: bool(t.is_leaf or t.retains_grad)),
    }


def check_graph_facts(student: Callable, *, seed: int | None = 0, public: bool = True) -> None:
    """``student(t)`` gives, for every tensor of a small graph, what PyTorch says about it.

    Every tensor is asked; a mistake is named only when it explains every failing one.
    """
    kind, name = begin_check(student, public=public, forbid=REFERENCES, name="graph_facts")
    tensors, seed = graph_tensors(seed)
    failures = []
    for label, tensor in tensors.items():
        expected = reference_graph_facts(tensor)
        with student_errors(kind, name, label):
            got = call_quietly(student, tensor)
        problem = compare(got, expected, rtol=0, atol=0)
        if problem:
            failures.append((label, tensor, got, expected, problem))
    if failures:
        label, _, got, expected, problem = failures[0]
        message = tr(
            "{kind} failed for the tensor {label} (seed {seed}): {problem}\n  expected: "
            "{expected}\n  got:      {got}",
            kind=kind,
            label=label,
            seed=seed,
            problem=problem,
            expected=describe(expected),
            got=describe(got),
        )
        if len(failures) > 1:
            message += tr(
                "\n  ({n_failures} of {n_tensors} tensors failed.)",
                n_failures=len(failures),
                n_tensors=len(tensors),
            )
        for mistake, wrong in graph_facts_mistakes().items():
            if all(compare(g, wrong(t), rtol=0, atol=0) is None for _, t, g, _, _ in failures):
                message += "\n  " + known_mistake(mistake)
                break
        raise CheckFailed(message)
    refuse_if_tampered(kind)


# --- gradients of losses with respect to their input ------------------------------------


def autograd_input_grad(loss_fn: Callable) -> Callable:
    """The reference: what ``loss.backward(grad_output)`` leaves in ``input.grad``."""

    def reference(input, target, reduction="mean", grad_output=None):
        leaf = input.detach().clone().requires_grad_(True)
        loss = loss_fn(leaf, target, reduction=reduction)
        loss.backward(grad_output)
        return leaf.grad

    reference.__name__ = tr("autograd gradient of {loss_fn}", loss_fn=loss_fn.__name__)
    return reference


def grad_cases(seed, inputs, loss_shape) -> list[Case]:
    """Every reduction for each ``(description, input, target)``; ``none`` gets a grad_output."""
    gen, seed = generator(seed)
    cases = []
    for description, input, target in inputs(gen):
        for reduction in REDUCTIONS:
            kwargs: dict[str, Any] = {"reduction": reduction}
            if reduction == "none":
                shape = loss_shape(input)
                kwargs["grad_output"] = torch.randn(shape, generator=gen, dtype=DOUBLE)
            label = f"{description}, reduction={reduction!r}, seed {seed}"
            cases.append(Case(label, (input, target), kwargs))
    return cases


def regression_grad_cases(seed: int | None = None, *, draws: int = 3) -> list[Case]:
    """``(input, target)`` of equal shape; about a third of the targets equal the input (ties)."""

    def inputs(gen):
        shapes = [(1,), (5,)] + [
            _shape(gen, int(torch.randint(1, 4, (1,), generator=gen))) for _ in range(draws)
        ]
        for shape in shapes:
            input = torch.randn(shape, generator=gen, dtype=DOUBLE)
            target = torch.randn(shape, generator=gen, dtype=DOUBLE)
            ties = torch.rand(shape, generator=gen) < 1 / 3
            if shape == (5,):
                ties[0] = True
            target = torch.where(ties, input, target)
            yield f"shape {shape}, {int(ties.sum())} ties", input, target

    return grad_cases(seed, inputs, lambda input: input.shape)


def grad_mistakes(reference: Callable) -> dict[str, Callable]:
    """Wrong reductions of a gradient, an ignored ``grad_output``, and a mean over the first
    dimension only (``len(input)``, not the number of elements)."""

    def when(wanted: str, used: str) -> Callable:
        def wrong(input, target, reduction="mean", grad_output=None):
            return reference(input, target, reduction=used) if reduction == wanted else None

        return wrong

    def first_dim(input, target, reduction="mean", grad_output=None):
        if reduction != "mean" or input.dim() == 0:
            return None
        return reference(input, target, reduction="sum") / input.shape[0]

    return {
        "the mean's 1/n with n the size of the first dimension (len(input)), not the number "
        "of elements (input.numel())": first_dim,
        "the gradient of the sum given for reduction='mean' (the 1/n factor is missing)": when(
            "mean", "sum"
        ),
        "divided by n for reduction='sum'": when("sum", "mean"),
        "grad_output ignored for reduction='none' (the gradient of the plain sum)": when(
            "none", "sum"
        ),
    }


# --- the debugger experiment ------------------------------------------------------------


def snapshot_model(
    seed: int | None, *, primed: bool = False
) -> tuple[torch.nn.Sequential, torch.Tensor, torch.Tensor]:
    """A small float64 network ``Linear -> ReLU -> Linear``, a batch and its classes.

    ``primed`` runs one backward pass on another batch first, so that the parameters'
    ``.grad`` already holds something when the experiment starts.
    """
    gen, seed = generator(seed)
    n, d, h, c = (int(v) for v in torch.randint(2, 6, (4,), generator=gen))
    model = torch.nn.Sequential(torch.nn.Linear(d, h), torch.nn.ReLU(), torch.nn.Linear(h, c))
    model = model.to(DOUBLE)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=gen, dtype=DOUBLE))
    input = torch.randn(n, d, generator=gen, dtype=DOUBLE)
    target = torch.randint(0, c, (n,), generator=gen)
    if primed:
        other = torch.randn(n, d, generator=gen, dtype=DOUBLE)
        F.cross_entropy(model(other), target).backward()
    return model, input, target


def reference_snapshots(model, input, target) -> dict:
    """The experiment, watched on ``model[0].weight``; every tensor stored is a copy."""
    weight = model[0].weight

    def copy(grad):
        return None if grad is None else grad.detach().clone()

    def backward():
        F.cross_entropy(model(input), target).backward()

    found = {"before": copy(weight.grad)}
    backward()
    found["after_one"] = copy(weight.grad)
    backward()
    found["after_two"] = copy(weight.grad)
    model.zero_grad()
    found["after_zero_grad"] = copy(weight.grad)
    backward()
    model.zero_grad(set_to_none=False)
    found["after_zero_grad_false"] = copy(weight.grad)
    return found


def snapshot_mistakes(expected: dict) -> dict[str, dict]:
    """Wrong answers of the experiment that have a name."""
    zeros = expected["after_zero_grad_false"]
    uncopied = {**expected, "after_one": expected["after_two"]}
    if expected["before"] is not None:
        uncopied["before"] = expected["after_two"]
    return {
        "the gradients not copied: backward() adds into the same .grad tensor in place, "
        "so store .grad.clone()": uncopied,
        "zero_grad() leaves None by default, not zeros": {**expected, "after_zero_grad": zeros},
        "None after step 5: set_to_none=False leaves a tensor of zeros, not None, once "
        "step 5's backward pass has filled .grad": {
            **expected,
            "after_zero_grad_false": None,
        },
    }


def check_gradient_snapshots(
    student: Callable, *, seed: int | None = 0, primed: bool = False, public: bool = True
) -> None:
    """Run the student's experiment and the reference on two identical models; compare."""
    kind, name = begin_check(student, public=public, forbid=REFERENCES, name="gradient_snapshots")
    _, seed = generator(seed)  # one seed for both models
    model, input, target = snapshot_model(seed, primed=primed)
    expected = reference_snapshots(model, input, target)
    model, input, target = snapshot_model(seed, primed=primed)
    label = f"gradient_snapshots on a {'primed' if primed else 'fresh'} model (seed {seed})"
    with student_errors(kind, name, label):
        got = call_quietly(student, model, input, target)
    problem = compare(got, expected, rtol=1e-10, atol=1e-12)
    if problem:
        message = f"{kind} '{label}' failed: {problem}"
        for mistake, wrong in snapshot_mistakes(expected).items():
            if compare(got, wrong, rtol=1e-10, atol=1e-12) is None:
                message += "\n  " + known_mistake(mistake)
                break
        raise CheckFailed(message)
    refuse_if_tampered(kind)


# --- numerical gradients ----------------------------------------------------------------


def central_difference(f: Callable, x: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """The reference checker: (f(x + eps e_i) - f(x - eps e_i)) / (2 eps) for every i."""
    flat = x.detach().clone().reshape(-1)
    out = torch.empty_like(flat)
    for i in range(flat.numel()):
        old = flat[i].item()
        flat[i] = old + eps
        plus = float(f(flat.reshape(x.shape)))
        flat[i] = old - eps
        minus = float(f(flat.reshape(x.shape)))
        flat[i] = old
        out[i] = (plus - minus) / (2 * eps)
    return out.reshape(x.shape)


def forward_difference(f: Callable, x: torch.Tensor, eps: float = 1e-6) -> torch.Tensor:
    """A known mistake: the one-sided difference (f(x + eps e_i) - f(x)) / eps."""
    flat = x.detach().clone().reshape(-1)
    base = float(f(x))
    out = torch.empty_like(flat)
    for i in range(flat.numel()):
        old = flat[i].item()
        flat[i] = old + eps
        out[i] = (float(f(flat.reshape(x.shape))) - base) / eps
        flat[i] = old
    return out.reshape(x.shape)


def numerical_cases(seed: int | None = None) -> list[Case]:
    """Smooth scalar functions of tensors of 1 to 3 dimensions, with an explicit ``eps``."""
    gen, seed = generator(seed)
    w = torch.randn(3, 4, generator=gen, dtype=DOUBLE)
    functions = [
        ("sum(x * sin(x))", lambda x: (x * torch.sin(x)).sum(), None),
        ("log(sum(exp(x)))", lambda x: torch.log(torch.exp(x).sum()), None),
        (
            tr("sum(tanh(W @ x)**2) for a fixed 3x4 W"),
            lambda x: (torch.tanh(w @ x) ** 2).sum(),
            (4,),
        ),
        ("prod(1 + x**2)", lambda x: torch.prod(1 + x**2), None),
    ]
    cases = []
    for description, f, fixed in functions:
        shape = fixed or _shape(gen, int(torch.randint(1, 4, (1,), generator=gen)), high=4)
        x = torch.randn(shape, generator=gen, dtype=DOUBLE)
        for eps in (1e-3, 1e-4):
            label = f"{description}, x of shape {tuple(shape)}, eps={eps:g}, seed {seed}"
            cases.append(Case(label, (f, x), {"eps": eps}))
    return cases


def check_leaves_x_alone(student: Callable, case: Case, *, public: bool = True) -> None:
    """The exercise says "do not change the caller's x": call once on a tensor and compare it
    bit for bit afterwards (the other checks pass copies, so they cannot see this)."""
    kind, name = begin_check(student, public=public, name="numerical_gradient")
    f, x = case.args
    before = x.detach().clone()
    with student_errors(kind, name, case.label):
        call_quietly(student, f, x, **case.kwargs)
    if not torch.equal(x, before):
        raise CheckFailed(
            tr(
                "{kind} '{label}': numerical_gradient changed the caller's x (largest change "
                "{max}). Nudge a copy (x.detach().clone()), never the tensor you were given: "
                "undoing a nudge by arithmetic does not restore every float exactly.",
                kind=kind,
                label=case.label,
                max=f"{float((x - before).abs().max()):.3g}",
            )
        )


# --- a planted bug ---------------------------------------------------------------------


def _softplus(x):
    return torch.log1p(torch.exp(x)).sum()


def _log_sum_exp(x):
    return torch.log(torch.exp(x).sum())


def _huber(x, beta=0.5):
    small = x.abs() < beta
    return torch.where(small, 0.5 * x**2 / beta, x.abs() - 0.5 * beta).sum()


def _silu(x):
    return (x * torch.sigmoid(x)).sum()


def _tanh_squared(x):
    return (torch.tanh(x) ** 2).sum()


def _cube(x):
    return (x**3).sum()


def _norm(x):
    return torch.sqrt((x**2).sum())


# name -> (function, its right gradient, a plausible wrong one)
GRADIENT_POOL: dict[str, tuple[Callable, Callable, Callable]] = {
    "softplus_sum": (
        _softplus,
        torch.sigmoid,
        lambda x: torch.sigmoid(x) * (1 - torch.sigmoid(x)),
    ),
    "log_sum_exp": (
        _log_sum_exp,
        lambda x: torch.exp(x) / torch.exp(x).sum(),
        torch.exp,
    ),
    "huber_sum": (
        _huber,
        lambda x: torch.where(x.abs() < 0.5, x / 0.5, torch.sign(x)),
        lambda x: torch.where(x.abs() < 0.5, x, torch.sign(x)),
    ),
    "silu_sum": (
        _silu,
        lambda x: torch.sigmoid(x) * (1 + x * (1 - torch.sigmoid(x))),
        lambda x: torch.sigmoid(x) * (1 + x),
    ),
    "tanh_squared_sum": (
        _tanh_squared,
        lambda x: 2 * torch.tanh(x) * (1 - torch.tanh(x) ** 2),
        lambda x: 2 * torch.tanh(x),
    ),
    "cube_sum": (_cube, lambda x: 3 * x**2, lambda x: 3 * x),
    "norm": (_norm, lambda x: x / _norm(x), lambda x: x / _norm(x) ** 2),
}


def reference_check_gradients(candidates: dict, probe: torch.Tensor) -> dict[str, bool]:
    """Whether each hand gradient agrees with the central difference at ``probe``."""
    return {
        name: bool(
            torch.allclose(central_difference(f, probe), grad_f(probe), rtol=1e-5, atol=1e-7)
        )
        for name, (f, grad_f) in candidates.items()
    }


def planted_bug_cases(seed: int | None = None, *, draws: int = 2) -> list[Case]:
    """Four candidates drawn from the pool, one or two of them with a wrong hand gradient."""
    gen, seed = generator(seed)
    names = list(GRADIENT_POOL)
    cases = []
    for _ in range(draws):
        order = torch.randperm(len(names), generator=gen).tolist()
        chosen = [names[i] for i in order[:4]]
        wrong = set(chosen[: int(torch.randint(1, 3, (1,), generator=gen))])
        candidates = {
            name: (GRADIENT_POOL[name][0], GRADIENT_POOL[name][2 if name in wrong else 1])
            for name in sorted(chosen)
        }
        probe = torch.randn(3, 4, generator=gen, dtype=DOUBLE) + 0.1
        probe[0, 0] = 0.25  # inside Huber's quadratic piece, where its planted bug shows
        label = f"candidates {sorted(chosen)}, seed {seed}"
        cases.append(Case(label, (candidates, probe)))
    return cases


def check_gradients_mistakes() -> dict[str, Callable]:
    def inverted(candidates, probe):
        return {k: not v for k, v in reference_check_gradients(candidates, probe).items()}

    def all_pass(candidates, probe):
        return dict.fromkeys(candidates, True)

    def exact(candidates, probe):
        return {
            name: bool(torch.equal(central_difference(f, probe), grad_f(probe)))
            for name, (f, grad_f) in candidates.items()
        }

    return {
        "True and False swapped: True means the hand gradient passes": inverted,
        "every gradient passes: compare each hand gradient with the numerical one": all_pass,
        "exact equality (== or torch.equal) where torch.allclose is asked: a numerical "
        "gradient is never exact": exact,
    }


def l1_grad_mistakes(reference: Callable) -> dict[str, Callable]:
    """Exercise 5's known mistakes: :func:`grad_mistakes`, sign(0) taken as +1 at a tie,
    the sign written as ``d / |d|`` (``nan`` at a tie), and the sign flipped."""

    def scaled(local, input, reduction, grad_output):
        if reduction == "none":
            return grad_output * local
        return local if reduction == "sum" else local / input.numel()

    def sign_zero_is_one(input, target, reduction="mean", grad_output=None):
        if not bool((input == target).any()):
            return None
        local = torch.where(input >= target, 1.0, -1.0).to(input.dtype)
        return scaled(local, input, reduction, grad_output)

    def ratio(input, target, reduction="mean", grad_output=None):
        if not bool((input == target).any()):
            return None
        d = input - target
        return scaled(d / d.abs(), input, reduction, grad_output)

    return {
        **grad_mistakes(reference),
        "sign(0) taken as +1 at a tie (PyTorch uses 0)": sign_zero_is_one,
        "the sign as d / |d|, which is 0 / 0 = nan at a tie (torch.sign gives 0)": ratio,
        "the sign flipped: target - input instead of input - target": lambda *a, **k: (
            -reference(*a, **k)
        ),
    }


def mse_grad_mistakes(reference: Callable) -> dict[str, Callable]:
    """Exercise 6's known mistakes: :func:`grad_mistakes`, the factor 2 and the sign."""
    return {
        **grad_mistakes(reference),
        "the factor 2 of the square forgotten": lambda *a, **k: reference(*a, **k) / 2,
        "the sign flipped: target - input instead of input - target": lambda *a, **k: (
            -reference(*a, **k)
        ),
    }


integrity.watch(__import__(__name__, fromlist=["*"]))
