"""Every waveform model round-trips through a safetensors model folder, the cascade included."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file

from stemkit.models.registry import build_model, load_model
from stemkit.models.weights import save_model_dir

CONFIGS = {
    "wave_unet": {"sources": ["drums", "vocals"], "channels": 2, "num_levels": 3, "growth": 6},
    "wavenet": {"stacks": 1, "blocks": 3, "filters": 8, "head_channels": [12, 8], "conditioning": "embedding"},
    "conv_baseline": {"kernel_size": 9, "hidden": 6, "conditioning": "presence", "injection": "bias"},
}


@pytest.mark.parametrize("name", sorted(CONFIGS))
def test_round_trip(name, tmp_path):
    torch.manual_seed(0)
    model = build_model(name, **CONFIGS[name]).eval()
    save_model_dir(model, tmp_path / name)
    loaded = load_model(str(tmp_path / name))
    x = torch.randn(2, model.channels, 700)
    with torch.no_grad():
        assert torch.equal(loaded(x), model(x))
    assert type(loaded) is type(model) and loaded.sources == model.sources


def test_cascade_round_trip_keeps_every_stage_under_prefixed_keys(tmp_path):
    torch.manual_seed(0)
    vocals = build_model("wave_unet", sources=["vocals"], num_levels=3, growth=6)
    save_model_dir(vocals, tmp_path / "vocals")  # a stage given as a trained folder
    cascade = build_model(
        "cascade",
        stages=[
            str(tmp_path / "vocals"),
            {"model": "wavenet", "args": {"instruments": ["drums", "bass"], "stacks": 1, "blocks": 3,
                                          "filters": 4, "head_channels": [8], "sample_rate": 22050}},
        ],
    ).eval()
    save_model_dir(cascade, tmp_path / "cascade")
    sidecar = json.loads((tmp_path / "cascade" / "model.json").read_text())
    # Stage configs are architectures + args, not the folder the stage came from.
    assert [s["model"] for s in sidecar["args"]["stages"]] == ["wave_unet", "wavenet"]
    assert [s["stems"] for s in sidecar["args"]["stages"]] == [["vocals"], ["drums", "bass"]]
    assert str(tmp_path) not in json.dumps(sidecar["args"])
    keys = load_file(str(tmp_path / "cascade" / "model.safetensors")).keys()
    assert {k.split(".")[1] for k in keys} == {"0", "1"} and all(k.startswith("stages.") for k in keys)
    (tmp_path / "vocals" / "model.safetensors").unlink()  # the saved cascade stands alone
    loaded = load_model(str(tmp_path / "cascade"))
    x = torch.randn(1, 1, 1500)
    with torch.no_grad():
        assert torch.equal(loaded(x), cascade(x))
        assert not torch.equal(loaded.stages[0](x), build_model("wave_unet", sources=["vocals"], num_levels=3,
                                                                growth=6).eval()(x))
    assert loaded.sources == ("drums", "bass", "other", "vocals")


def test_cascade_with_a_restricted_informed_stage_round_trips(tmp_path):
    torch.manual_seed(0)
    informed = build_model("conv_baseline", conditioning="embedding", kernel_size=9, hidden=6)
    cascade = build_model("cascade", stages=[informed.with_sources(["piano"])], residual="rest").eval()
    save_model_dir(cascade, tmp_path / "c")
    loaded = load_model(str(tmp_path / "c"))
    x = torch.randn(1, 1, 500)
    with torch.no_grad():
        assert loaded.sources == cascade.sources == ("piano", "rest")
        assert torch.allclose(loaded(x), cascade(x), atol=1e-6)
