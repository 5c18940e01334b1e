"""Matching channel counts: mono <-> stereo, and downmixing more than two channels."""

from __future__ import annotations

import numpy as np

_ITU_51 = np.array(  # L R C LFE Ls Rs -> L R (ITU-R BS.775 coefficients, LFE dropped)
    [[1.0, 0.0, 0.7071, 0.0, 0.7071, 0.0], [0.0, 1.0, 0.7071, 0.0, 0.0, 0.7071]], dtype=np.float32
)


def downmix_to_stereo(x: np.ndarray) -> np.ndarray:
    """``(C, T)`` with C > 2 -> ``(2, T)``. 5.1 uses the ITU matrix; other layouts alternate L/R."""
    c = x.shape[0]
    if c == 6:
        m = _ITU_51 / _ITU_51.sum(axis=1, keepdims=True)
    else:
        m = np.zeros((2, c), dtype=np.float32)
        m[0, 0::2] = 1.0
        m[1, 1::2] = 1.0
        m /= m.sum(axis=1, keepdims=True)
    return (m @ x).astype(np.float32, copy=False)


def adapt_channels(x: np.ndarray, channels: int) -> np.ndarray:
    """Give ``x (C, T)`` exactly ``channels`` channels (1 or 2)."""
    c = x.shape[0]
    if c == channels:
        return x
    if c > 2:
        x = downmix_to_stereo(x)
        c = 2
    if channels == 1:
        return x.mean(axis=0, keepdims=True)
    if c == 1:
        return np.repeat(x, 2, axis=0)
    return x
