"""Compression and limiting as smooth gain curves computed on short frames.

Level detection runs on 5 ms RMS frames (vectorised); only the attack/release smoothing of the
gain is a loop over frames (200 per second). The frame curve becomes a per-sample curve by linear
interpolation between frame centres, computed a frame at a time (float32, no per-sample search).
"""

from __future__ import annotations

import numpy as np

from .measure import energy

FRAME_SECONDS = 0.005


def _frame_level_db(x: np.ndarray, frame: int) -> np.ndarray:
    """RMS level (dB) per ``frame`` samples of ``max_c |x_c|`` of ``x`` (C, T) or (T,);
    ``(T // frame + 1,)`` frames, the last one zero-padded."""
    sq = np.square(np.asarray(x, np.float32))
    loud = np.max(sq, axis=0) if sq.ndim == 2 and sq.shape[0] > 2 else (
        np.maximum(sq[0], sq[1]) if sq.ndim == 2 and sq.shape[0] == 2 else sq.reshape(-1))
    n = len(loud) // frame
    energies = np.empty(n + 1, np.float64)
    energies[:n] = loud[: n * frame].reshape(n, frame).mean(axis=1)
    energies[n] = loud[n * frame:].sum() / frame  # the partial frame, as if padded with zeros
    return 10 * np.log10(energies + 1e-18)


def _smooth(reduction_db: np.ndarray, attack: float, release: float, frame_s: float) -> np.ndarray:
    a_att, a_rel = np.exp(-frame_s / attack), np.exp(-frame_s / release)
    out = np.empty_like(reduction_db)
    state = 0.0
    for i, target in enumerate(reduction_db.tolist()):  # reduction < 0: more negative = attack
        coeff = a_att if target < state else a_rel
        state = coeff * state + (1 - coeff) * target
        out[i] = state
    return out


def frames_to_samples(values: np.ndarray, frame: int, first_centre: float, n: int) -> np.ndarray:
    """``np.interp(arange(n), first_centre + frame * arange(K), values)`` as float32 ``(n,)``.

    Sample ``t = m * frame + r`` lies at frame position ``m + (r - first_centre) / frame``, so each
    column ``r`` of the ``(rows, frame)`` view has one fixed fraction: two fused passes instead of
    a binary search per sample. Outside the centres the end values hold, as in ``np.interp``.
    """
    rows = -(-n // frame)
    q = (np.arange(frame) - first_centre) / frame
    whole = np.floor(q).astype(np.int64)
    frac = (q - whole).astype(np.float32)
    pad = int(np.abs(whole).max()) + 2
    v = np.concatenate([np.full(pad, values[0]), values, np.full(rows + pad, values[-1])]).astype(np.float32)
    out = np.empty((rows, frame), np.float32)
    for w in np.unique(whole):  # at most two distinct offsets, each a contiguous run of columns
        cols = np.flatnonzero(whole == w)
        lo, hi = int(cols[0]), int(cols[-1]) + 1
        a = v[pad + w: pad + w + rows, None]
        b = v[pad + w + 1: pad + w + 1 + rows, None]
        np.multiply(b - a, frac[None, lo:hi], out=out[:, lo:hi])
        out[:, lo:hi] += a
    return out.reshape(-1)[:n]


def compressor_gain(x: np.ndarray, sample_rate: int, *, threshold_db: float, ratio: float,
                    attack: float = 0.01, release: float = 0.12, knee_db: float = 6.0,
                    lookahead: float = 0.0) -> np.ndarray:
    """Linear gain ``(T,)`` float32 of a feed-forward compressor (ratio=inf: a limiter) on ``x`` (C, T)."""
    frame = max(1, int(FRAME_SECONDS * sample_rate))
    level = _frame_level_db(x, frame)
    over = level - threshold_db
    slope = 1.0 - 1.0 / ratio
    reduction = np.where(over <= -knee_db / 2, 0.0,
                         np.where(over >= knee_db / 2, -slope * over,
                                  -slope * (over + knee_db / 2) ** 2 / (2 * knee_db)))
    reduction = _smooth(reduction, attack, release, frame / sample_rate)
    # dB -> linear on the 200 frames/s, then interpolate: the per-sample curve is smooth anyway.
    return frames_to_samples(10.0 ** (reduction / 20.0), frame, 0.5 * frame - lookahead * sample_rate,
                             x.shape[-1])


def compress(x: np.ndarray, sample_rate: int, *, threshold_db: float, ratio: float,
             makeup: bool = True, **kw) -> np.ndarray:
    """``x`` (C, T) compressed, float32; ``makeup`` restores the RMS it had before."""
    x = np.asarray(x, np.float32)
    y = x * compressor_gain(x, sample_rate, threshold_db=threshold_db, ratio=ratio, **kw)
    if makeup:
        y *= np.float32(np.sqrt(energy(x) / (energy(y) + 1e-12)))
    return y


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
