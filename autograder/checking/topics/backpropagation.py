"""Inputs, references and known mistakes for topic 09, backpropagation.

Autograd is the truth every hand-derived gradient is compared with. Public checks pass a
seed; hidden checks pass ``seed=None`` and get fresh inputs. Everything is float64, so a
gradient that is 1% off cannot hide behind rounding.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from .. import (
    Case,
    CheckFailed,
    begin_check,
    call_quietly,
    compare,
    generator,
    integrity,
    student_errors,
)
from ..i18n import tr
from .autograd_basics import AUTOGRAD_FORBID as BASIC_FORBID

DOUBLE = torch.float64

# The course's own references, which an answer may not call either.
REFERENCES = [
    "autograder.checking.topics.backpropagation.explicit_vjp",
    "autograder.checking.topics.backpropagation.autograd_two_layer_grads",
    "autograder.checking.topics.backpropagation.autograd_linear_backward",
    "autograder.checking.topics.backpropagation.second_backward_raises_reference",
    "autograder.checking.topics.backpropagation.grad_after_two_backwards_reference",
]
AUTOGRAD_FORBID = BASIC_FORBID + REFERENCES


# --- backward twice ---------------------------------------------------------------------


def second_backward_raises_reference(f: Callable, x: torch.Tensor) -> bool:
    """Whether a second ``backward()`` through ``f(leaf)`` (no ``retain_graph``) raises."""
    leaf = x.detach().clone().requires_grad_(True)
    out = f(leaf)
    out.backward()
    try:
        out.backward()
    except RuntimeError:
        return True
    return False


def grad_after_two_backwards_reference(f: Callable, x: torch.Tensor) -> torch.Tensor:
    """``leaf.grad`` after ``backward(retain_graph=True)`` and then ``backward()``."""
    leaf = x.detach().clone().requires_grad_(True)
    out = f(leaf)
    out.backward(retain_graph=True)
    out.backward()
    assert leaf.grad is not None
    return leaf.grad


RETAIN_FUNCTIONS: list[tuple[str, Callable]] = [
    (tr("(w * c).sum() for a fixed tensor c"), lambda w, c: (w * c).sum()),
    ("(w + c).sum()", lambda w, c: (w + c).sum()),
    ("(w - c).mean()", lambda w, c: (w - c).mean()),
    ("w.exp().sum()", lambda w, c: w.exp().sum()),
    ("torch.sin(w).sum()", lambda w, c: torch.sin(w).sum()),
    ("(w ** 2).sum()", lambda w, c: (w**2).sum()),
    ("w.cumsum(0).sum()", lambda w, c: w.cumsum(0).sum()),
    ("torch.tanh(w).sum()", lambda w, c: torch.tanh(w).sum()),
    ("(-w).sum()", lambda w, c: (-w).sum()),
]


def retain_mistakes() -> dict[str, Callable]:
    """Wrong answers to "does a second backward raise?"."""
    return {
        "always True: a graph whose nodes saved nothing (a sum, an added constant) can be "
        "walked twice": lambda f, x: True,
        "always False: a node that saved a tensor for backward (a product, exp, sin...) "
        "frees it after the first walk": lambda f, x: False,
    }


def retain_cases(seed: int | None = None, *, draws: int = 4) -> list[Case]:
    """``(f, x)``: scalar functions of a 1-D tensor, some of which save what backward needs."""
    gen, seed = generator(seed)
    order = torch.randperm(len(RETAIN_FUNCTIONS), generator=gen).tolist()[:draws]
    cases = []
    for i in order:
        description, g = RETAIN_FUNCTIONS[i]
        n = int(torch.randint(1, 5, (1,), generator=gen))
        c = torch.randn(n, generator=gen, dtype=DOUBLE)
        x = torch.randn(n, generator=gen, dtype=DOUBLE)

        def f(w, g=g, c=c):
            return g(w, c)

        cases.append(Case(f"f(w) = {description}, w of shape ({n},), seed {seed}", (f, x)))
    return cases


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
        (tr("cumulative sum"), lambda x: torch.cumsum(x, dim=-1), None),
        (tr("outer product with a fixed 4-vector"), lambda x: torch.outer(x, a), None),
        (tr("tanh(M @ x) for a fixed 3x5 matrix M"), lambda x: torch.tanh(m @ x), 5),
    ]
    cases = []
    for description, f, n in functions:
        n = n or int(torch.randint(2, 7, (1,), generator=gen))
        x = torch.randn(n, generator=gen, dtype=DOUBLE)
        v = torch.randn(f(x).shape, generator=gen, dtype=DOUBLE)
        cases.append(Case(f"{description}, x of shape ({n},), seed {seed}", (f, x, v)))
    return cases


def check_vjp_leaves_x_alone(student: Callable, case: Case, *, public: bool = True) -> None:
    """``vector_jacobian_product`` on the caller's own ``x``, twice: ``x`` must not start to
    require a gradient, and the second call must give what the first gave (no ``.grad``
    summed into the caller's tensor)."""
    kind, name = begin_check(student, public=public, name="vector_jacobian_product")
    f, x, v = case.args
    x = x.detach().clone()
    with student_errors(kind, name, case.label):
        first = call_quietly(student, f, x, v)
        first = first.detach().clone() if isinstance(first, torch.Tensor) else first
        second = call_quietly(student, f, x, v)
    if x.requires_grad or x.grad is not None:
        raise CheckFailed(
            tr(
                "{kind} '{label}': vector_jacobian_product changed the caller's x (it now has "
                "requires_grad={requires_grad} and a .grad). Make a leaf copy: "
                "x.detach().clone().requires_grad_(True).",
                kind=kind,
                label=case.label,
                requires_grad=x.requires_grad,
            )
        )
    problem = compare(second, first, rtol=1e-12, atol=0)
    if problem:
        raise CheckFailed(
            tr(
                "{kind} '{label}': a second call on the same x gave another result ({problem}): "
                "gradients were summed into a tensor kept between calls.",
                kind=kind,
                label=case.label,
                problem=problem,
            )
        )


# --- one linear layer -------------------------------------------------------------------

LINEAR_KEYS = ("input", "weight", "bias")


def autograd_linear_backward(input, weight, bias, grad_output) -> dict:
    """The reference: the gradients ``F.linear(input, weight, bias).backward(grad_output)``
    leaves in its three arguments."""
    leaves = [t.detach().clone().requires_grad_(True) for t in (input, weight, bias)]
    F.linear(*leaves).backward(grad_output)
    return dict(zip(LINEAR_KEYS, (t.grad for t in leaves), strict=True))


def linear_cases(seed: int | None = None, *, draws: int = 4) -> list[Case]:
    """Batches of 1 to 6 rows, 1 to 6 input and output features; float64."""
    gen, seed = generator(seed)
    sizes = [(1, 3, 2), (4, 3, 3)] + [
        tuple(int(v) for v in torch.randint(1, 7, (3,), generator=gen)) for _ in range(draws)
    ]
    cases = []
    for n, d_in, d_out in sizes:
        input = torch.randn(n, d_in, generator=gen, dtype=DOUBLE)
        weight = torch.randn(d_out, d_in, generator=gen, dtype=DOUBLE)
        bias = torch.randn(d_out, generator=gen, dtype=DOUBLE)
        grad_output = torch.randn(n, d_out, generator=gen, dtype=DOUBLE)
        label = f"N={n}, in_features={d_in}, out_features={d_out}, seed {seed}"
        cases.append(Case(label, (input, weight, bias, grad_output)))
    return cases


def linear_mistakes() -> dict[str, Callable]:
    def bias_mean(input, weight, bias, grad_output):
        truth = autograd_linear_backward(input, weight, bias, grad_output)
        if input.shape[0] == 1:
            return None
        return {**truth, "bias": grad_output.mean(dim=0)}

    def input_without_transpose(input, weight, bias, grad_output):
        truth = autograd_linear_backward(input, weight, bias, grad_output)
        if weight.shape[0] != weight.shape[1]:
            return None
        return {**truth, "input": grad_output @ weight.T}

    def weight_transposed(input, weight, bias, grad_output):
        truth = autograd_linear_backward(input, weight, bias, grad_output)
        return {**truth, "weight": input.T @ grad_output}

    return {
        "the weight gradient transposed: input.T @ grad_output has shape (in, out), the "
        "weight (out, in); it is grad_output.T @ input": weight_transposed,
        "the bias gradient averaged over the batch, not summed": bias_mean,
        "grad_output @ weight.T for the input (it is grad_output @ weight)": (
            input_without_transpose
        ),
    }


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


def _by_hand(input, target, W1, b1, W2, b2, reduction, *, bias="sum", w2_from="hidden"):
    """Backpropagation written out, with switches that reproduce known mistakes."""
    z1 = input @ W1.T + b1
    hidden = z1.clamp(min=0)
    z2 = hidden @ W2.T + b2
    g2 = torch.softmax(z2, dim=1) - F.one_hot(target, z2.shape[1]).to(z2.dtype)
    if reduction == "mean":
        g2 = g2 / input.shape[0]
    g1 = (g2 @ W2) * (z1 > 0)

    def bias_grad(g):
        return g.sum(dim=0) if bias == "sum" else g.mean(dim=0)

    return {
        "W1": g1.T @ input,
        "b1": bias_grad(g1),
        "W2": g2.T @ (hidden if w2_from == "hidden" else z1),
        "b2": bias_grad(g2),
    }


def two_layer_mistakes() -> dict[str, Callable]:
    def relu_mask_forgotten(input, target, W1, b1, W2, b2, reduction="mean"):
        def loss(*args, reduction):
            return two_layer_loss(*args, reduction=reduction, relu=_relu_as_identity_backward)  # type: ignore[misc]

        return _autograd_grads(loss, input, target, W1, b1, W2, b2, reduction)

    def sum_for_mean(input, target, W1, b1, W2, b2, reduction="mean"):
        if reduction != "mean":
            return None
        return autograd_two_layer_grads(input, target, W1, b1, W2, b2, reduction="sum")

    def bias_mean(input, target, W1, b1, W2, b2, reduction="mean"):
        if input.shape[0] == 1:
            return None
        return _by_hand(input, target, W1, b1, W2, b2, reduction, bias="mean")

    def w2_from_z1(input, target, W1, b1, W2, b2, reduction="mean"):
        return _by_hand(input, target, W1, b1, W2, b2, reduction, w2_from="z1")

    return {
        "the ReLU's derivative forgotten (no mask where the pre-activation is negative)": (
            relu_mask_forgotten
        ),
        "the bias gradients averaged over the batch, not summed": bias_mean,
        "W2's gradient taken from the pre-activation Z1 instead of H = relu(Z1)": w2_from_z1,
        "the gradient of the sum given for reduction='mean' (1/N missing)": sum_for_mean,
    }


integrity.watch(__import__(__name__, fromlist=["*"]))
