"""Inputs, references and known mistakes for topic 03, information theory.

Distributions live along the last dimension. The references are ``torch.distributions``
(entropy and KL divergence of ``Categorical``) and ``F.cross_entropy``; public checks pass a
seed, hidden checks ``seed=None``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch.distributions import Categorical, kl_divergence

from .. import Case, generator, integrity
from ..draw import alternating_dtype, dtype_name
from ..i18n import tr

FORBID = [
    "torch.distributions",
    "torch.distributions.Categorical",
    "torch.distributions.kl_divergence",
    "torch.distributions.kl.kl_divergence",
    "torch.special.entr",
    "torch.nn.functional.kl_div",
    "torch.kl_div",
    "torch.nn.KLDivLoss",
    "torch.nn.functional.cross_entropy",
    "torch.nn.CrossEntropyLoss",
    "autograder.checking.topics.information_theory.entropy_reference",
    "autograder.checking.topics.information_theory.cross_entropy_reference",
    "autograder.checking.topics.information_theory.kl_reference",
    "autograder.checking.topics.information_theory.initial_loss_reference",
]


def entropy_reference(p: torch.Tensor) -> torch.Tensor:
    """Entropy in nats of the distributions along the last dimension."""
    return Categorical(probs=p).entropy()


def kl_reference(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """KL(P || Q) in nats, one value per distribution."""
    return kl_divergence(Categorical(probs=p), Categorical(probs=q))


def cross_entropy_reference(p: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """H(P, Q) = H(P) + KL(P || Q), one value per distribution."""
    return entropy_reference(p) + kl_reference(p, q)


def _distribution(gen, shape, dtype, zeros: bool) -> torch.Tensor:
    logits = torch.randn(shape, generator=gen, dtype=torch.float64) * 1.5
    p = torch.softmax(logits, dim=-1)
    if zeros and shape[-1] > 2:
        # exact zeros where 0 log 0 = 0 matters, never the whole row
        mask = torch.rand(shape, generator=gen) < 0.3
        mask[..., 0] = False
        p = torch.where(mask, torch.zeros_like(p), p)
        p = p / p.sum(dim=-1, keepdim=True)
    return p.to(dtype)


def _shapes(gen, draws: int) -> list[tuple[int, ...]]:
    shapes: list[tuple[int, ...]] = [(2,), (1, 3), (4, 5)]
    for _ in range(draws):
        c = int(torch.randint(2, 9, (1,), generator=gen))
        lead = [
            int(v)
            for v in torch.randint(
                1, 5, (int(torch.randint(0, 3, (1,), generator=gen)),), generator=gen
            )
        ]
        shapes.append((*lead, c))
    return shapes


def distribution_cases(seed: int | None = None, *, draws: int = 4) -> list[Case]:
    """Distributions ``(..., C)``: one alone, batches, exact zeros, float64 and float32."""
    gen, seed = generator(seed)
    cases = []
    for i, shape in enumerate(_shapes(gen, draws)):
        dtype = alternating_dtype(i)
        zeros = i % 3 == 2
        p = _distribution(gen, shape, dtype, zeros)
        label = f"p of shape {shape}, {dtype_name(dtype)}{', with zeros' if zeros else ''}"
        cases.append(Case(f"{label}, seed {seed}", (p,)))
    return cases


def pair_cases(seed: int | None = None, *, draws: int = 4) -> list[Case]:
    """Pairs ``(p, q)`` of one shape; ``p`` may have zeros, ``q`` never does."""
    gen, seed = generator(seed)
    cases = []
    for i, shape in enumerate(_shapes(gen, draws)):
        dtype = alternating_dtype(i)
        zeros = i % 3 == 2
        p = _distribution(gen, shape, dtype, zeros)
        q = _distribution(gen, shape, dtype, False)
        label = f"p, q of shape {shape}, {dtype_name(dtype)}{', zeros in p' if zeros else ''}"
        cases.append(Case(f"{label}, seed {seed}", (p, q)))
    return cases


def _plogp(p: torch.Tensor) -> torch.Tensor:
    return p * torch.log(p)


def entropy_mistakes() -> dict[str, Callable]:
    def bits(p):
        return entropy_reference(p) / math.log(2)

    def no_convention(p):
        return None if bool((p > 0).all()) else -_plogp(p).sum(dim=-1)

    def sign(p):
        return -entropy_reference(p)

    def first_dim(p):
        return None if p.dim() < 2 else -torch.xlogy(p, p).sum(dim=0)

    def everything(p):
        return None if p.dim() < 2 else -torch.xlogy(p, p).sum()

    return {
        "log base 2 (bits), not the natural log (nats)": bits,
        "0 log 0 left as nan: use torch.xlogy(p, p), which gives 0 there": no_convention,
        "the minus sign forgotten": sign,
        "summed over the wrong dimension (the distributions run along the last one)": first_dim,
        "summed over every element (one number), not over each distribution (dim=-1)": everything,
    }


def kl_mistakes() -> dict[str, Callable]:
    def swapped(p, q):
        return None if bool((p == 0).any()) else kl_reference(q, p)

    def cross_entropy(p, q):
        return cross_entropy_reference(p, q)

    def bits(p, q):
        return kl_reference(p, q) / math.log(2)

    def no_convention(p, q):
        if bool((p > 0).all()):
            return None
        return (p * (torch.log(p) - torch.log(q))).sum(dim=-1)

    def sign(p, q):
        return -kl_reference(p, q)

    return {
        "KL(Q || P): the two distributions swapped": swapped,
        "the cross-entropy H(P, Q): the entropy of P not subtracted": cross_entropy,
        "log base 2 (bits), not the natural log (nats)": bits,
        "0 log 0 left as nan where p is 0": no_convention,
        "the sign flipped: H(P) - H(P, Q) (or p log(q / p)), a negative number": sign,
    }


def cross_entropy_mistakes() -> dict[str, Callable]:
    def swapped(p, q):
        return None if bool((p == 0).any()) else cross_entropy_reference(q, p)

    def kl_only(p, q):
        return kl_reference(p, q)

    def entropy_only(p, q):
        return entropy_reference(p)

    def bits(p, q):
        return cross_entropy_reference(p, q) / math.log(2)

    return {
        "H(Q, P): the two distributions swapped (the log belongs to q)": swapped,
        "KL(P || Q), not the cross-entropy (it adds the entropy of P)": kl_only,
        "the entropy of P alone (q never used)": entropy_only,
        "log base 2 (bits), not the natural log (nats)": bits,
    }


# --- the first loss of an untrained classifier ------------------------------------------


def initial_loss_reference(logits, target, tolerance=0.1) -> tuple[float, float, bool]:
    """``(loss, ln C, whether the loss is within tolerance * ln C of ln C)``."""
    loss = float(F.cross_entropy(logits, target))
    chance = math.log(logits.shape[1])
    return loss, chance, abs(loss - chance) <= tolerance * chance


def initial_loss_cases(seed: int | None = None, *, draws: int = 4) -> list[Case]:
    """Logits of an untrained model: tiny (near chance), moderate, and overconfident; and
    logits that already favour the right class (the labels leak into the input), whose
    loss is far *below* ln C."""
    gen, seed = generator(seed)
    cases = []
    scales = [0.01, 3.0, -2.0] + [
        float(10 ** (torch.rand((), generator=gen) * 3 - 2)) for _ in range(draws)
    ]
    for i, scale in enumerate(scales):
        leak = scale < 0
        while True:
            c = int(torch.randint(2, 101, (1,), generator=gen))
            n = int(torch.randint(8, 65, (1,), generator=gen))
            dtype = alternating_dtype(i)
            logits = torch.randn(n, c, generator=gen, dtype=torch.float64) * abs(scale)
            target = torch.randint(0, c, (n,), generator=gen)
            if leak:  # the right class a few units above the others
                logits[torch.arange(n), target] += 2 + 4 * torch.rand(n, generator=gen).double()
            logits = logits.to(dtype)
            tolerance = (0.1, 0.05, 0.2)[i % 3]
            loss, chance, _ = initial_loss_reference(logits, target, tolerance)
            if abs(abs(loss - chance) - tolerance * chance) > 1e-3:  # not on the edge
                break
        size = (
            tr("favouring the right class (labels leaking)")
            if leak
            else tr("of std {scale}", scale=f"{scale:.3g}")
        )
        label = f"N={n}, C={c}, logits {size}, {dtype_name(dtype)}, seed {seed}"
        cases.append(Case(label, (logits, target), {"tolerance": tolerance}))
    return cases


def initial_loss_mistakes() -> dict[str, Callable]:
    def with_chance(chance_of):
        def wrong(logits, target, tolerance=0.1):
            loss, _, _ = initial_loss_reference(logits, target, tolerance)
            chance = chance_of(logits.shape[1])
            return loss, chance, abs(loss - chance) <= tolerance * chance

        return wrong

    def absolute(logits, target, tolerance=0.1):
        loss, chance, _ = initial_loss_reference(logits, target, tolerance)
        return loss, chance, abs(loss - chance) <= tolerance

    def one_sided(logits, target, tolerance=0.1):
        loss, chance, _ = initial_loss_reference(logits, target, tolerance)
        return loss, chance, loss - chance <= tolerance * chance

    return {
        "only a loss above ln C fails: a loss far below it is not ok either (take the "
        "absolute value of the difference)": one_sided,
        "ln C computed as log2(C)": with_chance(math.log2),
        "ln C computed as log10(C)": with_chance(math.log10),
        "the chance level as 1/C (a probability), not -ln(1/C) = ln C (a loss)": with_chance(
            lambda c: 1 / c
        ),
        "the tolerance taken as absolute, not relative to ln C": absolute,
    }


integrity.watch(__import__(__name__, fromlist=["*"]))
