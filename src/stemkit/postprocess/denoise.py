"""Seed 002's windowed denoise gate on the Hilbert amplitude envelope.

An estimated stem often carries faint artefacts where the source is silent. The gate:

1. takes the amplitude envelope ``|hilbert(x)|`` (channels gated together: their maximum);
2. sets ``threshold = statistic(envelope) / softness`` (statistic ``median`` or ``mean``;
   a larger softness lowers the threshold, so less is muted);
3. slides a window of ``window_s`` seconds every ``hop_s`` seconds and computes the same
   statistic of the envelope inside each window;
4. mutes a window when the windows before and after it are both below the threshold (an
   isolated region between quiet neighbours is most likely an artefact; at the ends the
   window itself stands in for the missing neighbour);
5. fades the audio out over ``fade_s`` seconds before each muted region and back in after it.

``gate_gain`` returns the gain curve ``(T,)``; ``denoise_gate`` applies it and returns a new
array (the input is never modified). Everything is deterministic.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from scipy import fft, ndimage, signal

from ..errors import ConfigError

STATISTICS = {"median": np.median, "mean": np.mean}


def hilbert_envelope(audio: np.ndarray) -> np.ndarray:
    """Amplitude envelope ``(T,)`` of ``audio (C, T)`` or ``(T,)``: max over channels of ``|hilbert|``."""
    x = np.atleast_2d(np.asarray(audio, dtype=np.float64))
    length = x.shape[-1]
    # Zero-pad to a fast FFT size; the analytic signal of the padded input, cut back to T.
    analytic = signal.hilbert(x, N=fft.next_fast_len(length), axis=-1)[..., :length]
    return np.abs(analytic).max(axis=0)


def _window_starts(length: int, window: int, hop: int) -> np.ndarray:
    """Window start samples every ``hop``; the last window is moved to end exactly at ``length``."""
    if length <= window:
        return np.zeros(1, dtype=np.int64)
    starts = np.arange(0, length - window + 1, hop, dtype=np.int64)
    if starts[-1] + window < length:
        starts = np.append(starts, length - window)
    return starts


def gate_gain(
    envelope: np.ndarray,
    sample_rate: int,
    *,
    window_s: float = 0.5,
    hop_s: float = 0.25,
    statistic: str = "median",
    softness: float = 2.0,
    fade_s: float = 0.05,
) -> np.ndarray:
    """Envelope ``(T,)`` -> gain ``(T,)`` in ``[0, 1]`` (0 where muted, ramps of ``fade_s``)."""
    if statistic not in STATISTICS:
        raise ConfigError(f"denoise statistic must be one of {', '.join(STATISTICS)}, got {statistic!r}")
    if window_s <= 0 or hop_s <= 0 or softness <= 0 or fade_s < 0:
        raise ConfigError("denoise window, hop and softness must be > 0 and fade >= 0")
    stat = STATISTICS[statistic]
    length = envelope.shape[-1]
    window = min(length, max(1, round(window_s * sample_rate)))
    hop = max(1, round(hop_s * sample_rate))
    threshold = stat(envelope) / softness

    starts = _window_starts(length, window, hop)
    local = stat(sliding_window_view(envelope, window)[starts], axis=1)
    quiet = local < threshold
    before = np.concatenate([quiet[:1], quiet[:-1]])
    after = np.concatenate([quiet[1:], quiet[-1:]])
    muted_windows = starts[before & after]

    # Samples covered by any muted window: +1 at each start, -1 after each end, running sum.
    coverage = np.zeros(length + 1, dtype=np.int64)
    np.add.at(coverage, muted_windows, 1)
    np.add.at(coverage, muted_windows + window, -1)
    muted = np.cumsum(coverage[:-1]) > 0
    if not muted.any():
        return np.ones(length, dtype=np.float32)
    fade = round(fade_s * sample_rate)
    if fade == 0:
        return (~muted).astype(np.float32)
    # Distance (in samples) to the nearest muted sample gives both the fade-out before a muted
    # region and the fade-in after it.
    distance = ndimage.distance_transform_edt(~muted)
    return np.clip(distance / fade, 0.0, 1.0).astype(np.float32)


def denoise_gate(audio: np.ndarray, sample_rate: int, **options) -> np.ndarray:
    """Gate ``audio (C, T)`` or ``(T,)``; returns a new float32 array of the same shape.

    ``options`` are those of :func:`gate_gain` (``window_s``, ``hop_s``, ``statistic``,
    ``softness``, ``fade_s``).
    """
    audio = np.asarray(audio)
    if audio.shape[-1] == 0:
        return audio.astype(np.float32, copy=True)
    gain = gate_gain(hilbert_envelope(audio), sample_rate, **options)
    return (audio * gain).astype(np.float32)


@dataclass(frozen=True)
class DenoiseGate:
    """A configured gate: ``DenoiseGate(softness=4)(audio, sample_rate)``."""

    window_s: float = 0.5
    hop_s: float = 0.25
    statistic: str = "median"
    softness: float = 2.0
    fade_s: float = 0.05

    def __call__(self, audio: np.ndarray, sample_rate: int) -> np.ndarray:
        return denoise_gate(
            audio,
            sample_rate,
            window_s=self.window_s,
            hop_s=self.hop_s,
            statistic=self.statistic,
            softness=self.softness,
            fade_s=self.fade_s,
        )
