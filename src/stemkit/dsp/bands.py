"""Frequency bands over STFT bins: single bins at low frequencies, wider bands above, and the
expansion of per-band values back to the bins.

A network that predicts one value per *band* instead of per bin has a smaller output layer
(``ref_masker``'s ``output_bands``), as band-split models do (BSRNN: narrow bands where pitch
lives, wide ones above). The layout here is octave-based and made of equal-width runs, like
BSRNN's: the lowest ``a`` bins one by one, then one octave of 2-bin bands, one of 4-bin bands, and
so on, with ``a`` chosen for the requested number of bands (at n_fft 2048: 256 bands are single
bins up to about 2 kHz and 16-bin bands above 11 kHz). The layout depends only on the numbers
of bins and bands: a trained model's ``output_bands`` fixes it, so it must not change.
"""

from __future__ import annotations

import numpy as np
import torch


def _octave_layout(bins: int, fine: int) -> list[int]:
    """Edges of ``fine`` single bins, then octaves of bands 2, 4, 8, ... bins wide (the last band of
    an octave, and of the spectrum, may be narrower)."""
    edges = list(range(min(fine, bins) + 1))
    width, start = 2, edges[-1]
    while edges[-1] < bins:
        stop = min(bins, 2 * start)
        while edges[-1] < stop:
            edges.append(min(edges[-1] + width, stop))
        start, width = stop, 2 * width
    return edges


def band_edges(bins: int, bands: int) -> np.ndarray:
    """``bands + 1`` strictly increasing bin indices from 0 to ``bins``: band ``k`` covers bins
    ``edges[k] .. edges[k + 1] - 1``, ``(bands + 1,)`` int64.

    The octave layout (module docstring) with the most single bins that gives at most ``bands``
    bands; the few bands still missing come from halving the widest ones (from the top). Fewer
    bands than the smallest octave layout has: equal widths. ``bands == bins``: one band per bin.
    """
    if not 1 <= bands <= bins:
        raise ValueError(f"bands must be in [1, {bins}] for {bins} bins, got {bands}")
    if len(_octave_layout(bins, 1)) - 1 > bands:
        return np.round(np.linspace(0, bins, bands + 1)).astype(np.int64)
    fine = 1
    while fine < bins and len(_octave_layout(bins, fine + 1)) - 1 <= bands:
        fine += 1
    edges = _octave_layout(bins, fine)
    while len(edges) - 1 < bands:
        widths = np.diff(edges)
        k = len(widths) - 1 - int(np.argmax(widths[::-1]))  # the widest band, the highest of equals
        edges.insert(k + 1, edges[k] + int(widths[k]) // 2)
    return np.asarray(edges, dtype=np.int64)


def band_of_bin(bins: int, bands: int) -> np.ndarray:
    """For each of ``bins`` bins, the index of its band, ``(bins,)`` int64 (non-decreasing)."""
    return np.repeat(np.arange(bands), np.diff(band_edges(bins, bands)))


class BandExpansion:
    """Per-band values ``(..., K)`` -> per-bin values ``(..., F)``: each band's value repeated over
    its bins (the bands of :func:`band_edges` or any other strictly increasing edges).

    On the CPU without gradients numpy's ``repeat`` does it (5x faster than ``index_select`` along
    the last axis, which torch runs as a gather); otherwise ``index_select`` (autograd, any device).
    Both give the same numbers: the values are copied, not computed.
    """

    def __init__(self, edges: np.ndarray):
        edges = np.asarray(edges, dtype=np.int64)
        widths = np.diff(edges)
        if widths.size == 0 or np.any(widths < 1) or edges[0] != 0:
            raise ValueError("band edges must start at 0 and increase strictly")
        self.bands, self.bins = int(widths.size), int(edges[-1])
        self.widths = widths
        self.index = torch.from_numpy(np.repeat(np.arange(self.bands), widths))  # band of each bin

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        """``x (..., K)`` -> ``(..., F)``, a new tensor."""
        if x.shape[-1] != self.bands:
            raise ValueError(f"expected {self.bands} bands in the last dimension, got {x.shape[-1]}")
        if x.device.type == "cpu" and not x.requires_grad:
            return torch.from_numpy(np.repeat(x.detach().numpy(), self.widths, axis=-1))
        return x.index_select(-1, self.index.to(x.device))
