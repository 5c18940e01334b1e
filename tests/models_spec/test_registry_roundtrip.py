"""Each spectrogram model builds by name and survives save_model_dir -> load_model_dir unchanged."""

from __future__ import annotations

import json

import pytest
import torch

from stemkit.models import build_model, load_model
from stemkit.models.registry import architectures
from stemkit.models.weights import load_model_dir, save_model_dir

NAMES = ("spec_unet", "chandna", "vocal_mask")


@pytest.mark.parametrize("name", NAMES)
def test_registered_and_buildable_by_name(name):
    arch = architectures()[name]
    assert arch.family == "neural" and arch.description
    model = build_model(name)
    assert model.architecture == name
    facts = model.describe()
    assert facts["parameters"] > 0 and facts["sources"] == list(model.sources)


@pytest.mark.parametrize("name", NAMES)
def test_save_load_round_trip_gives_identical_outputs(tiny, tmp_path, name):
    model = tiny(name)
    # Move batch-norm statistics away from their initial values so they must be saved too.
    model.train()
    with torch.no_grad():
        model(torch.randn(2, 2, 2048) * 0.3)
    model.eval()
    folder = save_model_dir(model, tmp_path / name, training={"note": "test"})
    meta = json.loads((folder / "model.json").read_text())
    assert meta["model"] == name

    loaded = load_model_dir(folder)
    assert type(loaded) is type(model)
    mix = torch.randn(1, 2, 3333) * 0.2
    with torch.no_grad():
        assert torch.equal(model(mix), loaded(mix))
    # Loading by path through the registry gives the same model.
    again = load_model(str(folder))
    with torch.no_grad():
        assert torch.equal(again(mix), loaded(mix))
