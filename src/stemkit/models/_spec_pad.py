"""Zero-pad the last two axes of a spectrogram up to a multiple, and crop back exactly.

A U-Net with ``d`` max-pool / upsample stages needs both image sides divisible by ``2**d``
or the skip connections no longer line up (seed 002: 1025 x 173 -> 1040 x 176 for ``d = 4``).
Padding goes at the high-frequency / late-frame end, so cropping is a plain slice.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def padded_size(size: int, multiple: int) -> int:
    """Smallest multiple of ``multiple`` that is >= ``size``."""
    return -(-size // multiple) * multiple


def pad_to_multiple(spec: torch.Tensor, multiple: int) -> tuple[torch.Tensor, tuple[int, int]]:
    """``(..., F, N)`` -> ``(..., F', N')`` with ``F', N'`` multiples of ``multiple``.

    Returns the padded tensor and the original ``(F, N)`` for :func:`crop_to`.
    """
    bins, frames = spec.shape[-2:]
    pad_f = padded_size(bins, multiple) - bins
    pad_n = padded_size(frames, multiple) - frames
    # F.pad lists the last axis first: (left, right) for N, then for F.
    return F.pad(spec, (0, pad_n, 0, pad_f)), (bins, frames)


def crop_to(spec: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Inverse of :func:`pad_to_multiple`: keep the first ``size = (F, N)`` bins and frames."""
    bins, frames = size
    return spec[..., :bins, :frames]
