"""``htdemucs_peer``: HT-Demucs (the ``demucs`` package's ``HTDemucs`` class) as a stemkit model.

The class is built with its own default arguments (hybrid waveform/spectrogram U-Nets joined by a
cross-domain transformer, 44.1 kHz stereo, ``segment=10`` seconds). With ``use_train_segment``
(its default) HT-Demucs runs at inference on exactly its training length, padding shorter input
and refusing longer, so the adapter declares a fixed segment of ``segment`` seconds: the engine
feeds it 10 s chunks and ``stemkit train`` must use ``segment: 10.0`` (configs/peers/htdemucs.yaml).

Trained on waveforms (``loss: {name: l1}``, Demucs' L1), so it needs no training contract.
"""

from __future__ import annotations

from typing import Sequence

import torch

from stemkit.models.base import SOURCES_4, SeparationModel
from stemkit.models.registry import register

from demucs.htdemucs import HTDemucs


@register("htdemucs_peer", description="HT-Demucs (demucs package), default arguments, 10 s segments")
class HTDemucsPeer(SeparationModel):
    """``HTDemucs(sources, **args)``: ``mix (B, C, T) -> stems (B, S, C, T)``, ``T = segment``.

    Args:
        channels: audio channels (HT-Demucs' ``audio_channels``).
        segment: seconds per chunk (HT-Demucs' own ``segment``; 10 by default).
        width: HT-Demucs' ``channels`` (first layer's width, 48), renamed: stemkit's ``channels``
            are audio channels.
        **htdemucs_args: any other ``HTDemucs`` constructor argument (its defaults otherwise).
    """

    fixed_segment = True

    def __init__(
        self,
        *,
        sources: Sequence[str] = SOURCES_4,
        sample_rate: int = 44100,
        channels: int = 2,
        segment: float = 10.0,
        width: int = 48,
        **htdemucs_args,
    ):
        super().__init__(sources=sources, sample_rate=sample_rate, channels=channels,
                         segment=int(round(segment * sample_rate)))
        self.net = HTDemucs(list(self.sources), audio_channels=channels, samplerate=sample_rate,
                            segment=segment, channels=int(width), **htdemucs_args)

    def forward(self, mix: torch.Tensor) -> torch.Tensor:
        """``mix (B, C, T)`` -> ``stems (B, S, C, T)``."""
        return self.net(mix)
