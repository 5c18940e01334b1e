"""Negative signal-to-distortion ratio per source, every source weighted equally.

L1/L2 losses on waveforms or magnitudes weight each source by its energy, so a model trained
with them spends its capacity on loud bass and kick and may trade quiet vocals away; the field's
metric (BSS Eval SDR, averaged over stems) weights every stem alike. This loss is the mean over
items and sources of ``10 log10((||s - s_hat||^2 + e) / (||s||^2 + e))`` over ``(C, T)``, where
``e`` is a power floor (``floor_db`` dB per sample) that keeps silent targets finite: for them
the loss only asks for a quiet estimate.
"""

from __future__ import annotations

import torch

from stemkit.errors import ConfigError

from .registry import register_loss


def _check(floor_db: float = -60.0, **_) -> None:
    if not -150.0 <= float(floor_db) <= 0.0:
        raise ConfigError(f"loss.args.floor_db: must be in [-150, 0] dB, got {floor_db}")


@register_loss("sdr", description="negative SDR per source, sources weighted equally (waveform)", check=_check)
def sdr(estimate: torch.Tensor, target: torch.Tensor, mixture: torch.Tensor, floor_db: float = -60.0) -> torch.Tensor:
    """mean over ``(B, S)`` of ``10 log10((||target - estimate||^2 + e) / (||target||^2 + e))``;
    ``estimate``, ``target``: ``(B, S, C, T)``; ``e = 10^(floor_db / 10) * C * T``."""
    dims = tuple(range(2, target.dim()))
    size = 1
    for d in dims:
        size *= target.shape[d]
    floor = 10.0 ** (float(floor_db) / 10.0) * size
    error = (target - estimate).pow(2).sum(dims)
    energy = target.pow(2).sum(dims)
    return 10.0 * torch.log10((error + floor) / (energy + floor)).mean()
