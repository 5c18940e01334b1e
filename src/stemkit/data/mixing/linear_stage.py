"""The linear end of a track's chain: EQ -> width -> pan -> reverb, as one block-FFT pass.

All four are linear and time-invariant, so the stage is a 2x2 matrix of transfer functions per
frequency, applied by :func:`.spectral.apply_transfer`:

    dry(f)    = H_eq(f) * P * W * x(f)                        (W: mid/side width, P: pan gains)
    out_c(f)  = (1 - wet) * dry_c(f) + wet * g * h_c(f) * dry_c(f)

with ``h_c`` the room's RIR for ear ``c`` and ``g`` the gain that gives the reverb the energy of
the dry signal. ``g`` comes from a short-frame cross-spectrum of ``x`` (every fourth 2048-sample
frame) and the RIR's band power, so it needs no extra pass of FFTs over the song. The reverb tail
past the end of the signal is cut: a song's ``T`` samples end every stem.
"""

from __future__ import annotations

import functools

import numpy as np
import torch
from scipy.signal import sosfilt

from .filters import EQ_TAIL_SECONDS, eq_sos
from .measure import identical_channels
from .reverb import Room
from .spectral import apply_transfer, block_plan, impulse_spectrum, one_thread
from .stereo import placement_matrix

PSD_FFT = 2048
PSD_FRAME_STRIDE = 4  # every 4th frame: the long-term spectrum of a track, at a quarter the cost


def cross_spectrum(x: np.ndarray, curve: np.ndarray | None = None) -> np.ndarray:
    """``(2, 2, PSD_FFT // 2 + 1)``: mean over frames of ``Re(X_i conj(X_k))`` of ``x * curve``
    (``x`` (2, T), or (1, T) for a mono track: every entry is then its power spectrum).

    Only the real part is returned: the power of any real mix of the channels needs no more.
    """
    n = x.shape[-1]
    if n < PSD_FFT:
        frames = np.zeros((x.shape[0], 1, PSD_FFT), np.float32)
        frames[:, 0, :n] = x if curve is None else x * curve
    else:
        k = n // PSD_FFT
        frames = x[:, : k * PSD_FFT].reshape(x.shape[0], k, PSD_FFT)[:, ::PSD_FRAME_STRIDE]
        if curve is not None:  # only the frames used: a quarter of the curve
            frames = frames * curve[: k * PSD_FFT].reshape(k, PSD_FFT)[::PSD_FRAME_STRIDE]
    with one_thread():  # float32 FFTs (numpy's are float64), one thread as everywhere here
        windowed = torch.from_numpy(np.ascontiguousarray(frames * _hann(PSD_FFT)))
        spec = torch.fft.rfft(windowed, dim=-1).numpy()
    # Re(X_i conj X_j) = re_i re_j + im_i im_j: real dot products over the interleaved parts
    parts = spec.view(np.float32)  # (K, frames, 2F)
    count, n_bins = spec.shape[1], spec.shape[2]

    def dot(i, j):
        return np.einsum("kx,kx->x", parts[i], parts[j]).reshape(n_bins, 2).sum(axis=1) / count

    power = np.empty((2, 2, n_bins), np.float64)
    if x.shape[0] == 1:
        power[:] = dot(0, 0)
    else:
        power[0, 0], power[1, 1] = dot(0, 0), dot(1, 1)
        power[0, 1] = power[1, 0] = dot(0, 1)
    return power


@functools.lru_cache(maxsize=4)
def _hann(n: int) -> np.ndarray:
    return np.hanning(n).astype(np.float32)


def _quadratic(m_row: np.ndarray, power: np.ndarray) -> np.ndarray:
    """``(F,)`` power of ``sum_i m_row[i] X_i`` for real weights ``m_row`` (2,)."""
    a, b = m_row
    return a * a * power[0, 0] + b * b * power[1, 1] + 2 * a * b * power[0, 1]


def reverb_gain(x: np.ndarray, matrix: np.ndarray, eq_power: np.ndarray, room: Room,
                curve: np.ndarray | None = None) -> float:
    """Gain that makes the reverb of the placed, EQ'd ``x * curve`` as energetic as the dry signal
    (``x`` (2, T), or (1, T) for a mono track)."""
    power = cross_spectrum(x, curve)
    rir = room.band_power(PSD_FFT)
    dry = wet = 0.0
    for c in range(2):
        q = _quadratic(matrix[c], power) * eq_power
        dry += float(q.sum())
        wet += float((q * rir[c]).sum())
    return float(np.sqrt(dry / wet)) if wet > 0 else 0.0


def _eq_impulse(eq: list, sample_rate: int) -> np.ndarray:
    impulse = np.zeros(int(EQ_TAIL_SECONDS * sample_rate), np.float64)
    impulse[0] = 1.0
    return sosfilt(eq_sos(eq, sample_rate), impulse)


def linear_stage(x: np.ndarray, sample_rate: int, *, eq: list | None = None, width: float = 1.0,
                 pan: float = 0.0, room: Room | None = None, wet: float = 0.0) -> np.ndarray:
    """``x`` (2, T) through EQ ``eq`` (bands), ``width``, ``pan`` and ``room`` reverb at ``wet``.

    ``sample_rate`` matters for the EQ only (the room is built at the song's rate).
    """
    x = np.asarray(x, np.float32)
    matrix = placement_matrix(width, pan)
    reverb = room is not None and wet > 0
    if not eq and not reverb:  # memoryless: one 2x2 matrix in the time domain
        m = matrix.astype(np.float32)
        return np.stack([m[0, 0] * x[0] + m[0, 1] * x[1], m[1, 0] * x[0] + m[1, 1] * x[1]])
    h_eq = _eq_impulse(eq, sample_rate) if eq else None
    tail = (len(h_eq) if eq else 0) + (room.length if reverb else 0)
    plan = block_plan(x.shape[-1], tail)
    eq_spec = impulse_spectrum(h_eq, plan.n_fft) if eq else np.ones(plan.n_bins, np.complex64)
    per_ear = np.ones((2, plan.n_bins), np.complex64)
    if reverb:
        eq_power = np.abs(eq_spec[:: plan.n_fft // PSD_FFT]) ** 2 if eq else 1.0
        g = reverb_gain(x, matrix, eq_power, room)
        per_ear = (1.0 - wet) + (wet * g) * room.spectrum(plan.n_fft)
    # Placement (width, pan) is a real 2x2 matrix: applied in the time domain, it leaves one
    # filter per output channel (EQ x that ear's reverb). A mono track keeps the full matrix so
    # that its one channel is transformed once.
    if identical_channels(x):
        response = matrix[:, :, None] * (eq_spec[None, :] * per_ear)[:, None, :]  # (out, in, F)
        return apply_transfer(x, response, plan)
    m = matrix.astype(np.float32)
    placed = np.stack([m[0, 0] * x[0] + m[0, 1] * x[1], m[1, 0] * x[0] + m[1, 1] * x[1]])
    return apply_transfer(placed, eq_spec[None, :] * per_ear, plan)
