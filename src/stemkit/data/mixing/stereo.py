"""Stereo placement: constant-power pan and mid/side width."""

from __future__ import annotations

import numpy as np


def pan(x: np.ndarray, position: float) -> np.ndarray:
    """Balance ``x`` (2, T): ``position`` -1 (left) .. 1 (right), constant power, 0 = unchanged."""
    angle = (np.clip(position, -1, 1) + 1) * np.pi / 4
    gains = np.array([np.cos(angle), np.sin(angle)]) * np.sqrt(2)
    return (x * gains[:, None]).astype(np.float32)


def width(x: np.ndarray, amount: float) -> np.ndarray:
    """Scale the side signal of ``x`` (2, T) by ``amount`` (0 = mono, 1 = unchanged)."""
    mid, side = (x[0] + x[1]) / 2, (x[0] - x[1]) / 2 * amount
    return np.stack([mid + side, mid - side]).astype(np.float32)
