"""Colouring effects: saturation, chorus and echo delay."""

from __future__ import annotations

import numpy as np

from .measure import peak


def saturate(x: np.ndarray, drive: float, mix: float = 1.0) -> np.ndarray:
    """Soft clipping ``tanh(drive * x)`` at the input's peak scale, blended with the dry ``x``."""
    x = np.asarray(x, np.float32)
    top = np.float32(peak(x) + 1e-12)
    wet = np.multiply(x, np.float32(drive) / top)
    np.tanh(wet, out=wet)
    wet *= np.float32(mix * top / np.tanh(drive))
    wet += np.float32(1 - mix) * x
    return wet


_BLOCK = 1 << 15  # chorus samples per step: every temporary stays in the core's cache


def chorus(x: np.ndarray, sample_rate: int, rng: np.random.Generator, *, depth_ms: float = 2.5,
           base_ms: float = 12.0, rate_hz: float = 0.8, mix: float = 0.4) -> np.ndarray:
    """A slowly modulated delayed copy per channel (opposite LFO phases widen the image).

    Computed a block of ``_BLOCK`` samples at a time into preallocated buffers (the values do not
    depend on the blocking: every step is elementwise in the sample index).
    """
    x = np.asarray(x, np.float32)
    n = x.shape[-1]
    phase0 = rng.uniform(0, 2 * np.pi)
    per_ms = sample_rate / 1000.0
    omega, phase = np.float32(2 * np.pi * rate_hz / sample_rate), np.float32(phase0)
    base = np.float32(base_ms * per_ms)
    swings = [np.float32((-1) ** ch * depth_ms * per_ms) for ch in range(x.shape[0])]
    wet_gain, dry_gain = np.float32(mix), np.float32(1 - mix)
    itype = np.int32 if n < 2**31 - 2 else np.int64
    out = np.empty_like(x)
    size = min(_BLOCK, n)
    lfo, delay, whole = (np.empty(size, np.float32) for _ in range(3))
    i0, a, b = np.empty(size, itype), np.empty(size, np.float32), np.empty(size, np.float32)
    for start in range(0, n, size):
        m = min(size, n - start)
        # One LFO for every channel: channel c runs at phase0 + pi * c, i.e. (-1)^c times it.
        lf = lfo[:m]
        lf[:] = np.arange(start, start + m, dtype=np.float32)
        lf *= omega
        lf += phase
        np.sin(lf, out=lf)
        for ch, swing in enumerate(swings):
            d, w, idx, av, bv = delay[:m], whole[:m], i0[:m], a[:m], b[:m]
            np.multiply(lf, swing, out=d)
            d += base
            # Split the (small) delay, not the (large) position, into whole and fractional
            # samples, so the interpolation weight keeps float32 precision late in a long song.
            np.ceil(d, out=w)
            frac = np.subtract(w, d, out=d)  # weight of the later of the two neighbours
            idx[:] = np.arange(start, start + m, dtype=itype)
            idx -= w.astype(itype)
            silent = idx < 0  # before the first sample the delayed copy is silent
            np.maximum(idx, 0, out=idx)
            x[ch].take(idx, out=av)
            idx += 1
            x[ch].take(idx, out=bv)
            bv -= av
            bv *= frac
            av += bv
            if silent.any():
                av[silent] = 0.0
            av *= wet_gain
            o = out[ch, start: start + m]
            np.multiply(x[ch, start: start + m], dry_gain, out=o)
            o += av
    return out


def echo(x: np.ndarray, sample_rate: int, *, delay_s: float, feedback: float, mix: float = 0.3,
         taps: int = 6, ping_pong: bool = True) -> np.ndarray:
    """Feedback delay unrolled to ``taps`` echoes (each ``feedback`` quieter), alternating sides."""
    wet = np.zeros_like(x)
    step = int(delay_s * sample_rate)
    for k in range(1, taps + 1):
        shift = k * step
        if shift >= x.shape[-1]:
            break
        src = x[::-1] if (ping_pong and k % 2 == 1) else x  # swap channels on odd echoes
        wet[:, shift:] += feedback ** (k - 1) * src[:, :-shift]
    return (x + mix * wet).astype(np.float32)
