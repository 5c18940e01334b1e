"""Spectrogram losses computed from waveforms (seed 001).

Seed 001 keeps the model in the waveform domain and compares the linear (magnitude) spectrogram of
the estimate with that of the target: the STFT is differentiable, so the loss back-propagates into a
waveform model. It also combines this spectrogram loss with the waveform MAE.
"""

from __future__ import annotations

import torch

from .registry import register_loss
from .waveform import l1


def stft_magnitude(x: torch.Tensor, n_fft: int, hop: int) -> torch.Tensor:
    """``(..., T)`` waveforms -> ``(..., F, N)`` magnitudes (Hann window, centred frames)."""
    lead = x.shape[:-1]
    window = torch.hann_window(n_fft, dtype=x.dtype, device=x.device)
    spec = torch.stft(
        x.reshape(-1, x.shape[-1]), n_fft, hop, window=window, center=True, return_complex=True
    )
    return spec.abs().reshape(*lead, *spec.shape[-2:])


def _check_stft(n_fft: int = 1024, hop: int = 256, **_) -> None:
    if n_fft < 2 or hop < 1 or hop > n_fft:
        raise ValueError(f"need n_fft >= 2 and 1 <= hop <= n_fft, got n_fft={n_fft}, hop={hop}")


@register_loss("spec_l2", seed="001", description="L2 between magnitude spectrograms", check=_check_stft)
def spec_l2(
    estimate: torch.Tensor, target: torch.Tensor, mixture: torch.Tensor, n_fft: int = 1024, hop: int = 256
) -> torch.Tensor:
    """mean (|STFT(estimate)| - |STFT(target)|)^2 over ``(B, S, C, F, N)``."""
    return (stft_magnitude(estimate, n_fft, hop) - stft_magnitude(target, n_fft, hop)).pow(2).mean()


@register_loss(
    "spec_l2_mae", seed="001", description="spectrogram L2 + weight x waveform MAE", check=_check_stft
)
def spec_l2_mae(
    estimate: torch.Tensor,
    target: torch.Tensor,
    mixture: torch.Tensor,
    n_fft: int = 1024,
    hop: int = 256,
    mae_weight: float = 1.0,
) -> torch.Tensor:
    """``spec_l2 + mae_weight * l1``."""
    return spec_l2(estimate, target, mixture, n_fft, hop) + mae_weight * l1(estimate, target, mixture)
