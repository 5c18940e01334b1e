"""Wave-U-Net on DWT sub-band audio (seed 000, Lanternfish).

The mixture is split by a DWT into sub-band audio (:class:`~stemkit.models.dwt.DWTSubbands`:
every wavelet level reconstructed to the time domain, the bands summing to the input) and those
bands are the network's input channels. The network is a Wave-U-Net:

- ``num_levels`` (12) encoder levels: kernel-15 conv with ``level * growth`` (24) channels,
  leaky ReLU, then decimation by 2 (every other sample); the pre-decimation features are the skip;
- a kernel-15 bottleneck with ``(num_levels + 1) * growth`` channels;
- ``num_levels`` decoder levels: Wave-U-Net's learned upsampling (each new sample is a learned,
  per-channel convex blend of its two neighbours), concatenation with the skip, kernel-5 conv with
  ``level * growth`` channels, leaky ReLU;
- concatenation with the summed input (the sub-bands summed: the mixture audio itself) and a
  1x1 conv with tanh, one waveform per source and channel.

Training target is audio (the report: MSE against the sum of the target's sub-bands, which is the
target waveform). Inference as in the report: 22.05 kHz, 16384-sample chunks (32768 at 44.1 kHz),
50 % overlap, Hann blending; the engine does the resampling and blending.

Convs are length-preserving ("same" padding), so any length works: the input is zero-padded to a
multiple of ``2 ** num_levels`` and the output cropped back.
"""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .base import SeparationModel
from .dwt import DWTSubbands
from .registry import register


class LearnedUpsample(nn.Module):
    """``(B, K, T) -> (B, K, 2T)``: Wave-U-Net's learned interpolation.

    Even outputs copy the input; odd output ``2t + 1`` is ``w * x[t] + (1 - w) * x[t + 1]`` with
    ``w = sigmoid(weight)`` per channel (the last sample repeats itself). ``weight = 0`` starts as
    linear interpolation.
    """

    def __init__(self, channels: int):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = torch.sigmoid(self.weight).view(1, -1, 1)
        following = torch.cat([x[..., 1:], x[..., -1:]], dim=-1)
        between = w * x + (1 - w) * following
        return torch.stack([x, between], dim=-1).flatten(-2)


def _same_conv(cin: int, cout: int, kernel: int) -> nn.Conv1d:
    return nn.Conv1d(cin, cout, kernel, padding=kernel // 2)


@register("wave_unet", description="Wave-U-Net on DWT sub-band audio, one model per stem (seed 000)")
class WaveUNet(SeparationModel):
    """``mix (B, C, T) -> stems (B, S, C, T)`` from DWT sub-band input at 22.05 kHz.

    Args:
        sources: stems this model outputs: one (``("vocals",)``, the report's one model per stem,
            used in a :mod:`~stemkit.models.cascade`) or several (joint separation).
        channels: audio channels (the report's model outputs 1).
        sample_rate, segment: 22050 and 16384 (the report's 32768 samples at 44.1 kHz).
        wavelet, dwt_levels: DWT of the input; 2 levels give the report's 3 sub-bands.
        num_levels: encoder/decoder levels (12).
        growth: channels per level (level ``i`` has ``i * growth``; 24).
        down_kernel, up_kernel: conv sizes in encoder (15) and decoder (5).
        leaky_slope: negative slope of the leaky ReLU (0.2, as Wave-U-Net).
    """

    default_overlap = 0.5

    def __init__(
        self,
        sources: Sequence[str] | str = ("vocals",),
        *,
        channels: int = 1,
        sample_rate: int = 22050,
        segment: int = 16384,
        wavelet: str = "db4",
        dwt_levels: int = 2,
        num_levels: int = 12,
        growth: int = 24,
        down_kernel: int = 15,
        up_kernel: int = 5,
        leaky_slope: float = 0.2,
    ):
        if isinstance(sources, str):
            sources = (sources,)
        super().__init__(sources=sources, sample_rate=sample_rate, channels=channels, segment=segment)
        if down_kernel % 2 == 0 or up_kernel % 2 == 0:
            raise ValueError("kernel sizes must be odd to preserve length")
        self.num_levels = int(num_levels)
        self.leaky_slope = float(leaky_slope)
        self.dwt = DWTSubbands(wavelet, dwt_levels)
        cin = channels * self.dwt.num_bands
        self.down = nn.ModuleList()
        for level in range(1, self.num_levels + 1):
            self.down.append(_same_conv(cin, level * growth, down_kernel))
            cin = level * growth
        self.bottleneck = _same_conv(cin, (self.num_levels + 1) * growth, down_kernel)
        cin = (self.num_levels + 1) * growth
        self.upsample = nn.ModuleList()
        self.up = nn.ModuleList()
        for level in range(self.num_levels, 0, -1):
            self.upsample.append(LearnedUpsample(cin))
            self.up.append(_same_conv(cin + level * growth, level * growth, up_kernel))
            cin = level * growth
        self.output = nn.Conv1d(cin + channels, len(self.sources) * channels, 1)

    def _act(self, x: torch.Tensor) -> torch.Tensor:
        return F.leaky_relu(x, self.leaky_slope)

    def forward(self, mix: torch.Tensor) -> torch.Tensor:
        """``mix (B, C, T) -> stems (B, S, C, T)``, any ``T``."""
        b, c, t = mix.shape
        block = 2**self.num_levels
        padded = F.pad(mix, (0, (-t) % block))
        bands = self.dwt(padded)  # (B, C, bands, T')
        summed = bands.sum(dim=2)  # (B, C, T'): the audio the sub-bands reconstruct
        x = bands.flatten(1, 2)
        skips = []
        for conv in self.down:
            x = self._act(conv(x))
            skips.append(x)
            x = x[..., ::2]
        x = self._act(self.bottleneck(x))
        for upsample, conv, skip in zip(self.upsample, self.up, reversed(skips)):
            x = self._act(conv(torch.cat([upsample(x), skip], dim=1)))
        x = torch.tanh(self.output(torch.cat([x, summed], dim=1)))
        return x[..., :t].reshape(b, len(self.sources), c, t)
