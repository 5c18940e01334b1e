"""Blending windows for overlap-add. They are strictly positive, so normalising by the summed
weights reconstructs the input exactly for any overlap (even with no overlap at all)."""

from __future__ import annotations

import torch

WINDOWS = ("hann", "triangular", "rectangular")


def blend_window(kind: str, length: int) -> torch.Tensor:
    """``(length,)`` float32 window; the zero end points of Hann/triangle are dropped."""
    # float64 first: in float32 the ends of a long Hann window round to exactly zero.
    if kind == "hann":
        w = torch.hann_window(length + 2, periodic=False, dtype=torch.float64)[1:-1]
        return w.float().contiguous()
    if kind == "triangular":
        w = torch.bartlett_window(length + 2, periodic=False, dtype=torch.float64)[1:-1]
        return w.float().contiguous()
    if kind == "rectangular":
        return torch.ones(length, dtype=torch.float32)
    raise ValueError(f"unknown window {kind!r}; one of {', '.join(WINDOWS)}")
