"""``per_stem``: each stem taken from the separator that does it best.

Separators differ per stem: on real music the classical low-band split gives a better bass than a
small network trained mostly on rendered songs, while the network's vocals are better. A
``per_stem`` model holds several separators (*parts*) and a choice of part per stem. It is one
``SeparationModel``: one safetensors file holds every part's weights, the engine chunks, blends
and resamples it like any model, and mixture consistency (on by default in ``Separator``) makes
the chosen stems sum to the mixture again.

A stem may also **blend** parts: ``choose={"vocals": {"net": 0.5, "dsp": 0.5}}`` takes the
weighted mean of the parts' estimates (weights scaled to sum to one), a small bag of models as
Demucs ships them: separators that err differently average to a better stem. Mask parts over one
STFT blend their masks (the same, the iSTFT being linear), so a blend costs no extra inverse.

Built from trained parts with :func:`compose`; stored like any model (its sidecar ``args`` name
each part's architecture and arguments, so loading rebuilds the parts and fills their weights).

**Fused inference** (without gradients, as the engine runs models). When every used part is a
*mask model over an STFT* (it has ``fusable_stft()`` and ``mask_frames(spec, shared, needed)``:
``ref_masker`` and the classical separators without Wiener refinement), the parts are not run one
after the other. The mixture STFT is computed once, each part gives its masks, masks that two
parts share are computed once (``ref_masker``'s classical prior and a classical part with the same
settings: the shipped default), each stem takes its chosen part's mask, and each stem is inverted
once, a block of frames at a time (:func:`stemkit.dsp.stft.masked_inverse`). The stems are those of the part-by-part path up to
float rounding (tests/models_combined/test_fused_default.py); ``fused=False`` turns it off.

``consistent=True`` (off by default) also folds the engine's mixture consistency into the fused
masks (:meth:`PerStem._forward_fused`): the stems then sum to the mixture straight from the model
and the last stem needs no inverse STFT (a quarter of the inverse transforms and mask products of
a four-stem model). After the engine's own consistency step the stems are those of the default
path within float rounding (tests/models_pooled/test_consistent_per_stem.py).
"""

from __future__ import annotations

from typing import Mapping

import torch
from torch import nn

from ..dsp.stft import FrameOverlapAdd, masked_inverse
from .base import SeparationModel
from .registry import register


@register("per_stem", description="Each stem from the part separator that does it best (e.g. neural + classical)")
class PerStem(SeparationModel):
    """``parts``: ``{part: {"model": architecture, "args": {...}}}``; ``choose``: ``{stem: part}`` or
    ``{stem: {part: weight, ...}}`` (a blend).

    Sources are the stems of ``choose`` in its order; every part must run at one sample rate.
    ``segment`` defaults to the shortest part segment (a fixed-segment part fixes it).
    ``consistent``: the stems sum to the mixture by construction (fused inference over one STFT;
    see the module docstring), one inverse STFT fewer; the default leaves that to the engine.
    ``overlap``: the engine's default overlap for this model (None: the largest of the parts').
    """

    def __init__(self, *, parts: Mapping[str, Mapping], choose: Mapping[str, str | Mapping[str, float]],
                 segment: int | None = None, fused: bool = True, consistent: bool = False,
                 overlap: float | None = None):
        from .registry import build_model

        if not parts or not choose:
            raise ValueError("per_stem needs at least one part and one chosen stem")
        built = {name: build_model(spec["model"], **dict(spec.get("args", {}))) for name, spec in parts.items()}
        blend = {stem: _blend_weights(stem, pick) for stem, pick in choose.items()}
        for stem, weights in blend.items():
            for part in weights:
                if part not in built:
                    raise ValueError(f"stem {stem!r}: unknown part {part!r} (parts: {', '.join(built)})")
                if stem not in built[part].sources:
                    raise ValueError(f"stem {stem!r}: part {part!r} separates {list(built[part].sources)}")
        rates = {m.sample_rate for m in built.values()}
        if len(rates) != 1:
            raise ValueError(f"per_stem parts must share one sample rate, got {sorted(rates)}")
        fixed = [m.segment for m in built.values() if m.fixed_segment]
        if len(set(fixed)) > 1:
            raise ValueError(f"per_stem parts have different fixed segments {sorted(set(fixed))}")
        if segment is None:
            segment = fixed[0] if fixed else min(m.segment for m in built.values())
        super().__init__(sources=tuple(choose), sample_rate=rates.pop(),
                         channels=max(m.channels for m in built.values()), segment=segment)
        self.parts = nn.ModuleDict(built)
        self.choose = dict(choose)
        self.blend = blend  # {stem: {part: weight}}, weights summing to one
        self.family = "neural" if any(m.family == "neural" for m in built.values()) else "classical"
        self.fixed_segment = bool(fixed)
        used = set(self.used_parts())
        overlaps = [m.default_overlap for name, m in built.items() if name in used and m.default_overlap]
        self.default_overlap = max(overlaps) if overlaps else None
        if overlap is not None:
            if not 0.0 <= overlap < 1.0:
                raise ValueError(f"overlap must be in [0, 1), got {overlap}")
            self.default_overlap = float(overlap)
        self.fused = bool(fused)
        self.consistent = bool(consistent)

    def used_parts(self) -> list[str]:
        """The parts some stem takes from, each once, in a fixed order."""
        return list(dict.fromkeys(part for weights in self.blend.values() for part in weights))

    def stft_groups(self) -> dict | None:
        """``{stft: [part, ...]}``: the used parts grouped by the STFT they mask (each group is fused),
        or None when a used part is no mask model over an STFT (then the parts run one by one)."""
        groups: dict = {}
        for name in self.used_parts():
            part = self.parts[name]
            stft = part.fusable_stft() if hasattr(part, "fusable_stft") else None
            if stft is None or part.channels != self.channels:
                return None
            groups.setdefault(stft, []).append(name)
        return groups

    def shared_stft(self):
        """The one STFT every used part masks, else None (several STFTs: :meth:`stft_groups`)."""
        groups = self.stft_groups()
        return next(iter(groups)) if groups is not None and len(groups) == 1 else None

    def forward(self, mix: torch.Tensor) -> torch.Tensor:
        """mix ``(B, C, T)`` -> stems ``(B, S, C, T)``, each stem from its chosen part."""
        groups = self.stft_groups() if self.fused and not torch.is_grad_enabled() else None
        if groups is not None and mix.shape[1] == self.channels and all(
                FrameOverlapAdd.supports(stft.frames(mix.shape[-1]), mix.shape[-1], stft.n_fft, stft.hop, stft.window)
                for stft in groups):
            if len(groups) == 1:
                return self._forward_fused(mix, next(iter(groups)), list(self.choose), self.consistent)
            # Parts at different resolutions (e.g. a 4096-point net for drums and bass, a 2048-point
            # one for the rest): each STFT group fused on its own, its share of each stem (all of a
            # stem taken from one part, a weighted part of a blended one) added in its place.
            out = mix.new_zeros(mix.shape[0], len(self.choose), mix.shape[1], mix.shape[-1])
            stems = list(self.choose)
            for stft, names in groups.items():
                mine = [stem for stem in stems if any(part in names for part in self.blend[stem])]
                out[:, [stems.index(stem) for stem in mine]] += self._forward_fused(mix, stft, mine, parts=names)
            return out
        return self._forward_parts(mix)

    def _forward_fused(self, mix: torch.Tensor, stft, stems: list[str], consistent: bool = False,
                       parts: list[str] | None = None) -> torch.Tensor:
        """``stems (B, len(stems), C, T)`` of parts over ``stft``: one STFT, each part's masks once
        (shared ones once in all), one iSTFT per stem, built a block of frames at a time (the
        per-frame tensors of four stems never exist for a whole segment). A blended stem's mask is
        the weighted sum of its parts' masks (the iSTFT is linear: the same as blending waveforms);
        ``parts`` (default: all) limits each stem to the parts over this STFT, its share of the stem.

        ``consistent`` (``stems`` are all of the model's): the engine's mixture consistency (the
        residual shared equally) moved into the masks, which is the same operation because the
        inverse STFT is linear: each mask gets ``(1 - sum of masks) / S``; then the masks sum to
        one, so the last stem is the mixture minus the others, without an inverse STFT of its own."""
        spec = stft(mix)  # (B, C, F, N), frames-major in memory
        shared: dict = {}
        picks = [[(part, self.parts[part].sources.index(stem), weight) for part, weight in self.blend[stem].items()
                  if parts is None or part in parts] for stem in stems]
        flat = [pick for stem_picks in picks for pick in stem_picks]
        masks_of = {name: self.parts[name].mask_frames(spec, shared, needed=[i for p, i, _ in flat if p == name])
                    for name in dict.fromkeys(part for part, _, _ in flat)}

        def chosen(frames: slice) -> list[torch.Tensor]:
            part_masks = {name: get(frames) for name, get in masks_of.items()}  # (B, S_part, C or 1, F, n)
            return [_weighted_sum([(part_masks[part][:, index], weight) for part, index, weight in stem_picks])
                    for stem_picks in picks]

        if not consistent or len(picks) < 2:
            return masked_inverse(spec, mix.shape[-1], stft, chosen, len(picks))

        def shared_residual(frames: slice) -> list[torch.Tensor]:
            masks = chosen(frames)
            # (B, C, F, n): a part's single-channel masks broadcast over the channels
            share = masks[0].expand(spec.shape[0], spec.shape[1], -1, -1) + masks[1]
            for mask in masks[2:]:
                share += mask
            share.neg_().add_(1.0).div_(len(masks))  # (1 - sum) / S
            return [mask + share for mask in masks[:-1]]

        out = mix.new_empty(mix.shape[0], len(picks), mix.shape[1], mix.shape[-1])
        out[:, :-1] = masked_inverse(spec, mix.shape[-1], stft, shared_residual, len(picks) - 1)
        torch.sub(mix, out[:, :-1].sum(dim=1), out=out[:, -1])
        return out

    def _forward_parts(self, mix: torch.Tensor) -> torch.Tensor:
        """Each used part on the mixture, in a fixed order; each stem taken from its part."""
        outputs = {}
        for name in self.used_parts():  # each used part runs once, in a fixed order
            part = self.parts[name]
            x = mix if mix.shape[1] == part.channels else mix.mean(dim=1, keepdim=True).expand(-1, part.channels, -1)
            y = part(x)
            if y.shape[2] != mix.shape[1]:
                y = y.expand(-1, -1, mix.shape[1], -1)
            outputs[name] = y
        return torch.stack(
            [_weighted_sum([(outputs[part][:, self.parts[part].sources.index(stem)], weight)
                            for part, weight in self.blend[stem].items()]) for stem in self.choose], dim=1
        )


def _blend_weights(stem: str, pick) -> dict[str, float]:
    """A stem's choice, ``"part"`` or ``{part: weight, ...}`` (a blend), as ``{part: weight}``
    with the weights scaled to sum to one."""
    if isinstance(pick, str):
        return {pick: 1.0}
    weights = {str(part): float(w) for part, w in dict(pick).items()}
    if not weights or any(not w > 0 for w in weights.values()):
        raise ValueError(f"stem {stem!r}: a blend needs parts with positive weights, got {dict(pick)}")
    total = sum(weights.values())
    return {part: w / total for part, w in weights.items()}


def _weighted_sum(terms: list[tuple[torch.Tensor, float]]) -> torch.Tensor:
    """``sum(w * x)``; a single part with weight one is passed through untouched (same numbers)."""
    if len(terms) == 1 and terms[0][1] == 1.0:
        return terms[0][0]
    out = terms[0][0] * terms[0][1]
    for x, w in terms[1:]:
        out = out + x * w
    return out


def compose(parts: Mapping[str, SeparationModel], choose: Mapping[str, str], **options) -> PerStem:
    """A :class:`PerStem` from loaded models, their weights kept: ``compose({"net": m, "dsp": c}, ...)``.

    Each part must come from ``build_model`` / ``load_model`` (which record its architecture and
    constructor arguments); the result saves with ``save_model_dir`` like any model. ``options``:
    further :class:`PerStem` arguments (``consistent=True``, ``overlap=0.05``, ...).
    """
    from .registry import build_model

    specs = {}
    for name, model in parts.items():
        if not hasattr(model, "architecture"):
            raise ValueError(f"part {name!r}: unknown architecture (build it with build_model or load_model)")
        specs[name] = {"model": model.architecture, "args": dict(getattr(model, "init_args", {}))}
    combined = build_model("per_stem", parts=specs, choose=dict(choose), **options)
    for name, model in parts.items():
        combined.parts[name].load_state_dict(model.state_dict(), strict=True)
    return combined.eval()
