"""Random inputs for checks: fixed seeds for public checks, fresh ones for hidden checks.

Every topic draws its cases from these helpers, so a case's label can carry its seed and a
failure can be reproduced exactly. Hidden checks pass ``seed=None`` and get a seed from the
operating system, which notebook code cannot predict or reset.
"""

from __future__ import annotations

import math
import os

import torch

REDUCTIONS = ("none", "sum", "mean")

_urandom = os.urandom  # captured before any student code runs


def fresh_seed() -> int:
    """A seed for hidden checks, drawn from the OS so notebook code cannot predict it."""
    return int.from_bytes(_urandom(4), "little")


def generator(seed: int | None) -> tuple[torch.Generator, int]:
    """A torch generator and its seed (fresh when ``seed`` is ``None``)."""
    seed = fresh_seed() if seed is None else seed
    gen = torch.Generator().manual_seed(seed)
    return gen, seed


def alternating_dtype(i: int) -> torch.dtype:
    """float64 for even draws, float32 for odd ones: every topic checks both."""
    return torch.float32 if i % 2 else torch.float64


def dtype_name(dtype: torch.dtype) -> str:
    """``torch.float32`` -> ``"float32"``, for case labels."""
    return str(dtype).removeprefix("torch.")


def integer(gen: torch.Generator, low: int, high: int) -> int:
    """A random integer in ``low .. high``, both ends included."""
    return int(torch.randint(low, high + 1, (1,), generator=gen))


def uniform(gen: torch.Generator, low: float, high: float) -> float:
    """A random float in ``[low, high)``."""
    return low + (high - low) * float(torch.rand((), generator=gen, dtype=torch.float64))


def log_uniform(gen: torch.Generator, low: float, high: float) -> float:
    """A random float whose logarithm is uniform: every order of magnitude equally likely."""
    return math.exp(uniform(gen, math.log(low), math.log(high)))


def coin(gen: torch.Generator) -> bool:
    return bool(torch.rand((), generator=gen) < 0.5)


def shape(gen: torch.Generator, ndim: int, high: int = 6) -> tuple[int, ...]:
    """A random shape of ``ndim`` dimensions, each of size ``1 .. high``."""
    return tuple(int(d) for d in torch.randint(1, high + 1, (ndim,), generator=gen))


def any_shape(gen: torch.Generator, max_ndim: int = 3, high: int = 5) -> tuple[int, ...]:
    """A random shape of ``1 .. max_ndim`` dimensions, each of size ``1 .. high``."""
    return shape(gen, integer(gen, 1, max_ndim), high)
