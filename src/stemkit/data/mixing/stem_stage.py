"""The linear end of the chain for a whole stem: one reverb (one inverse FFT pass) per stem.

Every track's EQ, width, pan and reverb send is linear and time-invariant, and every track of a
song shares the song's room, so a stem of tracks ``t`` is

    Y_c(f) = sum_t X_t,c(f) * H_eq,t(f) * ((1 - wet_t) + wet_t * g_t * R_c(f))

(``X_t`` the placed track, ``R_c`` the room's response for ear ``c``): each track's dry path plus
the room's response to the sum of the tracks' sends. It is computed block by block: one forward
FFT per track channel, the products summed in the frequency domain, then ONE inverse FFT per
stem channel instead of one per track channel. The result equals the sum of
:func:`.linear_stage.linear_stage` over the stem's tracks up to float32 rounding (tested).

Tracks with neither EQ nor reverb need no FFT: their placement (a 2x2 matrix) is applied in the
time domain and added to the stem.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .filters import EQ_TAIL_SECONDS
from .linear_stage import PSD_FFT, _eq_impulse, reverb_gain
from .reverb import Room
from .spectral import _CHUNK_SAMPLES, BlockPlan, block_plan, impulse_spectrum, one_thread
from .stereo import placement_matrix


@dataclass
class LinearTrack:
    """One track ``x`` (2, T) after its non-linear effects, and its linear settings."""

    x: np.ndarray
    eq: list | None = None
    width: float = 1.0
    pan: float = 0.0
    wet: float = 0.0  # reverb send (energy ratio); 0 or no room: dry only

    def tail(self, room: Room | None, sample_rate: int) -> int:
        """Samples of response past a block that the block FFTs must leave room for."""
        eq_tail = int(EQ_TAIL_SECONDS * sample_rate) if self.eq else 0  # = len(_eq_impulse)
        return eq_tail + (room.length if self.reverberant(room) else 0)

    def reverberant(self, room: Room | None) -> bool:
        return room is not None and self.wet > 0

    def filtered(self, room: Room | None) -> bool:
        return bool(self.eq) or self.reverberant(room)


def _placed(x: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """``matrix`` (2, 2) applied to ``x`` (2, T), into one new float32 array (one scratch row)."""
    m = matrix.astype(np.float32)
    out = np.empty_like(x, dtype=np.float32)
    scratch = np.empty_like(out[0])
    for c in range(2):
        np.multiply(x[0], m[c, 0], out=out[c])
        out[c] += np.multiply(x[1], m[c, 1], out=scratch)
    return out


def track_transfer(track: LinearTrack, sample_rate: int, room: Room | None,
                   n_fft: int) -> tuple[np.ndarray, np.ndarray]:
    """``(source (K, T), response (2, F))``: output ear ``c`` is ``source[k] * response[c]`` with
    ``k = c`` for a stereo track (``source`` = the placed track) and ``k = 0`` for a mono one
    (``source`` = its one channel, the placement folded into the response)."""
    x = np.asarray(track.x, np.float32)
    matrix = placement_matrix(track.width, track.pan)
    n_bins = n_fft // 2 + 1
    eq_spec = (impulse_spectrum(_eq_impulse(track.eq, sample_rate), n_fft) if track.eq
               else np.ones(n_bins, np.complex64))
    per_ear = np.ones((2, n_bins), np.complex64)
    if track.reverberant(room):
        eq_power = np.abs(eq_spec[:: n_fft // PSD_FFT]) ** 2 if track.eq else 1.0
        g = reverb_gain(x, matrix, eq_power, room)
        per_ear = (1.0 - track.wet) + (track.wet * g) * room.spectrum(n_fft)
    response = eq_spec[None, :] * per_ear
    if np.array_equal(x[0], x[1]):  # mono: transform its one channel once
        return x[:1], (matrix.sum(axis=1)[:, None] * response).astype(np.complex64)
    return _placed(x, matrix), response.astype(np.complex64)


def render_stem(tracks: list[LinearTrack], sample_rate: int, room: Room | None) -> np.ndarray:
    """``(2, T)`` float32: the sum of ``tracks`` through their linear stages, the reverb of the
    whole stem computed once (see the module docstring)."""
    n = tracks[0].x.shape[-1]
    out = None
    filtered = [t for t in tracks if t.filtered(room)]
    if filtered:
        tail = max(t.tail(room, sample_rate) for t in filtered)
        plan = block_plan(n, tail)
        parts = [track_transfer(t, sample_rate, room, plan.n_fft) for t in filtered]
        with one_thread():
            out = _summed_transfer(parts, plan)
    for t in tracks:  # memoryless tracks: placement only, in the time domain
        if not t.filtered(room):
            placed = _placed(np.asarray(t.x, np.float32), placement_matrix(t.width, t.pan))
            out = placed if out is None else np.add(out, placed, out=out)
    return out


def _summed_transfer(parts: list[tuple[np.ndarray, np.ndarray]], plan: BlockPlan) -> np.ndarray:
    """``(2, T)``: sum over ``parts`` of ``source`` through ``response`` (see
    :func:`track_transfer`), by overlap-add of ``plan`` blocks with one inverse FFT per ear."""
    n, b, n_fft = plan.n_samples, plan.block, plan.n_fft
    per_chunk = min(plan.n_blocks, max(1, _CHUNK_SAMPLES // n_fft))
    srcs = [torch.from_numpy(np.ascontiguousarray(s)) for s, _ in parts]
    resp = [torch.from_numpy(np.ascontiguousarray(r))[:, None, :] for _, r in parts]  # (2, 1, F)
    out = torch.zeros((2, plan.n_blocks * b + n_fft), dtype=torch.float32)
    frames = torch.empty((2, per_chunk, n_fft), dtype=torch.float32)
    frames[:, :, b:] = 0.0  # the zero padding of every block; the first b samples are overwritten
    acc_buffer = torch.empty((2, per_chunk, plan.n_bins), dtype=torch.complex64)
    for first in range(0, plan.n_blocks, per_chunk):
        count = min(per_chunk, plan.n_blocks - first)
        start = first * b
        whole = min(count, (n - start) // b)  # blocks fully inside the signal
        acc = acc_buffer[:, :count]
        for i, (src, v) in enumerate(zip(srcs, resp)):
            k = src.shape[0]
            if whole:
                frames[:k, :whole, :b] = src[:, start: start + whole * b].view(k, whole, b)
            if whole < count:  # the last, partial block (zero beyond the signal)
                frames[:k, whole:count, :b] = 0.0
                rest = n - (start + whole * b)
                frames[:k, whole, :rest] = src[:, start + whole * b:]
            spec = torch.fft.rfft(frames[:k, :count], dim=-1)  # (K, count, F)
            spec = spec.expand(2, -1, -1)  # a mono track feeds both ears (a view, no copy)
            if i == 0:
                torch.mul(spec, v, out=acc)  # (2, count, F)
            else:
                acc.addcmul_(spec, v)
        blocks = torch.fft.irfft(acc, n=n_fft, dim=-1)  # (2, count, n_fft)
        for j in range(count):
            at = start + j * b
            out[:, at: at + n_fft] += blocks[:, j]
    return out[:, :n].numpy()
