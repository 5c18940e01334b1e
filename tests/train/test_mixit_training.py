"""`stemkit train` with data.unlabelled: config errors, train/mixit logged, exact resume."""

import csv
import json

import numpy as np
import pytest
import soundfile as sf
import torch
from safetensors.torch import load_file
from train_helpers import RATE, tiny_config, write_config

from stemkit.cli.main import main
from stemkit.errors import ConfigError
from stemkit.train.config import load_config


@pytest.fixture(scope="module")
def unlabelled_root(tmp_path_factory):
    """Three short 'recordings' without stems: chords of tones over noise, wav and ogg."""
    root = tmp_path_factory.mktemp("unlabelled")
    rng = np.random.default_rng(11)
    for k, (ext, freqs) in enumerate([("wav", (110, 440)), ("ogg", (82, 660, 990)), ("wav", (147, 523))]):
        t = np.arange(int(1.5 * RATE)) / RATE
        x = sum(0.2 * np.sin(2 * np.pi * f * t) for f in freqs) + 0.05 * rng.standard_normal(t.size)
        sf.write(root / f"song{k}.{ext}", np.stack([x, 0.9 * x], axis=1).astype(np.float32), RATE)
    return root


def mixit_config(musdb_root, unlabelled_root, cache, **changes):
    cfg = tiny_config(musdb_root, max_steps=6, val_every=3, checkpoint_every=3, **changes)
    cfg["data"]["unlabelled"] = {"root": str(unlabelled_root), "weight": 0.5, "batch_size": 2,
                                 "gain_db": 6, "cache_dir": str(cache)}
    return cfg


def read_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.mark.parametrize("key, value, message", [
    ("weight", 0, "data.unlabelled.weight: must be > 0"),
    ("tau_db", 3, "data.unlabelled.tau_db: the SNR threshold must be in"),
    ("batch_size", 0, "data.unlabelled.batch_size: must be >= 1"),
    ("gain_db", -2, "data.unlabelled.gain_db"),
    ("ratio", 1, "data.unlabelled.ratio: unknown key"),
])
def test_bad_unlabelled_values_name_their_key(musdb_root, tmp_path, key, value, message):
    raw = tiny_config(musdb_root)
    raw["data"]["unlabelled"] = {"root": str(tmp_path), key: value}
    with pytest.raises(ConfigError, match=message):
        load_config(raw=raw)
    raw["data"]["unlabelled"] = {"weight": 0.3}
    with pytest.raises(ConfigError, match="data.unlabelled.root: required key missing"):
        load_config(raw=raw)


def test_unusable_setups_fail_before_the_run_folder(musdb_root, unlabelled_root, tmp_path, capsys):
    runs = tmp_path / "runs"
    cases = {
        "missing": (["data.unlabelled.root=" + str(tmp_path / "nowhere")], "data.unlabelled.root: no such folder"),
        "cascade": (["sources=[vocals]", "mixture_minus=[drums]"], "not with mixture_minus"),
        "one_output": (["sources=[vocals]"], "needs a model with 2 or more outputs"),
    }
    config = write_config(tmp_path / "c.yaml", mixit_config(musdb_root, unlabelled_root, tmp_path / "cache"))
    for name, (overrides, message) in cases.items():
        code = main(["train", "--config", str(config), "--name", name, "--runs-dir", str(runs), "--quiet", *overrides])
        assert code == 2, name
        assert message in capsys.readouterr().err
        assert not (runs / name).exists()


@pytest.fixture(scope="module")
def mixit_run(musdb_root, unlabelled_root, tmp_path_factory):
    base = tmp_path_factory.mktemp("mixit_run")
    cfg = mixit_config(musdb_root, unlabelled_root, base / "cache")
    config = write_config(base / "mixit.yaml", cfg)
    runs = base / "runs"
    assert main(["train", "--config", str(config), "--name", "short", "--runs-dir", str(runs), "--quiet"]) == 0
    return base, cfg, runs


def test_logs_the_mixit_term_every_step(mixit_run):
    _, _, runs = mixit_run
    rows = [r for r in read_rows(runs / "short" / "metrics.csv") if r["train/loss"]]
    assert [int(r["step"]) for r in rows] == list(range(1, 7))
    mixit = [float(r["train/mixit"]) for r in rows]
    assert all(np.isfinite(mixit)) and all(-30.0 <= m <= 30.0 for m in mixit)
    assert len(set(mixit)) == len(mixit)  # new pairs each step
    sidecar = json.loads((runs / "short" / "last" / "model.json").read_text())
    assert sidecar["data"]["unlabelled"]["weight"] == 0.5
    assert sidecar["data"]["unlabelled"]["loss"] == "mixit"


def test_mixit_changes_what_is_learned(mixit_run, musdb_root):
    base, cfg, runs = mixit_run
    plain = {**cfg, "data": {k: v for k, v in cfg["data"].items() if k != "unlabelled"}}
    config = write_config(base / "plain.yaml", plain)
    assert main(["train", "--config", str(config), "--name", "plain", "--runs-dir", str(runs), "--quiet"]) == 0
    rows = read_rows(runs / "plain" / "metrics.csv")
    assert "train/mixit" not in rows[0]
    with_mixit = load_file(runs / "short" / "last" / "model.safetensors")
    without = load_file(runs / "plain" / "last" / "model.safetensors")
    assert not torch.allclose(with_mixit["conv.weight"], without["conv.weight"])


def test_resumed_run_equals_an_uninterrupted_one(mixit_run):
    base, cfg, runs = mixit_run
    assert main(["train", "--name", "short", "--runs-dir", str(runs), "--resume", "max_steps=9", "--quiet"]) == 0
    ckpt = torch.load(runs / "short" / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    assert ckpt["global_step"] == 9
    steps = [int(r["step"]) for r in read_rows(runs / "short" / "metrics.csv") if r["train/mixit"]]
    assert steps == list(range(1, 10))
    config = write_config(base / "straight.yaml", {**cfg, "max_steps": 9})
    assert main(["train", "--config", str(config), "--name", "straight", "--runs-dir", str(runs), "--quiet"]) == 0
    resumed = load_file(runs / "short" / "last" / "model.safetensors")
    straight = load_file(runs / "straight" / "last" / "model.safetensors")
    for key in straight:  # same labelled and unlabelled data per step, same optimizer state
        torch.testing.assert_close(resumed[key], straight[key], rtol=1e-6, atol=1e-7)
