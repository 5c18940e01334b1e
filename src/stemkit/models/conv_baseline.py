"""Four-layer large-kernel convolutional baseline (seed 001, INFO8010).

Four 1-D convolutions with large kernels, length-preserving ("same") padding, ReLU after every conv
but the last (the output is a signed waveform), and a skip connection that sums each conv's output
with its input: the report found the model "performs even better when inserting a skip connection
between each two convolutions by summing the output of the convolution with its input". Where a
conv changes the channel count (the first and the last), its input goes through a 1x1 projection
before the sum.

The report gives no kernel size or width ("large one-dimensional kernels"); stemkit's defaults are
``kernel_size=255`` (5.8 ms at 44.1 kHz, so 4 layers see 23 ms) and ``hidden=32`` channels.
"""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .conditioning import InstrumentSeparator
from .registry import register
from .wavenet import INSTRUMENTS_001


@register("conv_baseline", description="4-layer large-kernel 1-D conv baseline with skips (seed 001)")
class ConvBaseline(InstrumentSeparator):
    """``mix (B, C, T) -> stems (B, S, C, T)``.

    Args:
        instruments: instruments the model extracts (seed 001: drums, piano, strings, bass).
        channels, sample_rate, segment: 1, 44100, 4410 (100 ms chunks, as seed 001).
        layers: number of convs (4); ``kernel_size`` odd (255); ``hidden`` channels (32).
        skip: sum each conv's output with its (projected) input.
        conditioning, injection, embedding_dim: the informed setting (see :mod:`.conditioning`);
            the code modulates every hidden conv's output.
    """

    def __init__(
        self,
        instruments: Sequence[str] = INSTRUMENTS_001,
        *,
        channels: int = 1,
        sample_rate: int = 44100,
        segment: int = 4410,
        layers: int = 4,
        kernel_size: int = 255,
        hidden: int = 32,
        skip: bool = True,
        conditioning: str | None = None,
        injection: str = "film",
        embedding_dim: int = 16,
    ):
        super().__init__(
            instruments, conditioning=conditioning, sample_rate=sample_rate, channels=channels, segment=segment
        )
        if kernel_size % 2 == 0:
            raise ValueError("kernel_size must be odd to preserve length")
        if layers < 2:
            raise ValueError("conv_baseline needs at least 2 layers")
        self.skip = bool(skip)
        widths = [channels] + [hidden] * (layers - 1) + [self.output_waveforms * channels]
        self.convs = nn.ModuleList(
            nn.Conv1d(cin, cout, kernel_size, padding=kernel_size // 2) for cin, cout in zip(widths, widths[1:])
        )
        self.projections = nn.ModuleList(
            nn.Conv1d(cin, cout, 1) if (self.skip and cin != cout) else nn.Identity()
            for cin, cout in zip(widths, widths[1:])
        )
        self._make_conditioner([hidden] * (layers - 1), injection, embedding_dim)

    @property
    def receptive_field(self) -> int:
        return 1 + sum(c.kernel_size[0] - 1 for c in self.convs)

    def separate(self, mix: torch.Tensor, code: torch.Tensor | None) -> torch.Tensor:
        """``mix (B, C, T), code (B, D) | None -> (B, K, C, T)``."""
        b, c, t = mix.shape
        x = mix
        last = len(self.convs) - 1
        for i, (conv, projection) in enumerate(zip(self.convs, self.projections)):
            h = conv(x)
            if i < last:
                h = F.relu(self._modulate(h, i, code))
            x = h + projection(x) if self.skip else h
        return x.reshape(b, self.output_waveforms, c, t)
