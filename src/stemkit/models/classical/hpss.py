"""Harmonic/percussive separation by median filtering (Fitzgerald 2010; Driedger et al. 2014).

Sustained notes are smooth along time, drum hits are smooth along frequency: a median filter
across frames keeps the first, one across bins keeps the second, and their soft (Wiener-like)
ratio masks split the mixture. The masks are ``librosa.decompose.hpss(..., mask=True)``'s, bit for
bit; the medians come from :func:`stemkit.dsp.median.median_filter`, several times faster than the
``scipy.ndimage`` filter librosa calls, and librosa's import chain (numba, scikit-learn, pandas:
seconds and about 100 MB) stays out of every separation.
"""

from __future__ import annotations

import numpy as np

from ...dsp.median import median_filter
from ..registry import register
from .masking import MaskingSeparator, stack_masks


def soft_mask(x: np.ndarray, reference: np.ndarray, power: float = 2.0) -> np.ndarray:
    """``x^p / (x^p + reference^p)`` per element, 0.5 where both are (near) zero; ``librosa.util.softmask``
    with ``split_zeros=True``, same operations in the same order (so the same float32 numbers)."""
    scale = np.maximum(x, reference)
    silent = scale < np.finfo(scale.dtype).tiny
    scale[silent] = 1
    mask = (x / scale) ** power
    ref_mask = (reference / scale) ** power
    np.divide(mask, mask + ref_mask, out=mask, where=~silent)
    mask[silent] = 0.5
    return mask


def pool_bins(magnitude: np.ndarray, pool: int) -> np.ndarray:
    """``(F, N)`` -> ``(ceil(F / pool), N)``: sums of ``pool`` adjacent bins (the last group zero-padded).

    Worked on the ``(N, F)`` view, which is contiguous for stemkit's frames-major STFTs, and the
    result keeps the input's memory order (no transposing copies)."""
    bins_last = np.moveaxis(magnitude, -2, -1)  # (N, F)
    pad = (-magnitude.shape[-2]) % pool
    if pad:
        bins_last = np.concatenate([bins_last, np.zeros(bins_last.shape[:-1] + (pad,), bins_last.dtype)], axis=-1)
    pooled = bins_last[..., 0::pool].copy()
    for k in range(1, pool):  # strided additions: a reduction over a length-``pool`` axis is slow
        pooled += bins_last[..., k::pool]
    return np.moveaxis(pooled, -1, -2)


def unpool_bins(mask: np.ndarray, pool: int, bins: int) -> np.ndarray:
    """Inverse of :func:`pool_bins` for masks: each value repeated over its ``pool`` bins, ``(bins, N)``."""
    return np.moveaxis(np.repeat(np.moveaxis(mask, -2, -1), pool, axis=-1)[..., :bins], -1, -2)


def repeat_groups(masks: np.ndarray, pool: int, bins: int) -> np.ndarray:
    """Masks ``(..., G, N)`` of the groups of :func:`pool_bins` -> ``(..., bins, N)``, each group's
    value on its bins (the last group covers what is left), in the input's memory order: a
    frames-major input (the ``(..., N, G)`` view contiguous) gives a frames-major result, without
    the sliced, non-contiguous rows of :func:`unpool_bins`."""
    widths = np.full(masks.shape[-2], pool)
    widths[-1] = bins - pool * (masks.shape[-2] - 1)
    return np.moveaxis(np.repeat(np.moveaxis(masks, -2, -1), widths, axis=-1), -1, -2)


def kernel_sizes(
    sample_rate: int, n_fft: int, hop: int, harmonic_seconds: float, percussive_hz: float
) -> tuple[int, int]:
    """Median kernel lengths ``(frames, bins)``, odd and >= 3, for kernels given in s and Hz."""
    frames = max(3, int(round(harmonic_seconds * sample_rate / hop)) | 1)
    bins = max(3, int(round(percussive_hz * n_fft / sample_rate)) | 1)
    return frames, bins


def hpss_masks(
    magnitude: np.ndarray,
    harmonic_frames: int,
    percussive_bins: int,
    power: float = 2.0,
    pool: int = 1,
    percussive_only: bool = False,
) -> tuple[np.ndarray | None, np.ndarray]:
    """Soft masks ``(harmonic, percussive)``, each ``(F, N)``, summing to 1, for ``magnitude (F, N)``.

    ``pool`` > 1 sums groups of that many adjacent bins before filtering (``percussive_bins`` is
    still counted in original bins) and repeats the masks back: median filters cost in
    proportion to the bins, and the masks need no finer frequency resolution than that.
    ``percussive_only``: the harmonic mask is not made (returned as None); the percussive one is
    the same.
    """
    bins = magnitude.shape[0]
    if pool > 1:
        magnitude = pool_bins(magnitude, pool)
        percussive_bins = max(3, (percussive_bins // pool) | 1)
    magnitude = magnitude.astype(np.float32, copy=False)
    # Edges reflected, as librosa (and scipy's default) do.
    harmonic_enhanced = median_filter(magnitude, harmonic_frames, axis=-1, mode="reflect")
    percussive_enhanced = median_filter(magnitude, percussive_bins, axis=-2, mode="reflect")
    harmonic = None if percussive_only else soft_mask(harmonic_enhanced, percussive_enhanced, power)
    percussive = soft_mask(percussive_enhanced, harmonic_enhanced, power)
    if pool > 1:
        harmonic = None if harmonic is None else unpool_bins(harmonic, pool, bins)
        percussive = unpool_bins(percussive, pool, bins)
    return (None if harmonic is None else harmonic.astype(np.float32)), percussive.astype(np.float32)


@register("hpss", description="Drums vs. the rest by harmonic/percussive median filtering (no training)")
class HPSS(MaskingSeparator):
    """Harmonic/percussive split: ``drums`` = percussive part, ``no_drums`` = harmonic part.

    Knobs: ``harmonic_seconds`` (time median length), ``percussive_hz`` (frequency median
    width), ``power`` (mask exponent: 1 soft, larger sharper), ``n_fft``/``hop``,
    ``wiener_iterations``.
    """

    def __init__(
        self,
        *,
        sample_rate: int = 44100,
        n_fft: int = 2048,
        hop: int = 512,
        harmonic_seconds: float = 0.25,
        percussive_hz: float = 500.0,
        power: float = 2.0,
        segment_seconds: float = 10.0,
        wiener_iterations: int = 0,
    ):
        super().__init__(
            sources=("drums", "no_drums"),
            sample_rate=sample_rate,
            segment_seconds=segment_seconds,
            n_fft=n_fft,
            hop=hop,
            wiener_iterations=wiener_iterations,
        )
        self.kernels = kernel_sizes(sample_rate, n_fft, hop, harmonic_seconds, percussive_hz)
        self.power = float(power)

    def masks(self, spec: np.ndarray) -> np.ndarray:
        """``(C, F, N)`` complex -> ``(2, 1, F, N)``: one mask pair from the channel-mean magnitude."""
        magnitude = np.abs(spec).mean(axis=0)
        harmonic, percussive = hpss_masks(magnitude, *self.kernels, power=self.power)
        return stack_masks([percussive, harmonic])
