"""Compression and limiting as smooth gain curves computed on short frames.

Level detection runs on 5 ms RMS frames (vectorised); only the attack/release smoothing of the
gain is a loop over frames (200 per second). The frame curve becomes a per-sample curve by linear
interpolation between frame centres, computed a frame at a time (float32, no per-sample search).
"""

from __future__ import annotations

import numpy as np
import torch


FRAME_SECONDS = 0.005


def loudest_power(x: np.ndarray) -> np.ndarray:
    """``max_c x_c**2`` per sample, ``(T,)`` float32, of ``x`` (C, T) or (T,) (one temporary)."""
    x = np.asarray(x, np.float32)
    if x.ndim == 1:
        return np.square(x)
    loud = np.square(x[0])
    if x.shape[0] > 1:
        scratch = np.empty_like(loud)
        for c in range(1, x.shape[0]):
            np.maximum(loud, np.square(x[c], out=scratch), out=loud)
    return loud


def _frame_level_db(power: np.ndarray, frame: int) -> np.ndarray:
    """Mean level (dB) per ``frame`` samples of a power signal ``(T,)`` (e.g. :func:`loudest_power`);
    ``(T // frame + 1,)`` frames, the last one zero-padded."""
    n = len(power) // frame
    energies = np.empty(n + 1, np.float64)
    energies[:n] = np.einsum("nf->n", power[: n * frame].reshape(n, frame)) / frame
    energies[n] = power[n * frame:].sum() / frame  # the partial frame, as if padded with zeros
    return 10 * np.log10(energies + 1e-18)


def _smooth(reduction_db: np.ndarray, attack: float, release: float, frame_s: float) -> np.ndarray:
    """One-pole attack/release smoothing of a gain reduction (dB) per frame.

    The coefficient depends on the state, so this is a loop over frames: kept on Python floats
    (numpy scalars in the loop made it seven times slower).
    """
    a_att, a_rel = float(np.exp(-frame_s / attack)), float(np.exp(-frame_s / release))
    b_att, b_rel = 1.0 - a_att, 1.0 - a_rel
    out: list[float] = []
    append = out.append
    state = 0.0
    for target in reduction_db.tolist():  # reduction < 0: more negative = attack
        if target < state:
            state = a_att * state + b_att * target
        else:
            state = a_rel * state + b_rel * target
        append(state)
    return np.array(out)


def frames_to_samples(values: np.ndarray, frame: int, first_centre: float, n: int) -> np.ndarray:
    """``np.interp(arange(n), first_centre + frame * arange(K), values)`` as float32 ``(n,)``.

    Sample ``t = m * frame + r`` lies at frame position ``m + (r - first_centre) / frame``, so each
    column ``r`` of the ``(rows, frame)`` view has one fixed fraction: one fused multiply-add
    (torch ``addcmul``) per run of columns instead of a binary search per sample. Outside the
    centres the end values hold, as in ``np.interp``.
    """
    rows = -(-n // frame)
    q = (np.arange(frame) - first_centre) / frame
    whole = np.floor(q).astype(np.int64)
    frac = torch.from_numpy((q - whole).astype(np.float32))
    pad = int(np.abs(whole).max()) + 2
    v = torch.from_numpy(np.concatenate([np.full(pad, values[0]), values,
                                         np.full(rows + pad, values[-1])]).astype(np.float32))
    out = torch.empty((rows, frame), dtype=torch.float32)
    for w in np.unique(whole).tolist():  # at most two distinct offsets, each a run of columns
        cols = np.flatnonzero(whole == w)
        lo, hi = int(cols[0]), int(cols[-1]) + 1
        a = v[pad + w: pad + w + rows, None]
        step = v[pad + w + 1: pad + w + 1 + rows, None] - a
        torch.addcmul(a, step, frac[None, lo:hi], out=out[:, lo:hi])
    return out.reshape(-1)[:n].numpy()


def _gain_frames(power: np.ndarray, frame: int, sample_rate: int, *, threshold_db: float, ratio: float,
                 attack: float, release: float, knee_db: float) -> np.ndarray:
    """Linear gain per ``frame`` of the detector power ``(T,)``, smoothed: ``(T // frame + 1,)``."""
    over = _frame_level_db(power, frame) - threshold_db
    slope = 1.0 - 1.0 / ratio
    reduction = np.where(over <= -knee_db / 2, 0.0,
                         np.where(over >= knee_db / 2, -slope * over,
                                  -slope * (over + knee_db / 2) ** 2 / (2 * knee_db)))
    return 10.0 ** (_smooth(reduction, attack, release, frame / sample_rate) / 20.0)


def compressor_gain(x: np.ndarray, sample_rate: int, *, threshold_db: float, ratio: float,
                    attack: float = 0.01, release: float = 0.12, knee_db: float = 6.0,
                    lookahead: float = 0.0) -> np.ndarray:
    """Linear gain ``(T,)`` float32 of a feed-forward compressor (ratio=inf: a limiter) on ``x`` (C, T)."""
    return power_compressor_gain(loudest_power(x), sample_rate, threshold_db=threshold_db, ratio=ratio,
                                 attack=attack, release=release, knee_db=knee_db, lookahead=lookahead)


def power_compressor_gain(power: np.ndarray, sample_rate: int, *, threshold_db: float, ratio: float,
                          attack: float = 0.01, release: float = 0.12, knee_db: float = 6.0,
                          lookahead: float = 0.0) -> np.ndarray:
    """:func:`compressor_gain` from the detector's power signal ``(T,)`` (:func:`loudest_power`)."""
    frame = max(1, int(FRAME_SECONDS * sample_rate))
    gains = _gain_frames(power, frame, sample_rate, threshold_db=threshold_db, ratio=ratio,
                         attack=attack, release=release, knee_db=knee_db)
    # dB -> linear on the 200 frames/s, then interpolate: the per-sample curve is smooth anyway.
    return frames_to_samples(gains, frame, 0.5 * frame - lookahead * sample_rate, len(power))


def compression_curve(x: np.ndarray, sample_rate: int, *, threshold_db: float, ratio: float,
                      scale: float = 1.0, makeup: bool = True, attack: float = 0.01,
                      release: float = 0.12, knee_db: float = 6.0, lookahead: float = 0.0) -> np.ndarray:
    """Gain curve ``(T,)`` float32 that compresses ``scale * x`` (``x`` (C, T)): ``compress(scale
    * x) == x * curve`` without computing ``scale * x`` (the detector's threshold moves instead),
    the makeup gain and ``scale`` included.

    The makeup gain restores the input's energy, computed per 5 ms frame: the channels' frame
    energies times the squared gain at each frame's centre (the curve moves little within 5 ms:
    within 0.01 dB of the per-sample sum, tested), instead of two more passes over the signal.
    """
    x = np.asarray(x, np.float32)
    frame = max(1, int(FRAME_SECONDS * sample_rate))
    n_samples, rows = x.shape[-1], x.shape[-1] // frame
    whole = x[:, : rows * frame].reshape(x.shape[0], rows, frame)
    energies = np.empty(rows + 1)
    energies[:rows] = np.einsum("cnf,cnf->n", whole, whole)
    energies[rows] = np.einsum("ct,ct->", x[:, rows * frame:], x[:, rows * frame:])
    squares = [np.square(x[c]) for c in range(x.shape[0])]
    power = squares[0]
    for sq in squares[1:]:
        np.maximum(power, sq, out=power)
    shift = 20 * np.log10(scale) if scale > 0 else 0.0
    gains = _gain_frames(power, frame, sample_rate, threshold_db=threshold_db - shift, ratio=ratio,
                         attack=attack, release=release, knee_db=knee_db)
    first_centre = 0.5 * frame - lookahead * sample_rate
    curve = frames_to_samples(gains, frame, first_centre, n_samples)
    gain = scale
    if makeup:
        centres = (np.arange(rows + 1) + 0.5) * frame
        at = np.interp(centres, first_centre + frame * np.arange(len(gains)), gains)
        # einsum, not np.dot: a multi-threaded BLAS would make the bits depend on the thread count
        before, after = float(energies.sum()), float(np.einsum("n,n->", energies, at * at))
        gain *= np.sqrt(before / (after + 1e-12 / max(scale * scale, 1e-30)))
    curve *= np.float32(gain)
    return curve


def compress(x: np.ndarray, sample_rate: int, *, threshold_db: float, ratio: float,
             makeup: bool = True, **kw) -> np.ndarray:
    """``x`` (C, T) compressed, float32; ``makeup`` restores the RMS it had before."""
    x = np.asarray(x, np.float32)
    return x * compression_curve(x, sample_rate, threshold_db=threshold_db, ratio=ratio, makeup=makeup, **kw)


def bus_gain(mix: np.ndarray, sample_rate: int, *, threshold_db: float | None,
             limit_db: float | None) -> np.ndarray:
    """One gain curve ``(T,)`` for the whole mix: glue compression then a fast look-ahead limiter.

    Applying it to every stem keeps the mixture the exact sum of the stems.
    """
    return power_bus_gain(loudest_power(mix), sample_rate, threshold_db=threshold_db, limit_db=limit_db)


def power_bus_gain(power: np.ndarray, sample_rate: int, *, threshold_db: float | None,
                   limit_db: float | None) -> np.ndarray:
    """:func:`bus_gain` from the mix's detector power ``(T,)`` (:func:`loudest_power`), which it
    scales in place by the squared gain (so it ends as the power of the limited mix)."""
    gain = np.ones(len(power), np.float32)
    if threshold_db is not None:
        gain = power_compressor_gain(power, sample_rate, threshold_db=threshold_db, ratio=3.0,
                                     attack=0.02, release=0.25)
        power *= np.square(gain)
    if limit_db is not None:  # the limiter hears the compressed mix: power * gain^2
        limiter = power_compressor_gain(power, sample_rate, threshold_db=limit_db, ratio=1e6,
                                        attack=0.001, release=0.08, knee_db=1.0, lookahead=0.005)
        power *= np.square(limiter)
        gain *= limiter
    return gain
