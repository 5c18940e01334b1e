import json
import pickle

import pytest
import torch

from stemkit import Separator
from stemkit.errors import ModelError
from stemkit.models.base import SeparationModel
from stemkit.models.registry import build_model, load_model, model_table, register
from stemkit.models.weights import load_model_dir, read_sidecar, save_model_dir


@register("test_gain", description="test model: one learnable gain per source")
class Gain(SeparationModel):
    def __init__(self, n_sources: int = 2):
        super().__init__(sources=tuple(f"s{i}" for i in range(n_sources)), sample_rate=8000, segment=800)
        self.gain = torch.nn.Parameter(torch.linspace(0.1, 0.9, n_sources))

    def forward(self, mix):
        return mix.unsqueeze(1) * self.gain[None, :, None, None]


def test_save_and_load_round_trip(tmp_path):
    model = build_model("test_gain", n_sources=3)
    with torch.no_grad():
        model.gain.mul_(2)
    folder = save_model_dir(model, tmp_path / "m", data={"songs": 3}, metrics={"sdr": 1.5})
    meta = read_sidecar(folder)
    assert meta["model"] == "test_gain" and meta["args"] == {"n_sources": 3}
    assert meta["sources"] == ["s0", "s1", "s2"] and meta["sample_rate"] == 8000
    assert meta["metrics"]["sdr"] == 1.5 and meta["parameters"] == 3
    loaded = load_model(str(folder))
    torch.testing.assert_close(loaded.gain, model.gain)
    stems = Separator(str(folder)).separate(torch.randn(2, 1000).numpy() * 0.1, 8000)
    assert list(stems) == ["s0", "s1", "s2"]


def test_neural_model_without_weights_is_refused():
    with pytest.raises(ModelError, match="no shipped weights"):
        load_model("test_gain")
    assert load_model("test_gain", allow_untrained=True).family == "neural"


def test_pickle_checkpoints_are_refused_and_never_executed(tmp_path):
    marker = tmp_path / "pwned"

    class Payload:
        def __reduce__(self):
            return (open, (str(marker), "w"))

    ckpt = tmp_path / "evil.pt"
    ckpt.write_bytes(pickle.dumps(Payload()))
    with pytest.raises(ModelError, match="refusing to load a pickle"):
        load_model(str(ckpt))
    # The same payload disguised as safetensors in a model folder.
    folder = tmp_path / "disguised"
    folder.mkdir()
    (folder / "model.safetensors").write_bytes(pickle.dumps(Payload()))
    (folder / "model.json").write_text(json.dumps({"model": "test_gain", "args": {}}))
    with pytest.raises(ModelError, match="pickle"):
        load_model(str(folder))
    torch.save({"x": torch.zeros(1)}, folder / "model.safetensors")
    with pytest.raises(ModelError, match="pickle"):
        load_model(str(folder))
    assert not marker.exists()


def test_corrupt_and_foreign_weights(tmp_path):
    folder = save_model_dir(build_model("test_gain", n_sources=2), tmp_path / "ok")
    data = (folder / "model.safetensors").read_bytes()
    (folder / "model.safetensors").write_bytes(data[: len(data) // 2])
    with pytest.raises(ModelError, match="corrupt"):
        load_model_dir(folder)
    other = save_model_dir(build_model("test_gain", n_sources=4), tmp_path / "four")
    meta = read_sidecar(other)
    meta["args"] = {"n_sources": 2}
    (other / "model.json").write_text(json.dumps(meta))
    with pytest.raises(ModelError, match="do not fit"):
        load_model_dir(other)
    (other / "model.json").write_text("{not json")
    with pytest.raises(ModelError, match="unreadable sidecar"):
        load_model_dir(other)


def test_model_table_lists_families():
    rows = {r["name"]: r for r in model_table()}
    assert rows["test_gain"]["family"] == "neural" and rows["test_gain"]["weights"] is False
    assert rows["test_gain"]["parameters"] == 2


def test_safetensors_whose_header_length_starts_like_a_pickle_still_load(tmp_path):
    # A header length of 0x80 + 256 k makes the file's first byte 0x80, like a pickle's protocol byte.
    from safetensors.torch import save_file

    for pad in range(0, 40):
        state = {"gain": torch.zeros(2), "x" * (pad + 1): torch.zeros(1)}
        save_file(state, str(tmp_path / "probe.safetensors"))
        if (tmp_path / "probe.safetensors").read_bytes()[0] == 0x80:
            break
    else:
        pytest.skip("could not produce a header length starting with 0x80")
    folder = tmp_path / "m"
    folder.mkdir()
    (tmp_path / "probe.safetensors").rename(folder / "model.safetensors")
    (folder / "model.json").write_text(json.dumps({"model": "test_gain", "args": {}}))
    with pytest.raises(ModelError, match="do not fit"):  # reaches the state-dict check: not refused as pickle
        load_model_dir(folder)
