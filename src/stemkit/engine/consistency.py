"""Mixture consistency: make stems sum exactly to the mixture.

The residual ``mix - sum(stems)`` is shared equally among the stems: the orthogonal projection
onto the set of estimates that sum to the mixture (Wisdom et al., 2019), i.e. the smallest change.
"""

from __future__ import annotations

import numpy as np


def enforce_consistency(mix: np.ndarray, stems: np.ndarray) -> np.ndarray:
    """``mix (C, T)``, ``stems (S, C, T)`` -> stems ``(S, C, T)`` with ``stems.sum(0) == mix``."""
    residual = mix - stems.sum(axis=0)
    return (stems + residual[None] / stems.shape[0]).astype(np.float32, copy=False)
