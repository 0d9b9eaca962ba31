"""Random inputs for the regression and distribution losses of topic 04.

Like :mod:`.basic_losses`: fixed seeds for public checks, ``seed=None`` (a fresh OS seed)
for hidden ones, and every case label carries its seed so a failure can be reproduced.
Each helper covers every option of its loss, both float dtypes and a batch of one.
"""

from __future__ import annotations

from typing import Any

import torch

from .. import REDUCTIONS, Case, generator, integrity
from ..draw import alternating_dtype as _dtype
from ..draw import dtype_name as _name
from ..draw import uniform as _uniform
from ..i18n import tr


def _shapes(gen: torch.Generator, draws: int) -> list[tuple[int, ...]]:
    """A batch of one, a vector, a matrix, a 0-dim pair (one number each), a 4-D batch,
    then random shapes of one to three dims."""
    shapes: list[tuple[int, ...]] = [(1,), (1, 4), (7,), (3, 5), (), (2, 1, 3, 2)]
    for _ in range(draws):
        ndim = int(torch.randint(1, 4, (1,), generator=gen))
        shapes.append(tuple(int(d) for d in torch.randint(1, 7, (ndim,), generator=gen)))
    return shapes


def threshold_cases(
    seed: int | None = None, *, draws: int = 4, option: str = "beta", weight: bool = False
) -> list[Case]:
    """``(input, target)`` for SmoothL1 (``option="beta"``) or Huber (``option="delta"``).

    Errors are spread so that both sides of the threshold occur. ``beta`` includes 0
    (SmoothL1 becomes L1); ``delta`` stays positive, as torch requires. With ``weight``,
    some Huber cases carry a per-element ``weight`` of the input's shape.
    """
    gen, seed = generator(seed)
    fixed = [0.0, 1.0, 0.5, 2.0] if option == "beta" else [1.0, 0.5, 2.0, 0.1]
    cases = []
    for i, shape in enumerate(_shapes(gen, draws)):
        dtype = _dtype(i)
        value = fixed[i] if i < len(fixed) else round(_uniform(gen, 0.05, 3.0), 4)
        input = (torch.randn(shape, generator=gen, dtype=torch.float64) * 2).to(dtype)
        target = torch.randn(shape, generator=gen, dtype=torch.float64).to(dtype)
        kwargs: dict[str, Any] = {option: value}
        if weight and i % 3 == 2:
            kwargs["weight"] = torch.rand(shape, generator=gen, dtype=torch.float64).to(dtype)
        for reduction in REDUCTIONS:
            extra = ", weighted" if "weight" in kwargs else ""
            label = (
                f"shape {shape}, {_name(dtype)}, {option}={value:g}{extra}, "
                f"reduction={reduction!r}, seed {seed}"
            )
            cases.append(Case(label, (input, target), {**kwargs, "reduction": reduction}))
    return cases


def poisson_cases(seed: int | None = None, *, draws: int = 4) -> list[Case]:
    """``(input, target)`` counts for PoissonNLLLoss, every ``log_input``/``full`` pair.

    Targets are Poisson counts with 0, 1 and larger values where the shape has room
    (``full`` adds the Stirling term only where target > 1). With ``log_input=False``
    the rates include 0 and 1e-9, where ``eps`` changes the result; ``eps`` varies.
    """
    gen, seed = generator(seed)
    options = [(True, False), (False, False), (True, True), (False, True)]
    epsilons = [1e-8, 0.1, 1e-3, 1e-8]
    cases = []
    for i, shape in enumerate(_shapes(gen, draws)):
        dtype = _dtype(i)
        log_input, full = options[i % 4]
        eps = epsilons[i % 4] if i < 4 else float(f"{10 ** _uniform(gen, -9, -1):.3g}")
        rate = torch.rand(shape, generator=gen, dtype=torch.float64) * 6
        target = torch.poisson(rate, generator=gen)
        flat = target.view(-1)
        flat[: min(3, flat.numel())] = torch.tensor([0.0, 1.0, 4.0], dtype=torch.float64)[
            : min(3, flat.numel())
        ]
        if log_input:
            input = torch.randn(shape, generator=gen, dtype=torch.float64)
        else:
            input = torch.rand(shape, generator=gen, dtype=torch.float64) * 5
            small = input.view(-1)
            small[-min(2, small.numel()) :] = torch.tensor([0.0, 1e-9], dtype=torch.float64)[
                -min(2, small.numel()) :
            ]
        input, target = input.to(dtype), target.to(dtype)
        kwargs = {"log_input": log_input, "full": full, "eps": eps}
        for reduction in REDUCTIONS:
            label = (
                f"shape {shape}, {_name(dtype)}, log_input={log_input}, full={full}, "
                f"eps={eps:g}, reduction={reduction!r}, seed {seed}"
            )
            cases.append(Case(label, (input, target), {**kwargs, "reduction": reduction}))
    return cases


def _var_shapes(shape: tuple[int, ...]) -> list[tuple[str, tuple[int, ...] | None]]:
    """Every ``var`` layout torch accepts for ``input`` of ``shape`` (None: a float)."""
    layouts = [(tr("one variance per element"), shape), (tr("one float for everything"), None)]
    layouts.append((tr("last dimension dropped"), shape[:-1]))
    for d in range(len(shape)):
        if shape[d] != 1:
            layouts.append((tr("size 1 in dimension {d}", d=d), shape[:d] + (1,) + shape[d + 1 :]))
    return layouts


def gaussian_cases(seed: int | None = None, *, draws: int = 3) -> list[Case]:
    """``(input, target, var)`` for GaussianNLLLoss: every ``var`` layout, ``full``, ``eps``.

    Some variances are 0 or tiny, so the clamp at ``eps`` matters.
    """
    gen, seed = generator(seed)
    shapes = [(1, 3), (6,), (4, 3)]
    for _ in range(draws):
        ndim = int(torch.randint(1, 4, (1,), generator=gen))
        shapes.append(tuple(int(d) for d in torch.randint(1, 6, (ndim,), generator=gen)))
    epsilons = [1e-6, 0.05, 1e-3]
    cases = []
    k = 0
    for i, shape in enumerate(shapes):
        dtype = _dtype(i)
        input = torch.randn(shape, generator=gen, dtype=torch.float64).to(dtype)
        target = torch.randn(shape, generator=gen, dtype=torch.float64).to(dtype)
        for layout, var_shape in _var_shapes(shape):
            k += 1
            full, eps = bool(k % 2), epsilons[k % 3]
            var: float | torch.Tensor
            if var_shape is None:
                var = round(_uniform(gen, 0.2, 2.0), 4) if k % 4 else 0.0
            else:
                var = torch.rand(var_shape, generator=gen, dtype=torch.float64) * 2
                flat = var.view(-1)
                if flat.numel() >= 3:
                    flat[:2] = torch.tensor([0.0, 1e-7], dtype=torch.float64)
                var = var.to(dtype)
            for reduction in REDUCTIONS:
                label = (
                    f"input {shape}, {_name(dtype)}, var: {layout}, full={full}, eps={eps:g}, "
                    f"reduction={reduction!r}, seed {seed}"
                )
                kwargs = {"full": full, "eps": eps, "reduction": reduction}
                cases.append(Case(label, (input, target, var), kwargs))
    return cases


KL_REDUCTIONS = ("none", "sum", "mean", "batchmean")


def kl_cases(seed: int | None = None, *, draws: int = 3) -> list[Case]:
    """``(input, target)`` for KLDivLoss: log-probabilities over dimension 1.

    Shapes (N, C), a batch of one (1, C), (N, C, L), a single distribution (C,) and a
    0-dim pair (one probability and one log-probability: ``batchmean`` is then the sum, as
    torch has it). Probability targets contain exact zeros (0 log 0 counts as 0); with
    ``log_target=True`` the target is a log-probability. Every reduction, batchmean too.
    """
    gen, seed = generator(seed)
    shapes: list[tuple[int, ...]] = [(2, 3), (1, 5), (4, 3, 2), (6,), (), ()]
    for _ in range(draws):
        shapes.append(tuple(int(d) for d in torch.randint(1, 7, (2,), generator=gen)))
    cases = []
    for i, shape in enumerate(shapes):
        dtype = _dtype(i)
        dim = 0 if len(shape) == 1 else 1
        logits = torch.randn(shape, generator=gen, dtype=torch.float64) * 2
        other = torch.randn(shape, generator=gen, dtype=torch.float64) * 2
        log_target = i % 3 == 1
        if not shape:  # one probability: log(sigmoid) keeps it inside (0, 1)
            input = torch.nn.functional.logsigmoid(logits)
            target = torch.nn.functional.logsigmoid(other)
            target = target if log_target else target.exp()
        elif log_target:
            input = torch.log_softmax(logits, dim=dim)
            target = torch.log_softmax(other, dim=dim)
        else:
            input = torch.log_softmax(logits, dim=dim)
            target = torch.softmax(other, dim=dim)
            drop = torch.rand(shape, generator=gen, dtype=torch.float64) < 0.3
            keep = target.argmax(dim=dim, keepdim=True)
            drop.scatter_(dim, keep, False)
            target = target.masked_fill(drop, 0.0)
            target = target / target.sum(dim=dim, keepdim=True)
        input, target = input.to(dtype), target.to(dtype)
        for reduction in KL_REDUCTIONS:
            label = (
                f"shape {shape}, {_name(dtype)}, log_target={log_target}, "
                f"reduction={reduction!r}, seed {seed}"
            )
            kwargs = {"reduction": reduction, "log_target": log_target}
            cases.append(Case(label, (input, target), kwargs))
    return cases


def distinct_mistakes(reference, mistakes: dict) -> dict:
    """``mistakes`` that are only reported where they differ from the right answer.

    Some mistakes are harmless for some options (Huber's formula *is* smooth L1 when
    ``beta=1``; a sum is a mean for one element): there a wrong answer (say, a wrong dtype)
    must not be blamed on them.
    """

    def guarded(wrong):
        def check(*args, **kwargs):
            value = wrong(*args, **kwargs)
            if value is None:
                return None
            right = reference(*args, **kwargs)
            if isinstance(value, torch.Tensor) and isinstance(right, torch.Tensor):
                same = value.shape == right.shape and torch.allclose(
                    value.detach().double(), right.detach().double(), equal_nan=True
                )
                return None if same else value
            return value

        return check

    return {name: guarded(wrong) for name, wrong in mistakes.items()}


def distribution_pairs(seed: int | None = None, *, draws: int = 4) -> list[Case]:
    """``(p, q)``: batches of probability distributions ``(N, C)``, rows summing to 1.

    ``p`` (the target) has exact zeros in some rows; ``q`` (the model) is positive. A batch
    of one comes first; float64 and float32 alternate.
    """
    gen, seed = generator(seed)
    sizes = [(1, 4), (3, 3), (5, 2)] + [
        (int(n), max(int(c), 2)) for n, c in torch.randint(1, 8, (draws, 2), generator=gen)
    ]
    cases = []
    for i, (n, c) in enumerate(sizes):
        dtype = _dtype(i)
        q = torch.softmax(torch.randn(n, c, generator=gen, dtype=torch.float64) * 2, dim=1)
        p = torch.softmax(torch.randn(n, c, generator=gen, dtype=torch.float64) * 2, dim=1)
        drop = torch.rand(n, c, generator=gen, dtype=torch.float64) < 0.3
        drop.scatter_(1, p.argmax(dim=1, keepdim=True), False)
        p = p.masked_fill(drop, 0.0)
        p = p / p.sum(dim=1, keepdim=True)
        label = f"N={n}, C={c}, {_name(dtype)}, seed {seed}"
        cases.append(Case(label, (p.to(dtype), q.to(dtype))))
    return cases


integrity.watch(__import__(__name__, fromlist=["*"]))
