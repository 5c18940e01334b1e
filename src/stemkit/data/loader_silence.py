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
    # energies from dot products (BLAS, no temporaries): |mix - s|^2 = |mix|^2 - 2<mix,s> + |s|^2
    flat = np.ascontiguousarray(stems, dtype=np.float32).reshape(len(stems), -1)
    m = np.ascontiguousarray(mix, dtype=np.float32).reshape(-1)
    if flat.size == 0 or m.size == 0:
        return False
    energy = np.einsum("sn,sn->s", flat, flat).astype(np.float64)
    audible = 10.0 * np.log10(energy / m.size + _EPS) >= silence_db
    if not audible.any():
        return False
    if min_difference_db is None:
        return True
    mix_energy = float(m @ m) + _EPS
    rest = mix_energy - 2.0 * (flat @ m).astype(np.float64) + energy
    rest_db = 10.0 * np.log10(np.maximum(rest, 0.0) / mix_energy + _EPS)
    return not bool(np.any(audible & (rest_db < min_difference_db)))
