"""Test-only cheap models for the robustness suite (registered on import; subprocess runners import it too)."""

from __future__ import annotations

import torch

from stemkit.models.base import SeparationModel
from stemkit.models.registry import architectures, register

CHEAP = "robust_smooth"
MONO_CHEAP = "robust_smooth_mono"


class _Smooth(SeparationModel):
    """``(B, C, T) -> (B, 2, C, T)``: ``low`` = 3-tap moving average, ``high`` = the rest.

    Position-independent and a few multiply-adds per sample, so hour-long inputs stay cheap.
    """

    family = "classical"

    def __init__(self, sample_rate: int = 8000, channels: int = 2, segment: int = 8000):
        super().__init__(sources=("low", "high"), sample_rate=sample_rate, channels=channels, segment=segment)

    def forward(self, mix: torch.Tensor) -> torch.Tensor:
        b, c, t = mix.shape
        kernel = torch.full((1, 1, 3), 1 / 3, dtype=mix.dtype)
        low = torch.nn.functional.conv1d(mix.reshape(b * c, 1, t), kernel, padding=1).reshape(b, c, t)
        return torch.stack([low, mix - low], dim=1)


if CHEAP not in architectures():
    register(CHEAP, description="robustness tests: 3-tap smoother, stereo, 8 kHz")(_Smooth)

    @register(MONO_CHEAP, description="robustness tests: 3-tap smoother, mono, 8 kHz, 2 s segments")
    class _SmoothMono(_Smooth):
        def __init__(self, segment: int = 16000):
            super().__init__(sample_rate=8000, channels=1, segment=segment)


class _Gain(SeparationModel):
    """A neural model with one weight per source: ``stem_s = gain_s * mix`` (weights of another shape)."""

    def __init__(self, n: int = 2):
        super().__init__(sources=tuple(f"s{k}" for k in range(n)), sample_rate=8000, channels=1, segment=800)
        self.gain = torch.nn.Parameter(torch.full((n,), 1.0 / n))

    def forward(self, mix: torch.Tensor) -> torch.Tensor:
        return self.gain[None, :, None, None] * mix[:, None]


if "robust_gain" not in architectures():
    register("robust_gain", description="robustness tests: per-source gains")(_Gain)
