"""Signals and a plain SDR for the classical/oracle/Wiener tests (no museval: fast and exact)."""

from __future__ import annotations

import numpy as np

SR = 44100


def sdr(estimate: np.ndarray, reference: np.ndarray) -> float:
    """Signal-to-distortion ratio in dB of one estimate of one reference (any equal shapes)."""
    estimate, reference = np.asarray(estimate, np.float64), np.asarray(reference, np.float64)
    noise = np.sum((estimate - reference) ** 2)
    return float(10 * np.log10(np.sum(reference**2) / max(noise, 1e-20)))


def tone(freq: float, seconds: float, *, harmonics: int = 1, amp: float = 0.3) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    wave = sum(np.sin(2 * np.pi * freq * k * t) / k for k in range(1, harmonics + 1))
    return (amp * wave).astype(np.float32)


def clicks(seconds: float, every: float = 0.25, seed: int = 0, amp: float = 0.8) -> np.ndarray:
    """Short decaying noise bursts (snare-like hits) every ``every`` seconds."""
    rng = np.random.default_rng(seed)
    out = np.zeros(int(seconds * SR), np.float32)
    burst = int(0.01 * SR)
    env = np.exp(-np.arange(burst) / (0.002 * SR))
    for start in range(int(0.05 * SR), len(out) - burst, int(every * SR)):
        out[start : start + burst] += amp * env * rng.standard_normal(burst)
    return out


def pan(mono: np.ndarray, position: float) -> np.ndarray:
    """Constant-gain pan: 0 hard left, 0.5 centre, 1 hard right -> (2, T)."""
    return np.stack([mono * (1 - position), mono * position]).astype(np.float32)
