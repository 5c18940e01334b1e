"""per_stem: stems picked from part separators, stored and reloaded with every part's weights."""

import numpy as np
import pytest
import torch

from stemkit.errors import ModelError
from stemkit.models.registry import build_model, load_model
from stemkit.models.per_stem import compose
from stemkit.models.weights import save_model_dir


def _mix(seconds=1.0, seed=0):
    g = torch.Generator().manual_seed(seed)
    return 0.1 * torch.randn(1, 2, int(44100 * seconds), generator=g)


def test_each_stem_comes_from_its_part():
    net = build_model("ref_masker", hidden=16, layers=1)
    torch.nn.init.normal_(net.decode[-1].weight, std=0.5)  # not the even split of an untrained model
    dsp = build_model("classical")
    combined = compose({"net": net, "dsp": dsp}, {"drums": "net", "bass": "dsp", "other": "net", "vocals": "net"})
    assert combined.sources == ("drums", "bass", "other", "vocals")
    mix = _mix()
    with torch.no_grad():
        out, a, b = combined(mix), net(mix), dsp(mix)
    torch.testing.assert_close(out[:, 0], a[:, 0])
    torch.testing.assert_close(out[:, 1], b[:, 1])
    torch.testing.assert_close(out[:, 3], a[:, 3])
    assert not torch.allclose(a[:, 1], b[:, 1], atol=1e-4)  # the choice matters


def test_save_and_load_keeps_the_trained_part(tmp_path):
    net = build_model("ref_masker", hidden=16, layers=1)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.01 * torch.randn_like(p))
    combined = compose({"net": net, "dsp": build_model("classical")},
                       {"drums": "net", "bass": "dsp", "other": "net", "vocals": "net"})
    save_model_dir(combined, tmp_path / "combo")
    again = load_model(str(tmp_path / "combo"))
    mix = _mix(0.5, seed=1)
    with torch.no_grad():
        np.testing.assert_allclose(again(mix).numpy(), combined(mix).numpy(), atol=1e-6)
    assert again.family == "neural" and again.segment == net.segment


def test_separator_output_sums_to_the_mixture():
    from stemkit.separator import Separator

    combined = compose({"net": build_model("ref_masker", hidden=16, layers=1), "dsp": build_model("classical")},
                       {"drums": "dsp", "bass": "dsp", "other": "net", "vocals": "net"})
    mix = _mix(2.0, seed=2)[0].numpy()
    stems = Separator(combined, allow_untrained=True, progress=False).separate(mix, 44100)
    np.testing.assert_allclose(sum(stems.values()), mix, atol=1e-4)


def test_bad_choices_are_refused():
    spec = {"dsp": {"model": "classical"}}
    with pytest.raises(ModelError, match="unknown part"):
        build_model("per_stem", parts=spec, choose={"drums": "net"})
    with pytest.raises(ModelError, match="separates"):
        build_model("per_stem", parts=spec, choose={"piano": "dsp"})
    with pytest.raises(ModelError, match="sample rate"):
        build_model("per_stem", parts={**spec, "v": {"model": "vocal_mask"}}, choose={"drums": "dsp", "vocals": "v"})
