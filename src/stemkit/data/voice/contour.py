"""Per-sample pitch of the sung line: portamento, vibrato, drift and cycle-to-cycle jitter."""

from __future__ import annotations

import numpy as np
from scipy.signal import lfilter

from ..mixing.dynamics import frames_to_samples
from .score import SungNote


def _one_pole(x: np.ndarray, seconds: float, sample_rate: int) -> np.ndarray:
    a = np.exp(-1.0 / max(1.0, seconds * sample_rate))
    return lfilter([1 - a], [1, -a], x, zi=[x[0] * a])[0] if len(x) else x


_DRIFT_STEP = 64  # the drift (a 0.15 s one-pole noise, < 2 Hz) is drawn every 64 samples


def _slow_drift(n_samples: int, sample_rate: int, rng: np.random.Generator, cents: float) -> np.ndarray:
    """Slow random pitch drift ``(T,)`` float32 of standard deviation ``cents``: one-pole
    low-passed noise drawn at sample_rate / 64 and interpolated linearly (it has nothing above
    ~2 Hz, so the coarse grid changes nothing but the cost)."""
    steps = n_samples // _DRIFT_STEP + 2
    coarse = _one_pole(rng.standard_normal(steps, dtype=np.float32), 0.15, sample_rate // _DRIFT_STEP)
    coarse *= np.float32(cents / (np.std(coarse) + 1e-12))
    return frames_to_samples(coarse, _DRIFT_STEP, 0.0, n_samples)


def pitch_contour(notes: list[SungNote], n_samples: int, sample_rate: int, rng: np.random.Generator,
                  *, vibrato_rate: tuple[float, float] = (5.0, 6.0), vibrato_cents: float = 45.0,
                  vibrato_delay: float = 0.18, glide_seconds: float = 0.025,
                  drift_cents: float = 6.0) -> tuple[np.ndarray, np.ndarray]:
    """``(midi_pitch (T,), voiced (T,) bool)``.

    The target pitch is held through rests so each note glides in from the previous one (one-pole
    portamento of ``glide_seconds``), and a note after a rest starts with a short scoop from below;
    vibrato fades in after ``vibrato_delay`` seconds of a note,
    at a per-note rate drawn from ``vibrato_rate`` Hz, with continuous phase.
    """
    # float32 throughout (a pitch in semitones needs no more), except the running vibrato phase.
    target = np.full(n_samples, notes[0].pitch if notes else 60.0, np.float32)
    voiced = np.zeros(n_samples, bool)
    depth = np.zeros(n_samples, np.float32)
    rate = np.full(n_samples, np.mean(vibrato_rate), np.float32)
    holds: list[tuple[int, float, int, float]] = []  # (onset, pitch, scoop end, scoop pitch)
    prev_end = -1.0
    for n in notes:
        a, b = int(n.start * sample_rate), min(n_samples, int(n.end * sample_rate))
        if b <= a:
            continue
        scoop_end, scoop_pitch = a, n.pitch
        if n.start - prev_end > 0.1:  # after a rest singers "scoop" up into the note from below
            scoop_end = a + int(rng.uniform(0.03, 0.07) * sample_rate)
            scoop_pitch = n.pitch - rng.uniform(0.2, 0.6)
        holds.append((a, n.pitch, scoop_end, scoop_pitch))
        prev_end = n.end
        voiced[a:b] = True
        t = np.arange(b - a, dtype=np.float32) / np.float32(sample_rate)
        ramp = np.clip((t - np.float32(vibrato_delay)) / np.float32(0.25), 0.0, 1.0)
        depth[a:b] = np.float32(vibrato_cents * rng.uniform(0.8, 1.2)) * ramp
        rate[a:b] = rng.uniform(*vibrato_rate)
    # Each note's pitch is held until the next onset (through rests), its scoop cut short by it.
    for i, (a, pitch, scoop_end, scoop_pitch) in enumerate(holds):
        stop = holds[i + 1][0] if i + 1 < len(holds) else n_samples
        target[a:stop] = pitch
        target[a:min(scoop_end, stop)] = scoop_pitch
    pitch = _one_pole(target, glide_seconds, sample_rate)
    # The phase needs float64 (it grows to ~1000 rad); its sine and the cents do not.
    vibrato = np.sin((np.cumsum(rate, dtype=np.float64) * (2 * np.pi / sample_rate)).astype(np.float32))
    drift = _slow_drift(n_samples, sample_rate, rng, drift_cents)
    vibrato *= depth
    vibrato += drift
    pitch += vibrato * np.float32(0.01)
    return pitch, voiced


def glottal_phase(pitch: np.ndarray, sample_rate: int, rng: np.random.Generator,
                  jitter: float = 0.006) -> np.ndarray:
    """Running phase in periods (T,): integral of f0 with a random length change per period."""
    f0 = np.float32(440.0) * np.exp2((pitch - np.float32(69.0)) / np.float32(12.0))
    phase = np.cumsum(f0, dtype=np.float64)  # float64: it grows to ~10^4 periods
    phase /= sample_rate
    periods = int(phase[-1]) + 2 if len(phase) else 1
    factor = (1.0 + jitter * rng.standard_normal(periods)).astype(np.float32)
    f0 *= factor[phase.astype(np.int64)]
    phase = np.cumsum(f0, dtype=np.float64, out=phase)
    phase /= sample_rate
    return phase
