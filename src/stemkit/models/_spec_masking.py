"""Shared by the spectrogram models: ratio masks and re-using the mixture phase."""

from __future__ import annotations

import torch


def ratio_masks(raw: torch.Tensor, dim: int, eps: float = 1e-8) -> torch.Tensor:
    """Non-negative estimates -> masks that sum to exactly one along ``dim``.

    ``m_s = (y_s + eps / S) / (sum_s y_s + eps)``: the ``eps / S`` share keeps the sum at one
    even where every estimate is zero (there the mixture is split evenly).
    """
    sources = raw.shape[dim]
    return (raw + eps / sources) / (raw.sum(dim=dim, keepdim=True) + eps)


def with_mixture_phase(magnitude: torch.Tensor, mix_spec: torch.Tensor) -> torch.Tensor:
    """Complex spectrogram with ``magnitude`` and the phase of ``mix_spec`` (broadcast)."""
    return torch.polar(magnitude, torch.angle(mix_spec).expand_as(magnitude))
