"""Named mistakes that every loss with a ``reduction`` keyword can make.

A *mistake function* computes the wrong value a known mistake gives (or ``None`` where the
mistake does not apply to a case); the checks compare a wrong answer with each and name
the one it matches.
"""

from __future__ import annotations

from collections.abc import Callable

import torch


def reduce_losses(losses: torch.Tensor, reduction: str) -> torch.Tensor:
    """Per-element losses reduced as torch does, for the known-mistake functions.

    ``batchmean`` (KLDivLoss only) divides the sum by the size of the first dimension.
    """
    if reduction == "batchmean":
        return losses.sum() / losses.size(0) if losses.dim() else losses.sum()
    return {"none": losses, "sum": losses.sum(), "mean": losses.mean()}[reduction]


def reduction_mistakes(reference: Callable) -> dict[str, Callable]:
    """Known mistakes of any loss with a ``reduction`` keyword: the wrong reduction used."""

    def swapped(wanted: str, used: str) -> Callable:
        def wrong(*args, reduction="mean", **kwargs):
            return reference(*args, reduction=used, **kwargs) if reduction == wanted else None

        return wrong

    return {
        "sum instead of mean": swapped("mean", "sum"),
        "mean instead of sum": swapped("sum", "mean"),
        "no reduction (the per-element losses) instead of the mean": swapped("mean", "none"),
        "no reduction (the per-element losses) instead of the sum": swapped("sum", "none"),
    }
