"""Glottal excitation: Rosenberg pulses with shimmer, and aspiration noise gated by the glottis."""

from __future__ import annotations

import numpy as np


def rosenberg_flow(frac: np.ndarray, open_quotient: float, speed_quotient: float = 2.0) -> np.ndarray:
    """Glottal flow (0..1) at period fraction ``frac`` (T,) (Rosenberg 1971, type C).

    The glottis opens for ``open_quotient * sq/(1+sq)`` of the period and closes for the rest of the
    open phase; it is shut for the remaining ``1 - open_quotient``.
    """
    t_open = open_quotient * speed_quotient / (1.0 + speed_quotient)
    t_close = open_quotient - t_open
    flow = np.zeros_like(frac)
    rising = frac < t_open
    falling = (frac >= t_open) & (frac < open_quotient)
    dtype = frac.dtype.type
    flow[rising] = dtype(0.5) * (dtype(1.0) - np.cos(frac[rising] * dtype(np.pi / t_open)))
    flow[falling] = np.cos((frac[falling] - dtype(t_open)) * dtype(0.5 * np.pi / t_close))
    return flow


def voiced_source(phase: np.ndarray, open_quotient: float, rng: np.random.Generator,
                  shimmer_db: float = 0.4) -> tuple[np.ndarray, np.ndarray]:
    """``(excitation (T,), flow (T,))``: flow derivative (lip radiation) with per-period shimmer."""
    period = phase.astype(np.int64)  # the phase is >= 0: truncation is the floor
    frac = (phase - period).astype(np.float32)  # float32 from here: a period fraction needs no more
    flow = rosenberg_flow(frac, open_quotient)
    periods = int(phase[-1]) + 2 if len(phase) else 1
    gain = (10.0 ** (shimmer_db * rng.standard_normal(periods) / 20.0)).astype(np.float32)
    flow *= gain[period]
    excitation = np.empty_like(flow)  # np.diff(flow, prepend=flow[:1]) without the copy
    excitation[:1] = 0.0
    np.subtract(flow[1:], flow[:-1], out=excitation[1:])
    excitation /= np.std(excitation) + 1e-12
    return excitation, flow


def aspiration(flow: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Turbulence noise, louder while the glottis is open (T,), unit-ish RMS."""
    noise = rng.standard_normal(len(flow), dtype=np.float32)
    noise *= np.float32(0.35) + flow.astype(np.float32, copy=False)
    return noise
