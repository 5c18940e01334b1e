"""Seed 001's chunk filter: skip chunks that teach nothing.

A chunk is useless for training when all its targets are silent, or when the mixture is
(almost) one of the targets alone, so the model would learn the identity. The filter keeps a
chunk when at least one target is louder than ``silence_db`` (dBFS, RMS) and no audible target is
within ``min_difference_db`` of the mixture: ``10 log10(|mix - target|^2 / |mix|^2)`` must stay
above it for every target (-20 dB: the rest of the mix is at least 1 % of its energy).
"""

from __future__ import annotations

import numpy as np

_EPS = 1e-12


def level_db(x: np.ndarray) -> float:
    """RMS level of an array in dB relative to full scale (1.0)."""
    x = np.asarray(x, dtype=np.float64)
    return float(10.0 * np.log10(np.mean(x * x) + _EPS))


def is_silent(x: np.ndarray, silence_db: float = -60.0) -> bool:
    """True when the RMS level of ``x`` is below ``silence_db`` dBFS."""
    return level_db(x) < silence_db


def keep_chunk(mix: np.ndarray, stems: np.ndarray, *, silence_db: float = -60.0,
               min_difference_db: float | None = -20.0) -> bool:
    """Whether a chunk is worth training on. ``mix (C, T)``, ``stems (S, C, T)``.

    ``min_difference_db=None`` disables the "target is the whole mixture" test.
    """
    stems = np.asarray(stems, dtype=np.float64)
    mix = np.asarray(mix, dtype=np.float64)
    audible = [s for s in stems if level_db(s) >= silence_db]
    if not audible:
        return False
    if min_difference_db is None:
        return True
    mix_energy = np.sum(mix * mix) + _EPS
    for target in audible:
        rest = mix - target
        if 10.0 * np.log10(np.sum(rest * rest) / mix_energy + _EPS) < min_difference_db:
            return False
    return True
