"""Seed 004's discriminative loss ``L = L_m + L_o`` (Chandna et al. 2017 reimplementation).

With ``||.||^2`` the sum of squares, ``o`` the "other" stem and ``v`` the vocals:

    L_m = sum_{s != o} ||y_s - y_hat_s||^2 - alpha * sum_{i < j} ||y_hat_i - y_hat_j||^2
    L_o = -beta * sum_{s not in {o, v}} ||y_hat_s - y_o||^2 - gamma * ||y_hat_v - y_o||^2

The true and predicted "other" are never compared directly; the report's weights are alpha = 0.001,
beta = 0.01, gamma = 0.03, and its code divides the total by the batch size.
"""

from __future__ import annotations

from itertools import combinations
from typing import Sequence

import torch

from ..models.base import SOURCES_4
from .registry import register_loss


def _sq(x: torch.Tensor) -> torch.Tensor:
    return x.pow(2).sum()


def _check(sources: Sequence[str] = SOURCES_4, **_) -> None:
    if "other" not in sources:
        raise ValueError(f"needs an 'other' source, training sources are {list(sources)}")


@register_loss("chandna", seed="004", description="L_m + L_o discriminative loss", check=_check)
def chandna(
    estimate: torch.Tensor,
    target: torch.Tensor,
    mixture: torch.Tensor,
    alpha: float = 0.001,
    beta: float = 0.01,
    gamma: float = 0.03,
    sources: Sequence[str] = SOURCES_4,
) -> torch.Tensor:
    """``(L_m + L_o) / B`` on ``(B, S, C, T)`` (or any ``(B, S, ...)``) in the order of ``sources``."""
    sources = list(sources)
    o = sources.index("other")
    v = sources.index("vocals") if "vocals" in sources else None
    y_o = target[:, o]
    l_m = sum(_sq(target[:, s] - estimate[:, s]) for s in range(len(sources)) if s != o)
    l_m = l_m - alpha * sum(_sq(estimate[:, i] - estimate[:, j]) for i, j in combinations(range(len(sources)), 2))
    l_o = -beta * sum(_sq(estimate[:, s] - y_o) for s in range(len(sources)) if s not in (o, v))
    if v is not None:
        l_o = l_o - gamma * _sq(estimate[:, v] - y_o)
    return (l_m + l_o) / estimate.shape[0]
