"""``ref_masker``: the realism ladder's fixed reference model (issue 5).

A small Open-Unmix-like spectrogram masker, built to train in minutes on two CPU cores so that
the *data* is the only thing that changes between rows of ``benchmarks/realism.py``:

1. STFT of the mixture ``(B, C, T) -> (B, C, F, N)`` (n_fft 2048, hop 512 by default);
2. input features per frame from the bins below ``max_freq`` (``Fb`` bins): ``log1p|X|`` of each
   channel, plus optional classical features (``features``):

   - ``"hpss"``: harmonic- and percussive-enhanced magnitudes per channel (median filters across
     frames and across bins, as in HPSS), so drums and sustained notes are told apart by design;
   - ``"centre"``: mid ``|L + R| / 2`` and side ``|L - R| / 2`` magnitudes (stereo only), the cue
     centre-panned vocals and bass leave;

3. a per-feature affine normalisation, ``fc -> LayerNorm -> tanh``, a bidirectional LSTM, a skip
   connection, ``fc -> LayerNorm -> ReLU -> fc`` to one logit per (source, channel, bin), or with
   ``output_bands=K`` per (source, channel, band) of K octave-widening bands (:mod:`stemkit.dsp.bands`),
   each band's logit repeated over its bins: the output layer is ``bins / K`` times smaller;
4. masks = ``softmax(logits / temperature)`` over sources: they sum to one, so the stems sum to
   the mixture. With ``prior="classical"`` the logits are *added* to ``log`` of the classical
   separator's masks (computed on the same STFT, no gradient): the untrained network (zero last
   layer) is exactly the classical separator, and training learns a correction of a DSP split
   that already transfers to real music, instead of a split from scratch. ``temperature > 1`` softens the masks toward an even split, a cheap fix for
   confidently wrong masks on real recordings. A pooled head computes the same function as
   ``normalise_S(max(prior, floor) * exp(logit))``: the exponential per band, no full-resolution
   log or exp (training and inference alike);
5. optional multichannel Wiener refinement (``wiener_iterations``, :func:`stemkit.dsp.wiener.wiener`
   on the model's own STFT), then the iSTFT with the mixture phase.

Training contract (``loss.inputs: spec``, e.g. ``alpha_l1``):

- ``training_outputs(mix (B, C, T))`` -> ``{"spec": (B, S, C, F, N)`` masked magnitudes,
  ``"mask": (B, S, C, F, N)``, ``"mix_spec": (B, C, F, N)``}``;
- ``training_targets(stems (B, S, C, T))`` -> ``{"spec": (B, S, C, F, N)`` source magnitudes}``.

``temperature`` and ``wiener_iterations`` act only at inference; changing them in a model
folder's sidecar (``benchmarks/realism.py`` does so for its lever rows) needs no retraining.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from ..dsp.arrays import complex_magnitude
from ..dsp import bands
from ..dsp.stft import FrameOverlapAdd, Stft, masked_inverse
from ..dsp.wiener import wiener
from .base import SOURCES_4, SeparationModel
from .registry import register

FEATURES = ("hpss", "centre")


def median_filter(x: torch.Tensor, size: int, dim: int) -> torch.Tensor:
    """Running median of odd length ``size`` along ``dim`` (edges replicated); same shape as ``x``."""
    if size < 3:
        return x
    half = size // 2
    moved = x.movedim(dim, -1)
    lead = moved.shape[:-1]
    flat = moved.reshape(-1, 1, moved.shape[-1])
    padded = F.pad(flat, (half, half), mode="replicate").reshape(*lead, -1)
    return padded.unfold(-1, size, 1).median(dim=-1).values.movedim(-1, dim)


def hpss_magnitudes(mag: torch.Tensor, time_kernel: int, freq_kernel: int) -> tuple[torch.Tensor, torch.Tensor]:
    """``mag (..., F, N)`` -> (harmonic-enhanced, percussive-enhanced) magnitudes, same shape.

    Sustained partials survive a median across frames; drum hits survive a median across bins.
    """
    return median_filter(mag, time_kernel, dim=-1), median_filter(mag, freq_kernel, dim=-2)


_POOL: tuple[int, ThreadPoolExecutor] | None = None


def _prior_pool() -> ThreadPoolExecutor:
    """One worker thread for the classical prior, started on first use in each process (a forked
    child, e.g. an evaluation worker, inherits the pool object but not its thread)."""
    global _POOL
    if _POOL is None or _POOL[0] != os.getpid():
        _POOL = (os.getpid(), ThreadPoolExecutor(max_workers=1, thread_name_prefix="stemkit-prior"))
    return _POOL[1]


def _softmax_over_sources_(logits: torch.Tensor, temperature: float) -> torch.Tensor:
    """In-place softmax over dim 2 of frame-major logits ``(B, N, S, C, F)`` (no copies of the
    largest tensor of a segment); equal to ``torch.softmax`` within float rounding."""
    if temperature != 1.0:
        logits.div_(temperature)
    logits.sub_(logits.amax(dim=2, keepdim=True)).exp_()
    return logits.div_(logits.sum(dim=2, keepdim=True))


@register("ref_masker", description="Small BLSTM spectrogram masker: the realism ladder's fixed reference model")
class RefMasker(SeparationModel):
    """Reference masker: ``mix (B, C, T) -> stems (B, S, C, T)`` through softmax masks.

    Args:
        n_fft, hop: STFT size and hop.
        max_freq: only bins below this frequency (Hz) are network input; masks cover every bin.
        hidden: width of the recurrent core (each LSTM direction has ``hidden // 2`` units).
        layers: LSTM layers.
        temperature: softmax temperature of the masks at inference (1 = as trained).
        wiener_iterations: EM Wiener iterations after masking (0 = off).
        features: extra classical input features, any of ``"hpss"``, ``"centre"``.
        hpss_time_kernel, hpss_freq_kernel: median lengths (frames, bins) of the ``"hpss"`` features.
        prior: ``None`` or ``"classical"`` (4 stems, SOURCES_4 order): masks start from the
            classical separator's (see the module docstring).
        prior_args: arguments of that classical separator (default ``{"vocal_cue": "centre"}``:
            REPET-SIM needs more context than a training chunk has); its n_fft/hop are this model's.
        prior_floor: the prior masks are floored here before the log, so the network can still
            give a stem energy the prior denied it.
        output_bands: ``None`` (one logit per source, channel and bin: the original head) or the
            number of frequency bands of a pooled head (:func:`stemkit.dsp.bands.band_edges`:
            single bins at low frequencies, bands twice as wide each octave above): one logit per
            source, channel and band, repeated over the band's bins. The masks are then
            ``normalise_S(max(prior, floor) * exp(logit))``, the same function as the softmax of
            ``log prior + logit``, with the exponential at band resolution (the module docstring).
    """

    def __init__(
        self,
        *,
        sources: Sequence[str] = SOURCES_4,
        sample_rate: int = 44100,
        channels: int = 2,
        segment: int = 6 * 44100,
        n_fft: int = 2048,
        hop: int = 512,
        max_freq: float = 16000.0,
        hidden: int = 128,
        layers: int = 2,
        temperature: float = 1.0,
        wiener_iterations: int = 0,
        features: Sequence[str] = (),
        hpss_time_kernel: int = 17,
        hpss_freq_kernel: int = 17,
        prior: str | None = None,
        prior_args: dict | None = None,
        prior_floor: float = 1e-3,
        output_bands: int | None = None,
    ):
        super().__init__(sources=sources, sample_rate=sample_rate, channels=channels, segment=segment)
        unknown = [f for f in features if f not in FEATURES]
        if unknown:
            raise ValueError(f"unknown features {unknown}; known: {', '.join(FEATURES)}")
        if "centre" in features and channels != 2:
            raise ValueError("the 'centre' feature needs stereo input (channels=2)")
        if temperature <= 0:
            raise ValueError(f"temperature must be > 0, got {temperature}")
        if wiener_iterations < 0:
            raise ValueError(f"wiener_iterations must be >= 0, got {wiener_iterations}")
        if hidden < 2 or hidden % 2 or layers < 1:
            raise ValueError("hidden must be an even number >= 2 and layers >= 1")
        if prior not in (None, "classical"):
            raise ValueError(f"prior must be None or 'classical', got {prior!r}")
        if prior is not None and tuple(sources) != SOURCES_4:
            raise ValueError(f"the classical prior separates {SOURCES_4}; sources are {tuple(sources)}")
        if not 0 < prior_floor < 1:
            raise ValueError(f"prior_floor must be in (0, 1), got {prior_floor}")
        self.prior_floor = float(prior_floor)
        self._prior = None
        if prior == "classical":
            from .classical.classical4 import Classical4

            # kept out of the module tree: no parameters, and not part of the state dict
            self._prior = [Classical4(sample_rate=sample_rate, n_fft=int(n_fft), hop=int(hop),
                                      **{"vocal_cue": "centre", **dict(prior_args or {})})]
        self.stft = Stft(n_fft=int(n_fft), hop=int(hop), window="hann")
        self.bins = self.stft.bins
        self.input_bins = max(1, min(self.bins, int(round(max_freq * n_fft / sample_rate)) + 1))
        self.temperature = float(temperature)
        self.wiener_iterations = int(wiener_iterations)
        self.features = tuple(features)
        self.hpss_time_kernel, self.hpss_freq_kernel = int(hpss_time_kernel), int(hpss_freq_kernel)

        self.output_bands = None if output_bands is None else int(output_bands)
        head = self.bins
        # Derived from the arguments, no state: folders of either head load as before.
        self.expand_bands = None
        if self.output_bands is not None:
            self.expand_bands = bands.BandExpansion(bands.band_edges(self.bins, self.output_bands))
            head = self.output_bands

        maps = channels * (1 + 2 * ("hpss" in self.features)) + 2 * ("centre" in self.features)
        width = maps * self.input_bins
        # Per-feature affine normalisation learned from the data (log magnitudes are far from N(0, 1)).
        self.input_shift = nn.Parameter(torch.zeros(width))
        self.input_scale = nn.Parameter(torch.ones(width))
        self.encode = nn.Sequential(nn.Linear(width, hidden, bias=False), nn.LayerNorm(hidden), nn.Tanh())
        self.rnn = nn.LSTM(hidden, hidden // 2, num_layers=layers, batch_first=True, bidirectional=True)
        self.decode = nn.Sequential(
            nn.Linear(2 * hidden, hidden, bias=False), nn.LayerNorm(hidden), nn.ReLU(),
            nn.Linear(hidden, len(self.sources) * channels * head),
        )
        # Zero last layer: training starts from the even split (every mask 1 / S).
        nn.init.zeros_(self.decode[-1].weight)
        nn.init.zeros_(self.decode[-1].bias)

    # -- features -------------------------------------------------------------------------------
    def input_features(self, spec: torch.Tensor) -> torch.Tensor:
        """Mixture STFT ``(B, C, F, N)`` complex -> network input ``(B, N, K * Fb)``."""
        low = spec[..., : self.input_bins, :]
        mag = complex_magnitude(low)
        maps = [mag]
        if "hpss" in self.features:
            harmonic, percussive = hpss_magnitudes(mag, self.hpss_time_kernel, self.hpss_freq_kernel)
            maps += [harmonic, percussive]
        if "centre" in self.features:
            mid = complex_magnitude(low[:, 0] + low[:, 1]) / 2
            side = complex_magnitude(low[:, 0] - low[:, 1]) / 2
            maps.append(torch.stack([mid, side], dim=1))
        x = torch.log1p(maps[0] if len(maps) == 1 else torch.cat(maps, dim=1))  # (B, K, Fb, N)
        batch, _, _, frames = x.shape
        return x.permute(0, 3, 1, 2).reshape(batch, frames, -1)

    def mask_logits(self, spec: torch.Tensor, shared: dict | None = None) -> torch.Tensor:
        """Mixture STFT ``(B, C, F, N)`` -> logits ``(B, S, C, F, N)``.

        ``shared``: see :meth:`mask_frames` (lets the classical prior be computed once per pass).
        """
        return self._frame_logits(spec, shared).permute(0, 2, 3, 4, 1)

    def _frame_logits(self, spec: torch.Tensor, shared: dict | None) -> torch.Tensor:
        """Logits in the network's own layout, ``(B, N, S, C, F)`` (a fresh tensor the caller owns)."""
        logits = self._head(spec)  # (B, N, S, C, F or bands)
        if self.expand_bands is not None:
            logits = self.expand_bands(logits)  # each band's logit on its bins
        if self._prior is not None:
            prior = self.prior_log_masks(spec, shared).permute(0, 4, 1, 2, 3)  # (B, N, S, 1, F)
            logits = logits.add_(prior) if not logits.requires_grad else logits + prior
        return logits

    def _head(self, spec: torch.Tensor) -> torch.Tensor:
        """The output layer's logits ``(B, N, S, C, K)``, K = bins, or bands for a pooled head."""
        batch, channels, _, frames = spec.shape
        x = (self.input_features(spec) + self.input_shift) * self.input_scale
        h = self.encode(x)
        r, _ = self.rnn(h)
        return self.decode(torch.cat([h, r], dim=-1)).view(batch, frames, len(self.sources), channels, -1)

    def _pooled_masks(self, logits: torch.Tensor, prior: torch.Tensor | None, temperature: float) -> torch.Tensor:
        """Masks ``(B, n, S, C, F)`` of a pooled head from its logits ``(B, n, S, C, bands)`` and the
        classical masks ``prior (B, n, S, 1, F)`` (or None).

        ``softmax_S((log max(prior, floor) + logit[band]) / T)`` written as
        ``normalise_S(max(prior, floor)^(1/T) * exp((logit - max_S logit) / T)[band])``: the same
        numbers within rounding, with no log or exp at full resolution (the softmax's shift by the
        maximum is per band, which cancels in the normalisation). In place when no gradient flows.
        """
        grad = logits.requires_grad
        if temperature != 1.0:
            logits = logits / temperature if grad else logits.div_(temperature)
        if prior is None:  # softmax per band, then repeated: the masks of a band are equal
            return self.expand_bands(torch.softmax(logits, dim=2))
        shift = logits.amax(dim=2, keepdim=True)
        weights = (logits - shift).exp() if grad else logits.sub_(shift).exp_()
        weights = self.expand_bands(weights)  # (B, n, S, C, F), a fresh tensor
        floored = prior.clamp_min(self.prior_floor)
        if temperature != 1.0:
            floored = floored.pow_(1.0 / temperature)
        weights = weights * floored if grad else weights.mul_(floored)
        total = weights.sum(dim=2, keepdim=True)
        return weights / total if grad else weights.div_(total)

    @property
    def prior_separator(self):
        """The classical separator whose masks start the logits (``prior="classical"``), else None."""
        return self._prior[0] if self._prior is not None else None

    @torch.no_grad()
    def prior_log_masks(self, spec: torch.Tensor, shared: dict | None = None) -> torch.Tensor:
        """``log`` of the classical masks of mixture STFT ``(B, C, F, N)`` -> ``(B, S, 1, F, N)``."""
        prior = self.prior_separator.batch_masks(spec, shared).to(dtype=torch.float32)
        return prior.clamp_min(self.prior_floor).log_()

    def _prior_masks(self, spec: torch.Tensor, shared: dict | None) -> torch.Tensor:
        """The classical masks ``(B, S, 1, F, N)`` float32 (shared with a classical part, not copied)."""
        return self.prior_separator.batch_masks(spec, shared).to(dtype=torch.float32)

    def masks(self, spec: torch.Tensor, temperature: float = 1.0, shared: dict | None = None) -> torch.Tensor:
        """Mixture STFT ``(B, C, F, N)`` -> masks ``(B, S, C, F, N)`` summing to one over S."""
        if self.expand_bands is not None:
            prior = None
            if self._prior is not None:
                prior = self._prior_masks(spec, shared).permute(0, 4, 1, 2, 3)  # (B, N, S, 1, F)
            return self._pooled_masks(self._head(spec), prior, temperature).permute(0, 2, 3, 4, 1)
        logits = self._frame_logits(spec, shared)  # (B, N, S, C, F)
        if logits.requires_grad:
            return torch.softmax(logits / temperature if temperature != 1.0 else logits, dim=2).permute(0, 2, 3, 4, 1)
        return _softmax_over_sources_(logits, temperature).permute(0, 2, 3, 4, 1)

    # -- the mask-model protocol (models.per_stem fuses parts that share one STFT) ----------------
    def fusable_stft(self):
        """The STFT whose masked mixture *is* this model's output; None when Wiener refines it."""
        return self.stft if self.wiener_iterations == 0 else None

    @torch.no_grad()
    def mask_frames(self, spec: torch.Tensor, shared: dict | None = None, needed=None):
        """Mixture STFT ``(B, C, F, N)`` -> ``masks_of(frames: slice) -> (B, S, C, F, n)``, the masks
        :meth:`forward` applies, for a block of frames (inference only).

        The recurrent pass (small: ``hidden`` numbers per frame) runs over all frames here; the
        output layer, the prior and the softmax (``S * C * F`` numbers per frame, the largest
        tensors of a segment) run per block when called, so they never exist for a whole segment.
        ``shared``: a dict living for one forward pass of a combined model; the classical prior's
        masks are stored there, so a classical part with the same settings reuses them.
        ``needed`` (stem indices the caller uses) changes nothing here: the softmax needs every stem.
        """
        batch, channels, bins, _ = spec.shape
        # The classical prior is numpy (one core) and the network torch: with two or more threads
        # they run side by side (same numbers, less wall time).
        prior_job = None
        if self._prior is not None and torch.get_num_threads() > 1 and os.environ.get("STEMKIT_PRIOR_THREAD", "1") != "0":
            prior_job = _prior_pool().submit(self._prior_masks, spec, shared)
        x = (self.input_features(spec) + self.input_shift) * self.input_scale
        h = self.encode(x)
        r, _ = self.rnn(h)
        hidden = torch.cat([h, r], dim=-1)  # (B, N, 2 * hidden)
        if prior_job is not None:
            prior = prior_job.result()
        else:
            prior = self._prior_masks(spec, shared) if self._prior is not None else None  # (B, S, 1, F, N)
        temperature = self.temperature if not self.training else 1.0

        def masks_of(frames: slice) -> torch.Tensor:
            if self.expand_bands is not None:
                logits = self.decode(hidden[:, frames]).view(batch, -1, len(self.sources), channels, self.output_bands)
                block_prior = None if prior is None else prior[..., frames].permute(0, 4, 1, 2, 3)
                return self._pooled_masks(logits, block_prior, temperature).permute(0, 2, 3, 4, 1)
            logits = self.decode(hidden[:, frames]).view(batch, -1, len(self.sources), channels, bins)
            if prior is not None:
                # log of the floored prior per block: no segment-sized copy beside the shared masks
                log_prior = prior[..., frames].clamp_min(self.prior_floor).log_()
                logits.add_(log_prior.permute(0, 4, 1, 2, 3))  # (B, n, S, 1, F)
            if temperature != 1.0:
                logits.div_(temperature)
            return torch.softmax(logits, dim=2).permute(0, 2, 3, 4, 1)

        return masks_of

    # -- training contract ------------------------------------------------------------------------
    def training_outputs(self, mix: torch.Tensor) -> dict[str, torch.Tensor]:
        """``mix (B, C, T)`` -> masked magnitudes, masks and mixture magnitude (module docstring)."""
        spec = self.stft(mix)
        mag = spec.abs()
        masks = self.masks(spec)
        return {"spec": masks * mag.unsqueeze(1), "mask": masks, "mix_spec": mag}

    def training_targets(self, stems: torch.Tensor) -> dict[str, torch.Tensor]:
        """``stems (B, S, C, T)`` -> ``{"spec": (B, S, C, F, N)}`` source magnitudes."""
        return {"spec": self.stft(stems).abs()}

    # -- inference ----------------------------------------------------------------------------------
    def forward(self, mix: torch.Tensor) -> torch.Tensor:
        """``mix (B, C, T)`` -> ``stems (B, S, C, T)``.

        At inference (no gradients, no Wiener) the masks are made and inverted a block of frames at
        a time (:meth:`mask_frames`, :func:`~stemkit.dsp.stft.masked_inverse`): same stems within
        float rounding, a fraction of the memory.
        """
        spec = self.stft(mix)  # (B, C, F, N)
        length = mix.shape[-1]
        if (not torch.is_grad_enabled() and self.wiener_iterations == 0
                and FrameOverlapAdd.supports(spec.shape[-1], length, self.stft.n_fft, self.stft.hop, self.stft.window)):
            masks_of = self.mask_frames(spec)
            return masked_inverse(spec, length, self.stft, lambda frames: masks_of(frames).unbind(1),
                                  len(self.sources))
        masks = self.masks(spec, self.temperature if not self.training else 1.0)
        estimates = masks * spec.unsqueeze(1)  # mixture phase, (B, S, C, F, N)
        if self.wiener_iterations > 0:
            magnitudes = estimates.abs()
            estimates = torch.stack([
                wiener(spec[b], magnitudes[b], iterations=self.wiener_iterations) for b in range(spec.shape[0])
            ])
        return self.stft.inverse(estimates, mix.shape[-1])
