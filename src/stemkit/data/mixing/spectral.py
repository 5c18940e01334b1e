"""Linear, time-invariant stereo filtering by block FFTs (overlap-add), many blocks per FFT call.

A track's EQ, width, pan and reverb are linear and time-invariant, so together they are one 2x2
matrix of transfer functions ``V(f)``: ``Y_out(f) = sum_in V[out, in](f) X_in(f)``. Applying it
costs one forward FFT per input channel and one inverse FFT per output channel, whatever the
chain holds.

The FFTs run on blocks of 2^14-2^20 samples rather than on the whole song (2-3x faster than one
transform of the whole song, torch's or scipy's), many blocks per call: torch sets up a new MKL
plan on every call (~3 ms at 2^18 points, as much as several transforms), so callers batch
(see :mod:`.stem_stage`). Buffers are allocated by torch (aligned), the
block plan depends only on the signal and tail lengths, and every FFT runs on one thread (MKL's
results depend on how many threads split a transform), so the same input gives the same bits in
a one-thread worker and in a many-thread main process.
"""

from __future__ import annotations

from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch

from .measure import identical_channels

# Relative cost per sample of real FFTs of 2^k points, forward + inverse, in large batches
# (measured in session 4 on the 2-core Xeon, one thread, 2^22 samples per call: 3.5 ns per sample
# at 2^15, 6.8 at 2^18; larger transforms fall out of the 1.25 MB L2). Each call also pays a plan
# set-up (~3 ms at 2^18, ~0.7 ms at 2^15), so callers batch every block of a signal in one call.
_COST_PER_SAMPLE = {14: 1.54, 15: 1.0, 16: 1.27, 17: 1.62, 18: 1.98, 19: 2.51, 20: 3.19}
_CHUNK_FLOATS = 1 << 23  # FFT input per call (32 MB of float32): a 30 s stem's blocks in one call
_CHUNK_SAMPLES = 1 << 20  # samples of FFT input per channel processed at once by apply_transfer


@contextmanager
def one_thread():
    """Run torch ops on one thread, then give the process back the thread count it had."""
    before = torch.get_num_threads()
    if before == 1:
        yield
        return
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)  # restores the caller's own setting, never raises it


@dataclass(frozen=True)
class BlockPlan:
    """Overlap-add plan: ``n_fft``-point FFTs at hops of ``block`` samples over ``n_samples``;
    each block's output is ``n_fft`` long, so responses up to ``n_fft - block`` samples fit."""

    n_samples: int
    n_fft: int
    block: int

    @property
    def n_blocks(self) -> int:
        return max(1, -(-self.n_samples // self.block))

    @property
    def n_bins(self) -> int:
        return self.n_fft // 2 + 1


def block_plan(n_samples: int, tail: int) -> BlockPlan:
    """The cheapest plan whose blocks leave ``tail`` samples for an impulse response."""
    n = max(n_samples, 1)
    best = None
    for k, cost in _COST_PER_SAMPLE.items():
        n_fft = 1 << k
        block = min(n_fft - tail, n)
        if block < min(n_fft // 4, n):  # mostly padding
            continue
        total = -(-n // block) * n_fft * cost
        if best is None or total < best[0]:
            best = (total, BlockPlan(n_samples, n_fft, block))
    if best is None:  # longer than the sizes above: one FFT over everything
        return BlockPlan(n_samples, 1 << int(np.ceil(np.log2(n + tail))), n)
    return best[1]


def impulse_spectrum(h: np.ndarray, n_fft: int) -> np.ndarray:
    """``rfft`` of the impulse response(s) ``h`` (..., L) at ``n_fft`` points, complex64."""
    with one_thread():
        return torch.fft.rfft(torch.from_numpy(np.ascontiguousarray(h, np.float32)), n=n_fft).numpy()


def apply_transfer(x: np.ndarray, response: np.ndarray, plan: BlockPlan) -> np.ndarray:
    """``(2, T)`` float32: ``x`` (2, T) through ``response`` (2 out, 2 in, F) complex, or through
    ``response`` (2, F): channel ``c`` of ``x`` filtered by ``response[c]`` alone (one complex
    product per bin and channel instead of four).

    Identical input channels (a mono track rendered as stereo) are transformed once.
    """
    with one_thread():
        return _apply_transfer(x, response, plan)


def _apply_transfer(x: np.ndarray, response: np.ndarray, plan: BlockPlan) -> np.ndarray:
    x = np.asarray(x, np.float32)
    mono = identical_channels(x)
    if response.ndim == 2:  # per channel: (2, F) -> (2 out, 1 in, F) on the shared or own input
        response = response[:, None, :]
        per_channel = not mono
    else:
        response = response.sum(axis=1, keepdims=True) if mono else response
        per_channel = False
    v = torch.from_numpy(np.ascontiguousarray(response, dtype=np.complex64))
    src = torch.from_numpy(np.ascontiguousarray(x[:1] if mono else x))
    n, b, n_fft = plan.n_samples, plan.block, plan.n_fft
    per_chunk = min(plan.n_blocks, max(1, _CHUNK_SAMPLES // n_fft))
    out = torch.zeros((2, plan.n_blocks * b + n_fft), dtype=torch.float32)
    frames = torch.empty((src.shape[0], per_chunk, n_fft), dtype=torch.float32)
    frames[:, :, b:] = 0.0  # the zero padding of every block; the first b samples are overwritten
    for first in range(0, plan.n_blocks, per_chunk):
        count = min(per_chunk, plan.n_blocks - first)
        start = first * b
        whole = min(count, (n - start) // b)  # blocks fully inside the signal
        if whole:
            frames[:, :whole, :b] = src[:, start: start + whole * b].view(src.shape[0], whole, b)
        if whole < count:  # the last, partial block (zero beyond the signal)
            frames[:, whole:count, :b] = 0.0
            rest = n - (start + whole * b)
            frames[:, whole, :rest] = src[:, start + whole * b:]
        spec = torch.fft.rfft(frames[:, :count], dim=-1)  # (in, count, F)
        if per_channel:
            mixed = spec.mul_(v)  # (out = in, count, F), in place
        else:
            mixed = spec[0] * v[:, 0, None, :]  # (out, count, F)
            if not mono:
                mixed += spec[1] * v[:, 1, None, :]
        blocks = torch.fft.irfft(mixed, n=n_fft, dim=-1)  # (out, count, n_fft)
        for j in range(count):
            at = start + j * b
            out[:, at: at + n_fft] += blocks[:, j]
    return out[:, :n].numpy()
