"""Compression and limiting as smooth gain curves computed on short frames.

Level detection runs on 5 ms RMS frames (vectorised); only the attack/release smoothing of the
gain is a loop over frames (200 per second). The curve is interpolated to samples.
"""

from __future__ import annotations

import numpy as np

FRAME_SECONDS = 0.005


def _frame_level_db(x: np.ndarray, frame: int) -> np.ndarray:
    mono = np.max(np.abs(x), axis=0) if x.ndim == 2 else np.abs(x)
    n = len(mono) // frame
    padded = np.concatenate([mono, np.zeros((n + 1) * frame - len(mono), mono.dtype)])
    rms = np.sqrt(np.mean(padded.reshape(-1, frame).astype(np.float64) ** 2, axis=1))
    return 20 * np.log10(rms + 1e-9)


def _smooth(reduction_db: np.ndarray, attack: float, release: float, frame_s: float) -> np.ndarray:
    a_att, a_rel = np.exp(-frame_s / attack), np.exp(-frame_s / release)
    out = np.empty_like(reduction_db)
    state = 0.0
    for i, target in enumerate(reduction_db):  # gain reduction is negative: more negative = attack
        coeff = a_att if target < state else a_rel
        state = coeff * state + (1 - coeff) * target
        out[i] = state
    return out


def compressor_gain(x: np.ndarray, sample_rate: int, *, threshold_db: float, ratio: float,
                    attack: float = 0.01, release: float = 0.12, knee_db: float = 6.0,
                    lookahead: float = 0.0) -> np.ndarray:
    """Linear gain ``(T,)`` of a feed-forward compressor (ratio=inf: a limiter) on ``x`` (C, T)."""
    frame = max(1, int(FRAME_SECONDS * sample_rate))
    level = _frame_level_db(x, frame)
    over = level - threshold_db
    slope = 1.0 - 1.0 / ratio
    reduction = np.where(over <= -knee_db / 2, 0.0,
                         np.where(over >= knee_db / 2, -slope * over,
                                  -slope * (over + knee_db / 2) ** 2 / (2 * knee_db)))
    reduction = _smooth(reduction, attack, release, frame / sample_rate)
    centres = (np.arange(len(reduction)) + 0.5) * frame - lookahead * sample_rate
    # dB -> linear on the 200 frames/s, then interpolate: the per-sample curve is smooth anyway.
    return np.interp(np.arange(x.shape[-1], dtype=np.float32), centres,
                     10.0 ** (reduction / 20.0)).astype(np.float32)


def compress(x: np.ndarray, sample_rate: int, *, threshold_db: float, ratio: float,
             makeup: bool = True, **kw) -> np.ndarray:
    """``x`` (C, T) compressed; ``makeup`` restores the RMS it had before."""
    y = x * compressor_gain(x, sample_rate, threshold_db=threshold_db, ratio=ratio, **kw)
    if makeup:
        y *= np.sqrt(np.mean(x**2) / (np.mean(y**2) + 1e-12))
    return y.astype(np.float32)


def bus_gain(mix: np.ndarray, sample_rate: int, *, threshold_db: float | None,
             limit_db: float | None) -> np.ndarray:
    """One gain curve ``(T,)`` for the whole mix: glue compression then a fast look-ahead limiter.

    Applying it to every stem keeps the mixture the exact sum of the stems.
    """
    gain = np.ones(mix.shape[-1], np.float32)
    if threshold_db is not None:
        gain *= compressor_gain(mix, sample_rate, threshold_db=threshold_db, ratio=3.0,
                                attack=0.02, release=0.25)
    if limit_db is not None:
        gain *= compressor_gain(mix * gain, sample_rate, threshold_db=limit_db, ratio=1e6,
                                attack=0.001, release=0.08, knee_db=1.0, lookahead=0.005)
    return gain
