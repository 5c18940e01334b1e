"""``ref_masker``: shapes, mixture sums, temperature, classical features, training and sidecar round trip."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy.ndimage import median_filter as scipy_median

from stemkit.errors import ModelError
from stemkit.losses import build_loss
from stemkit.models.ref_masker import hpss_magnitudes, median_filter
from stemkit.models.registry import build_model, load_model
from stemkit.models.weights import save_model_dir

SMALL = dict(n_fft=256, hop=64, hidden=16, layers=1, segment=8000, sample_rate=16000, max_freq=6000.0)


def small(**kw):
    torch.manual_seed(0)
    return build_model("ref_masker", **{**SMALL, **kw})


def randomise_output(model, scale=0.5, seed=1):
    """The last layer starts at zero (even split); give it weights so masks differ between sources."""
    g = torch.Generator().manual_seed(seed)
    last = model.decode[-1]
    with torch.no_grad():
        last.weight.copy_(torch.randn(last.weight.shape, generator=g) * scale)
        last.bias.copy_(torch.randn(last.bias.shape, generator=g) * scale)


def test_untrained_model_splits_evenly_and_stems_sum_to_the_mixture():
    model = small().eval()
    mix = torch.randn(2, 2, 4000) * 0.3
    with torch.no_grad():
        stems = model(mix)
    assert stems.shape == (2, 4, 2, 4000)
    torch.testing.assert_close(stems, (mix / 4).unsqueeze(1).expand_as(stems), atol=1e-5, rtol=1e-4)
    randomise_output(model)
    with torch.no_grad():
        stems = model(mix)
    torch.testing.assert_close(stems.sum(dim=1), mix, atol=1e-5, rtol=1e-4)
    assert (stems[:, 0] - stems[:, 1]).abs().max() > 1e-3  # masks now differ between sources


def test_parameter_count_of_the_default_model_is_small():
    with torch.device("meta"):
        plain = build_model("ref_masker")
        featured = build_model("ref_masker", features=["hpss", "centre"])
    assert 0.5e6 <= plain.num_parameters <= 2e6
    assert plain.num_parameters < featured.num_parameters <= 2.5e6
    assert plain.input_bins == int(round(16000 * 2048 / 44100)) + 1


def test_temperature_softens_masks_toward_an_even_split():
    model = small().eval()
    randomise_output(model, scale=2.0)
    spec = model.stft(torch.randn(1, 2, 4000))
    with torch.no_grad():
        sharp = model.masks(spec, temperature=1.0)
        soft = model.masks(spec, temperature=3.0)
        flat = model.masks(spec, temperature=1e6)
    even = torch.full_like(sharp, 0.25)
    assert (soft - even).abs().mean() < 0.8 * (sharp - even).abs().mean()
    assert soft.amax(dim=1).mean() < sharp.amax(dim=1).mean()
    torch.testing.assert_close(flat, even, atol=1e-4, rtol=0)
    torch.testing.assert_close(soft.sum(dim=1), torch.ones_like(soft[:, 0]))
    # forward() applies the constructor's temperature in eval mode, and only there
    hot = small(temperature=3.0)
    hot.load_state_dict(model.state_dict())
    mix = torch.randn(1, 2, 4000)
    mix_spec = hot.stft(mix)
    with torch.no_grad():
        expected = hot.stft.inverse(hot.masks(mix_spec, 3.0) * mix_spec.unsqueeze(1), 4000)
        torch.testing.assert_close(hot.eval()(mix), expected)
        torch.testing.assert_close(hot.train()(mix), model(mix))


def test_median_filter_matches_scipy_with_edge_replication():
    x = torch.rand(2, 3, 11, 13)
    for dim, size in ((-1, 5), (-2, 3)):
        ours = median_filter(x, size, dim=dim).numpy()
        footprint = [1, 1, 1, 1]
        footprint[dim] = size
        ref = scipy_median(x.numpy(), size=footprint, mode="nearest")
        np.testing.assert_allclose(ours, ref, rtol=0, atol=0)


def test_hpss_features_separate_a_held_note_from_a_drum_hit():
    mag = torch.zeros(1, 1, 41, 41)
    mag[..., 20, :] = 1.0  # a sustained partial: one bin, every frame
    mag[..., :, 10] = 1.0  # a click: every bin, one frame
    harmonic, percussive = hpss_magnitudes(mag, time_kernel=9, freq_kernel=9)
    assert harmonic[..., 20, 30] == 1.0 and harmonic[..., 5, 10] == 0.0
    assert percussive[..., 5, 10] == 1.0 and percussive[..., 20, 30] == 0.0


def test_classical_features_change_the_input_width_and_need_stereo_for_centre():
    plain, featured = small(), small(features=["hpss", "centre"])
    spec = plain.stft(torch.randn(1, 2, 4000))
    assert featured.input_features(spec).shape[-1] == (2 + 4 + 2) * plain.input_bins
    assert plain.input_features(spec).shape[-1] == 2 * plain.input_bins
    with pytest.raises(ModelError, match="stereo"):
        small(features=["centre"], channels=1)
    with pytest.raises(ModelError, match="unknown features"):
        small(features=["tempo"])
    with pytest.raises(ModelError, match="temperature"):
        small(temperature=0)


def test_a_few_training_steps_reduce_the_spectrogram_loss():
    torch.manual_seed(0)
    model = small(features=["hpss", "centre"]).train()
    t = torch.arange(4000) / 16000
    # low sine "bass" and noise bursts "drums", other/vocals silent: a learnable split
    bass = 0.3 * torch.sin(2 * np.pi * 80 * t).expand(2, -1)
    drums = 0.3 * torch.randn(2, 4000, generator=torch.Generator().manual_seed(3)) * (t % 0.1 < 0.02)
    stems = torch.stack([drums, bass, torch.zeros_like(bass), torch.zeros_like(bass)]).unsqueeze(0)
    mix = stems.sum(dim=1)
    loss_fn = build_loss("alpha_l1", weights=[1, 1, 1, 1])
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)

    def loss():
        out = model.training_outputs(mix)
        return loss_fn(out["spec"], model.training_targets(stems)["spec"], out["mix_spec"])

    first = loss().item()
    for _ in range(15):
        opt.zero_grad()
        value = loss()
        value.backward()
        opt.step()
    assert loss().item() < 0.7 * first


def test_model_folder_round_trip_keeps_inference_arguments(tmp_path):
    model = small(temperature=2.0, wiener_iterations=1, features=["hpss"])
    randomise_output(model)
    save_model_dir(model.eval(), tmp_path / "m")
    loaded = load_model(str(tmp_path / "m"))
    assert (loaded.temperature, loaded.wiener_iterations, loaded.features) == (2.0, 1, ("hpss",))
    mix = torch.randn(1, 2, 4000) * 0.2
    with torch.no_grad():
        a, b = model(mix), loaded(mix)
    torch.testing.assert_close(a, b)
    # Wiener refinement keeps the stems' sum close to the mixture
    assert float((a.sum(dim=1) - mix).abs().max()) < 1e-2 * float(mix.abs().max())


def test_classical_prior_untrained_equals_the_classical_masks():
    """prior='classical': the zero-initialised network starts exactly at the DSP split (floored)."""
    import numpy as np

    model = build_model("ref_masker", prior="classical", hidden=16, layers=1).eval()
    dsp = build_model("classical", n_fft=2048, hop=512, vocal_cue="centre")
    mix = 0.1 * torch.randn(2, 2, 44100, generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        spec = model.stft(mix)
        masks = model.masks(spec)
    expected = np.stack([dsp.masks(s) for s in spec.numpy()])  # (B, S, 1, F, N)
    floored = np.maximum(expected, model.prior_floor)
    floored = floored / floored.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(masks.numpy(), np.broadcast_to(floored, masks.shape), atol=1e-5)
    assert model.state_dict().keys() == build_model("ref_masker", hidden=16, layers=1).state_dict().keys()


def test_classical_prior_needs_the_four_stems():
    with pytest.raises(ModelError, match="classical prior"):
        build_model("ref_masker", prior="classical", sources=["vocals", "accompaniment"])
    with pytest.raises(ModelError, match="prior must be"):
        build_model("ref_masker", prior="dsp")
