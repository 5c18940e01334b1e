"""The informed setting: one conditioned model extracts the instrument it is asked for."""

from __future__ import annotations

import pytest
import torch

from stemkit.errors import ModelError
from stemkit.models.registry import build_model

TINY = {
    "wavenet": {"stacks": 1, "blocks": 4, "filters": 8, "head_channels": [16, 8]},
    "conv_baseline": {"kernel_size": 15, "hidden": 8},
}
KINDS = [("embedding", "film"), ("presence", "bias"), ("presence", "film")]


@pytest.mark.parametrize("name", sorted(TINY))
@pytest.mark.parametrize("kind,injection", KINDS)
def test_condition_changes_the_output(name, kind, injection):
    torch.manual_seed(0)
    model = build_model(name, conditioning=kind, injection=injection, **TINY[name]).eval()
    x = torch.randn(2, 1, 400)
    with torch.no_grad():
        piano, bass = model(x, "piano"), model(x, "bass")
    assert piano.shape == bass.shape == (2, 1, 1, 400)
    assert not torch.allclose(piano, bass, atol=1e-4)


@pytest.mark.parametrize("name", sorted(TINY))
def test_without_condition_every_instrument_is_extracted_in_turn(name):
    torch.manual_seed(0)
    model = build_model(name, conditioning="embedding", **TINY[name]).eval()
    x = torch.randn(1, 1, 300)
    with torch.no_grad():
        every = model(x)
        one_by_one = torch.cat([model(x, k) for k in range(4)], dim=1)
        by_index_tensor = model(x, torch.tensor([3]))
    assert every.shape == (1, 4, 1, 300)
    assert torch.allclose(every, one_by_one, atol=1e-5)  # batched vs one by one: float rounding only
    assert torch.allclose(every[:, 3:], by_index_tensor, atol=1e-5)


def test_with_sources_restricts_outputs_and_shares_weights():
    torch.manual_seed(0)
    model = build_model("wavenet", conditioning="presence", **TINY["wavenet"]).eval()
    x = torch.randn(1, 1, 300)
    view = model.with_sources(["strings", "drums"])
    assert view.sources == ("strings", "drums") and model.sources == model.instruments
    with torch.no_grad():
        full = model(x)
        assert torch.allclose(view(x), full[:, [2, 0]])
        next(model.parameters()).add_(1.0)  # the view shares the weights
        assert torch.allclose(view(x), model(x)[:, [2, 0]])
    fixed = build_model("conv_baseline", **TINY["conv_baseline"]).eval()
    with torch.no_grad():
        assert torch.allclose(fixed.with_sources("bass,piano")(x), fixed(x)[:, [3, 1]])
    assert fixed.select(["piano"]) is fixed and fixed.sources == ("piano",)


def test_presence_vector_can_request_several_instruments():
    torch.manual_seed(0)
    model = build_model("conv_baseline", conditioning="presence", **TINY["conv_baseline"]).eval()
    x = torch.randn(2, 1, 300)
    with torch.no_grad():
        two = model(x, torch.tensor([1.0, 0.0, 0.0, 1.0]))
        one = model(x, torch.tensor([1.0, 0.0, 0.0, 0.0]))
    assert two.shape == (2, 1, 1, 300)
    assert torch.allclose(one, model(x, "drums"))
    assert not torch.allclose(two, one, atol=1e-4)


def test_bad_conditions_are_user_errors():
    model = build_model("wavenet", conditioning="embedding", **TINY["wavenet"])
    x = torch.randn(1, 1, 100)
    with pytest.raises(ModelError, match="unknown instrument"):
        model(x, "kazoo")
    with pytest.raises(ModelError, match="presence"):
        model(x, torch.tensor([1.0, 0.0, 0.0, 0.0]))
    with pytest.raises(ModelError, match="unknown instrument"):
        model.with_sources(["vocals"])
    presence_model = build_model("conv_baseline", conditioning="presence", **TINY["conv_baseline"])
    with pytest.raises(ModelError, match="presence vectors need"):
        presence_model(torch.randn(2, 1, 100), torch.ones(3, 4))
    with pytest.raises(ModelError, match="one instrument index"):
        presence_model(torch.randn(2, 1, 100), torch.tensor([0, 1, 2]))
    with pytest.raises(ModelError, match="no condition"):
        build_model("wavenet", **TINY["wavenet"])(x, "piano")


@pytest.mark.parametrize("name", sorted(TINY))
def test_one_conditioned_model_learns_to_extract_either_instrument(name, toy, overfit):
    """Trained on (mix, piano) -> piano and (mix, bass) -> bass, each condition selects its stem."""
    stems = toy(1024)
    piano, bass = stems["vocals"], stems["bass"]  # toy stems stand in for the report's classes
    mix = piano + bass
    torch.manual_seed(0)
    config = {**TINY[name], "filters": 16} if name == "wavenet" else {"kernel_size": 31, "hidden": 16}
    model = build_model(name, instruments=["piano", "bass"], conditioning="embedding", **config)
    batch = torch.cat([mix, mix])
    target = torch.stack([piano, bass])  # (2, 1, 1, T): one requested instrument per item
    losses = overfit(model, (batch, torch.tensor([0, 1])), target, steps=60, lr=3e-3)
    assert losses[-1] < 0.3 * losses[0]
    model.eval()
    with torch.no_grad():
        out = model(mix)  # the engine's call: both instruments in turn
    err_right = (out[:, 0] - piano).pow(2).mean() + (out[:, 1] - bass).pow(2).mean()
    err_swapped = (out[:, 0] - bass).pow(2).mean() + (out[:, 1] - piano).pow(2).mean()
    assert err_right < 0.2 * err_swapped
