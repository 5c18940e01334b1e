"""The informed setting (seed 001): tell a model which instrument to extract.

Seed 001 describes two ways to make a model aware of the instruments to extract: a fixed-size
*presence* vector over every instrument seen in training, or a learned *embedding* of one
instrument (the model is then run once per instrument). Either code modulates the hidden features
of every layer, FiLM-style (``h * (1 + gamma) + beta``) or as an added bias (``h + beta``).

:class:`InstrumentSeparator` is the shared base of ``wavenet`` and ``conv_baseline``:

- ``instruments``: the fine class list the model knows (seed 001: drums, piano, strings, bass);
- ``conditioning=None`` (the report's fixed setting): one forward pass returns every instrument;
- ``conditioning="presence"|"embedding"``: ``forward(mix, condition)`` returns the requested
  instrument(s) as one waveform ``(B, 1, C, T)``; with no condition (as the engine calls it) the
  model extracts every instrument in ``sources`` (one batched pass, each item conditioned on one
  instrument) and returns ``(B, S, C, T)``;
- ``with_sources(names)`` / ``select(names)`` restrict the outputs to a subset of instruments.
"""

from __future__ import annotations

import copy
from typing import Sequence

import torch
from torch import nn

from ..errors import ModelError
from .base import SeparationModel

CONDITIONINGS = ("presence", "embedding")
INJECTIONS = ("film", "bias")


class InstrumentConditioning(nn.Module):
    """Condition -> per-layer feature modulation.

    ``encode``: indices ``(B,)`` (embedding) or presence vectors ``(B, I)`` -> code ``(B, D)``;
    ``modulate(h (B, K, T), layer, code) -> (B, K, T)`` for the layer with ``K`` channels.
    """

    def __init__(
        self,
        num_instruments: int,
        layer_channels: Sequence[int],
        *,
        kind: str = "embedding",
        injection: str = "film",
        embedding_dim: int = 16,
    ):
        super().__init__()
        if kind not in CONDITIONINGS:
            raise ValueError(f"conditioning must be one of {CONDITIONINGS} or None, got {kind!r}")
        if injection not in INJECTIONS:
            raise ValueError(f"injection must be one of {INJECTIONS}, got {injection!r}")
        self.kind = kind
        self.injection = injection
        self.num_instruments = int(num_instruments)
        if kind == "embedding":
            self.embedding = nn.Embedding(num_instruments, embedding_dim)
            code_dim = embedding_dim
        else:
            code_dim = num_instruments
        per_channel = 2 if injection == "film" else 1
        self.layers = nn.ModuleList(nn.Linear(code_dim, per_channel * k) for k in layer_channels)

    def encode(self, condition: torch.Tensor) -> torch.Tensor:
        """``(B,)`` long indices or ``(B, I)`` float presence -> ``(B, D)``."""
        if self.kind == "embedding":
            return self.embedding(condition)
        return condition

    def modulate(self, h: torch.Tensor, layer: int, code: torch.Tensor) -> torch.Tensor:
        params = self.layers[layer](code).unsqueeze(-1)  # (B, per_channel * K, 1)
        if self.injection == "bias":
            return h + params
        gamma, beta = params.chunk(2, dim=1)
        return h * (1 + gamma) + beta


class InstrumentSeparator(SeparationModel):
    """Base for models with a fine ``instruments`` list and an optional informed setting.

    Subclasses build their layers, create ``self.conditioner`` with :meth:`_make_conditioner`
    and implement :meth:`separate` ``(mix (B, C, T), code (B, D) | None) -> (B, K, C, T)``
    where ``K = len(instruments)`` uninformed and ``K = 1`` informed.
    """

    def __init__(
        self,
        instruments: Sequence[str],
        *,
        conditioning: str | None,
        sample_rate: int,
        channels: int,
        segment: int,
    ):
        if isinstance(instruments, str):
            instruments = (instruments,)
        super().__init__(sources=instruments, sample_rate=sample_rate, channels=channels, segment=segment)
        if conditioning in ("none", ""):
            conditioning = None
        if conditioning is not None and conditioning not in CONDITIONINGS:
            raise ValueError(f"conditioning must be one of {CONDITIONINGS} or None, got {conditioning!r}")
        self.instruments = tuple(instruments)
        self.conditioning = conditioning
        self.conditioner: InstrumentConditioning | None = None

    @property
    def informed(self) -> bool:
        return self.conditioning is not None

    @property
    def output_waveforms(self) -> int:
        """Waveforms (per channel) one pass produces: one informed, every instrument otherwise."""
        return 1 if self.informed else len(self.instruments)

    def _make_conditioner(self, layer_channels: Sequence[int], injection: str, embedding_dim: int):
        if self.informed:
            self.conditioner = InstrumentConditioning(
                len(self.instruments),
                layer_channels,
                kind=self.conditioning,
                injection=injection,
                embedding_dim=embedding_dim,
            )

    def _modulate(self, h: torch.Tensor, layer: int, code: torch.Tensor | None) -> torch.Tensor:
        return h if code is None else self.conditioner.modulate(h, layer, code)

    def separate(self, mix: torch.Tensor, code: torch.Tensor | None) -> torch.Tensor:  # pragma: no cover
        raise NotImplementedError

    # --- choosing instruments -------------------------------------------------------------

    def instrument_index(self, name: str) -> int:
        if name not in self.instruments:
            raise ModelError(f"unknown instrument {name!r}; this model knows {', '.join(self.instruments)}")
        return self.instruments.index(name)

    def condition_tensor(self, condition, batch: int, device=None) -> torch.Tensor:
        """Normalise a condition to what the conditioner takes.

        Accepts an instrument name, a list of names (one per batch item), an index, a ``(B,)``
        index tensor or (presence conditioning) a ``(B, I)`` or ``(I,)`` presence vector, which
        may name several instruments to extract together.
        """
        if isinstance(condition, str):
            condition = [condition]
        if isinstance(condition, (list, tuple)) and condition and isinstance(condition[0], str):
            condition = torch.tensor([self.instrument_index(n) for n in condition])
        condition = torch.as_tensor(condition, device=device)
        if condition.is_floating_point():
            if self.conditioning != "presence":
                raise ModelError("presence vectors need conditioning='presence'; pass instrument names")
            presence = condition.reshape(-1, condition.shape[-1]) if condition.dim() else condition.view(1, 1)
            if presence.shape[-1] != len(self.instruments) or presence.shape[0] not in (1, batch):
                raise ModelError(f"presence vectors need shape ({len(self.instruments)},) or ({batch}, "
                                 f"{len(self.instruments)}), got {tuple(condition.shape)}")
            return presence.expand(batch, -1)
        index = condition.reshape(-1).long().expand(batch) if condition.numel() == 1 else condition.long()
        if index.shape != (batch,) or index.min() < 0 or index.max() >= len(self.instruments):
            raise ModelError(f"condition must be one instrument index in [0, {len(self.instruments)}) per item")
        if self.conditioning == "presence":
            return nn.functional.one_hot(index, len(self.instruments)).float()
        return index

    def with_sources(self, names: Sequence[str]) -> "InstrumentSeparator":
        """A view of this model (shared weights) that outputs only ``names``, in that order."""
        view = copy.copy(self)
        view.select(names)
        return view

    def select(self, names: Sequence[str]) -> "InstrumentSeparator":
        """Restrict outputs to ``names`` in place; returns ``self``."""
        if isinstance(names, str):
            names = [n.strip() for n in names.split(",") if n.strip()]
        if not names:
            raise ModelError("select at least one instrument")
        for name in names:
            self.instrument_index(name)
        self.sources = tuple(dict.fromkeys(names))
        return self

    # --- running --------------------------------------------------------------------------

    def forward(self, mix: torch.Tensor, condition=None) -> torch.Tensor:
        """``mix (B, C, T) -> (B, S, C, T)``; with a condition (informed) ``(B, 1, C, T)``."""
        if not self.informed:
            if condition is not None:
                raise ModelError("this model was built without conditioning; it takes no condition")
            out = self.separate(mix, None)
            if self.sources != self.instruments:
                out = out[:, [self.instruments.index(s) for s in self.sources]]
            return out
        if condition is not None:
            condition = self.condition_tensor(condition, mix.shape[0], mix.device)
            if condition.is_floating_point():
                condition = condition.to(mix.dtype)
            return self.separate(mix, self.conditioner.encode(condition))
        # As the engine calls it: every selected instrument, stacked along the batch for one pass.
        b, s = mix.shape[0], len(self.sources)
        index = torch.tensor([self.instruments.index(n) for n in self.sources], device=mix.device)
        out = self.forward(mix.repeat(s, 1, 1), index.repeat_interleave(b))  # (S * B, 1, C, T)
        return out.reshape(s, b, *out.shape[2:]).transpose(0, 1)

    def describe(self) -> dict:
        return {**super().describe(), "instruments": list(self.instruments), "conditioning": self.conditioning}
