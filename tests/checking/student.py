"""Student answers for the checking library's tests, written as a notebook cell would be.

Each answer is source text run in a fresh namespace named ``__main__`` (as a notebook's
is), with ``torch``, ``F``, ``nn`` and ``math`` imported the way the notebooks' first cell
does, so a student's helper named ``softplus`` and torch's ``softplus`` never meet in this
test module's own globals.
"""

from __future__ import annotations

import math
import textwrap
from typing import Any

import torch
import torch.nn.functional as F

from autograder.checking import Case


def cell(source: str, name: str | None = None) -> Any:
    """Run an answer cell's source; return the function ``name`` (or the namespace)."""
    namespace: dict[str, Any] = {
        "__name__": "__main__",
        "torch": torch,
        "F": F,
        "nn": torch.nn,
        "math": math,
    }
    exec(compile(textwrap.dedent(source), f"<answer {name or 'cell'}>", "exec"), namespace)
    return namespace[name] if name else namespace


def generator(seed: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed)


def pairs(seed: int = 0, shapes=((3,), (2, 4), (1, 3, 2)), scale: float = 1.0) -> list[Case]:
    """``(input, target)`` of equal shape in float64 and float32, every reduction."""
    gen = generator(seed)
    cases = []
    for i, shape in enumerate(shapes):
        dtype = torch.float32 if i % 2 else torch.float64
        x = (torch.randn(shape, generator=gen, dtype=torch.float64) * scale).to(dtype)
        y = torch.randn(shape, generator=gen, dtype=torch.float64).to(dtype)
        for r in ("none", "sum", "mean"):
            cases.append(Case(f"shape {shape}, {dtype}, reduction={r!r}", (x, y), {"reduction": r}))
    return cases


def logits_and_classes(seed: int = 0, scale: float = 3.0) -> list[Case]:
    """Logits ``(N, C)`` and class indices, N = 1 included, every reduction."""
    gen = generator(seed)
    cases = []
    for i, (n, c) in enumerate([(1, 3), (4, 2), (5, 6)]):
        dtype = torch.float32 if i % 2 else torch.float64
        x = (torch.randn(n, c, generator=gen, dtype=torch.float64) * scale).to(dtype)
        t = torch.randint(0, c, (n,), generator=gen)
        for r in ("none", "sum", "mean"):
            cases.append(Case(f"N={n}, C={c}, {dtype}, reduction={r!r}", (x, t), {"reduction": r}))
    return cases


def logits_and_labels(seed: int = 0, scale: float = 3.0, weight: bool = False) -> list[Case]:
    """Logits ``(N, C)`` and 0/1 float targets, optionally a weight ``(C,)``."""
    gen = generator(seed)
    cases = []
    for i, (n, c) in enumerate([(1, 3), (4, 2), (3, 5)]):
        dtype = torch.float32 if i % 2 else torch.float64
        x = (torch.randn(n, c, generator=gen, dtype=torch.float64) * scale).to(dtype)
        y = torch.randint(0, 2, (n, c), generator=gen).to(dtype)
        kwargs: dict[str, Any] = {}
        if weight:
            kwargs["weight"] = torch.rand(c, generator=gen, dtype=torch.float64).to(dtype)
        for r in ("none", "sum", "mean"):
            cases.append(
                Case(f"N={n}, C={c}, {dtype}, reduction={r!r}", (x, y), {**kwargs, "reduction": r})
            )
    return cases
