"""Synthetic room impulse responses and convolution reverb.

An RIR here is exponentially decaying Gaussian noise whose decay time differs per octave-ish band
(air and walls absorb highs faster), preceded by a pre-delay and a few sparse early reflections;
left and right use independent noise, which gives the reverb its width.
"""

from __future__ import annotations

import numpy as np
import scipy.fft as sp_fft
from scipy.signal import butter, sosfilt

from .spectral import impulse_spectrum

_BAND_EDGES = (250.0, 1000.0, 4000.0)  # four bands: <250, 250-1k, 1k-4k, >4k Hz
_BAND_T60_SCALE = (1.15, 1.0, 0.8, 0.5)  # relative to the room's mid-frequency T60


def _band_split(noise: np.ndarray, sample_rate: int) -> list[np.ndarray]:
    nyq = sample_rate / 2
    lows = [sosfilt(butter(4, e / nyq, "lowpass", output="sos"), noise, axis=-1) for e in _BAND_EDGES]
    bands = [lows[0]] + [lows[i] - lows[i - 1] for i in range(1, len(lows))]
    bands.append(noise - lows[-1])
    return bands


def room_impulse_response(rng: np.random.Generator, sample_rate: int, *, t60: float,
                          predelay: float = 0.01, early: int = 8) -> np.ndarray:
    """Stereo RIR ``(2, L)`` float32 with unit energy; ``t60`` seconds at mid frequencies."""
    length = int(min(3.0, 1.2 * t60 * max(_BAND_T60_SCALE)) * sample_rate) + 1
    t = np.arange(length) / sample_rate
    noise = rng.standard_normal((2, length))
    tail = np.zeros((2, length))
    for band, scale in zip(_band_split(noise, sample_rate), _BAND_T60_SCALE):
        tail += band * np.exp(-6.9078 * t / (t60 * scale))  # -60 dB at t = T60
    onset = np.clip(t / 0.02, 0.0, 1.0)  # the diffuse tail builds up over ~20 ms
    tail *= onset
    ir = np.zeros((2, length + int(predelay * sample_rate)))
    start = int(predelay * sample_rate)
    ir[:, start:] = tail
    for _ in range(early):  # sparse early reflections, independent per ear
        for ch in range(2):
            d = start + int(rng.uniform(0.002, 0.08) * sample_rate)
            if d < ir.shape[1]:
                ir[ch, d] += rng.choice([-1, 1]) * rng.uniform(0.3, 1.0) * np.exp(-d / sample_rate / 0.1) * 8
    ir /= np.sqrt(np.sum(ir**2) / 2) + 1e-12
    return ir.astype(np.float32)


class Room:
    """A stereo RIR ``(2, L)`` whose spectra are computed once per FFT size and reused by every
    track of the song."""

    def __init__(self, ir: np.ndarray):
        self.ir = np.ascontiguousarray(ir, dtype=np.float32)
        self._spectra: dict[int, np.ndarray] = {}

    @property
    def length(self) -> int:
        return self.ir.shape[-1]

    def spectrum(self, n_fft: int) -> np.ndarray:
        """``(2, n_fft // 2 + 1)`` complex64 spectrum of the RIR."""
        if n_fft not in self._spectra:
            self._spectra[n_fft] = impulse_spectrum(self.ir, n_fft)
        return self._spectra[n_fft]

    def band_power(self, n_fft: int) -> np.ndarray:
        """``(2, n_fft // 2 + 1)``: the RIR's power spectrum averaged over bands of ``sr / n_fft``
        Hz (the resolution of a short-frame PSD of the signal it reverberates)."""
        key = -n_fft
        if key not in self._spectra:
            fine = 1 << max(int(np.ceil(np.log2(self.length))), int(np.log2(n_fft)))
            power = np.abs(sp_fft.rfft(self.ir, fine, axis=-1)) ** 2
            m = fine // n_fft
            bands = power[:, :-1].reshape(2, n_fft // 2, m).mean(axis=2)
            self._spectra[key] = np.concatenate([bands, power[:, -1:]], axis=1)
        return self._spectra[key]


def apply_reverb(x: np.ndarray, room: Room, wet: float) -> np.ndarray:
    """``x`` (2, T) mixed with its convolution by the ``room`` RIR (each ear its own RIR channel).

    The wet signal is scaled to the dry energy before mixing, so ``wet`` is an energy ratio.
    """
    from .linear_stage import linear_stage

    return linear_stage(x, 44100, room=room, wet=wet)
