"""Loss registry: ``@register_loss(name, ...)`` on a plain function, :func:`build_loss` by name.

Every loss is ``fn(estimate, target, mixture, **args) -> scalar``. ``inputs`` says which tensors the
training loop hands it:

- ``"waveform"``: ``estimate = model(mix)`` and ``target = stems``, both ``(B, S, C, T)``;
  ``mixture = mix`` ``(B, C, T)``.
- any other key (``"spec"``, ``"mask"``): the model's own outputs, ``model.training_outputs(mix)[key]``
  against ``model.training_targets(stems)[key]`` (e.g. magnitudes or masks ``(B, S, C, F, N)``);
  ``mixture`` is ``training_outputs(mix).get("mix_" + key, mix)``.
"""

from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Callable, Sequence

import torch

from ..errors import ConfigError


@dataclass(frozen=True)
class LossSpec:
    name: str
    fn: Callable[..., torch.Tensor]
    inputs: str
    seed: str
    description: str
    check: Callable[..., None] | None = None


@dataclass
class Loss:
    """A loss bound to its arguments: ``loss(estimate, target, mixture) -> scalar``."""

    spec: LossSpec
    args: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def inputs(self) -> str:
        return self.spec.inputs

    def __call__(self, estimate: torch.Tensor, target: torch.Tensor, mixture: torch.Tensor) -> torch.Tensor:
        if estimate.shape != target.shape:
            raise ValueError(f"loss {self.name}: estimate {tuple(estimate.shape)} != target {tuple(target.shape)}")
        return self.spec.fn(estimate, target, mixture, **self.args)


_LOSSES: dict[str, LossSpec] = {}


def register_loss(
    name: str,
    *,
    inputs: str = "waveform",
    seed: str = "",
    description: str = "",
    check: Callable[..., None] | None = None,
):
    """Register ``fn``; ``check(**args)`` (optional) raises ``ValueError`` on bad argument values."""

    def wrap(fn):
        if name in _LOSSES:
            raise ValueError(f"loss {name!r} registered twice")
        doc = (fn.__doc__ or "").strip().splitlines()
        _LOSSES[name] = LossSpec(name, fn, inputs, seed, description or (doc[0] if doc else ""), check)
        return fn

    return wrap


def losses() -> dict[str, LossSpec]:
    return dict(_LOSSES)


def build_loss(name: str, *, sources: Sequence[str] | None = None, **args) -> Loss:
    """Bind loss ``name`` to ``args``; unknown names or arguments raise :class:`ConfigError`.

    ``sources`` (the training sources, in order) is passed to losses that take it (Chandna's loss
    needs to know which stem is "other" and which is "vocals").
    """
    if name not in _LOSSES:
        raise ConfigError(f"unknown loss {name!r}; known: {', '.join(sorted(_LOSSES))}")
    spec = _LOSSES[name]
    params = inspect.signature(spec.fn).parameters
    accepted = [p for p in list(params)[3:] if p != "sources"]
    for key in args:
        if key not in accepted:
            raise ConfigError(
                f"loss.args.{key}: not an argument of loss {name!r} (accepted: {', '.join(accepted) or 'none'})"
            )
    bound = dict(args)
    if "sources" in params and sources is not None:
        bound["sources"] = tuple(sources)
    if spec.check is not None:
        try:
            spec.check(**bound)
        except ValueError as exc:
            raise ConfigError(f"loss {name!r}: {exc}") from None
    return Loss(spec, bound)
