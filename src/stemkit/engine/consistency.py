"""Mixture consistency: make stems sum exactly to the mixture.

The residual ``mix - sum(stems)`` is shared equally among the stems: the orthogonal projection
onto the set of estimates that sum to the mixture (Wisdom et al., 2019), i.e. the smallest change.
"""

from __future__ import annotations

import numpy as np


def enforce_consistency(mix: np.ndarray, stems: np.ndarray, *, inplace: bool = False) -> np.ndarray:
    """``mix (C, T)``, ``stems (S, C, T)`` -> stems ``(S, C, T)`` with ``stems.sum(0) == mix``.

    ``inplace``: update ``stems`` (float32, owned by the caller) instead of a new array; same numbers.
    """
    residual = mix - stems.sum(axis=0)
    residual /= stems.shape[0]
    if inplace and stems.dtype == np.float32 and stems.flags.writeable:
        stems += residual[None]
        return stems
    return (stems + residual[None]).astype(np.float32, copy=False)
