"""Negative signal-to-distortion ratio per source, every source weighted equally.

L1/L2 losses on waveforms or magnitudes weight each source by its energy, so a model trained
with them spends its capacity on loud bass and kick and may trade quiet vocals away; the field's
metric (BSS Eval SDR, averaged over stems) weights every stem alike. This loss is the mean over
items and sources of ``10 log10((||s - s_hat||^2 + e) / (||s||^2 + e))`` over ``(C, T)``, where
``e`` is a power floor (``floor_db`` dB per sample) that keeps silent targets finite: for them
the loss only asks for a quiet estimate.

``frame`` (samples, 0: off) scores each frame of that length on its own and averages the frame
SDRs, as museval's BSS Eval v4 scores 1 s frames and the field reports their median: a loud
second no longer outweighs a quiet one in the same chunk. Like museval, a tail shorter than a
frame is left out (the whole item is one frame when it is shorter than ``frame``).
"""

from __future__ import annotations

import torch

from stemkit.errors import ConfigError

from .registry import register_loss


def _check(floor_db: float = -60.0, frame: int = 0, **_) -> None:
    if not -150.0 <= float(floor_db) <= 0.0:
        raise ConfigError(f"loss.args.floor_db: must be in [-150, 0] dB, got {floor_db}")
    if int(frame) != frame or frame < 0:
        raise ConfigError(f"loss.args.frame: samples per scored frame, a whole number >= 0, got {frame}")


def _frames(x: torch.Tensor, frame: int) -> torch.Tensor:
    """``(B, S, C, T) -> (B, S, K, C, frame)``: the ``K = T // frame`` whole frames (K = 1, the
    whole item, when ``frame`` is 0 or longer than T)."""
    length = x.shape[-1]
    if frame <= 0 or frame >= length:
        return x.unsqueeze(2)
    k = length // frame
    return x[..., : k * frame].unflatten(-1, (k, frame)).movedim(-2, 2)


@register_loss("sdr", description="negative SDR per source, sources weighted equally (waveform)", check=_check)
def sdr(estimate: torch.Tensor, target: torch.Tensor, mixture: torch.Tensor, floor_db: float = -60.0,
        frame: int = 0) -> torch.Tensor:
    """mean over ``(B, S)`` (and frames) of ``10 log10((||target - estimate||^2 + e) / (||target||^2 + e))``;
    ``estimate``, ``target``: ``(B, S, C, T)``; ``e = 10^(floor_db / 10) * C * T`` (T: the frame's length)."""
    estimate, target = _frames(estimate, int(frame)), _frames(target, int(frame))
    dims = tuple(range(3, target.dim()))
    size = 1
    for d in dims:
        size *= target.shape[d]
    floor = 10.0 ** (float(floor_db) / 10.0) * size
    error = (target - estimate).pow(2).sum(dims)
    energy = target.pow(2).sum(dims)
    return 10.0 * torch.log10((error + floor) / (energy + floor)).mean()
