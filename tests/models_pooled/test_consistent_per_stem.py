"""``per_stem(consistent=True)``: mixture consistency folded into the fused masks, one iSTFT fewer."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from stemkit.engine import enforce_consistency
from stemkit.models.per_stem import compose
from stemkit.models.registry import build_model

SMALL = dict(n_fft=256, hop=64, hidden=16, layers=1, segment=8000, sample_rate=16000, max_freq=6000.0)


def default_like(consistent: bool, output_bands=None):
    """A network part (the classical prior, random output layer) and a classical part, as the default."""
    torch.manual_seed(0)
    net = build_model("ref_masker", prior="classical", output_bands=output_bands, **SMALL)
    g = torch.Generator().manual_seed(3)
    with torch.no_grad():
        net.decode[-1].weight.copy_(torch.randn(net.decode[-1].weight.shape, generator=g) * 0.7)
    dsp = build_model("classical", sample_rate=16000, n_fft=256, hop=64, vocal_cue="centre")
    choose = {"drums": "net", "bass": "dsp", "other": "net", "vocals": "dsp"}
    return compose({"net": net, "dsp": dsp}, choose, consistent=consistent)


@pytest.mark.parametrize("output_bands", [None, 20])
def test_consistent_stems_equal_the_engines_consistency_of_the_plain_stems(output_bands):
    plain, folded = default_like(False, output_bands), default_like(True, output_bands)
    mix = torch.from_numpy(np.random.default_rng(0).standard_normal((2, 2, 8000)).astype(np.float32) * 0.3)
    with torch.no_grad():
        a, b = plain(mix), folded(mix)
    assert b.shape == a.shape == (2, 4, 2, 8000)
    # the plain stems do not sum to the mixture (two parts' masks), the folded ones do
    assert (a.sum(dim=1) - mix).abs().max() > 1e-2
    torch.testing.assert_close(b.sum(dim=1), mix, atol=2e-6, rtol=0)
    for item in range(2):
        expected = enforce_consistency(mix[item].numpy(), a[item].numpy())
        np.testing.assert_allclose(b[item].numpy(), expected, atol=2e-6, rtol=0)


def test_the_flag_and_the_overlap_are_stored_and_checked():
    model = build_model("per_stem", parts={"dsp": {"model": "classical", "args": {"n_fft": 2048, "hop": 512}}},
                        choose={"drums": "dsp", "bass": "dsp", "other": "dsp", "vocals": "dsp"},
                        consistent=True, overlap=0.05)
    assert model.consistent and model.default_overlap == 0.05
    assert model.init_args["consistent"] is True and model.init_args["overlap"] == 0.05
    plain = build_model("per_stem", parts={"dsp": {"model": "classical", "args": {}}}, choose={"drums": "dsp"})
    assert plain.default_overlap == 0.1 and not plain.consistent
    with pytest.raises(Exception, match="overlap"):
        build_model("per_stem", parts={"dsp": {"model": "classical", "args": {}}}, choose={"drums": "dsp"}, overlap=1.0)
