"""Tape-speed augmentation: a training chunk played slightly faster or slower.

Pitch and tempo move together, as on a tape or turntable, so the audio is only resampled: no
phase vocoder, no smeared drum hits (unlike :class:`~stemkit.data.augment.PitchShift`, which
keeps the tempo at the cost of a time stretch). Every stem of a chunk gets the same speed, so
they still sum to the mixture. With few real multitracks this multiplies the keys, tempi and
vocal registers a model hears (measured in docs/data-realism.md).
"""

from __future__ import annotations

import math

import numpy as np
import soxr


def draw_speed(rng: np.random.Generator, max_semitones: float) -> float:
    """A speed factor ``2 ** (n / 12)``, ``n`` uniform in ``[-max_semitones, max_semitones]``."""
    if max_semitones <= 0:
        return 1.0
    return float(2.0 ** (rng.uniform(-max_semitones, max_semitones) / 12.0))


def source_length(length: int, speed: float) -> int:
    """Samples to read so that playing them ``speed`` times faster lasts at least ``length``."""
    return int(math.ceil(length * speed)) + 1


def change_speed(x: np.ndarray, speed: float, length: int) -> np.ndarray:
    """``x (..., T)`` played ``speed`` times faster, cut (or zero-padded) to ``(..., length)`` float32.

    ``speed > 1`` raises the pitch and shortens the audio (soxr resampling by ``1 / speed``).
    """
    if speed == 1.0:
        out = x[..., :length]
    else:
        flat = np.ascontiguousarray(x.reshape(-1, x.shape[-1]).T, dtype=np.float32)  # (T, K)
        out = soxr.resample(flat, speed, 1.0).T.reshape(*x.shape[:-1], -1)
    if out.shape[-1] < length:
        out = np.pad(out, [(0, 0)] * (out.ndim - 1) + [(0, length - out.shape[-1])])
    return np.ascontiguousarray(out[..., :length], dtype=np.float32)
