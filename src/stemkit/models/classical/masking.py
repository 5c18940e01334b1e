"""The shared shape of every classical separator: STFT, masks that partition the bins, iSTFT.

A subclass only computes masks from the mixture STFT. The base class applies them, optionally
refines the result with the multichannel Wiener filter, and makes the stems sum exactly to the
input: one *residual* stem is the input minus the others.
"""

from __future__ import annotations

from typing import ClassVar, Sequence

import numpy as np
import torch

from ...dsp.stft import Stft
from ...dsp.wiener import wiener
from ..base import SeparationModel


def band_weight(freqs: np.ndarray, cutoff: float, width: float) -> np.ndarray:
    """Smooth step over frequency, 0 well below ``cutoff`` and 1 well above, ``(F,)``.

    A raised-cosine transition ``width`` Hz wide avoids the ringing of a brick-wall split.
    """
    if width <= 0:
        return (freqs >= cutoff).astype(np.float32)
    t = np.clip((freqs - cutoff) / width + 0.5, 0.0, 1.0)
    return (0.5 - 0.5 * np.cos(np.pi * t)).astype(np.float32)


class MaskingSeparator(SeparationModel):
    """Base of the classical separators: ``forward(mix (B, C, T)) -> (B, S, C, T)``.

    Subclasses implement :meth:`masks`. Constructor knobs shared by all: ``n_fft``, ``hop``
    (STFT), ``wiener_iterations`` (EM Wiener refinement of the masked estimates, 0 = off).
    """

    family = "classical"
    # Masks need no long crossfade: 10 % of a 30 s chunk is 3 s, and every sample costs 1.1x, not 1.33x.
    default_overlap: ClassVar[float | None] = 0.1
    #: Index of the stem that absorbs the remainder, so the stems sum to the input exactly.
    residual_index: ClassVar[int] = -1

    def __init__(
        self,
        *,
        sources: Sequence[str],
        sample_rate: int = 44100,
        segment_seconds: float = 10.0,
        n_fft: int = 4096,
        hop: int = 1024,
        wiener_iterations: int = 0,
    ):
        super().__init__(
            sources=sources,
            sample_rate=sample_rate,
            channels=2,
            segment=int(round(segment_seconds * sample_rate)),
        )
        self.stft = Stft(int(n_fft), int(hop))
        self.wiener_iterations = int(wiener_iterations)

    @property
    def frequencies(self) -> np.ndarray:
        """Centre frequency of each STFT bin in Hz, ``(F,)``."""
        return self.stft.bin_frequencies(self.sample_rate).numpy()

    def masks(self, spec: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        """Mixture STFT ``(C, F, N)`` complex -> masks ``(S, C or 1, F, N)`` summing to 1 over S."""
        raise NotImplementedError

    def separate_one(self, mix: torch.Tensor) -> torch.Tensor:
        """``mix (C, T)`` -> stems ``(S, C, T)`` that sum to ``mix``."""
        length = mix.shape[-1]
        spec = self.stft(mix.float())  # (C, F, N)
        masks = torch.from_numpy(np.ascontiguousarray(self.masks(spec.numpy()), dtype=np.float32))
        est = None
        if self.wiener_iterations > 0:
            est = wiener(spec, (masks * spec).abs(), iterations=self.wiener_iterations)
        # The residual stem is the input minus the others: exact sum, and one iSTFT fewer.
        # With partitioning masks it equals its own masked estimate up to float rounding.
        residual = self.residual_index % len(self.sources)
        stems = torch.zeros((len(self.sources),) + tuple(mix.shape), dtype=torch.float32)
        for j in range(len(self.sources)):
            if j != residual:  # one source at a time: no (S, C, F, N) complex array in memory
                stems[j] = self.stft.inverse(est[j] if est is not None else masks[j] * spec, length)
        stems[residual] = mix - stems.sum(dim=0)  # the residual row is still zero here
        return stems

    def forward(self, mix: torch.Tensor) -> torch.Tensor:
        """``mix (B, C, T)`` with C = 1 or 2 -> ``(B, S, C, T)``."""
        if mix.dim() != 3:
            raise ValueError(f"expected (B, C, T), got {tuple(mix.shape)}")
        with torch.no_grad():
            out = [self.separate_one(item.detach().cpu()) for item in mix]
        return torch.stack(out).to(mix.device)
