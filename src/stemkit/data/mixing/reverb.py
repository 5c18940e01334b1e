"""Synthetic room impulse responses and convolution reverb.

An RIR here is exponentially decaying Gaussian noise whose decay time differs per octave-ish band
(air and walls absorb highs faster), preceded by a pre-delay and a few sparse early reflections;
left and right use independent noise, which gives the reverb its width.
"""

from __future__ import annotations

import functools

import numpy as np
import scipy.fft as sp_fft
from scipy.signal import butter, sosfilt, sosfreqz

from .spectral import impulse_spectrum

_BAND_EDGES = (250.0, 1000.0, 4000.0)  # four bands: <250, 250-1k, 1k-4k, >4k Hz
_BAND_T60_SCALE = (1.15, 1.0, 0.8, 0.5)  # relative to the room's mid-frequency T60
ONSET_SECONDS = 0.02  # the diffuse tail builds up over ~20 ms
FLOOR_DB = 60.0  # the response is cut where its expected energy envelope is this far below its peak


@functools.lru_cache(maxsize=8)
def _band_filters(sample_rate: int) -> tuple:
    nyq = sample_rate / 2
    return tuple(butter(4, e / nyq, "lowpass", output="sos") for e in _BAND_EDGES)


def _band_split(noise: np.ndarray, sample_rate: int) -> list[np.ndarray]:
    lows = [sosfilt(sos, noise, axis=-1) for sos in _band_filters(sample_rate)]
    bands = [lows[0]] + [lows[i] - lows[i - 1] for i in range(1, len(lows))]
    bands.append(noise - lows[-1])
    return bands


@functools.lru_cache(maxsize=8)
def band_energy_fractions(sample_rate: int) -> tuple[float, ...]:
    """Share of white noise's energy in each band of :func:`_band_split` (from the filters'
    responses; they sum to about 1)."""
    w = np.linspace(0.0, np.pi, 8192)
    lows = [sosfreqz(sos, worN=w)[1] for sos in _band_filters(sample_rate)]
    bands = [lows[0]] + [lows[i] - lows[i - 1] for i in range(1, len(lows))] + [1.0 - lows[-1]]
    return tuple(float(np.mean(np.abs(h) ** 2)) for h in bands)


def expected_envelope(t: np.ndarray, t60: float, sample_rate: int) -> np.ndarray:
    """Expected energy per sample of the diffuse tail at times ``t`` (s, from its start): the bands'
    exponential decays weighted by their shares, times the squared onset ramp."""
    env = np.zeros_like(t, dtype=np.float64)
    for share, scale in zip(band_energy_fractions(sample_rate), _BAND_T60_SCALE):
        env += share * np.exp(-2 * 6.9078 * t / (t60 * scale))
    return env * np.clip(t / ONSET_SECONDS, 0.0, 1.0) ** 2


def tail_samples(t60: float, sample_rate: int, floor_db: float | None = FLOOR_DB) -> int:
    """Length of the diffuse tail: 1.2 x the slowest band's T60 (at most 3 s), cut where the
    expected envelope has fallen ``floor_db`` below its peak (None: not cut)."""
    full = int(min(3.0, 1.2 * t60 * max(_BAND_T60_SCALE)) * sample_rate) + 1
    if floor_db is None:
        return full
    t = np.arange(0, full, max(1, sample_rate // 1000)) / sample_rate  # a 1 ms grid
    env = expected_envelope(t, t60, sample_rate)
    above = np.flatnonzero(env >= env.max() * 10 ** (-floor_db / 10))
    return min(full, int(np.ceil((t[above[-1]] + 0.001) * sample_rate)) + 1)


def room_impulse_response(rng: np.random.Generator, sample_rate: int, *, t60: float,
                          predelay: float = 0.01, early: int = 8,
                          floor_db: float | None = FLOOR_DB) -> np.ndarray:
    """Stereo RIR ``(2, L)`` float32 with unit energy; ``t60`` seconds at mid frequencies.

    The tail stops where its expected energy is ``floor_db`` (60) dB below its peak: every band
    has decayed by then to at most -60 dB of the response's peak, which cuts ~40 % of the length
    of a long room (the bass band decays slowest but holds ~1 % of the energy). ``floor_db=None``
    keeps the uncut 1.2 T60 response; both draw the same random numbers and agree sample for
    sample up to the cut (and the normalisation).
    """
    full = tail_samples(t60, sample_rate, None)
    length = tail_samples(t60, sample_rate, floor_db)
    t = np.arange(length) / sample_rate
    noise = rng.standard_normal((2, full))[:, :length]  # the uncut draw: the same stream either way
    tail = np.zeros((2, length))
    for band, scale in zip(_band_split(noise, sample_rate), _BAND_T60_SCALE):
        tail += band * np.exp(-6.9078 * t / (t60 * scale))  # -60 dB at t = T60
    onset = np.clip(t / ONSET_SECONDS, 0.0, 1.0)
    tail *= onset
    start = int(predelay * sample_rate)
    ir = np.zeros((2, length + start))
    ir[:, start:] = tail
    for _ in range(early):  # sparse early reflections, independent per ear
        for ch in range(2):
            d = start + int(rng.uniform(0.002, 0.08) * sample_rate)
            if d < full + start:  # the uncut length decides, so the draws do not depend on the cut
                amp = rng.choice([-1, 1]) * rng.uniform(0.3, 1.0) * np.exp(-d / sample_rate / 0.1) * 8
                if d < ir.shape[1]:
                    ir[ch, d] += amp
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
