"""WaveNet-style separator in the waveform domain (seed 001, INFO8010).

``stacks`` (4) stacks of ``blocks`` (10) residual blocks; block ``j`` of a stack has dilation
``2 ** j`` (1, 2, 4, ..., 512). A block is a dilated kernel-3 conv with ``filters`` (128)
channels and a ReLU, then two 1x1 projections: the *residual* output (added to the block input
and passed to the next block) and the *skip* output. All skips are summed, passed through ReLU,
two kernel-3 convs with 512 and 256 channels (each followed by ReLU) and a 1x1 output conv with
one waveform per instrument (linear, since waveforms are signed).

Dilations are non-causal (centred: ``padding = dilation``), so output sample ``t`` depends on
inputs ``t - R//2 .. t + R//2`` with ``R = receptive_field`` and every output aligns with its
input. With the defaults ``R = 8191`` samples (186 ms at 44.1 kHz), wider than the 100 ms (4410
samples) chunks of the report, whose later blocks therefore see zero padding at the chunk edges.

Seed 001 trained with Adam at a fixed 1e-4, batch 12, 1500 steps, with MSE, MAE, MAE + linear
spectrogram L2, or the difference loss. The informed setting (``conditioning=``) is in
:mod:`.conditioning`: the code modulates every dilated conv's output.
"""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .conditioning import InstrumentSeparator
from .registry import register

INSTRUMENTS_001 = ("drums", "piano", "strings", "bass")


class ResidualBlock(nn.Module):
    """``x (B, K, T) -> (x + residual (B, K, T), skip (B, K_skip, T))``."""

    def __init__(self, filters: int, skip_channels: int, dilation: int, kernel_size: int = 3):
        super().__init__()
        self.dilation = dilation
        self.dilated = nn.Conv1d(
            filters, filters, kernel_size, dilation=dilation, padding=dilation * (kernel_size // 2)
        )
        self.residual = nn.Conv1d(filters, filters, 1)
        self.skip = nn.Conv1d(filters, skip_channels, 1)

    def forward(self, x: torch.Tensor, modulate=None) -> tuple[torch.Tensor, torch.Tensor]:
        """``modulate`` (the informed setting) acts on the dilated conv's output before the ReLU."""
        h = self.dilated(x)
        h = F.relu(modulate(h) if modulate is not None else h)
        return x + self.residual(h), self.skip(h)


@register("wavenet", description="WaveNet stacks of dilated residual blocks, waveform in/out (seed 001)")
class WaveNet(InstrumentSeparator):
    """``mix (B, C, T) -> stems (B, S, C, T)`` with centred dilated convolutions.

    Args:
        instruments: instruments the model extracts (seed 001: drums, piano, strings, bass).
        channels, sample_rate, segment: 1, 44100 and 4410 (the report's 100 ms chunks).
        stacks, blocks: 4 stacks of 10 blocks with dilations 1 .. 2**(blocks-1).
        filters: channels of the residual stream (128); ``skip_channels`` defaults to it.
        head_channels: the two convs after the summed skips (512, 256).
        kernel_size: of the input, dilated and head convs (3).
        conditioning: None (fixed setting), "presence" or "embedding" (informed setting).
        injection: "film" or "bias"; ``embedding_dim`` for "embedding".
    """

    def __init__(
        self,
        instruments: Sequence[str] = INSTRUMENTS_001,
        *,
        channels: int = 1,
        sample_rate: int = 44100,
        segment: int = 4410,
        stacks: int = 4,
        blocks: int = 10,
        filters: int = 128,
        skip_channels: int | None = None,
        head_channels: Sequence[int] = (512, 256),
        kernel_size: int = 3,
        conditioning: str | None = None,
        injection: str = "film",
        embedding_dim: int = 16,
    ):
        super().__init__(
            instruments, conditioning=conditioning, sample_rate=sample_rate, channels=channels, segment=segment
        )
        if kernel_size % 2 == 0:
            raise ValueError("kernel_size must be odd for centred (non-causal) convolutions")
        skip_channels = int(skip_channels or filters)
        self.input = nn.Conv1d(channels, filters, kernel_size, padding=kernel_size // 2)
        self.blocks = nn.ModuleList(
            ResidualBlock(filters, skip_channels, 2**j, kernel_size) for _ in range(stacks) for j in range(blocks)
        )
        head = []
        cin = skip_channels
        for cout in head_channels:
            head.append(nn.Conv1d(cin, cout, kernel_size, padding=kernel_size // 2))
            cin = cout
        self.head = nn.ModuleList(head)
        self.output = nn.Conv1d(cin, self.output_waveforms * channels, 1)
        self._make_conditioner([filters] * len(self.blocks), injection, embedding_dim)

    @property
    def receptive_field(self) -> int:
        """Input samples that one output sample depends on (centred on it)."""
        convs = [self.input, *(b.dilated for b in self.blocks), *self.head]
        return 1 + sum((c.kernel_size[0] - 1) * c.dilation[0] for c in convs)

    def separate(self, mix: torch.Tensor, code: torch.Tensor | None) -> torch.Tensor:
        """``mix (B, C, T), code (B, D) | None -> (B, K, C, T)``."""
        b, c, t = mix.shape
        x = F.relu(self.input(mix))
        skips = 0
        for i, block in enumerate(self.blocks):
            modulate = None if code is None else (lambda h, i=i: self.conditioner.modulate(h, i, code))
            x, skip = block(x, modulate)
            skips = skips + skip
        y = F.relu(skips)
        for conv in self.head:
            y = F.relu(conv(y))
        return self.output(y).reshape(b, self.output_waveforms, c, t)
