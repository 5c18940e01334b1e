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


def stack_masks(masks: Sequence[np.ndarray]) -> np.ndarray:
    """``S`` masks ``(F, N)`` -> ``(S, 1, F, N)`` float32, in the memory order of the first: frames-major
    masks (from stemkit's frames-major STFT) stay frames-major, so applying them to the
    spectrogram reads both in the same order."""
    if masks[0].T.flags.c_contiguous and not masks[0].flags.c_contiguous:
        stacked = np.stack([m.T for m in masks]).astype(np.float32, copy=False).transpose(0, 2, 1)
    else:
        stacked = np.stack(masks).astype(np.float32, copy=False)
    return stacked[:, None]


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

    # -- the mask-model protocol (models.per_stem fuses parts that share one STFT) ----------------
    def fusable_stft(self) -> Stft | None:
        """The STFT whose masked mixture *is* this separator's output; None when Wiener refines it."""
        return self.stft if self.wiener_iterations == 0 else None

    def mask_settings(self) -> tuple:
        """Everything the masks depend on, hashable: two separators with equal settings give equal masks
        (the chunk length and registry bookkeeping do not count)."""
        ignored = {"training", "segment", "architecture", "init_args", "sidecar"}
        public = sorted((k, repr(v)) for k, v in vars(self).items() if not k.startswith("_") and k not in ignored)
        return (type(self).__module__, type(self).__qualname__, tuple(public))

    @torch.no_grad()
    def batch_masks(self, spec: torch.Tensor, shared: dict | None = None) -> torch.Tensor:
        """:meth:`masks` of each item of a mixture STFT ``(B, C, F, N)`` -> ``(B, S, C or 1, F, N)``
        float32 on ``spec``'s device.

        ``shared``: a dict that lives for one forward pass; separators with equal :meth:`mask_settings`
        (e.g. a network's classical prior and the classical part beside it) compute their masks once.
        """
        key = ("masks",) + self.mask_settings()
        if shared is not None and key in shared:
            return shared[key]
        items = [np.asarray(self.masks(item), dtype=np.float32) for item in spec.detach().cpu().numpy()]
        masks = torch.from_numpy(items[0][None] if len(items) == 1 else np.stack(items)).to(spec.device)
        if shared is not None:
            shared[key] = masks
        return masks

    def mask_frames(self, spec: torch.Tensor, shared: dict | None = None, needed=None):
        """Mixture STFT ``(B, C, F, N)`` -> ``masks_of(frames: slice) -> (B, S, C or 1, F, n)``, the
        :meth:`spectral_masks` of a block of frames. :meth:`batch_masks` run here, for every frame
        (the median filters need context); the residual stem's mask is made per block, and only
        when ``needed`` (the stem indices the caller will use; None = all) includes it."""
        masks = self.batch_masks(spec, shared)
        if needed is not None and self.residual_index % len(self.sources) not in set(needed):
            return lambda frames: masks[..., frames]  # the other stems' masks as they are: no copy
        return lambda frames: self._with_residual(masks[..., frames])

    def spectral_masks(self, spec: torch.Tensor, shared: dict | None = None) -> torch.Tensor:
        """The masks whose products with ``spec (B, C, F, N)`` invert to :meth:`forward`'s stems,
        ``(B, S, C or 1, F, N)``: :meth:`batch_masks` with the residual stem's mask replaced by 1 minus
        the others (:meth:`separate_one` makes that stem the input minus the others)."""
        return self._with_residual(self.batch_masks(spec, shared))

    def _with_residual(self, masks: torch.Tensor) -> torch.Tensor:
        """A copy of ``masks (B, S, ...)`` whose residual stem is 1 minus the others."""
        out = masks.clone()
        residual = self.residual_index % len(self.sources)
        others = [masks[:, j] for j in range(len(self.sources)) if j != residual]
        total = others[0].clone()
        for other in others[1:]:  # explicit additions: a sum over a strided axis is slow here
            total += other
        out[:, residual] = 1.0 - total
        return out

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
