"""Oracle separators: the upper bounds (and the floor) that evaluation reports compare models to.

They are given the reference stems and compute the best estimate a mask (or a Wiener filter) on
the mixture STFT could give, as the SiSEC/MUSDB oracle baselines do (STFT 4096 / hop 1024).

Functions take numpy arrays or torch tensors, ``mix (C, T)`` and ``refs (S, C, T)``, and return
estimates ``(S, C, T)`` of the same type. The registered models wrap them for ``stemkit evaluate``:
``model.separate_with_references(mix, refs)``.
"""

from __future__ import annotations

import numpy as np
import torch

from ..dsp.arrays import numpy_or_torch, to_tensor
from ..dsp.stft import istft, stft
from ..dsp.wiener import EPS, expectation_maximization
from ..errors import ModelError
from .base import SOURCES_4, SeparationModel
from .registry import register

N_FFT = 4096
HOP = 1024


def _check(mix: torch.Tensor, refs: torch.Tensor) -> None:
    if mix.dim() != 2 or refs.dim() != 3 or refs.shape[1:] != mix.shape:
        raise ValueError(
            f"expected mix (C, T) and refs (S, C, T), got {tuple(mix.shape)} and {tuple(refs.shape)}"
        )


def _apply_masks(X: torch.Tensor, masks: torch.Tensor, length: int, n_fft: int, hop: int):
    """Masks ``(S, C, F, N)`` on the mixture STFT ``X (C, F, N)`` -> waveforms ``(S, C, T)``."""
    return istft(masks * X, length, n_fft, hop)


@numpy_or_torch
def ideal_binary_mask(mix, refs, n_fft: int = N_FFT, hop: int = HOP):
    """Each time-frequency bin (per channel) goes to the source with the largest magnitude there.

    The masks partition the mixture, so the estimates sum to it. ``(C, T), (S, C, T) -> (S, C, T)``.
    """
    _check(mix, refs)
    X, R = stft(mix, n_fft, hop), stft(refs, n_fft, hop)
    winner = R.abs().argmax(dim=0)  # (C, F, N)
    masks = torch.nn.functional.one_hot(winner, R.shape[0]).movedim(-1, 0).to(X.real.dtype)
    return _apply_masks(X, masks, mix.shape[-1], n_fft, hop)


@numpy_or_torch
def ideal_ratio_mask(mix, refs, power: int = 1, n_fft: int = N_FFT, hop: int = HOP):
    """Soft masks ``|S_j|^p / sum_k |S_k|^p`` (``power`` 1: magnitude, 2: power, the Wiener gain).

    ``(C, T), (S, C, T) -> (S, C, T)``; the masks sum to one, so the estimates sum to the mixture.
    """
    _check(mix, refs)
    if power <= 0:
        raise ValueError(f"power must be positive, got {power}")
    X, R = stft(mix, n_fft, hop), stft(refs, n_fft, hop)
    weights = R.abs().pow(power)
    masks = weights / (weights.sum(dim=0, keepdim=True) + torch.finfo(weights.dtype).tiny)
    # Where every reference is silent the bin is shared equally, so masks still partition.
    masks = torch.where(weights.sum(0, keepdim=True) > 0, masks, 1.0 / R.shape[0])
    return _apply_masks(X, masks, mix.shape[-1], n_fft, hop)


@numpy_or_torch
def multichannel_wiener(
    mix, refs, iterations: int = 1, n_fft: int = N_FFT, hop: int = HOP, eps: float = EPS
):
    """Oracle multichannel Wiener filter: PSDs and spatial covariances from the true sources.

    ``iterations`` is the number of (estimate statistics, filter) rounds; the first uses the
    references, later ones re-estimate from the filtered sources. ``(C, T), (S, C, T) -> (S, C, T)``.
    """
    _check(mix, refs)
    if iterations < 1:
        raise ValueError(f"iterations must be >= 1, got {iterations}")
    X, R = stft(mix, n_fft, hop), stft(refs, n_fft, hop)
    # Scale to a peak of 10 as wiener() does, so powers stay in float32 range.
    scale = max(1.0, float(X.abs().max()) / 10.0)
    Y = expectation_maximization(R / scale, X / scale, iterations, eps) * scale
    return istft(Y, mix.shape[-1], n_fft, hop)


def mixture_floor(mix, refs):
    """The floor: every estimate is the mixture itself. ``(C, T), (S, C, T) -> (S, C, T)``."""
    if isinstance(mix, torch.Tensor):
        return mix.unsqueeze(0).expand(refs.shape[0], -1, -1).clone()
    return np.repeat(np.asarray(mix, dtype=np.float32)[None], np.shape(refs)[0], axis=0)


class OracleSeparator(SeparationModel):
    """Base of the oracle models: no parameters, ``separate_with_references`` instead of forward."""

    family = "oracle"

    def __init__(
        self,
        sources=SOURCES_4,
        sample_rate: int = 44100,
        channels: int = 2,
        n_fft: int = N_FFT,
        hop: int = HOP,
    ):
        super().__init__(sources=sources, sample_rate=sample_rate, channels=channels, segment=sample_rate * 10)
        self.n_fft, self.hop = int(n_fft), int(hop)

    def forward(self, mix: torch.Tensor) -> torch.Tensor:
        raise ModelError("oracle models need reference stems; use stemkit evaluate")

    def estimate(self, mix: torch.Tensor, refs: torch.Tensor) -> torch.Tensor:  # pragma: no cover
        raise NotImplementedError

    def separate_with_references(self, mix, refs) -> np.ndarray:
        """``mix (C, T)``, ``refs (S, C, T)`` (any S, in the caller's order) -> ``(S, C, T)`` float32."""
        mix_t, refs_t = to_tensor(mix), to_tensor(refs)
        _check(mix_t, refs_t)
        with torch.no_grad():
            out = self.estimate(mix_t, refs_t)
        return out.detach().cpu().numpy().astype(np.float32, copy=False)


@register("oracle_ibm", description="Oracle ideal binary mask (needs reference stems)")
class OracleIBM(OracleSeparator):
    """Ideal binary mask on a 4096/1024 STFT: each bin goes to the loudest reference."""

    def estimate(self, mix, refs):
        return ideal_binary_mask(mix, refs, self.n_fft, self.hop)


@register("oracle_irm", description="Oracle ideal ratio mask, magnitude (needs reference stems)")
class OracleIRM(OracleSeparator):
    """Ideal ratio mask ``|S_j| / sum |S_k|`` on the mixture STFT."""

    power = 1

    def estimate(self, mix, refs):
        return ideal_ratio_mask(mix, refs, self.power, self.n_fft, self.hop)


@register("oracle_irm2", description="Oracle ideal ratio mask, power (needs reference stems)")
class OracleIRM2(OracleIRM):
    """Ideal ratio mask on powers ``|S_j|^2 / sum |S_k|^2`` (the single-channel Wiener gain)."""

    power = 2


@register("oracle_mwf", description="Oracle multichannel Wiener filter (needs reference stems)")
class OracleMWF(OracleSeparator):
    """Multichannel Wiener filter with PSDs and spatial covariances of the true sources."""

    def __init__(self, *args, iterations: int = 1, **kwargs):
        super().__init__(*args, **kwargs)
        self.iterations = int(iterations)

    def estimate(self, mix, refs):
        return multichannel_wiener(mix, refs, self.iterations, self.n_fft, self.hop)


@register("mixture", description="Floor for evaluation: every stem is the mixture")
class MixtureFloor(OracleSeparator):
    """The lower bound every separator must beat: each estimate is the unprocessed mixture."""

    def estimate(self, mix, refs):
        return mixture_floor(mix, refs)
