"""benchmarks/data_amount.py: nested subsets, pairing, the fit, and one tiny curve through stemkit train and evaluate."""

import importlib.util
import json
import math
import sys
from pathlib import Path

import numpy as np
import pytest
import yaml

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))  # data_amount.py imports its sibling realism.py, as when run as a script


def load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


data_amount = load("data_amount_script", BENCH / "data_amount.py")
write_tracks = load("quality_script_tests", Path(__file__).with_name("test_quality_script.py")).write_tracks  # musdb_hq tracks


def test_subsets_are_nested_and_fixed_by_their_seed():
    tracks = [Path(f"/r/train/t{k:02d}") for k in range(20)]
    small, large = (data_amount.nested_subset(tracks, n, seed=3) for n in (5, 10))
    assert len(small) == 5 and len(large) == 10 and set(small) <= set(large)
    assert data_amount.nested_subset(tracks, 5, seed=3) == small
    assert data_amount.nested_subset(tracks, 5, seed=4) != small
    assert data_amount.nested_subset(tracks, 20, seed=3) == sorted(tracks)


def test_pairing_and_the_line_per_doubling():
    mean, se = data_amount.paired({"a": 2.0, "b": 3.0, "c": 4.0, "x": 9.0}, {"a": 1.0, "b": 1.0, "c": 1.0})
    assert mean == pytest.approx(2.0) and se == pytest.approx(1.0 / math.sqrt(3))
    slope, intercept = data_amount.fit_per_doubling([4.0, 8.0, 16.0], [1.0, 1.5, 2.0])
    assert slope == pytest.approx(0.5) and intercept == pytest.approx(0.0, abs=1e-9)


def test_bad_sizes_exit_with_one_line(tmp_path):
    data = write_tracks(tmp_path / "real", n=2, seconds=0.5)
    with pytest.raises(SystemExit, match="sizes must lie in 1..2"):
        data_amount.main(["--real", str(data), "--valid", str(data), "--sizes", "3", "--out", str(tmp_path / "o")])


def test_a_tiny_curve_end_to_end(tmp_path, capsys):
    """Train a tiny ref_masker on one of three tracks, stand the oracle in for the full set, score both."""
    real = write_tracks(tmp_path / "real", n=3, seconds=1.5)
    valid = write_tracks(tmp_path / "valid", n=2, seconds=1.5)
    config = tmp_path / "tiny.yaml"
    config.write_text(yaml.safe_dump({
        "model": {"name": "ref_masker", "args": {"n_fft": 512, "hop": 128, "hidden": 8, "layers": 1, "segment": 22050}},
        "data": {"train": {"type": "musdb_hq", "root": "unused", "split": None, "samples_per_epoch": 8}},
        "sources": ["drums", "bass", "other", "vocals"], "segment": 0.5, "batch_size": 2,
        "loss": {"name": "sdr", "inputs": "waveform"}, "optimizer": {"name": "adam", "lr": 1e-3},
        "max_steps": 2, "val_every": 1000, "log_every": 1, "seed": 0,
    }))
    out = tmp_path / "curve"
    argv = ["--real", str(real), "--valid", str(valid), "--sizes", "1,3", "--config", str(config),
            "--run", "3=oracle_irm", "--reference", "floor=mixture", "--jobs", "1", "--out", str(out), "-q"]
    assert data_amount.main(argv) == 0
    linked = sorted((out / "subsets" / "n1_s0" / "train").iterdir())
    assert len(linked) == 1 and linked[0].is_symlink()
    assert (out / "runs" / "n1_s0" / "last" / "model.safetensors").is_file()
    report = capsys.readouterr().out
    rows = {line.split("|")[1].strip(): line.split("|") for line in report.splitlines() if line.startswith("| ")}
    assert {"1", "3", "floor"} <= set(rows)
    assert float(rows["1"][7]) < float(rows["3"][7])  # a 2-step network is below the oracle
    assert rows["1"][8].strip().startswith("-")  # and so is its paired difference
    assert float(rows["floor"][7]) < float(rows["3"][7])
    assert "dB per doubling" in report and (out / "curve_s0.json").is_file()
    minutes = [r["minutes"] for r in json.loads((out / "curve_s0.json").read_text())["rows"]]
    assert minutes == pytest.approx([1.5 / 60, 3 * 1.5 / 60])
    # cached: a second run trains nothing and gives the same table
    stamp = (out / "runs" / "n1_s0" / "last" / "model.safetensors").stat().st_mtime
    assert data_amount.main(argv) == 0
    assert (out / "runs" / "n1_s0" / "last" / "model.safetensors").stat().st_mtime == stamp
    assert capsys.readouterr().out == report
    assert np.isfinite(float(rows["1"][7]))
