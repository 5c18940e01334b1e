"""wavenet: the report's architecture, a centred receptive field that matches its dilations, overfitting."""

from __future__ import annotations

import pytest
import torch

from stemkit.models.registry import build_model

TINY = {"stacks": 2, "blocks": 3, "filters": 8, "head_channels": [16, 8]}


def test_defaults_follow_the_report():
    model = build_model("wavenet")
    assert model.instruments == model.sources == ("drums", "piano", "strings", "bass")
    assert (model.sample_rate, model.segment) == (44100, 4410)  # 100 ms chunks
    assert len(model.blocks) == 40
    assert [b.dilation for b in model.blocks[:10]] == [2**j for j in range(10)]
    assert {b.dilated.out_channels for b in model.blocks} == {128}
    assert [c.out_channels for c in model.head] == [512, 256]
    assert model.output.out_channels == 4  # one waveform per instrument (mono)
    # input conv (k=3) + 4 stacks of dilations 1..512 (k=3) + two k=3 head convs
    assert model.receptive_field == 1 + 2 + 4 * 2 * (2**10 - 1) + 2 + 2 == 8191


def test_receptive_field_matches_perturbation():
    model = build_model("wavenet", **TINY).eval().double()
    rf = model.receptive_field
    assert rf == 1 + 2 + 2 * 2 * (1 + 2 + 4) + 2 + 2
    n, centre = 200, 100
    x = torch.randn(1, 1, n, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    bumped = x.clone()
    bumped[..., centre] += 1.0
    with torch.no_grad():
        changed = (model(bumped) - model(x)).abs().amax(dim=(0, 1, 2)) > 1e-12
    positions = changed.nonzero().flatten()
    # Centred (non-causal): exactly rf outputs change, symmetric around the perturbed sample.
    assert positions.min().item() == centre - rf // 2
    assert positions.max().item() == centre + rf // 2
    assert changed.sum().item() == rf


@pytest.mark.parametrize("length", [4410, 999])
def test_output_aligns_with_input_length(length):
    model = build_model("wavenet", channels=2, **TINY).eval()
    with torch.no_grad():
        assert model(torch.randn(2, 2, length)).shape == (2, 4, 2, length)


def test_overfits_one_example(toy, overfit):
    stems = toy(2048)
    mix = sum(stems.values())
    torch.manual_seed(0)
    model = build_model("wavenet", instruments=["bass", "vocals"], stacks=1, blocks=6, filters=16,
                        head_channels=[32, 16])
    target = torch.stack([stems["bass"], stems["vocals"]], dim=1)
    losses = overfit(model, (mix,), target, steps=40, lr=3e-3)
    assert losses[-1] < 0.3 * losses[0]
