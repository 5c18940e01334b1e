"""wave_unet: the report's architecture and defaults, any-length chunks, overfitting one example."""

from __future__ import annotations

import pytest
import torch
from stemkit.models.registry import build_model
from stemkit.models.wave_unet import LearnedUpsample

SMALL = {"num_levels": 4, "growth": 8}


def test_defaults_follow_the_report():
    model = build_model("wave_unet")
    assert model.sources == ("vocals",)
    assert (model.sample_rate, model.segment, model.default_overlap) == (22050, 16384, 0.5)
    assert model.dwt.num_bands == 3  # the report's three sub-bands
    assert len(model.down) == len(model.up) == 12
    assert [c.out_channels for c in model.down] == [24 * level for level in range(1, 13)]
    assert {c.kernel_size[0] for c in model.down} == {15} and {c.kernel_size[0] for c in model.up} == {5}
    assert model.bottleneck.out_channels == 13 * 24
    assert model.output.kernel_size == (1,)
    # Skip concat: each decoder conv sees the upsampled features plus its encoder level.
    assert [c.in_channels for c in model.up] == [(lv + 1) * 24 + lv * 24 for lv in range(12, 0, -1)]


@pytest.mark.parametrize("length", [16384, 16385, 1001])
def test_shapes_at_the_segment_and_odd_lengths(length):
    model = build_model("wave_unet").eval()
    with torch.no_grad():
        out = model(torch.randn(2, 1, length, generator=torch.Generator().manual_seed(0)))
    assert out.shape == (2, 1, 1, length)
    assert out.abs().max() <= 1.0  # tanh output layer


def test_joint_stereo_model_outputs_every_stem():
    model = build_model("wave_unet", sources=["drums", "bass", "other", "vocals"], channels=2, **SMALL).eval()
    with torch.no_grad():
        out = model(torch.randn(3, 2, 777))
    assert out.shape == (3, 4, 2, 777)
    assert model.dwt(torch.zeros(1, 2, 16)).shape == (1, 2, 3, 16)
    assert model.down[0].in_channels == 2 * 3  # stereo x three sub-bands


def test_chunk_edges_only_affect_a_bounded_region():
    """Cutting a signal changes the output only near the cut and near the start (the DWT's
    periodic wrap-around); the middle matches the uncut signal exactly."""
    model = build_model("wave_unet", **SMALL).eval().double()
    x = torch.randn(1, 1, 4096, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    with torch.no_grad():
        whole = model(x)[..., :3000]
        part = model(x[..., :3000])
    assert torch.allclose(whole[..., 600:2400], part[..., 600:2400], atol=1e-9)
    assert not torch.allclose(whole[..., 2900:], part[..., 2900:], atol=1e-6)


def test_learned_upsampling_starts_as_linear_interpolation():
    up = LearnedUpsample(1)
    x = torch.tensor([[[0.0, 2.0, 4.0]]])
    assert torch.equal(up(x), torch.tensor([[[0.0, 1.0, 2.0, 3.0, 4.0, 4.0]]]))
    with torch.no_grad():
        up.weight.fill_(10.0)  # sigmoid -> 1: hold the left neighbour
    assert torch.allclose(up(x), torch.tensor([[[0.0, 0.0, 2.0, 2.0, 4.0, 4.0]]]), atol=1e-4)


def test_overfits_one_example(toy, overfit):
    stems = toy(2048)
    mix = sum(stems.values())
    torch.manual_seed(0)
    model = build_model("wave_unet", sources=["vocals"], **SMALL)
    losses = overfit(model, (mix,), stems["vocals"].unsqueeze(1), steps=40, lr=3e-3)
    assert losses[-1] < 0.3 * losses[0]
