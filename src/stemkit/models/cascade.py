"""Sequential residual cascade of per-stem models (seed 000, Lanternfish).

Lanternfish separates one stem at a time with its own model: vocals from the mixture, then drums
from what is left after subtracting the vocals estimate, then bass; "other" is what remains. The
report argues this beats separating every stem at once with one model.

``stages`` is a list; each stage is one of

- a model name or folder (``"runs/vocals"``, a shipped name, or a registered architecture built
  with default arguments and random weights);
- a dict ``{"model": NAME_OR_FOLDER, "args": {...}, "stems": [...]}``: with ``args`` the
  architecture ``model`` is built with those arguments; ``stems`` optionally keeps only some of
  the stage model's outputs (default: all of them);
- a :class:`SeparationModel` instance (Python API; also accepted as the dict's ``model``).

Any family works (neural, classical, oracle-free). Every stage sees the mixture minus all earlier
stages' estimates; the ``residual`` stem (``"other"``) is the mixture minus every estimate, so the
stems sum exactly to the input. Outputs are in canonical order (drums, bass, other, vocals), other
names after them in stage order.

Stages at another sample rate than the cascade are resampled inside (soxr, no gradient): such a
cascade runs, but end-to-end training needs every stage at the cascade's rate. Stages with fewer
channels get a mono downmix and their estimate is duplicated back.

Saving: one ``model.safetensors`` with every stage's weights under ``stages.<k>.`` and, in the
sidecar's ``args``, each stage as ``{"model": architecture, "args": {...}}``, so a saved cascade
does not depend on the folders it was built from.

Training (see ``docs/models-waveform.md``): either stage-wise, each stage on its own stem with the
input = mixture minus the earlier stages' *targets* (:meth:`Cascade.forward_teacher_forced` does
this for all stages in one pass), or end-to-end through :meth:`forward`.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
import torch
from torch import nn

from ..errors import ConfigError, ModelError
from .base import SOURCES_4, SeparationModel
from .registry import build_model, load_model, register

DEFAULT_STAGES = (
    {"model": "wave_unet", "args": {"sources": ["vocals"]}},
    {"model": "wave_unet", "args": {"sources": ["drums"]}},
    {"model": "wave_unet", "args": {"sources": ["bass"]}},
)
STAGE_KEYS = {"model", "args", "stems"}


def build_stage(spec: Any) -> tuple[SeparationModel, tuple[str, ...]]:
    """A stage spec -> (model, the stems it contributes)."""
    stems = None
    if isinstance(spec, SeparationModel):
        model = spec
    elif isinstance(spec, str):
        model = load_model(spec, allow_untrained=True)
    elif isinstance(spec, dict):
        unknown = set(spec) - STAGE_KEYS
        if unknown or "model" not in spec:
            raise ConfigError(f"cascade stage needs 'model' and only {sorted(STAGE_KEYS)}; got {sorted(spec)}")
        if isinstance(spec["model"], SeparationModel):
            model = spec["model"]
        elif spec.get("args") is not None:
            model = build_model(spec["model"], **spec["args"])
        else:
            model = load_model(spec["model"], allow_untrained=True)
        stems = spec.get("stems")
    else:
        raise ConfigError(f"a cascade stage is a model name, folder, dict or model; got {type(spec).__name__}")
    if isinstance(stems, str):
        stems = [stems]
    stems = tuple(stems) if stems else tuple(model.sources)
    missing = [s for s in stems if s not in model.sources]
    if missing:
        raise ConfigError(f"cascade stage model outputs {list(model.sources)}, not {missing}")
    return model, stems


def canonical_order(names: Sequence[str]) -> tuple[str, ...]:
    """``drums, bass, other, vocals`` first (those present), other names after, in given order."""
    known = [s for s in SOURCES_4 if s in names]
    return tuple(known + [s for s in names if s not in SOURCES_4])


@register("cascade", description="per-stem models run in sequence on the residual (seed 000)")
class Cascade(SeparationModel):
    """``mix (B, C, T) -> stems (B, S, C, T)``: stage ``k`` separates from the mixture minus stages < k.

    Args:
        stages: stage specs (default: wave_unet for vocals, then drums, then bass).
        residual: name of the stem that receives what no stage took ("other").
        sample_rate, channels, segment: default to the first stage's rate, the widest stage's
            channels and the first stage's chunk length (converted to the cascade's rate).
    """

    def __init__(
        self,
        stages: Sequence[Any] = DEFAULT_STAGES,
        *,
        residual: str = "other",
        sample_rate: int | None = None,
        channels: int | None = None,
        segment: int | None = None,
    ):
        if not stages:
            raise ConfigError("a cascade needs at least one stage")
        built = [build_stage(spec) for spec in stages]
        stems = [s for _, st in built for s in st]
        if len(set(stems)) != len(stems) or residual in stems:
            raise ConfigError(f"cascade stems must be distinct and not the residual {residual!r}: {stems}")
        first = built[0][0]
        sample_rate = int(sample_rate or first.sample_rate)
        channels = int(channels or max(m.channels for m, _ in built))
        segment = int(segment or round(first.segment * sample_rate / first.sample_rate))
        super().__init__(
            sources=canonical_order([*stems, residual]),
            sample_rate=sample_rate,
            channels=channels,
            segment=segment,
        )
        self.stages = nn.ModuleList(m for m, _ in built)
        self.stage_stems = [st for _, st in built]
        self.residual = residual
        self._stage_index = [[list(m.sources).index(s) for s in st] for m, st in built]
        self._check_fixed_segments()
        if first.default_overlap is not None:
            self.default_overlap = first.default_overlap
        self.architecture = "cascade"
        self._explicit = {"residual": residual, "sample_rate": sample_rate, "channels": channels, "segment": segment}

    def _check_fixed_segments(self) -> None:
        fixed = [m for m in self.stages if m.fixed_segment]
        for m in fixed:
            if round(m.segment * self.sample_rate / m.sample_rate) != self.segment:
                raise ConfigError(
                    f"stage {m.architecture if hasattr(m, 'architecture') else type(m).__name__} needs "
                    f"fixed {m.segment}-sample chunks at {m.sample_rate} Hz; set the cascade segment to match"
                )
        self.fixed_segment = bool(fixed)

    # The sidecar's args are derived from the built stages (architecture + args per stage), never
    # the paths they came from, so a saved cascade is self-contained. build_model assigns
    # ``init_args`` after construction; the setter keeps nothing because the getter rebuilds it.
    @property
    def init_args(self) -> dict:
        return {"stages": [self._stage_config(k) for k in range(len(self.stages))], **self._explicit}

    @init_args.setter
    def init_args(self, value: dict) -> None:
        pass

    def _stage_config(self, k: int) -> dict:
        model = self.stages[k]
        arch = getattr(model, "architecture", None)
        if arch is None:
            raise ModelError(f"cascade stage {k} ({type(model).__name__}) is not a registered model; cannot save")
        # Stems always written: a stage restricted with ``with_sources`` rebuilds with all its outputs.
        return {"model": arch, "args": dict(getattr(model, "init_args", {})), "stems": list(self.stage_stems[k])}

    # --- running --------------------------------------------------------------------------

    def run_stage(self, k: int, x: torch.Tensor) -> torch.Tensor:
        """Stage ``k`` on ``x (B, C, T)`` at the cascade's rate -> its stems ``(B, S_k, C, T)``."""
        model = self.stages[k]
        b, c, t = x.shape
        inp = x.mean(dim=1, keepdim=True) if model.channels < c else x
        resampled = model.sample_rate != self.sample_rate
        if resampled:
            if self.training and torch.is_grad_enabled():
                raise ModelError(
                    f"stage {k} runs at {model.sample_rate} Hz, the cascade at {self.sample_rate} Hz: "
                    "end-to-end training needs equal rates"
                )
            inp = self._resample(inp, self.sample_rate, model.sample_rate)
        est = model(inp)[:, self._stage_index[k]]  # (B, S_k, c', T')
        if resampled:
            est = self._resample(est.flatten(1, 2), model.sample_rate, self.sample_rate)
            est = est.reshape(b, len(self._stage_index[k]), -1, est.shape[-1])
            est = torch.nn.functional.pad(est, (0, max(0, t - est.shape[-1])))[..., :t]
        return est.expand(-1, -1, c, -1) if est.shape[2] != c else est

    @staticmethod
    def _resample(x: torch.Tensor, sr_in: int, sr_out: int) -> torch.Tensor:
        """``(B, K, T)`` resampled with soxr (no gradient)."""
        from ..audio import resample

        arr = x.detach().cpu().float().numpy()
        out = np.stack([resample(item, sr_in, sr_out) for item in arr])
        return torch.from_numpy(out).to(device=x.device, dtype=x.dtype)

    def _assemble(self, mix: torch.Tensor, estimates: dict, taken: torch.Tensor) -> torch.Tensor:
        estimates[self.residual] = mix - taken
        return torch.stack([estimates[s] for s in self.sources], dim=1)

    def forward(self, mix: torch.Tensor) -> torch.Tensor:
        """``mix (B, C, T) -> (B, S, C, T)``; the residual stem makes the stems sum to ``mix``."""
        estimates: dict[str, torch.Tensor] = {}
        taken = torch.zeros_like(mix)
        for k, stems in enumerate(self.stage_stems):
            est = self.run_stage(k, mix - taken)
            estimates.update(zip(stems, est.unbind(1)))
            taken = taken + est.sum(dim=1)
        return self._assemble(mix, estimates, taken)

    def forward_teacher_forced(self, mix: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        """Stage-wise training in one pass: stage ``k`` sees ``mix`` minus the *true* stems of stages < k.

        ``targets (B, S, C, T)`` in ``self.sources`` order -> estimates ``(B, S, C, T)``; a loss
        against ``targets`` then trains each stage on its own stem with the input it will see once
        earlier stages are perfect. The residual stem is ``mix`` minus the true stage stems.
        """
        truth = dict(zip(self.sources, targets.unbind(1)))
        estimates: dict[str, torch.Tensor] = {}
        taken = torch.zeros_like(mix)
        for k, stems in enumerate(self.stage_stems):
            estimates.update(zip(stems, self.run_stage(k, mix - taken).unbind(1)))
            taken = taken + sum(truth[s] for s in stems)
        return self._assemble(mix, estimates, taken)

    def describe(self) -> dict:
        return {**super().describe(), "stages": [list(s) for s in self.stage_stems], "residual": self.residual}
