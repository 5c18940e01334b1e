"""Seed 001's difference loss L_diff, added to the MAE.

Build ``a_ij = mean |estimate_i - target_j|`` over sources i, j. Its diagonal is the per-source MAE
(minimised); the off-diagonal entries measure how far each estimate is from the *other* targets and
are maximised, which is what L_diff (strictly negative) does. With means on both parts,

    loss = mean_i a_ii - weight * mean_{i != j} a_ij

stays bounded below only for ``weight < 1`` (an estimate growing without limit raises its row's
diagonal as fast as its off-diagonal mean), so larger weights are refused.
"""

from __future__ import annotations

import torch

from .registry import register_loss


def pairwise_mae(estimate: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``(B, S, ...)`` x2 -> ``(S, S)`` matrix ``a_ij = mean |estimate_i - target_j|``."""
    est = estimate.flatten(2).unsqueeze(2)  # (B, S, 1, K)
    tgt = target.flatten(2).unsqueeze(1)  # (B, 1, S, K)
    return (est - tgt).abs().mean(dim=(0, 3))


def _check(weight: float = 0.1, **_) -> None:
    if not 0 <= weight < 1:
        raise ValueError(f"weight must be in [0, 1) to keep the loss bounded, got {weight}")


@register_loss("difference", seed="001", description="MAE minus weight x cross-source MAE (L_diff)", check=_check)
def difference(
    estimate: torch.Tensor, target: torch.Tensor, mixture: torch.Tensor, weight: float = 0.1
) -> torch.Tensor:
    """``mean_i a_ii - weight * mean_{i != j} a_ij`` on ``(B, S, C, T)``; needs S >= 2."""
    a = pairwise_mae(estimate, target)
    n = a.shape[0]
    if n < 2:
        raise ValueError("the difference loss needs at least two sources")
    diag = torch.diagonal(a)
    off_mean = (a.sum() - diag.sum()) / (n * (n - 1))
    return diag.mean() - weight * off_mean
