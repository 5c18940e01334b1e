"""Seed 003's classifier: a pre-activation residual network over one spectrogram window.

Input ``(B, 1, F, W)`` (``F = 513`` bins, ``W = stft_frames`` frames), output ``(B, F)`` logits
of the centre frame's vocal mask (the sigmoid is applied by the caller, so training can use
the numerically safer ``BCEWithLogits``). A block whose width changes halves both axes.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

#: (in, out) widths per residual block.
PRESETS: dict[str, list[tuple[int, int]]] = {
    # The report's "small residual network".
    "small": [(16, 16), (16, 32), (32, 32), (32, 64), (64, 64)],
    # ResNet-18-sized option (about 11 M parameters).
    "resnet18": [
        (64, 64), (64, 64), (64, 128),
        (128, 128), (128, 128), (128, 256),
        (256, 256), (256, 256), (256, 512),
        (512, 512), (512, 512),
    ],
}


class PreActBlock(nn.Module):
    """BN-ReLU-conv twice plus a shortcut; stride 2 (and a 1x1 shortcut) when widths differ."""

    def __init__(self, in_ch: int, out_ch: int, kernel_size: int = 3):
        super().__init__()
        stride = 1 if in_ch == out_ch else 2
        pad = kernel_size // 2
        self.bn1 = nn.BatchNorm2d(in_ch)
        self.conv1 = nn.Conv2d(in_ch, out_ch, kernel_size, stride=stride, padding=pad, bias=False)
        self.bn2 = nn.BatchNorm2d(out_ch)
        self.conv2 = nn.Conv2d(out_ch, out_ch, kernel_size, padding=pad, bias=False)
        self.shortcut = (
            nn.Conv2d(in_ch, out_ch, 1, stride=stride, bias=False) if stride != 1 else nn.Identity()
        )
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv1(self.relu(self.bn1(x)))
        out = self.conv2(self.relu(self.bn2(out)))
        return out + self.shortcut(x)


class ResNetMaskNet(nn.Module):
    """``(B, 1, F, W)`` window -> ``(B, bins_out)`` centre-frame mask logits."""

    def __init__(self, res_dims: Sequence[Sequence[int]], bins_out: int):
        super().__init__()
        first, last = res_dims[0][0], res_dims[-1][1]
        # A tall first kernel over frequency, stride 2 along frequency only (513 bins, 25 frames).
        self.conv_in = nn.Conv2d(1, first, kernel_size=(7, 3), stride=(2, 1), padding=(3, 1), bias=False)
        self.blocks = nn.Sequential(*(PreActBlock(int(i), int(o)) for i, o in res_dims))
        self.head = nn.Sequential(
            nn.BatchNorm2d(last), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(last, bins_out)
        )
        for module in self.modules():
            if isinstance(module, nn.Conv2d):
                nn.init.kaiming_normal_(module.weight, mode="fan_out", nonlinearity="relu")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.blocks(self.conv_in(x)))
