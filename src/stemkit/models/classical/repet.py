"""REPET-SIM: the repeating background, modelled from similar frames (Rafii & Pardo 2012).

Accompaniment repeats (a bar, a riff, a chord pattern comes back), a voice does not. For every
frame, the most similar frames elsewhere in the excerpt (cosine similarity of magnitude spectra,
at least ``min_separation`` apart) are found; their element-wise median over those neighbours is
a model of the repeating background in that frame, since the voice rarely repeats identically and
is voted out. The background mask is ``min(model, V) / V``; the rest is the foreground.

``librosa.decompose.nn_filter`` computes the same median, but with one Python-level median per
frame (about 40 s for 30 s of audio); here the neighbours are gathered and sorted in one batched
torch operation per block of frames (well under 1 s).
"""

from __future__ import annotations

import numpy as np
import torch

from ..registry import register
from .masking import MaskingSeparator, band_weight, stack_masks

#: Frames per block when gathering neighbours, to bound memory at (neighbours, block, F).
_BLOCK = 256


def nearest_frames(magnitude: torch.Tensor, neighbours: int, min_separation: int) -> torch.Tensor:
    """Indices ``(N, k)`` of each frame's ``k`` most cosine-similar frames of ``magnitude (F, N)``,
    none closer than ``min_separation`` frames to it. ``k`` shrinks for short excerpts."""
    frames = magnitude.shape[-1]
    unit = magnitude / (magnitude.norm(dim=0, keepdim=True) + 1e-12)
    similarity = unit.T @ unit  # (N, N)
    separation = min(max(1, min_separation), max(1, (frames - 1) // 2))
    index = torch.arange(frames)
    too_close = (index[:, None] - index[None, :]).abs() < separation
    similarity.masked_fill_(too_close, -float("inf"))
    candidates = int((~too_close).sum(dim=1).min())
    k = max(1, min(neighbours, candidates))
    return similarity.topk(k, dim=1).indices


def repet_sim_background(
    magnitude: np.ndarray, neighbours: int = 9, min_separation: int = 43
) -> np.ndarray:
    """Repeating-background model ``(F, N)`` (never above ``magnitude (F, N)``)."""
    V = torch.from_numpy(np.ascontiguousarray(magnitude, dtype=np.float32))
    frames = V.shape[-1]
    if frames < 3:  # nothing to compare with: everything is background
        return magnitude.astype(np.float32)
    neighbours_of = nearest_frames(V, neighbours, min_separation)  # (N, k)
    k = neighbours_of.shape[1]
    rows = V.T.contiguous()  # (N, F): one row per frame, so a gather copies contiguous spectra
    model = torch.empty_like(rows)
    for start in range(0, frames, _BLOCK):
        idx = neighbours_of[start : start + _BLOCK].T  # (k, n)
        # Sorting along the small first axis is faster here than torch.median on the last one.
        model[start : start + idx.shape[1]] = rows[idx].sort(dim=0).values[k // 2]
    return np.minimum(model.T.numpy(), magnitude).astype(np.float32)


def repet_sim_foreground_mask(
    magnitude: np.ndarray, neighbours: int = 9, min_separation: int = 43
) -> np.ndarray:
    """Soft foreground (non-repeating) mask ``(F, N)`` in [0, 1]."""
    background = repet_sim_background(magnitude, neighbours, min_separation)
    return 1.0 - background / np.maximum(magnitude, 1e-12)


@register("repet", description="Vocals vs. accompaniment by REPET-SIM repetition modelling (no training)")
class RepetSim(MaskingSeparator):
    """REPET-SIM: ``vocals`` = the non-repeating foreground, ``accompaniment`` = the rest.

    Knobs: ``neighbours`` (similar frames per median), ``min_separation_seconds`` (how far apart
    they must be), ``low_cut`` (Hz; below it everything is accompaniment, as Rafii & Pardo
    high-pass the foreground), ``segment_seconds`` (context per chunk: longer finds more
    repetitions), ``n_fft``/``hop``, ``wiener_iterations``.
    """

    def __init__(
        self,
        *,
        sample_rate: int = 44100,
        n_fft: int = 4096,
        hop: int = 1024,
        neighbours: int = 9,
        min_separation_seconds: float = 1.0,
        low_cut: float = 120.0,
        segment_seconds: float = 30.0,
        wiener_iterations: int = 0,
    ):
        super().__init__(
            sources=("vocals", "accompaniment"),
            sample_rate=sample_rate,
            segment_seconds=segment_seconds,
            n_fft=n_fft,
            hop=hop,
            wiener_iterations=wiener_iterations,
        )
        self.neighbours = int(neighbours)
        self.min_separation = max(1, int(round(min_separation_seconds * sample_rate / hop)))
        self.low_cut = float(low_cut)

    def masks(self, spec: np.ndarray) -> np.ndarray:
        """``(C, F, N)`` complex -> ``(2, 1, F, N)`` from the channel-mean magnitude."""
        magnitude = np.abs(spec).mean(axis=0)
        vocals = repet_sim_foreground_mask(magnitude, self.neighbours, self.min_separation)
        vocals *= band_weight(self.frequencies, self.low_cut, self.low_cut / 2)[:, None]
        return stack_masks([vocals, 1.0 - vocals])
