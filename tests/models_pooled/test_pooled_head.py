"""``ref_masker``'s pooled output head (``output_bands``) and the band layout it expands."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from stemkit.errors import ModelError
from stemkit.dsp.bands import BandExpansion, band_edges, band_of_bin
from stemkit.models.registry import build_model, load_model
from stemkit.models.weights import save_model_dir

# A small STFT (129 bins) keeps every test well under a second.
SMALL = dict(n_fft=256, hop=64, hidden=16, layers=1, segment=8000, sample_rate=16000, max_freq=6000.0)


def small(**kw):
    torch.manual_seed(0)
    return build_model("ref_masker", **{**SMALL, **kw})


def randomise_output(model, scale=0.7, seed=1):
    """The last layer starts at zero; random weights make the sources' masks differ."""
    g = torch.Generator().manual_seed(seed)
    last = model.decode[-1]
    with torch.no_grad():
        last.weight.copy_(torch.randn(last.weight.shape, generator=g) * scale)
        last.bias.copy_(torch.randn(last.bias.shape, generator=g) * scale)


@pytest.mark.parametrize("bins,bands", [(1025, 256), (1025, 192), (1025, 128), (1025, 1025), (129, 40), (129, 3), (5, 1)])
def test_band_edges_cover_every_bin_once_with_the_requested_count(bins, bands):
    edges = band_edges(bins, bands)
    widths = np.diff(edges)
    assert len(edges) == bands + 1 and edges[0] == 0 and edges[-1] == bins
    assert widths.min() >= 1
    index = band_of_bin(bins, bands)
    assert index.shape == (bins,) and np.all(np.diff(index) >= 0) and index[-1] == bands - 1


def test_band_layout_is_fine_at_low_and_coarse_at_high_frequencies():
    widths = np.diff(band_edges(1025, 256))
    assert np.all(widths[:80] == 1)  # single bins up to ~1.7 kHz at n_fft 2048 / 44.1 kHz
    assert widths.max() == 16 and np.median(widths[-20:]) == 16  # 344 Hz bands at the top
    # each octave of bands has one width (its last band may be cut at the octave's end)
    assert sorted(set(widths.tolist())) == sorted(set(widths.tolist()) & {1, 2, 4, 8, 9, 16})
    assert np.all(np.diff(edges_at := band_edges(1025, 256)) >= 1) and edges_at[80] == 80


def test_expansion_repeats_each_band_and_matches_the_gradient_path():
    edges = band_edges(129, 40)
    expand = BandExpansion(edges)
    x = torch.randn(2, 3, 40)
    fast = expand(x)  # numpy repeat (no gradient)
    grad_input = x.clone().requires_grad_(True)
    slow = expand(grad_input)  # index_select (autograd)
    assert fast.shape == (2, 3, 129)
    torch.testing.assert_close(fast, slow.detach(), rtol=0, atol=0)
    for k in range(40):
        block = fast[..., edges[k]:edges[k + 1]]
        assert torch.equal(block, x[..., k : k + 1].expand_as(block))
    slow.sum().backward()
    torch.testing.assert_close(grad_input.grad, torch.from_numpy(np.diff(edges)).float().expand(2, 3, 40))
    with pytest.raises(ValueError):
        expand(torch.zeros(2, 39))


@pytest.mark.parametrize("prior", [None, "classical"])
def test_pooled_masks_have_the_right_shape_and_sum_to_one(prior):
    model = small(output_bands=24, prior=prior).eval()
    randomise_output(model)
    assert model.decode[-1].out_features == 4 * 2 * 24
    mix = torch.randn(2, 2, 4000) * 0.3
    with torch.no_grad():
        masks = model.masks(model.stft(mix))
        stems = model(mix)
    assert masks.shape == (2, 4, 2, model.bins, model.stft.frames(4000))
    torch.testing.assert_close(masks.sum(dim=1), torch.ones_like(masks[:, 0]), atol=1e-6, rtol=0)
    assert masks.min() >= 0
    assert stems.shape == (2, 4, 2, 4000)
    torch.testing.assert_close(stems.sum(dim=1), mix, atol=1e-5, rtol=1e-4)
    assert (stems[:, 0] - stems[:, 1]).abs().max() > 1e-3


@pytest.mark.parametrize("temperature", [1.0, 1.7])
def test_pooled_masks_equal_the_softmax_of_log_prior_plus_repeated_logits(temperature):
    model = small(output_bands=24, prior="classical").eval()
    randomise_output(model, scale=1.5)
    spec = model.stft(torch.randn(1, 2, 4000) * 0.3)
    with torch.no_grad():
        masks = model.masks(spec, temperature)
        logits = model.mask_logits(spec)  # log of the floored prior plus each band's logit on its bins
    torch.testing.assert_close(masks, torch.softmax(logits / temperature, dim=1), atol=2e-6, rtol=0)


def test_a_head_with_one_band_per_bin_equals_the_full_resolution_head():
    full = small(prior="classical").eval()
    randomise_output(full)
    banded = small(prior="classical", output_bands=full.bins).eval()
    banded.load_state_dict(full.state_dict())  # same keys and shapes
    mix = torch.randn(1, 2, 6000) * 0.3
    with torch.no_grad():
        torch.testing.assert_close(banded(mix), full(mix), atol=2e-6, rtol=1e-5)
        spec = full.stft(mix)
        torch.testing.assert_close(banded.masks(spec, 1.3), full.masks(spec, 1.3), atol=1e-6, rtol=0)


def test_training_and_inference_compute_the_same_masks():
    model = small(output_bands=24, prior="classical")
    randomise_output(model)
    mix = torch.randn(2, 2, 4000) * 0.3
    model.train()
    out = model.training_outputs(mix)  # the autograd path
    out["spec"].sum().backward()
    assert model.decode[-1].weight.grad.abs().sum() > 0
    model.eval()
    with torch.no_grad():
        spec = model.stft(mix)
        blockwise = model.mask_frames(spec)(slice(0, spec.shape[-1]))  # the inference path
    torch.testing.assert_close(blockwise, out["mask"].detach(), atol=1e-6, rtol=0)


def test_state_dict_keys_do_not_change_and_folders_round_trip(tmp_path):
    full = small(prior="classical")
    pooled = small(prior="classical", output_bands=24)
    assert list(full.state_dict()) == list(pooled.state_dict())
    randomise_output(pooled)
    save_model_dir(pooled, tmp_path / "pooled")
    loaded = load_model(tmp_path / "pooled", allow_untrained=True).eval()
    assert loaded.output_bands == 24
    mix = torch.randn(1, 2, 4000) * 0.3
    with torch.no_grad():
        torch.testing.assert_close(loaded(mix), pooled.eval()(mix), atol=0, rtol=0)


def test_an_old_full_resolution_folder_loads_unchanged(tmp_path):
    old = small(prior="classical")
    randomise_output(old)
    save_model_dir(old, tmp_path / "old")
    loaded = load_model(tmp_path / "old", allow_untrained=True).eval()
    assert loaded.output_bands is None and loaded.decode[-1].out_features == 4 * 2 * old.bins
    mix = torch.randn(1, 2, 4000) * 0.3
    with torch.no_grad():
        torch.testing.assert_close(loaded(mix), old.eval()(mix), atol=0, rtol=0)


def test_shipped_models_load_with_the_head_they_were_trained_with():
    # the session-5 default has the 256-band head; hq's 2048 part is the session-4 full-resolution net
    default = load_model("default")
    assert default.parts["net"].output_bands == 256
    assert default.parts["net"].decode[-1].out_features == 4 * 2 * 256
    hq = load_model("hq")
    assert hq.parts["n2048"].output_bands is None
    assert hq.parts["n2048"].decode[-1].out_features == 4 * 2 * 1025


def test_bad_band_counts_are_refused():
    with pytest.raises(ModelError, match="bands"):
        small(output_bands=0)
    with pytest.raises(ModelError, match="bands"):
        small(output_bands=10_000)
