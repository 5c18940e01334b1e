"""Unvoiced sounds: fricatives, plosive bursts and breaths, as band-limited noise at note onsets."""

from __future__ import annotations

import functools

import numpy as np
from scipy.signal import butter, sosfilt

from .score import SungNote

# consonant -> (band Hz, start relative to the onset s, duration s, level)
_NOISES = {
    "s": ((4000, 11000), -0.07, 0.08, 0.35), "sh": ((1800, 6500), -0.08, 0.09, 0.35),
    "f": ((1000, 9000), -0.06, 0.07, 0.15), "t": ((3000, 9000), 0.0, 0.015, 0.5),
    "k": ((1500, 4500), 0.0, 0.02, 0.45), "p": ((400, 2500), 0.0, 0.012, 0.45),
    "d": ((2500, 7000), 0.0, 0.01, 0.25), "b": ((300, 2000), 0.0, 0.01, 0.25),
    "g": ((1200, 4000), 0.0, 0.012, 0.25), "breath": ((500, 3500), -0.33, 0.26, 0.06),
}
BREATH_GAP = 0.4  # a rest this long before a note lets the singer breathe in


def _add_bursts(out: np.ndarray, level: float, starts: list[float], duration: float, sos,
                sample_rate: int, rng: np.random.Generator) -> None:
    """Add band-filtered noise bursts of ``duration`` s at ``starts`` into ``out`` (T,); each is
    filtered on its own span (much cheaper than filtering a mostly-silent full-length track)."""
    n_samples = len(out)
    length = max(4, int(duration * sample_rate))
    shape = np.hanning(length) ** 0.5
    for s in starts:
        a = int(s * sample_rate)
        lo, hi = max(0, a), min(n_samples, a + length)
        if hi > lo:
            out[lo:hi] += (level * sosfilt(sos, rng.standard_normal(hi - lo) * shape[lo - a: hi - a])).astype(out.dtype)


def consonant_noise(notes: list[SungNote], n_samples: int, sample_rate: int,
                    rng: np.random.Generator) -> np.ndarray:
    """Sum of every note's consonant noise and of breaths before phrases, (T,) float32."""
    onsets: dict[str, list[float]] = {}
    prev_end = -1.0
    for n in notes:
        kind = n.consonant if n.consonant in _NOISES else None
        if kind:
            onsets.setdefault(kind, []).append(n.start + _NOISES[kind][1])
        if n.start - prev_end > BREATH_GAP and n.start > 0.4:
            onsets.setdefault("breath", []).append(n.start + _NOISES["breath"][1])
        prev_end = n.end
    out = np.zeros(n_samples, np.float32)  # float32 like the voiced part it is added to
    for kind, starts in onsets.items():
        _, _, duration, level = _NOISES[kind]
        _add_bursts(out, level, starts, duration, _band(kind, sample_rate), sample_rate, rng)
    return out


@functools.lru_cache(maxsize=64)
def _band(kind: str, sample_rate: int) -> np.ndarray:
    """The band-pass (second-order sections) of consonant ``kind``: designed once per process
    (the design cost more than filtering a song's bursts)."""
    (lo, hi), *_ = _NOISES[kind]
    nyquist = sample_rate / 2
    return butter(4, [lo / nyquist, min(hi, 0.95 * nyquist) / nyquist], "bandpass", output="sos")
