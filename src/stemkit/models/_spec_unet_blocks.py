"""Building blocks of the Spectrogram-Channels U-Net (seed 002, after Oh et al. 2018).

Seed 002 orders every layer as convolution -> ReLU -> batch norm, and builds the expansive path
from an upsampling (transposed, stride 2) layer, batch norm, dropout and the skip concatenation,
followed by two size-preserving deconvolutions. Images are ``(B, channels, F, N)``.
"""

from __future__ import annotations

import torch
from torch import nn


def conv_relu_bn(in_ch: int, out_ch: int, kernel_size: int, *, transposed: bool = False) -> nn.Sequential:
    """One size-preserving (de)convolution followed by ReLU and batch norm."""
    layer = nn.ConvTranspose2d if transposed else nn.Conv2d
    return nn.Sequential(
        layer(in_ch, out_ch, kernel_size, padding=kernel_size // 2),
        nn.ReLU(),
        nn.BatchNorm2d(out_ch),
    )


class ConvBlock(nn.Sequential):
    """Two convolutions, each with ReLU and batch norm: ``(B, in, F, N) -> (B, out, F, N)``."""

    def __init__(self, in_ch: int, out_ch: int, kernel_size: int = 3):
        super().__init__(
            conv_relu_bn(in_ch, out_ch, kernel_size),
            conv_relu_bn(out_ch, out_ch, kernel_size),
        )


class EncoderBlock(nn.Module):
    """ConvBlock then 2x2 max-pool; returns ``(pooled (B, out, F/2, N/2), skip (B, out, F, N))``."""

    def __init__(self, in_ch: int, out_ch: int, kernel_size: int = 3):
        super().__init__()
        self.conv = ConvBlock(in_ch, out_ch, kernel_size)
        self.pool = nn.MaxPool2d(2)

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        skip = self.conv(x)
        return self.pool(skip), skip


class DecoderBlock(nn.Module):
    """Upsample (halve channels, double size) + BN + dropout, concat skip, two deconvolutions.

    ``x (B, in, F, N)`` and ``skip (B, in/2, 2F, 2N)`` -> ``(B, in/2, 2F, 2N)``.
    """

    def __init__(self, in_ch: int, kernel_size: int = 3, dropout: float = 0.5):
        super().__init__()
        half = in_ch // 2
        self.up = nn.Sequential(
            nn.ConvTranspose2d(in_ch, half, kernel_size=2, stride=2),
            nn.ReLU(),
            nn.BatchNorm2d(half),
            nn.Dropout(dropout),
        )
        # After concatenation the block has in_ch channels again; the deconvolutions halve them.
        self.deconv = nn.Sequential(
            conv_relu_bn(in_ch, half, kernel_size, transposed=True),
            conv_relu_bn(half, half, kernel_size, transposed=True),
        )

    def forward(self, x: torch.Tensor, skip: torch.Tensor) -> torch.Tensor:
        return self.deconv(torch.cat([self.up(x), skip], dim=1))


class SpectrogramChannelsUNet(nn.Module):
    """``(B, 1, F, N)`` magnitude image -> ``(B, k, F, N)`` non-negative images, one per source.

    ``F`` and ``N`` must be multiples of ``2**depth``; channels are ``base * 2**i`` in the
    contracting path and ``base * 2**depth`` (512 for the defaults) at the centre.
    """

    def __init__(self, k: int, *, base_channels: int = 32, depth: int = 4, kernel_size: int = 3,
                 dropout: float = 0.5, in_channels: int = 1):
        super().__init__()
        widths = [base_channels * 2**i for i in range(depth)]
        self.encoders = nn.ModuleList()
        prev = in_channels
        for width in widths:
            self.encoders.append(EncoderBlock(prev, width, kernel_size))
            prev = width
        self.centre = ConvBlock(prev, 2 * prev, kernel_size)
        self.decoders = nn.ModuleList(
            DecoderBlock(2 * width, kernel_size, dropout) for width in reversed(widths)
        )
        self.head = nn.Sequential(nn.Conv2d(widths[0], k, kernel_size=1), nn.ReLU())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        skips = []
        for encoder in self.encoders:
            x, skip = encoder(x)
            skips.append(skip)
        x = self.centre(x)
        for decoder, skip in zip(self.decoders, reversed(skips)):
            x = decoder(x, skip)
        return self.head(x)
