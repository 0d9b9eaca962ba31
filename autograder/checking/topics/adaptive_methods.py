"""Checks for topic 11: the adaptive methods.

Every step function of this notebook is checked by :mod:`autograder.checking.optim`
against ``torch.optim``. What is left here is Muon's Newton–Schulz iteration on its own:
its cases, drawn in the shapes Muon meets (wide, tall, square, a single row or column),
and its reference, torch's iteration in float64 (:mod:`autograder.checking.optim.muon`
explains why not in bfloat16, as torch runs it).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

import torch

from .. import Case, describe, generator, integrity
from ..draw import integer as _pick
from ..draw import log_uniform
from ..optim.muon import NS_COEFFICIENTS, reference_newton_schulz

_float64 = torch.float64

# Coefficient triples that keep the iteration bounded (random ones can blow it up): torch's
# default, the one torch's tests use, the classic cubic and quintic Newton–Schulz.
STABLE_COEFFICIENTS = [
    NS_COEFFICIENTS,
    (3.4, -4.7, 2.0),
    (1.5, -0.5, 0.0),
    (1.875, -1.25, 0.375),
]


def newton_schulz_reference(grad, steps=5, coefficients=NS_COEFFICIENTS, eps=1e-7):
    """torch.optim.Muon's Newton–Schulz, in the dtype of ``grad``."""
    return reference_newton_schulz(grad, steps, coefficients, eps)


def _newton_schulz_variant(
    grad,
    steps=5,
    coefficients=NS_COEFFICIENTS,
    eps=1e-7,
    *,
    eps_added=False,
    no_eps=False,
    no_transpose_back=False,
):
    """Newton–Schulz with one of its details changed."""
    a, b, c = coefficients
    tall = grad.size(0) > grad.size(1)
    x = grad.T if tall else grad
    norm = x.norm()
    x = x / (norm + eps if eps_added else norm if no_eps else norm.clamp(min=eps))
    for _ in range(steps):
        gram = x @ x.T
        x = a * x + (b * gram + c * gram @ gram) @ x
    return x.T if tall and not no_transpose_back else x


def newton_schulz_mistakes() -> dict[str, Callable]:
    """Exercise 11's known mistakes (``None`` where one gives the right answer)."""

    def not_transposed_back(grad, *args, **kwargs):
        if grad.size(0) <= grad.size(1):
            return None  # a wide or square matrix is not transposed at all
        return _newton_schulz_variant(grad, *args, no_transpose_back=True, **kwargs)

    return {
        "eps added to the norm (G / (‖G‖ + eps)): torch divides by max(‖G‖, eps)": partial(
            _newton_schulz_variant, eps_added=True
        ),
        "eps ignored: torch divides by max(‖G‖, eps)": partial(_newton_schulz_variant, no_eps=True),
        "a tall matrix worked on as G.T but not transposed back": not_transposed_back,
    }


def newton_schulz_cases(seed: int | None) -> list[Case]:
    """Matrices of every orientation, scaled from tiny to large, with the defaults and with
    other step counts, coefficients and an ``eps`` larger than the matrix's norm."""
    gen, seed = generator(seed)
    public = seed is not None
    shapes: list[tuple[int, ...]] = [(3, 5), (5, 3), (4, 4), (1, 6), (6, 1)] if public else []
    shapes += [tuple(int(d) for d in torch.randint(1, 8, (2,), generator=gen)) for _ in range(5)]
    cases = []
    for i, shape in enumerate(shapes):
        scale = log_uniform(gen, 1e-3, 1e3)
        grad = scale * torch.randn(shape, generator=gen, dtype=_float64)
        kwargs: dict = {}
        if i % 5 == 1:
            kwargs["steps"] = int(torch.randint(1, 9, (), generator=gen))
        elif i % 5 == 2:
            kwargs["coefficients"] = STABLE_COEFFICIENTS[_pick(gen, 1, 3)]
        elif i % 5 == 3:
            kwargs["eps"] = float(grad.norm()) * log_uniform(gen, 2.0, 20.0)
        elif i % 5 == 4:
            kwargs = {
                "steps": int(torch.randint(1, 9, (), generator=gen)),
                "coefficients": STABLE_COEFFICIENTS[_pick(gen, 0, 3)],
                "eps": log_uniform(gen, 1e-8, 1.0),
            }
        options = ", ".join(f"{k}={describe(v)}" for k, v in kwargs.items())
        label = f"shape {shape}, scale {scale:.3g}{', ' + options if options else ''}, seed {seed}"
        cases.append(Case(label, (grad,), kwargs))
    return cases


integrity.watch(__import__(__name__, fromlist=["*"]))
