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


def chorus(x: np.ndarray, sample_rate: int, rng: np.random.Generator, *, depth_ms: float = 2.5,
           base_ms: float = 12.0, rate_hz: float = 0.8, mix: float = 0.4) -> np.ndarray:
    """A slowly modulated delayed copy per channel (opposite LFO phases widen the image)."""
    x = np.asarray(x, np.float32)
    n = x.shape[-1]
    phase0 = rng.uniform(0, 2 * np.pi)
    # One LFO for every channel: channel c runs at phase0 + pi * c, i.e. (-1)^c times it.
    lfo = np.arange(n, dtype=np.float32)
    lfo *= np.float32(2 * np.pi * rate_hz / sample_rate)
    lfo += np.float32(phase0)
    np.sin(lfo, out=lfo)
    index = np.arange(n, dtype=np.int32 if n < 2**31 - 2 else np.int64)
    per_ms = sample_rate / 1000.0
    out = np.empty_like(x)
    delay, whole = np.empty_like(lfo), np.empty_like(lfo)
    for ch in range(x.shape[0]):
        np.multiply(lfo, np.float32((-1) ** ch * depth_ms * per_ms), out=delay)
        delay += np.float32(base_ms * per_ms)
        # Split the (small) delay, not the (large) position, into whole and fractional samples, so
        # the interpolation weight keeps float32 precision late in a long song.
        np.ceil(delay, out=whole)
        frac = np.subtract(whole, delay, out=delay)  # weight of the later of the two neighbours
        i0 = index - whole.astype(index.dtype)
        lead = int(whole.max()) + 1  # before the first sample the delayed copy is silent
        silent = i0[:lead] < 0
        np.maximum(i0, 0, out=i0)
        a = x[ch].take(i0)
        i0 += 1
        b = x[ch].take(i0)
        b -= a
        b *= frac
        a += b
        a[:lead][silent] = 0.0
        a *= np.float32(mix)
        np.multiply(x[ch], np.float32(1 - mix), out=out[ch])
        out[ch] += a
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
