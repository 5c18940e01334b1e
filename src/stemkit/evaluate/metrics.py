"""Separation metrics: BSS Eval v4 (museval), the MDX per-track SDR, seed 002's signal difference.

All functions take stems as ``(S, C, T)`` arrays (sources, channels, samples), references first.

BSS Eval v4 and memory
----------------------
museval's v4 (``framewise_filters=False``) fits one set of 512-tap distortion filters on the
*whole* signal through FFTs of length ``next_pow2(T + 511)``. For a 10-minute stereo 4-stem track
that is ``2**25`` bins per source and channel: the reference spectra alone take 4.3 GB of
complex128, and the peak is several times that. :func:`bss_eval_v4` therefore calls museval
only for tracks no longer than ``block_seconds``, through museval's own correlations and frame
scoring with one matrix factorisation shared by all estimates instead of one per estimate
(:func:`.bsseval_stream.bss_eval_v4_whole`: museval's result, checked bit for bit, ~2x faster);
longer tracks go through :mod:`.bsseval_stream`, which accumulates the same filter correlations
block by block and scores with museval's own decomposition: the same whole-track filters and
scores up to rounding, in memory bounded by the block. (Scoring blocks as separate museval calls
would fit filters per block: SDR would not move, but SIR/SAR would, by up to 7 dB on real music,
see ``docs/evaluation.md``.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

METRICS = ("SDR", "SIR", "SAR", "ISR")

# MDX challenge: added to both energies so silent references/estimates give finite values.
MDX_DELTA = 1e-7


@dataclass
class FrameScores:
    """BSS Eval v4 scores per source and frame: each array is ``(S, N)``; NaN = frame not scored."""

    SDR: np.ndarray
    SIR: np.ndarray
    SAR: np.ndarray
    ISR: np.ndarray
    window: float  # seconds per frame (= hop)

    @property
    def num_frames(self) -> int:
        return int(self.SDR.shape[1])

    def as_dict(self) -> dict[str, np.ndarray]:
        return {m: getattr(self, m) for m in METRICS}

    def medians(self) -> dict[str, np.ndarray]:
        """Median over frames, NaN frames ignored (as museval's TrackStore): ``metric -> (S,)``."""
        out = {}
        for metric, values in self.as_dict().items():
            out[metric] = np.array([_nanmedian(row) for row in values])
        return out


def _nanmedian(values: np.ndarray) -> float:
    values = np.asarray(values, dtype=np.float64)
    values = values[np.isfinite(values)]
    return float(np.median(values)) if values.size else float("nan")


def frame_count(num_samples: int, window: int) -> int:
    """Frames museval scores for ``num_samples`` with window = hop (its ``Framing.nwin``)."""
    if window < num_samples:
        return (num_samples - window + window) // window
    return 1


def bss_eval_v4(
    references: np.ndarray,
    estimates: np.ndarray,
    sample_rate: int,
    *,
    window: float = 1.0,
    block_seconds: float | None = 30.0,
    sdr_only: bool = False,
) -> FrameScores:
    """BSS Eval v4 (SiSEC 2018) of ``estimates`` against ``references``, both ``(S, C, T)``.

    Windows and hop of ``window`` seconds; filters fitted on the whole track. Tracks longer than
    ``block_seconds`` are processed in blocks of that length to bound memory (see the module
    docstring); ``None`` = always one museval call. Estimates are zero-padded or cut to the
    references' length, as ``museval.evaluate`` does. Returns ``FrameScores`` of ``(S, N)`` arrays;
    a frame where any reference or estimate is silent is NaN (all frames, if one is silent
    throughout, where museval itself would refuse the track).

    ``sdr_only``: only SDR, which in museval's images mode does not depend on the distortion
    filters (its four error terms telescope to ``estimate - reference``), so no filter is fitted:
    per frame ``10 log10(sum ref^2 / sum (est - ref)^2)``, museval's SDR up to rounding, hundreds of
    times faster; ISR, SIR and SAR are NaN.
    """
    from museval.metrics import _any_source_silent  # the library's own definition of silence

    from .bsseval_stream import bss_eval_v4_stream, bss_eval_v4_whole, framewise_sdr

    references = np.asarray(references)
    estimates = np.asarray(estimates)
    if references.ndim != 3 or estimates.ndim != 3 or references.shape[:2] != estimates.shape[:2]:
        raise ValueError(
            f"references and estimates must both be (S, C, T) with equal S and C, got "
            f"{references.shape} and {estimates.shape}"
        )
    num_samples = references.shape[-1]
    estimates = _pad_or_cut(estimates, num_samples)
    win = int(round(window * sample_rate))
    if _any_source_silent(references) or _any_source_silent(estimates):
        nan = np.full((references.shape[0], frame_count(num_samples, win)), np.nan)
        return FrameScores(SDR=nan, SIR=nan.copy(), SAR=nan.copy(), ISR=nan.copy(), window=float(window))
    block = None if block_seconds is None else max(win, int(round(block_seconds * sample_rate)))
    if sdr_only:
        sdr = framewise_sdr(references, estimates, win)
        isr, sir, sar = (np.full_like(sdr, np.nan) for _ in range(3))
    elif block is None or num_samples <= block:
        sdr, isr, sir, sar = bss_eval_v4_whole(references, estimates, win)
    else:
        sdr, isr, sir, sar = bss_eval_v4_stream(references, estimates, win, block)
    return FrameScores(SDR=sdr, SIR=sir, SAR=sar, ISR=isr, window=float(window))


def _pad_or_cut(estimates: np.ndarray, num_samples: int) -> np.ndarray:
    length = estimates.shape[-1]
    if length > num_samples:
        return estimates[..., :num_samples]
    if length < num_samples:
        pad = [(0, 0)] * (estimates.ndim - 1) + [(0, num_samples - length)]
        return np.pad(estimates, pad)
    return estimates


def mdx_sdr(references: np.ndarray, estimates: np.ndarray) -> np.ndarray:
    """Per-track SDR of the Music Demixing Challenge 2021, one value per source: ``(S,)``.

    ``10 log10((sum ref^2 + d) / (sum (ref - est)^2 + d))`` over channels and samples, d = 1e-7.
    No filters, no frames: a global, scale-sensitive signal-to-error ratio in dB.
    """
    references = np.asarray(references, dtype=np.float64)
    estimates = _pad_or_cut(np.asarray(estimates, dtype=np.float64), references.shape[-1])
    axes = tuple(range(1, references.ndim))
    num = np.sum(references**2, axis=axes) + MDX_DELTA
    den = np.sum((references - estimates) ** 2, axis=axes) + MDX_DELTA
    return 10.0 * np.log10(num / den)


@dataclass
class SignalDifference:
    """Seed 002's signal difference per source, ``(S,)`` arrays; 0 means identical, lower is better.

    - ``time``: RMS of the waveform difference (``sqrt(mean((ref - est)^2))``), full scale = 1;
    - ``spectral``: mean absolute difference of STFT magnitudes (n_fft 2048, hop 512, Hann, as
      seed 002's spectrograms), per time-frequency bin;
    - ``total``: their sum, the single number seed 002 tabulates (mean and median over tracks).
    """

    time: np.ndarray
    spectral: np.ndarray

    @property
    def total(self) -> np.ndarray:
        return self.time + self.spectral


SPEC_N_FFT = 2048
SPEC_HOP = 512


def signal_difference(references: np.ndarray, estimates: np.ndarray) -> SignalDifference:
    """Difference between references and estimates in the time and time-frequency domains.

    Seed 002 scores its models with a "signal difference" of reference and estimate in time and
    time-frequency (adapted from a Stack Overflow answer it cites). The exact formula is not in
    the report, so stemkit fixes one that keeps its properties (0 for identical signals, grows
    with the difference, lower is better) and makes it independent of track length: see
    :class:`SignalDifference`. Inputs ``(S, C, T)``; returns per-source arrays ``(S,)``.
    """
    import torch

    references = np.asarray(references, dtype=np.float32)
    estimates = _pad_or_cut(np.asarray(estimates, dtype=np.float32), references.shape[-1])
    diff = references.astype(np.float64) - estimates
    time = np.sqrt(np.mean(diff**2, axis=tuple(range(1, diff.ndim))))

    def magnitude(x: np.ndarray) -> torch.Tensor:
        flat = torch.from_numpy(np.ascontiguousarray(x.reshape(-1, x.shape[-1])))
        spec = torch.stft(
            flat,
            n_fft=SPEC_N_FFT,
            hop_length=SPEC_HOP,
            window=torch.hann_window(SPEC_N_FFT),
            center=True,
            pad_mode="constant",
            return_complex=True,
        )
        return spec.abs().reshape(x.shape[0], -1)  # (S, C*F*N)

    spectral = (magnitude(references) - magnitude(estimates)).abs().mean(dim=1).double().numpy()
    return SignalDifference(time=time, spectral=spectral)
