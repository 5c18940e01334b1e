"""Which models the page offers, and what their cards say."""

from __future__ import annotations

import pytest

from stemkit.errors import StemkitError
from stemkit.models.registry import architectures, build_model
from stemkit.models.weights import save_model_dir
from stemkit.web.catalog import folder_card, servable_models

from .conftest import TEST_MODEL


def test_only_models_that_can_run_are_offered():
    cards = servable_models()
    archs = architectures()
    assert TEST_MODEL in cards
    for name, card in cards.items():
        assert card.family != "oracle"
        assert card.family != "neural" or name not in archs  # a neural name here is a shipped model
    for name, arch in archs.items():
        if arch.family == "classical":
            assert name in cards and cards[name].sources


def test_trained_folder_is_added_with_its_scores(tmp_path):
    model = build_model("vocal_mask")
    folder = save_model_dir(model, tmp_path / "my_run" / "best", metrics={"val/sdr": 3.214, "step": 1200},
                            description="vocal_mask trained for a test")
    cards = servable_models(extra=[str(folder)])
    card = cards[str(folder)]
    assert card.name == "best" and card.family == "neural"
    assert card.sources == tuple(model.sources) and card.sample_rate == model.sample_rate
    text = card.markdown()
    assert "| val/sdr | 3.214 |" in text and "| step | 1200 |" in text
    assert "sources: " + ", ".join(model.sources) in text


def test_classical_card_says_there_are_no_scores():
    text = servable_models()[TEST_MODEL].markdown()
    assert "scores: none" in text and "sample rate: 44100 Hz" in text


@pytest.mark.parametrize(("name", "message"), [("oracle_ibm", "oracle"), ("spec_unet", "cannot be served"),
                                               ("nope", "cannot be served")])
def test_models_that_cannot_serve_are_refused(name, message):
    with pytest.raises(StemkitError, match=message):
        folder_card(name)
