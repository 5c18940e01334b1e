"""A tiny model trains on the fixture: loss falls, the run folder is complete, export round-trips."""

import csv
import json

import numpy as np
import pytest
import torch
import yaml
from train_helpers import tiny_config, write_config

from stemkit.cli.main import main
from stemkit.errors import ConfigError, ModelError


def read_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def trained(musdb_root, tmp_path_factory):
    base = tmp_path_factory.mktemp("train")
    cfg = write_config(base / "tiny.yaml", tiny_config(musdb_root))
    code = main(["train", "--config", str(cfg), "--runs-dir", str(base / "runs"), "--quiet"])
    assert code == 0
    return base / "runs" / "tiny"


def test_loss_falls_and_sdr_rises(trained):
    rows = read_rows(trained / "metrics.csv")
    losses = [float(r["train/loss"]) for r in rows if r["train/loss"]]
    sdrs = [float(r["val/sdr"]) for r in rows if r["val/sdr"]]
    assert [int(r["step"]) for r in rows if r["train/loss"]] == list(range(1, 31))
    assert np.mean(losses[-5:]) < 0.8 * np.mean(losses[:5])
    assert len(sdrs) == 3 and sdrs[-1] > sdrs[0]


def test_run_folder_contents(trained):
    for path in ("config.yaml", "state.json", "metrics.csv", "checkpoints/last.ckpt",
                 "best/model.safetensors", "best/model.json", "last/model.safetensors", "last/model.json"):
        assert (trained / path).is_file(), path
    assert list((trained / "logs" / "csv").glob("main-0/metrics.csv"))
    assert list((trained / "logs" / "tensorboard").glob("main-0/events.out.tfevents.*"))
    resolved = yaml.safe_load((trained / "config.yaml").read_text())
    assert resolved["optimizer"]["lr"] == pytest.approx(1e-2) and resolved["schedule"]["name"] == "none"
    state = json.loads((trained / "state.json").read_text())
    assert state["stages"]["main"]["steps"] == 30 and state["stages"]["main"]["reason"] == "max_steps"
    ckpt = torch.load(trained / "checkpoints" / "last.ckpt", map_location="cpu", weights_only=True)
    assert ckpt["global_step"] == 30


def test_sidecar_carries_data_budget_and_metrics(trained):
    best = json.loads((trained / "best" / "model.json").read_text())
    last = json.loads((trained / "last" / "model.json").read_text())
    assert best["model"] == "tiny_train_net"
    assert best["data"]["train"]["type"] == "musdb_hq" and best["data"]["valid"]["split"] == "valid"
    budget = last["training"]["budget"]
    assert budget["steps"] == 30 and budget["wall_s"] > 0 and budget["cpu_s"] > 0
    rows = [r for r in read_rows(trained / "metrics.csv") if r["val/sdr"]]
    best_row = max(rows, key=lambda r: float(r["val/sdr"]))
    assert best["metrics"]["val/sdr"] == pytest.approx(float(best_row["val/sdr"]), abs=1e-3)
    assert best["metrics"]["step"] == int(best_row["step"])
    assert set(best["metrics"]) >= {"val/sdr_drums", "val/sdr_bass", "val/sdr_other", "val/sdr_vocals"}


def test_export_round_trips_and_separates(trained, musdb_root, tmp_path):
    from stemkit import Separator
    from stemkit.data.tracks import find_tracks
    from stemkit.engine import separate_tensor
    from stemkit.evaluate.metrics import mdx_sdr
    from stemkit.models import load_model

    out = tmp_path / "exported"
    assert main(["export", str(trained), str(out), "--quiet"]) == 0
    model = load_model(str(out))
    (track,) = find_tracks(musdb_root, split="valid")
    mix, stems, sr = track.load(sample_rate=8000)
    estimate = separate_tensor(model, torch.from_numpy(mix))
    sdr = mdx_sdr(stems, estimate.numpy()).mean()
    # The exported weights score what the run recorded for its best validation.
    assert sdr == pytest.approx(json.loads((out / "model.json").read_text())["metrics"]["val/sdr"], abs=1e-3)
    result = Separator(model=str(out)).separate(mix, sr)
    assert sorted(result) == ["bass", "drums", "other", "vocals"] and result["bass"].shape == mix.shape


def test_export_from_checkpoint_when_folders_are_missing(trained, tmp_path):
    import shutil

    from stemkit.models import load_model

    run = tmp_path / "copy"
    shutil.copytree(trained, run, ignore=shutil.ignore_patterns("best", "last"))
    out = tmp_path / "from_ckpt"
    assert main(["export", str(run), str(out), "--which", "last", "--quiet"]) == 0
    converted, reference = load_model(str(out)), load_model(str(trained / "last"))
    x = torch.randn(1, 2, 500)
    assert torch.equal(converted(x), reference(x))
    assert json.loads((out / "model.json").read_text())["training"]["budget"]["steps"] == 30


def test_export_errors(trained, tmp_path):
    with pytest.raises(ConfigError, match="not a run folder"):
        from stemkit.train.export import export_run

        export_run(tmp_path, tmp_path / "x")
    with pytest.raises(ConfigError, match="outside the run"):
        export_run(trained, trained / "exported")
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("keep me")
    with pytest.raises(ConfigError, match="not a model folder"):
        export_run(trained, tmp_path / "busy")
    assert (tmp_path / "busy" / "notes.txt").read_text() == "keep me"


def test_init_from_starts_at_the_trained_weights(trained, musdb_root, tmp_path):
    """Fine-tuning: a run with model.init_from begins where the source model ended."""
    from stemkit.models.registry import load_model
    from stemkit.train.config import load_config
    from stemkit.train.run import build_training_model

    source = trained / "last"
    cfg = load_config(raw={**tiny_config(musdb_root), "model": {"name": "tiny_train_net", "init_from": str(source)}})
    model = build_training_model(cfg)
    reference = load_model(str(source)).state_dict()
    for name, value in model.state_dict().items():
        torch.testing.assert_close(value, reference[name])
    fresh = build_training_model(load_config(raw=tiny_config(musdb_root)))
    assert any(not torch.equal(v, reference[k]) for k, v in fresh.state_dict().items())

    # a fine-tuning run trains from there: its first logged loss is the source's last, not a fresh start
    cfg_path = write_config(tmp_path / "ft.yaml", {**tiny_config(musdb_root, max_steps=5),
                                                   "model": {"name": "tiny_train_net", "init_from": str(source)}})
    assert main(["train", "--config", str(cfg_path), "--runs-dir", str(tmp_path / "runs"), "--quiet"]) == 0
    def losses(run):
        return [float(r["train/loss"]) for r in read_rows(run / "metrics.csv") if r["train/loss"]]

    fresh_losses, tuned_losses = losses(trained), losses(tmp_path / "runs" / "ft")
    assert tuned_losses[0] < 0.8 * fresh_losses[0]
    assert tuned_losses[0] < 1.25 * np.mean(fresh_losses[-5:])


def test_init_from_errors_are_config_errors(musdb_root, tmp_path):
    from stemkit.train.config import load_config
    from stemkit.train.run import build_training_model

    missing = load_config(raw={**tiny_config(musdb_root), "model": {"name": "tiny_train_net", "init_from": str(tmp_path / "nope")}})
    with pytest.raises(ConfigError, match="init_from"):
        build_training_model(missing)
    wrong = load_config(raw={**tiny_config(musdb_root), "model": {"name": "tiny_train_net", "init_from": "classical"}})
    with pytest.raises(ConfigError, match="init_from"):
        build_training_model(wrong)
