"""conv_baseline: four large-kernel convs with length-preserving padding and summed skips."""

from __future__ import annotations

import torch
from torch import nn

from stemkit.models.registry import build_model


def test_defaults_follow_the_report():
    model = build_model("conv_baseline")
    assert len(model.convs) == 4
    assert {c.kernel_size[0] for c in model.convs} == {255}
    assert model.sources == ("drums", "piano", "strings", "bass")
    assert model.receptive_field == 1 + 4 * 254
    with torch.no_grad():
        assert model(torch.randn(1, 1, 4410)).shape == (1, 4, 1, 4410)


def test_skip_sums_each_conv_output_with_its_input():
    model = build_model("conv_baseline", instruments=["bass"], kernel_size=9, hidden=4).eval()
    # Silence every conv: what is left is the chain of skips (1x1 projections where widths change).
    with torch.no_grad():
        for conv in model.convs:
            conv.weight.zero_()
            conv.bias.zero_()
        x = torch.randn(2, 1, 300)
        expected = x
        for projection in model.projections:
            expected = projection(expected)
        assert isinstance(model.projections[1], nn.Identity)  # hidden -> hidden: a plain sum
        assert torch.allclose(model(x)[:, 0], expected)
        model_no_skip = build_model("conv_baseline", instruments=["bass"], kernel_size=9, hidden=4, skip=False)
        for conv in model_no_skip.convs:
            conv.weight.zero_()
            conv.bias.zero_()
        assert torch.count_nonzero(model_no_skip(x)) == 0


def test_receptive_field_matches_perturbation():
    model = build_model("conv_baseline", instruments=["bass"], kernel_size=15, hidden=8).eval().double()
    x = torch.randn(1, 1, 200, generator=torch.Generator().manual_seed(1), dtype=torch.float64)
    bumped = x.clone()
    bumped[..., 100] += 1.0
    with torch.no_grad():
        changed = ((model(bumped) - model(x)).abs()[0, 0, 0] > 1e-12).nonzero().flatten()
    rf = model.receptive_field
    assert (changed.min().item(), changed.max().item()) == (100 - rf // 2, 100 + rf // 2)


def test_overfits_one_example(toy, overfit):
    stems = toy(2048)
    mix = sum(stems.values())
    torch.manual_seed(0)
    model = build_model("conv_baseline", instruments=["bass", "vocals"], kernel_size=31, hidden=16)
    target = torch.stack([stems["bass"], stems["vocals"]], dim=1)
    losses = overfit(model, (mix,), target, steps=40, lr=3e-3)
    assert losses[-1] < 0.3 * losses[0]
