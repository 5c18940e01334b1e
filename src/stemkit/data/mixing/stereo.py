"""Stereo placement: constant-power pan and mid/side width (as functions and as one 2x2 matrix)."""

from __future__ import annotations

import numpy as np


def pan_gains(position: float) -> np.ndarray:
    """``(2,)`` constant-power gains for ``position`` -1 (left) .. 1 (right); 0 gives (1, 1)."""
    angle = (np.clip(position, -1, 1) + 1) * np.pi / 4
    return np.array([np.cos(angle), np.sin(angle)]) * np.sqrt(2)


def width_matrix(amount: float) -> np.ndarray:
    """``(2, 2)``: scale the side signal by ``amount`` (0 = mono, 1 = unchanged)."""
    a, b = (1 + amount) / 2, (1 - amount) / 2
    return np.array([[a, b], [b, a]])


def placement_matrix(amount: float = 1.0, position: float = 0.0) -> np.ndarray:
    """``(2, 2)`` float64: width ``amount`` then pan ``position``, as one matrix on (L, R)."""
    return pan_gains(position)[:, None] * width_matrix(amount)


def pan(x: np.ndarray, position: float) -> np.ndarray:
    """Balance ``x`` (2, T): ``position`` -1 (left) .. 1 (right), constant power, 0 = unchanged."""
    return (x * pan_gains(position)[:, None]).astype(np.float32)


def width(x: np.ndarray, amount: float) -> np.ndarray:
    """Scale the side signal of ``x`` (2, T) by ``amount`` (0 = mono, 1 = unchanged)."""
    mid, side = (x[0] + x[1]) / 2, (x[0] - x[1]) / 2 * amount
    return np.stack([mid + side, mid - side]).astype(np.float32)
