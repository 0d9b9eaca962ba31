"""Cases for topic 01, the basic losses: regression pairs and classification logits.

Fixed seeds for public checks, fresh ones (``seed=None``) for hidden checks; every case
label carries its seed, so a failure can be reproduced exactly.
"""

from __future__ import annotations

import torch

from .. import REDUCTIONS, Case, generator, integrity
from ..draw import shape as _shape


def regression_cases(seed: int | None = None, *, draws: int = 4) -> list[Case]:
    """Pairs ``(input, target)`` of equal shape, every reduction, float64 and float32."""
    gen, seed = generator(seed)
    cases = []
    shapes = [(1,), (7,)] + [
        _shape(gen, int(torch.randint(1, 4, (1,), generator=gen))) for _ in range(draws)
    ]
    for i, shape in enumerate(shapes):
        dtype = torch.float32 if i % 2 else torch.float64
        input = torch.randn(shape, generator=gen, dtype=torch.float64).to(dtype)
        target = torch.randn(shape, generator=gen, dtype=torch.float64).to(dtype)
        for reduction in REDUCTIONS:
            label = f"shape {shape}, {str(dtype)[6:]}, reduction={reduction!r}, seed {seed}"
            cases.append(Case(label, (input, target), {"reduction": reduction}))
    return cases


def classification_cases(
    seed: int | None = None, *, draws: int = 4, scale: float = 3.0
) -> list[Case]:
    """Logits ``(N, C)`` and class indices ``(N,)``, every reduction; N=1 included."""
    gen, seed = generator(seed)
    cases = []
    sizes = [(1, 3), (4, 2)] + [
        (int(n), int(c)) for n, c in torch.randint(1, 9, (draws, 2), generator=gen)
    ]
    for i, (n, c) in enumerate(sizes):
        c = max(c, 2)
        dtype = torch.float32 if i % 2 else torch.float64
        logits = (torch.randn(n, c, generator=gen, dtype=torch.float64) * scale).to(dtype)
        target = torch.randint(0, c, (n,), generator=gen)
        for reduction in REDUCTIONS:
            label = (
                f"N={n}, C={c}, {str(dtype)[6:]}, scale {scale:g}, "
                f"reduction={reduction!r}, seed {seed}"
            )
            cases.append(Case(label, (logits, target), {"reduction": reduction}))
    return cases


integrity.watch(__import__(__name__, fromlist=["*"]))
