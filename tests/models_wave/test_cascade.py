"""The residual cascade: stage order, residual bookkeeping, training modes, rates."""

from __future__ import annotations

import pytest
import torch

from stemkit.errors import ConfigError, ModelError
from stemkit.models.base import IdentitySplit, SeparationModel
from stemkit.models.cascade import Cascade
from stemkit.models.registry import build_model


class Zero(SeparationModel):
    """Takes nothing: every stem is silence."""

    family = "classical"

    def forward(self, mix):
        return torch.zeros(mix.shape[0], len(self.sources), *mix.shape[1:])


class Recorder(SeparationModel):
    """Takes ``gain * mix`` as its stem and remembers what it was given."""

    family = "classical"

    def __init__(self, gain=0.5, **kw):
        super().__init__(**kw)
        self.gain = gain
        self.seen = []

    def forward(self, mix):
        self.seen.append(mix.clone())
        return self.gain * mix.unsqueeze(1)


def one(name, cls=IdentitySplit, **kw):
    return cls(sources=(name,), sample_rate=8000, channels=1, segment=1024, **kw)


def test_zero_vocals_model_leaves_everything_to_later_stages():
    cascade = Cascade([one("vocals", Zero), one("drums"), one("bass")])
    mix = torch.randn(2, 1, 500)
    out = cascade(mix)
    assert cascade.sources == ("drums", "bass", "other", "vocals")  # canonical order
    assert torch.count_nonzero(out[:, 3]) == 0
    assert torch.equal(out[:, 0], mix)  # drums (identity) took all of the mix
    assert torch.count_nonzero(out[:, 1]) == 0 and torch.count_nonzero(out[:, 2]) == 0


def test_each_stage_sees_what_earlier_stages_left_and_other_is_the_residual():
    stages = [one("vocals", Recorder, gain=0.5), one("drums", Recorder, gain=0.5), one("bass", Recorder, gain=0.5)]
    cascade = Cascade(stages)
    mix = torch.randn(1, 1, 300)
    out = cascade(mix)
    for k, stage in enumerate(stages):
        assert torch.allclose(stage.seen[0], mix * 0.5**k)
    assert torch.allclose(out[:, 2], mix * 0.125)  # other: what is left after three halvings
    assert torch.allclose(out.sum(dim=1), mix, atol=1e-6)


def test_order_is_configurable():
    cascade = Cascade([one("drums", Recorder, gain=1.0), one("vocals", Recorder, gain=1.0)], residual="rest")
    mix = torch.randn(1, 1, 200)
    out = cascade(mix)
    assert cascade.sources == ("drums", "vocals", "rest")
    assert torch.equal(out[:, 0], mix) and torch.count_nonzero(out[:, 1:]) == 0


def test_stage_stems_pick_outputs_of_a_multi_stem_model():
    joint = IdentitySplit(sources=("vocals", "piano"), sample_rate=8000, channels=1, segment=1024)
    assert Cascade([joint]).sources == ("other", "vocals", "piano")
    cascade = Cascade([{"model": joint, "stems": ["piano"]}])
    assert cascade.sources == ("other", "piano")
    mix = torch.randn(1, 1, 100)
    out = cascade(mix)
    assert torch.allclose(out[:, 1], mix / 2) and torch.allclose(out[:, 0], mix / 2)
    with pytest.raises(ConfigError):
        Cascade([{"model": joint, "stems": ["bass"]}])
    with pytest.raises(ConfigError):
        Cascade([one("vocals"), one("vocals")])
    with pytest.raises(ConfigError):
        Cascade([one("other")])


def test_mono_stage_in_a_stereo_cascade():
    cascade = Cascade([one("vocals", Recorder, gain=1.0)], channels=2)
    mix = torch.randn(1, 2, 100)
    out = cascade(mix)
    assert out.shape == (1, 2, 2, 100)
    assert torch.allclose(out[:, 1, 0], mix.mean(dim=1)[:, :])  # the stage got the downmix
    assert torch.allclose(out.sum(dim=1), mix, atol=1e-6)


def test_stage_at_another_rate_is_resampled_inside():
    fast = IdentitySplit(sources=("vocals",), sample_rate=16000, channels=1, segment=2048)
    cascade = Cascade([one("drums", Zero), fast]).eval()
    assert cascade.sample_rate == 8000
    t = torch.arange(4000) / 8000
    mix = (0.5 * torch.sin(2 * torch.pi * 200 * t)).view(1, 1, -1)
    out = cascade(mix)
    vocals = cascade.sources.index("vocals")
    # Up- then down-sampling a band-limited tone returns it (soxr), away from the edges.
    assert torch.allclose(out[0, vocals, 0, 200:-200], mix[0, 0, 200:-200], atol=1e-3)
    assert torch.allclose(out.sum(dim=1), mix, atol=1e-6)
    with pytest.raises(ModelError, match="equal rates"):
        cascade.train()(mix)


def test_unregistered_stages_cannot_be_saved():
    with pytest.raises(ModelError, match="not a registered model"):
        Cascade([one("vocals", Zero)]).init_args


def test_default_cascade_is_the_reports():
    cascade = build_model("cascade")
    assert cascade.sources == ("drums", "bass", "other", "vocals")
    assert cascade.stage_stems == [("vocals",), ("drums",), ("bass",)]
    assert all(type(stage).__name__ == "WaveUNet" for stage in cascade.stages)
    assert (cascade.sample_rate, cascade.segment, cascade.default_overlap) == (22050, 16384, 0.5)


SMALL_UNET = {"num_levels": 3, "growth": 6}


def small_cascade():
    return build_model(
        "cascade",
        stages=[{"model": "wave_unet", "args": {"sources": [s], **SMALL_UNET}} for s in ("vocals", "drums", "bass")],
    )


def test_teacher_forced_training_feeds_each_stage_the_true_residual(toy):
    stems = toy(1024)
    torch.manual_seed(0)
    cascade = small_cascade()
    mix = sum(stems.values())
    targets = torch.stack([stems[s] for s in cascade.sources], dim=1)
    seen = []
    hooks = [stage.register_forward_pre_hook(lambda m, args: seen.append(args[0].detach())) for stage in cascade.stages]
    out = cascade.forward_teacher_forced(mix, targets)
    for h in hooks:
        h.remove()
    assert torch.allclose(seen[0], mix)
    assert torch.allclose(seen[1], mix - stems["vocals"], atol=1e-6)
    assert torch.allclose(seen[2], mix - stems["vocals"] - stems["drums"], atol=1e-6)
    assert torch.allclose(out[:, 2], stems["other"], atol=1e-6)  # residual of the true stems
    out.pow(2).sum().backward()
    assert all(p.grad is not None for stage in cascade.stages for p in stage.parameters())


@pytest.mark.parametrize("teacher_forced", [True, False])
def test_cascade_overfits_one_example(toy, overfit, teacher_forced):
    stems = toy(1024)
    torch.manual_seed(0)
    cascade = small_cascade()
    mix = sum(stems.values())
    targets = torch.stack([stems[s] for s in cascade.sources], dim=1)
    forward = (lambda m: cascade.forward_teacher_forced(m, targets)) if teacher_forced else cascade
    losses = overfit(cascade, (mix,), targets, steps=40, lr=3e-3, forward=forward)
    assert losses[-1] < 0.3 * losses[0]
