"""The common engine runs every waveform model with no special path."""

from __future__ import annotations

import pytest
import torch

from stemkit import Separator
from stemkit.engine import separate_tensor
from stemkit.models.registry import build_model

SMALL = {
    "wave_unet": {"sources": ["vocals"], "num_levels": 3, "growth": 6, "segment": 2048},
    "wavenet": {"stacks": 1, "blocks": 3, "filters": 8, "head_channels": [8, 8], "segment": 1000},
    "conv_baseline": {"kernel_size": 9, "hidden": 6, "conditioning": "embedding", "segment": 1000},
}


@pytest.mark.parametrize("name", sorted(SMALL))
def test_engine_separates_a_long_mix(name):
    torch.manual_seed(0)
    model = build_model(name, **SMALL[name]).eval()
    mix = torch.randn(model.channels, 5 * model.segment + 123)
    stems = separate_tensor(model, mix)
    assert stems.shape == (len(model.sources), model.channels, mix.shape[-1])
    assert torch.isfinite(stems).all() and stems.abs().sum() > 0


def test_engine_asks_an_informed_model_for_a_subset():
    torch.manual_seed(0)
    model = build_model("conv_baseline", **SMALL["conv_baseline"]).eval()
    mix = torch.randn(1, 3000)
    every = separate_tensor(model, mix)
    subset = separate_tensor(model.with_sources(["bass", "drums"]), mix)
    assert subset.shape == (2, 1, 3000)
    assert torch.allclose(subset, every[[3, 0]], atol=1e-6)


def test_engine_keeps_the_cascade_sum_exact():
    torch.manual_seed(0)
    cascade = build_model(
        "cascade",
        stages=[{"model": "wave_unet", "args": {"sources": [s], "num_levels": 3, "growth": 6, "segment": 2048}}
                for s in ("vocals", "drums", "bass")],
    ).eval()
    assert cascade.default_overlap == 0.5
    mix = torch.randn(1, 7000)
    stems = separate_tensor(cascade, mix)
    assert stems.shape == (4, 1, 7000)
    assert torch.allclose(stems.sum(dim=0), mix, atol=1e-5)


def test_separator_extracts_only_the_requested_instruments_of_an_informed_model():
    torch.manual_seed(0)
    model = build_model("wavenet", conditioning="presence", **SMALL["wavenet"]).eval()
    audio = torch.randn(2, 44100 // 4).numpy()  # stereo at 44.1 kHz: the separator downmixes

    def passes(stems):
        calls = []  # chunks the network ran on
        original = type(model).separate
        model.separate = lambda mix, code: calls.append(mix.shape[0]) or original(model, mix, code)
        try:
            out = Separator(model, stems=stems, consistency=False, progress=False).separate(audio, 44100)
        finally:
            del model.separate
        return out, sum(calls)

    subset, subset_items = passes(["strings", "bass"])
    every, every_items = passes(None)
    assert sorted(subset) == ["bass", "strings"] and subset["bass"].shape == audio.shape
    assert subset_items * 2 == every_items  # two of four instruments: half the work
    assert torch.allclose(torch.from_numpy(subset["bass"]), torch.from_numpy(every["bass"]), atol=1e-5)
