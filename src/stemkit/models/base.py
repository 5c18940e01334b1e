"""The one interface every separator implements.

A separator maps a mixture chunk ``(B, C, T)`` at ``sample_rate`` to stems ``(B, S, C, T)``.
Everything around that (reading, resampling, chunking, overlap blending, batching, devices,
mixture consistency, writing) lives once in :mod:`stemkit.engine`, so a model only declares:

- ``sources``: stem names in output order (canonical 4-stem order is ``drums, bass, other, vocals``);
- ``sample_rate``: the rate it works at;
- ``channels``: 1 or 2 (the engine duplicates or averages channels to match);
- ``segment``: samples per chunk it wants; ``fixed_segment`` says the chunk length may not change.

Classical separators are ``SeparationModel`` subclasses without parameters, so the engine needs
no special path for them.
"""

from __future__ import annotations

from typing import ClassVar, Sequence

import torch
from torch import nn

SOURCES_4: tuple[str, ...] = ("drums", "bass", "other", "vocals")
FAMILIES = ("neural", "classical", "oracle")


class SeparationModel(nn.Module):
    """Base class: ``forward(mix (B, C, T)) -> stems (B, S, C, T)`` at ``self.sample_rate``.

    Subclasses call ``super().__init__(sources=..., sample_rate=..., channels=..., segment=...)``
    and implement :meth:`forward`. ``family`` is ``"neural"``, ``"classical"`` or ``"oracle"``.
    """

    family: ClassVar[str] = "neural"
    #: True when the model cannot run on chunks of another length than ``segment``.
    fixed_segment: ClassVar[bool] = False
    #: Preferred overlap between chunks (fraction of ``segment``); the engine default otherwise.
    default_overlap: ClassVar[float | None] = None

    def __init__(
        self,
        *,
        sources: Sequence[str] = SOURCES_4,
        sample_rate: int = 44100,
        channels: int = 2,
        segment: int = 44100 * 6,
    ):
        super().__init__()
        if channels not in (1, 2):
            raise ValueError(f"channels must be 1 or 2, got {channels}")
        if len(set(sources)) != len(sources) or not sources:
            raise ValueError(f"sources must be distinct and non-empty, got {sources}")
        self.sources = tuple(sources)
        self.sample_rate = int(sample_rate)
        self.channels = int(channels)
        self.segment = int(segment)

    def forward(self, mix: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        """mix ``(B, C, T)`` -> stems ``(B, S, C, T)``."""
        raise NotImplementedError

    @property
    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def describe(self) -> dict:
        """The facts the registry and sidecars report about this model."""
        return {
            "family": self.family,
            "sources": list(self.sources),
            "sample_rate": self.sample_rate,
            "channels": self.channels,
            "segment": self.segment,
            "parameters": self.num_parameters,
        }


class IdentitySplit(SeparationModel):
    """Test helper: every stem is ``mix / S``, so stems sum exactly to the mixture."""

    family = "classical"

    def forward(self, mix: torch.Tensor) -> torch.Tensor:
        stems = mix.unsqueeze(1) / len(self.sources)
        return stems.expand(-1, len(self.sources), -1, -1).contiguous()
