"""Waveform losses: mean absolute error (L1) and mean squared error (L2).

Seed 000 (Lanternfish) trains on the MSE of the reconstructed audio; seed 001 (INFO8010) reports that
both MAE and MSE converge. Both average over every element of ``(B, S, C, T)``.
"""

from __future__ import annotations

import torch

from .registry import register_loss


@register_loss("l1", seed="001", description="waveform mean absolute error")
def l1(estimate: torch.Tensor, target: torch.Tensor, mixture: torch.Tensor) -> torch.Tensor:
    """mean |estimate - target| over ``(B, S, C, T)``."""
    return (estimate - target).abs().mean()


@register_loss("l2", seed="000, 001", description="waveform mean squared error")
def l2(estimate: torch.Tensor, target: torch.Tensor, mixture: torch.Tensor) -> torch.Tensor:
    """mean (estimate - target)^2 over ``(B, S, C, T)``."""
    return (estimate - target).pow(2).mean()
