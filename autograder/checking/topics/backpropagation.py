"""Inputs, references and known mistakes for the backpropagation topic.

Autograd is the truth every hand-derived gradient is compared with. Public checks pass a
seed; hidden checks pass ``seed=None`` and get fresh inputs. Everything is float64, so a
gradient that is 1% off cannot hide behind rounding.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F

from .. import REDUCTIONS, Case, generator, integrity
from ..draw import shape as _shape

DOUBLE = torch.float64

# A gradient derived by hand may not ask autograd for it. The names are matched by their
# last part, so ``grad`` also refuses reading ``.grad`` and ``backward`` every
# ``.backward(...)``; the message names the last entry with that ending.
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
    "autograder.checking.topics.backpropagation.autograd_input_grad",
    "autograder.checking.topics.backpropagation.reference_snapshots",
    "autograder.checking.topics.backpropagation.explicit_vjp",
    "autograder.checking.topics.backpropagation.central_difference",
    "autograder.checking.topics.backpropagation.autograd_two_layer_grads",
]
AUTOGRAD_FORBID += REFERENCES


# --- gradients of losses with respect to their input ------------------------------------


def autograd_input_grad(loss_fn: Callable) -> Callable:
    """The reference: what ``loss.backward(grad_output)`` leaves in ``input.grad``."""

    def reference(input, target, reduction="mean", grad_output=None):
        leaf = input.detach().clone().requires_grad_(True)
        loss = loss_fn(leaf, target, reduction=reduction)
        loss.backward(grad_output)
        return leaf.grad

    reference.__name__ = f"autograd gradient of {loss_fn.__name__}"
    return reference


def _cases(seed, inputs, loss_shape) -> list[Case]:
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

    return _cases(seed, inputs, lambda input: input.shape)


def classification_grad_cases(seed: int | None = None, *, draws: int = 3) -> list[Case]:
    """Logits ``(N, C)`` and class indices ``(N,)``, N = 1 included."""

    def inputs(gen):
        sizes = [(1, 3), (4, 2)] + [
            (int(n), max(int(c), 2)) for n, c in torch.randint(1, 8, (draws, 2), generator=gen)
        ]
        for n, c in sizes:
            logits = torch.randn(n, c, generator=gen, dtype=DOUBLE) * 3
            target = torch.randint(0, c, (n,), generator=gen)
            yield f"N={n}, C={c}", logits, target

    return _cases(seed, inputs, lambda input: input.shape[:1])


def binary_grad_cases(seed: int | None = None, *, draws: int = 3) -> list[Case]:
    """Logits and targets of equal shape: hard 0/1 targets and soft ones in [0, 1]."""

    def inputs(gen):
        shapes = [(1,), (4, 2)] + [
            _shape(gen, int(torch.randint(1, 4, (1,), generator=gen))) for _ in range(draws)
        ]
        for i, shape in enumerate(shapes):
            logits = torch.randn(shape, generator=gen, dtype=DOUBLE) * 3
            if i % 2:
                target, kind = torch.rand(shape, generator=gen, dtype=DOUBLE), "soft"
            else:
                target = torch.randint(0, 2, shape, generator=gen).to(DOUBLE)
                kind = "0/1"
            yield f"shape {shape}, {kind} targets", logits, target

    return _cases(seed, inputs, lambda input: input.shape)


def grad_mistakes(reference: Callable) -> dict[str, Callable]:
    """Wrong reductions of a gradient, and an ignored ``grad_output``."""

    def when(wanted: str, used: str) -> Callable:
        def wrong(input, target, reduction="mean", grad_output=None):
            return reference(input, target, reduction=used) if reduction == wanted else None

        return wrong

    return {
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
        "set_to_none=False leaves a tensor of zeros, not None": {
            **expected,
            "after_zero_grad_false": None,
        },
    }


# --- vector-Jacobian products -----------------------------------------------------------


def explicit_vjp(f: Callable, x: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
    """``v`` times the full Jacobian of ``f`` at ``x``, reshaped like ``x``."""
    jacobian = torch.autograd.functional.jacobian(f, x)
    return (v.reshape(-1) @ jacobian.reshape(v.numel(), x.numel())).reshape(x.shape)


def vjp_cases(seed: int | None = None) -> list[Case]:
    """``(f, x, v)`` with non-scalar outputs of several shapes."""
    gen, seed = generator(seed)
    a = torch.randn(4, generator=gen, dtype=DOUBLE)
    m = torch.randn(3, 5, generator=gen, dtype=DOUBLE)
    functions = [
        ("x * sin(x) (elementwise)", lambda x: x * torch.sin(x), None),
        ("cumulative sum", lambda x: torch.cumsum(x, dim=-1), None),
        ("outer product with a fixed 4-vector", lambda x: torch.outer(x, a), None),
        ("tanh(M @ x) for a fixed 3x5 matrix M", lambda x: torch.tanh(m @ x), 5),
    ]
    cases = []
    for description, f, n in functions:
        n = n or int(torch.randint(2, 7, (1,), generator=gen))
        x = torch.randn(n, generator=gen, dtype=DOUBLE)
        v = torch.randn(f(x).shape, generator=gen, dtype=DOUBLE)
        cases.append(Case(f"{description}, x of shape ({n},), seed {seed}", (f, x, v)))
    return cases


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
        ("sum(tanh(W @ x)**2) for a fixed 3x4 W", lambda x: (torch.tanh(w @ x) ** 2).sum(), (4,)),
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


# --- a two-layer network ----------------------------------------------------------------

PARAMETERS = ("W1", "b1", "W2", "b2")


def two_layer_loss(input, target, W1, b1, W2, b2, reduction="mean", relu=F.relu):
    """Cross-entropy of ``relu(input @ W1.T + b1) @ W2.T + b2``: nn.Linear's convention."""
    hidden = relu(input @ W1.T + b1)
    return F.cross_entropy(hidden @ W2.T + b2, target, reduction=reduction)


def _autograd_grads(loss: Callable, input, target, W1, b1, W2, b2, reduction) -> dict:
    params = [p.detach().clone().requires_grad_(True) for p in (W1, b1, W2, b2)]
    loss(input, target, *params, reduction=reduction).backward()
    return dict(zip(PARAMETERS, (p.grad for p in params), strict=True))


def autograd_two_layer_grads(input, target, W1, b1, W2, b2, reduction="mean") -> dict:
    """The reference: every parameter's gradient, by autograd."""
    return _autograd_grads(two_layer_loss, input, target, W1, b1, W2, b2, reduction)


def two_layer_cases(seed: int | None = None, *, draws: int = 3) -> list[Case]:
    """Batches of 1 to 7 samples, random layer sizes, both reductions that give a scalar."""
    gen, seed = generator(seed)
    cases = []
    sizes = [(1, 3, 4, 2)] + [
        tuple(int(v) for v in torch.randint(2, 8, (4,), generator=gen)) for _ in range(draws)
    ]
    for i, (n, d, h, c) in enumerate(sizes):
        input = torch.randn(n, d, generator=gen, dtype=DOUBLE)
        target = torch.randint(0, c, (n,), generator=gen)
        params = (
            torch.randn(h, d, generator=gen, dtype=DOUBLE),
            torch.randn(h, generator=gen, dtype=DOUBLE),
            torch.randn(c, h, generator=gen, dtype=DOUBLE),
            torch.randn(c, generator=gen, dtype=DOUBLE),
        )
        reduction = ("mean", "sum")[i % 2]
        label = f"N={n}, in={d}, hidden={h}, classes={c}, reduction={reduction!r}, seed {seed}"
        cases.append(Case(label, (input, target, *params), {"reduction": reduction}))
    return cases


def _relu_as_identity_backward(z):
    """ReLU forward, but a gradient of 1 everywhere: the ReLU mask forgotten."""
    return z + (F.relu(z) - z).detach()


def two_layer_mistakes() -> dict[str, Callable]:
    def relu_mask_forgotten(input, target, W1, b1, W2, b2, reduction="mean"):
        def loss(*args, reduction):
            return two_layer_loss(*args, reduction=reduction, relu=_relu_as_identity_backward)  # type: ignore[misc]

        return _autograd_grads(loss, input, target, W1, b1, W2, b2, reduction)

    def sum_for_mean(input, target, W1, b1, W2, b2, reduction="mean"):
        if reduction != "mean":
            return None
        return autograd_two_layer_grads(input, target, W1, b1, W2, b2, reduction="sum")

    return {
        "the ReLU's derivative forgotten (no mask where the pre-activation is negative)": (
            relu_mask_forgotten
        ),
        "the gradient of the sum given for reduction='mean' (1/N missing)": sum_for_mean,
    }


integrity.watch(__import__(__name__, fromlist=["*"]))
