"""Stem level statistics: how loud each stem sits against its mixture, measured on real songs.

The defaults of :attr:`MixConfig.level_db` come from :func:`level_statistics` over the 94 MUSDB18
train excerpts (7 s each); see docs/rendering.md for the command.
"""

from __future__ import annotations

import numpy as np

from .chain import active_rms


def stem_levels_db(mixture: np.ndarray, stems: dict[str, np.ndarray], sample_rate: int) -> dict:
    """Active RMS of each stem ``(C, T)`` relative to the mixture's, in dB."""
    ref = max(active_rms(mixture, sample_rate), 1e-12)
    return {name: float(20 * np.log10(max(active_rms(x, sample_rate), 1e-12) / ref))
            for name, x in stems.items()}


def level_statistics(rows: list[dict], absent_db: float = -40.0) -> dict[str, tuple[float, float]]:
    """Stem -> (mean, sd) dB over songs, ignoring stems quieter than ``absent_db`` (absent)."""
    names = sorted({k for r in rows for k in r})
    out = {}
    for name in names:
        v = np.array([r[name] for r in rows if name in r and r[name] > absent_db])
        if len(v):
            out[name] = (round(float(v.mean()), 1), round(float(v.std()), 1))
    return out
