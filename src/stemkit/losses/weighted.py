"""Seed 002's alpha-weighted spectrogram L1 (equations 12-13).

``loss = sum_s alpha_s * mean |S_hat_s - S_s|`` over magnitude spectrograms. Equation 12 weights
vocals by alpha and accompaniment by 1 - alpha; the report's alpha = 0.707 solves
``alpha * mean||vocals||_2 = (1 - alpha) * mean||acc||_2``, i.e. each source's weight is inversely
proportional to its mean 2-norm. Equation 13 extends this to any number of sources:

    alpha_s = (1 / n_s) / sum_j (1 / n_j),   n_s = mean over the batch of ||target_s||_2

``weights="auto"`` derives alpha from the batch's targets (no gradient flows through alpha);
a list gives fixed weights, in source order (e.g. ``[0.707, 0.293]`` for vocals/accompaniment).
"""

from __future__ import annotations

from typing import Sequence

import torch

from .registry import register_loss
from .spectral import _check_stft, stft_magnitude

_EPS = 1e-8


def norm_weights(target: torch.Tensor) -> torch.Tensor:
    """``(B, S, ...)`` targets -> ``(S,)`` weights summing to 1, inversely proportional to mean 2-norms."""
    norms = target.detach().flatten(2).norm(dim=2).mean(dim=0)  # (S,)
    inverse = 1.0 / (norms + _EPS)
    return inverse / inverse.sum()


def _weights(weights: str | Sequence[float], target: torch.Tensor) -> torch.Tensor:
    if isinstance(weights, str):
        return norm_weights(target)
    w = torch.as_tensor(list(weights), dtype=target.dtype, device=target.device)
    if w.numel() != target.shape[1]:
        raise ValueError(f"{w.numel()} weights for {target.shape[1]} sources")
    return w


def weighted_l1(estimate: torch.Tensor, target: torch.Tensor, weights: str | Sequence[float] = "auto") -> torch.Tensor:
    """``sum_s alpha_s * mean |estimate_s - target_s|`` on ``(B, S, ...)``."""
    per_source = (estimate - target).abs().flatten(2).mean(dim=2).mean(dim=0)  # (S,)
    return (_weights(weights, target) * per_source).sum()


def _check_weights(weights="auto", **kw) -> None:
    if isinstance(weights, str):
        if weights != "auto":
            raise ValueError(f"weights must be 'auto' or a list of numbers, got {weights!r}")
    elif not all(isinstance(w, (int, float)) and w >= 0 for w in weights):
        raise ValueError(f"weights must be non-negative numbers, got {weights!r}")
    if "n_fft" in kw:
        _check_stft(**kw)


@register_loss(
    "alpha_l1",
    inputs="spec",
    seed="002",
    description="alpha-weighted L1 on the model's own magnitude spectrograms",
    check=_check_weights,
)
def alpha_l1(
    estimate: torch.Tensor, target: torch.Tensor, mixture: torch.Tensor, weights: str | Sequence[float] = "auto"
) -> torch.Tensor:
    """Weighted L1 on spectrograms ``(B, S, C, F, N)`` given by ``model.training_outputs``."""
    return weighted_l1(estimate, target, weights)


@register_loss(
    "alpha_spec_l1",
    seed="002",
    description="alpha-weighted L1 on STFT magnitudes of waveform stems",
    check=_check_weights,
)
def alpha_spec_l1(
    estimate: torch.Tensor,
    target: torch.Tensor,
    mixture: torch.Tensor,
    weights: str | Sequence[float] = "auto",
    n_fft: int = 2048,
    hop: int = 512,
) -> torch.Tensor:
    """Weighted L1 on ``|STFT|`` of ``(B, S, C, T)`` waveforms (seed 002's n_fft 2048 / hop 512)."""
    return weighted_l1(stft_magnitude(estimate, n_fft, hop), stft_magnitude(target, n_fft, hop), weights)
