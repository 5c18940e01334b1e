"""Equalisation: RBJ-cookbook shelving and peaking biquads as second-order sections."""

from __future__ import annotations

import numpy as np
from scipy.signal import sosfilt, sosfreqz


def _biquad(kind: str, freq: float, gain_db: float, q: float, sample_rate: int) -> np.ndarray:
    a_gain = 10.0 ** (gain_db / 40.0)
    w0 = 2 * np.pi * min(freq, 0.45 * sample_rate) / sample_rate
    cos, alpha = np.cos(w0), np.sin(w0) / (2 * q)
    if kind == "peak":
        b = [1 + alpha * a_gain, -2 * cos, 1 - alpha * a_gain]
        a = [1 + alpha / a_gain, -2 * cos, 1 - alpha / a_gain]
    else:
        sq = 2 * np.sqrt(a_gain) * alpha
        sign = 1 if kind == "low_shelf" else -1
        ap, am = a_gain + 1, a_gain - 1
        b = [a_gain * (ap - sign * am * cos + sq), sign * 2 * a_gain * (am - sign * ap * cos),
             a_gain * (ap - sign * am * cos - sq)]
        a = [ap + sign * am * cos + sq, -sign * 2 * (am + sign * ap * cos), ap + sign * am * cos - sq]
    b, a = np.array(b) / a[0], np.array(a) / a[0]
    return np.concatenate([b, a])[None, :]


def eq_sos(bands: list[tuple[str, float, float, float]], sample_rate: int) -> np.ndarray:
    """``[(kind, freq_hz, gain_db, q), ...]`` with kind low_shelf|high_shelf|peak -> sos (K, 6)."""
    return np.concatenate([_biquad(k, f, g, q, sample_rate) for k, f, g, q in bands])


def random_eq(rng: np.random.Generator, gain_db: tuple[float, float]) -> list[tuple]:
    """A low shelf, a high shelf and one or two peaks at random frequencies and gains."""
    bands = [("low_shelf", rng.uniform(80, 300), rng.uniform(*gain_db), 0.707),
             ("high_shelf", rng.uniform(3000, 10000), rng.uniform(*gain_db), 0.707)]
    for _ in range(int(rng.integers(1, 3))):
        bands.append(("peak", float(np.exp(rng.uniform(np.log(200), np.log(6000)))),
                      rng.uniform(*gain_db), rng.uniform(0.5, 3.0)))
    return [(k, float(f), float(g), float(q)) for k, f, g, q in bands]


def apply_eq(x: np.ndarray, bands: list[tuple], sample_rate: int) -> np.ndarray:
    """``x`` (C, T) through the EQ ``bands``."""
    return sosfilt(eq_sos(bands, sample_rate), x, axis=-1).astype(np.float32)


def eq_response(bands: list[tuple], frequencies: np.ndarray, sample_rate: int) -> np.ndarray:
    """Complex response ``(F,)`` of the EQ ``bands`` at ``frequencies`` (Hz), the same filter
    :func:`apply_eq` runs (its impulse response dies out within ~0.1 s: see ``EQ_TAIL_SECONDS``)."""
    w = 2 * np.pi * np.asarray(frequencies, np.float64) / sample_rate
    return sosfreqz(eq_sos(bands, sample_rate), worN=w)[1]


#: Time after which every EQ of :func:`random_eq` has decayed below -150 dB (the slowest, a
#: Q = 3 peak at 200 Hz, decays with a ~5 ms time constant): the block FFTs leave this much room.
EQ_TAIL_SECONDS = 0.1
