"""Blended stems in per_stem: a stem as the weighted mean of several parts' estimates, fused or not."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from stemkit.errors import StemkitError
from stemkit.models.per_stem import compose
from stemkit.models.registry import build_model, load_model
from stemkit.models.weights import save_model_dir

from .test_fused_default import _both_paths, _noise_mix


def _nets():
    torch.manual_seed(3)
    coarse = build_model("ref_masker", hidden=16, layers=1, prior="classical", n_fft=4096, hop=1024)
    fine = build_model("ref_masker", hidden=16, layers=1, prior="classical")
    for net in (coarse, fine):
        torch.nn.init.normal_(net.decode[-1].weight, std=0.3)  # masks far from the prior's
    return coarse.eval(), fine.eval(), build_model("classical", n_fft=2048, hop=512, vocal_cue="centre")


def test_a_blend_is_the_weighted_mean_of_its_parts_estimates():
    coarse, fine, dsp = _nets()
    choose = {"drums": {"n4": 1, "n2": 1}, "bass": "n4", "other": "n2", "vocals": {"n2": 3, "dsp": 1}}
    combined = compose({"n4": coarse, "n2": fine, "dsp": dsp}, choose)
    mix = _noise_mix(3.0, seed=7)
    with torch.inference_mode():
        y4, y2, yd = coarse(mix), fine(mix), dsp(mix)
        expected = torch.stack([0.5 * y4[:, 0] + 0.5 * y2[:, 0], y4[:, 1], y2[:, 2], 0.75 * y2[:, 3] + 0.25 * yd[:, 3]], 1)
    # the fused path (masks blended per STFT group, shares summed across groups) and the part-by-part path
    fused, parts = _both_paths(combined, mix)
    np.testing.assert_allclose(parts.numpy(), expected.numpy(), rtol=0, atol=1e-5)
    np.testing.assert_allclose(fused.numpy(), expected.numpy(), rtol=0, atol=1e-5)
    # the blend differs from either part alone: it is not silently one of them
    assert float((fused[:, 0] - y4[:, 0]).abs().max()) > 1e-3 and float((fused[:, 0] - y2[:, 0]).abs().max()) > 1e-3


def test_a_blend_over_one_stft_stays_consistent_when_asked():
    _, fine, dsp = _nets()
    combined = compose({"n2": fine, "dsp": dsp}, {"drums": "n2", "bass": {"n2": 1, "dsp": 1}, "other": "n2",
                                                  "vocals": {"n2": 1, "dsp": 2}}, consistent=True)
    assert combined.shared_stft() is not None
    mix = _noise_mix(2.0, seed=2)
    fused, parts = _both_paths(combined, mix)
    np.testing.assert_allclose(fused.sum(1).numpy(), mix.numpy(), rtol=0, atol=1e-5)  # sums to the mix
    residual = (mix - parts.sum(1)) / 4  # the engine's consistency step on the part-by-part stems
    np.testing.assert_allclose(fused.numpy(), (parts + residual[:, None]).numpy(), rtol=0, atol=1e-5)


def test_a_blend_round_trips_through_a_model_folder(tmp_path):
    coarse, fine, dsp = _nets()
    choose = {"drums": "n4", "bass": {"n4": 0.6, "dsp": 0.4}, "other": "n2", "vocals": "dsp"}
    combined = compose({"n4": coarse, "n2": fine, "dsp": dsp}, choose)
    save_model_dir(combined, tmp_path / "blend")
    loaded = load_model(str(tmp_path / "blend"))
    assert loaded.blend["bass"] == pytest.approx({"n4": 0.6, "dsp": 0.4})
    mix = _noise_mix(2.0, seed=5)
    with torch.inference_mode():
        np.testing.assert_allclose(loaded(mix).numpy(), combined(mix).numpy(), rtol=0, atol=1e-6)


@pytest.mark.parametrize(("pick", "message"), [({"n2": 1, "ghost": 1}, "unknown part 'ghost'"),
                                               ({"n2": 1, "dsp": 0}, "positive weights"),
                                               ({}, "positive weights")])
def test_bad_blends_are_refused(pick, message):
    _, fine, dsp = _nets()
    with pytest.raises((ValueError, StemkitError), match=message):
        compose({"n2": fine, "dsp": dsp}, {"drums": "n2", "bass": "n2", "other": "n2", "vocals": pick})
