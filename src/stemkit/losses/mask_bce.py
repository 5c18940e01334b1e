"""Seed 003's binary cross-entropy on predicted masks.

The Vocal Mask CNN ends in a sigmoid and is trained with BCE against the binary vocal mask of the
centre frame. Here ``estimate`` and ``target`` come from ``model.training_outputs(mix)["mask"]`` and
``model.training_targets(stems)["mask"]``: probabilities and 0/1 (or soft) targets of the same shape.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

from .registry import register_loss

_EPS = 1e-7


@register_loss("mask_bce", inputs="mask", seed="003", description="binary cross-entropy on masks")
def mask_bce(estimate: torch.Tensor, target: torch.Tensor, mixture: torch.Tensor) -> torch.Tensor:
    """mean ``-(t log p + (1 - t) log(1 - p))``; ``p`` clamped away from 0 and 1 so log stays finite."""
    return F.binary_cross_entropy(estimate.clamp(_EPS, 1 - _EPS), target.to(estimate.dtype))
