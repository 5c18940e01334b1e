"""A test-only model: one small 1-D conv from the mixture to every stem (trains in a few CPU steps)."""

import torch
from torch import nn

from stemkit.models import SOURCES_4, SeparationModel, register


@register("tiny_train_net", description="test-only tiny conv separator")
class TinyTrainNet(SeparationModel):
    def __init__(self, sources=SOURCES_4, sample_rate=8000, channels=2, segment=2048, kernel=9):
        super().__init__(sources=sources, sample_rate=sample_rate, channels=channels, segment=segment)
        self.conv = nn.Conv1d(channels, len(self.sources) * channels, kernel, padding=kernel // 2)

    def forward(self, mix: torch.Tensor) -> torch.Tensor:
        """``(B, C, T)`` -> ``(B, S, C, T)``."""
        B, C, T = mix.shape
        return self.conv(mix).reshape(B, len(self.sources), C, T)
