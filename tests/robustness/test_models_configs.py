"""Models and configs users point stemkit at: unknown names, corrupt or foreign weights, hostile pickles,
malformed sidecars and training configs. Each ends in one line and its error class's exit code
(ModelError 6, ConfigError 2), and no hostile payload ever runs."""

from __future__ import annotations

import json
import pickle

import pytest
import torch
import yaml
from conftest import noise

from stemkit.errors import ConfigError, ModelError
from stemkit.models.registry import build_model
from stemkit.models.weights import save_model_dir


@pytest.fixture
def song(write):
    return write("song.wav", noise(3000), subtype="FLOAT")


class Payload:
    """Unpickling this creates ``marker``: proof that a loader executed the file."""

    def __init__(self, marker):
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def separate_with(cli, song, tmp_path, model):
    out = tmp_path / "out"
    code, _, err = cli("separate", song, "-n", model, "-o", out, "-q")
    assert not out.exists() or not any(p.suffix == ".wav" for p in out.rglob("*"))  # refused before writing
    return code, err


def test_unknown_model(cli, song, tmp_path):
    code, err = separate_with(cli, song, tmp_path, "definitely_not_a_model")
    assert code == 6 and err.count("\n") == 1 and "unknown model 'definitely_not_a_model'" in err


def test_model_folder_that_does_not_exist(cli, song, tmp_path):
    code, err = separate_with(cli, song, tmp_path, str(tmp_path / "runs" / "gone" / "best"))
    assert code == 6 and "no such model file or folder" in err


@pytest.fixture
def model_folder(tmp_path):
    model = build_model("conv_baseline", instruments=["drums", "bass"], channels=1, sample_rate=8000,
                        segment=800, kernel_size=5, hidden=2)
    return save_model_dir(model, tmp_path / "model")


def test_trained_folder_round_trips(cli, song, tmp_path, model_folder):
    out = tmp_path / "out"
    code, _, err = cli("separate", song, "-n", model_folder, "-o", out, "-q")
    assert code == 0, err
    assert sorted(p.name for p in (out / "model" / "song").iterdir()) == ["bass.wav", "drums.wav"]


@pytest.mark.parametrize("damage", ["truncated", "zeros", "text", "empty"])
def test_corrupt_weights(cli, song, tmp_path, model_folder, damage):
    weights = model_folder / "model.safetensors"
    data = weights.read_bytes()
    weights.write_bytes({"truncated": data[: len(data) // 2], "zeros": bytes(len(data)),
                         "text": b"weights? " * 50, "empty": b""}[damage])
    code, err = separate_with(cli, song, tmp_path, str(model_folder))
    assert code == 6 and "corrupt weights file" in err and err.count("\n") == 1


def test_weights_of_another_architecture(cli, song, tmp_path, model_folder):
    meta = json.loads((model_folder / "model.json").read_text())
    meta["args"]["hidden"] = 3  # same architecture name, other shapes
    (model_folder / "model.json").write_text(json.dumps(meta))
    code, err = separate_with(cli, song, tmp_path, str(model_folder))
    assert code == 6 and "do not fit architecture" in err
    # a different architecture's weights under this sidecar
    other = save_model_dir(build_model("robust_gain", n=2), tmp_path / "other")
    (model_folder / "model.safetensors").write_bytes((other / "model.safetensors").read_bytes())
    meta["args"]["hidden"] = 2
    (model_folder / "model.json").write_text(json.dumps(meta))
    code, err = separate_with(cli, song, tmp_path, str(model_folder))
    assert code == 6 and "do not fit architecture" in err


@pytest.mark.parametrize("sidecar", [
    "[1, 2, 3]",
    '{"model": "no_such_architecture", "args": {}}',
    '{"model": "conv_baseline", "args": [1, 2]}',
    '{"model": "conv_baseline", "args": {"no_such_argument": 1}}',
    '{"model": "conv_baseline", "args": {"kernel_size": "wide"}}',
    '{"model": 42}',
    "\x00\x01binary",
])
def test_malformed_sidecars(cli, song, tmp_path, model_folder, sidecar):
    (model_folder / "model.json").write_text(sidecar)
    code, err = separate_with(cli, song, tmp_path, str(model_folder))
    assert code == 6 and err.count("\n") == 1, err


@pytest.mark.parametrize("name", ["evil.ckpt", "evil.pt", "evil.pth", "evil.bin"])
def test_pickle_checkpoint_on_the_command_line_is_never_run(cli, song, tmp_path, name):
    marker = tmp_path / "pwned"
    evil = tmp_path / name
    evil.write_bytes(pickle.dumps(Payload(marker)))
    code, err = separate_with(cli, song, tmp_path, str(evil))
    assert code == 6 and "refusing to load a pickle checkpoint" in err
    assert not marker.exists()


def test_pickle_disguised_as_model_folder_is_never_run(cli, song, tmp_path, model_folder):
    marker = tmp_path / "pwned"
    torch.save({"w": Payload(marker)}, model_folder / "model.safetensors")  # zip-format torch pickle
    code, err = separate_with(cli, song, tmp_path, str(model_folder))
    assert code == 6 and "pickle" in err
    assert not marker.exists()


# -- stemkit export of a run whose checkpoint is hostile ---------------------------------------------

def _run_folder(tmp_path, ckpt_bytes: bytes):
    run = tmp_path / "runs" / "evil"
    (run / "checkpoints").mkdir(parents=True)
    (run / "config.yaml").write_text(yaml.safe_dump({
        "model": {"name": "conv_baseline", "args": {"instruments": ["drums", "bass"], "channels": 1,
                                                    "sample_rate": 8000, "segment": 800, "kernel_size": 5,
                                                    "hidden": 2}},
        "data": {"train": {"type": "folder", "root": str(tmp_path)}},
        "sources": ["drums", "bass"], "segment": 0.1,
    }))
    (run / "checkpoints" / "last.ckpt").write_bytes(ckpt_bytes)
    return run


def test_export_refuses_a_malicious_checkpoint(cli, tmp_path):
    marker = tmp_path / "pwned"
    run = _run_folder(tmp_path, pickle.dumps({"state_dict": Payload(marker)}))
    code, _, err = cli("export", run, tmp_path / "exported")
    assert code == 6 and "unreadable checkpoint" in err and err.count("\n") == 1
    assert not marker.exists() and not (tmp_path / "exported").exists()


def test_export_refuses_a_malicious_torch_zip_checkpoint(cli, tmp_path):
    import io

    marker = tmp_path / "pwned"
    buf = io.BytesIO()
    torch.save({"state_dict": {"model.x": torch.zeros(1)}, "hook": Payload(marker)}, buf)
    run = _run_folder(tmp_path, buf.getvalue())
    code, _, err = cli("export", run, tmp_path / "exported")
    assert code == 6 and "unreadable checkpoint" in err
    assert not marker.exists() and not (tmp_path / "exported").exists()


@pytest.mark.parametrize("content", [b"", b"PK\x03\x04 truncated zip", b"\x80\x04 cut pickle"])
def test_export_of_a_truncated_checkpoint(cli, tmp_path, content):
    run = _run_folder(tmp_path, content)
    code, _, err = cli("export", run, tmp_path / "exported")
    assert code == 6 and "unreadable checkpoint" in err
    assert not (tmp_path / "exported").exists()


def test_export_of_a_checkpoint_without_weights(cli, tmp_path):
    import io

    buf = io.BytesIO()
    torch.save({"global_step": 3}, buf)  # loads fine, holds no state_dict
    run = _run_folder(tmp_path, buf.getvalue())
    code, _, err = cli("export", run, tmp_path / "exported")
    assert code == 6 and err.count("\n") == 1, err


# -- training configs -------------------------------------------------------------------------------

BAD_CONFIGS = {
    "unknown_top_key": ({"modle": {"name": "conv_baseline"}}, "modle"),
    "wrong_type": ({"max_steps": "lots"}, "max_steps"),
    "negative": ({"batch_size": -4}, "batch_size"),
    "list_for_mapping": ({"optimizer": ["adam"]}, "optimizer"),
    "unknown_nested": ({"optimizer": {"name": "adam", "learning_rate": 1}}, "learning_rate"),
    "unknown_loss": ({"loss": {"name": "no_such_loss"}}, "no_such_loss"),
    "unknown_model": ({"model": {"name": "no_such_model"}}, "no_such_model"),
}


def _base_config(tmp_path) -> dict:
    return {"model": {"name": "conv_baseline", "args": {"instruments": ["drums", "bass"], "channels": 1,
                                                        "sample_rate": 8000, "segment": 800,
                                                        "kernel_size": 5, "hidden": 2}},
            "data": {"train": {"type": "folder", "root": str(tmp_path / "nowhere")}},
            "sources": ["drums", "bass"], "segment": 0.1, "max_steps": 1}


@pytest.mark.parametrize("case", sorted(BAD_CONFIGS))
def test_bad_training_config(cli, tmp_path, case):
    change, mentions = BAD_CONFIGS[case]
    cfg = {**_base_config(tmp_path), **change}
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(cfg))
    code, _, err = cli("train", "--config", path, "--runs-dir", tmp_path / "runs", "-q")
    assert code == ConfigError.exit_code or code == ModelError.exit_code, err
    assert err.count("\n") == 1 and mentions in err, err
    assert not (tmp_path / "runs" / "bad" / "checkpoints").exists()


@pytest.mark.parametrize("text", ["model: [unclosed", "\t- tabs: are not yaml", "just a string", "- a\n- list",
                                  "\x00\xff"])
def test_unparseable_training_config(cli, tmp_path, text):
    path = tmp_path / "broken.yaml"
    path.write_bytes(text.encode("utf-8", "replace"))
    code, _, err = cli("train", "--config", path, "--runs-dir", tmp_path / "runs", "-q")
    assert code == ConfigError.exit_code and err.count("\n") == 1, err


def test_bad_override_value(cli, tmp_path):
    path = tmp_path / "ok.yaml"
    path.write_text(yaml.safe_dump(_base_config(tmp_path)))
    code, _, err = cli("train", "--config", path, "optimizer.lr=fast", "--runs-dir", tmp_path / "runs", "-q")
    assert code == ConfigError.exit_code and "optimizer.lr" in err
    code, _, err = cli("train", "--config", path, "no_equals_sign", "--runs-dir", tmp_path / "runs", "-q")
    assert code == ConfigError.exit_code and err.count("\n") == 1
