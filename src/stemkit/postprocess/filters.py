"""Optional low-pass / high-pass clean-up of a stem (seed 002 mentions both as denoisers).

Zero-phase Butterworth filters (``scipy.signal.butter`` as second-order sections, run forward
and backward with ``sosfiltfilt``), so stems stay time-aligned with the mixture. Audio is
``(C, T)`` or ``(T,)``; a new float32 array is returned.
"""

from __future__ import annotations

import numpy as np
from scipy import signal

from ..errors import ConfigError


def _filter(audio: np.ndarray, sample_rate: int, cutoff_hz: float, btype: str, order: int) -> np.ndarray:
    nyquist = sample_rate / 2
    if not 0 < cutoff_hz < nyquist:
        raise ConfigError(f"{btype} cutoff must be between 0 and {nyquist:g} Hz, got {cutoff_hz:g}")
    if order < 1:
        raise ConfigError(f"filter order must be >= 1, got {order}")
    audio = np.asarray(audio, dtype=np.float64)
    sos = signal.butter(order, cutoff_hz, btype=btype, fs=sample_rate, output="sos")
    # sosfiltfilt pads the ends; shorten the padding for clips shorter than its default.
    default_pad = 3 * (2 * len(sos) + 1 - min((sos[:, 2] == 0).sum(), (sos[:, 5] == 0).sum()))
    padlen = min(default_pad, max(0, audio.shape[-1] - 1))
    return signal.sosfiltfilt(sos, audio, axis=-1, padlen=padlen).astype(np.float32)


def lowpass(audio: np.ndarray, sample_rate: int, cutoff_hz: float, *, order: int = 4) -> np.ndarray:
    """Keep frequencies below ``cutoff_hz``."""
    return _filter(audio, sample_rate, cutoff_hz, "lowpass", order)


def highpass(audio: np.ndarray, sample_rate: int, cutoff_hz: float, *, order: int = 4) -> np.ndarray:
    """Keep frequencies above ``cutoff_hz``."""
    return _filter(audio, sample_rate, cutoff_hz, "highpass", order)


def band_limit(
    audio: np.ndarray,
    sample_rate: int,
    *,
    low_hz: float | None = None,
    high_hz: float | None = None,
    order: int = 4,
) -> np.ndarray:
    """High-pass at ``low_hz`` and/or low-pass at ``high_hz`` (either may be None)."""
    out = np.asarray(audio, dtype=np.float32)
    if low_hz is not None:
        out = highpass(out, sample_rate, low_hz, order=order)
    if high_hz is not None:
        out = lowpass(out, sample_rate, high_hz, order=order)
    return out.copy() if out is audio else out
