"""``benchmarks/realism.py``: row configs, the training recipe, score plumbing, and one tiny row end to end."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from stemkit.data.render.config import RenderConfig
from stemkit.data.render.soundfonts import bundled_soundfont
from stemkit.train.config import load_config

REPO = Path(__file__).resolve().parents[2]
ROWS = REPO / "configs" / "realism"
LADDER = ("naive", "soundfonts", "effects", "singer", "bus", "real", "real_only")


@pytest.fixture(scope="module")
def realism():
    spec = importlib.util.spec_from_file_location("realism", REPO / "benchmarks" / "realism.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_ladder_row_is_a_valid_renderer_config(realism):
    rows = {name: realism.load_row(name) for name in (*LADDER, "heldout")}
    for name, row in rows.items():
        assert row["real"] in realism.REAL_MODES
        if row["render"] is not None:
            cfg = RenderConfig.from_dict(row["render"])
            assert not any(str(s).startswith("@") for s in cfg.soundfonts), name
    assert rows["naive"]["render"]["soundfonts"] == [str(bundled_soundfont())]
    assert rows["naive"]["render"]["vocal_synth_probability"] == 0.0
    assert rows["naive"]["render"]["mixing"]["enabled"] is False
    assert rows["effects"]["render"]["mixing"]["enabled"] is True
    assert rows["singer"]["render"]["vocal_synth_probability"] > 0
    assert rows["bus"]["render"]["mixing"]["bus_compression_probability"] > 0
    assert rows["real"]["real"] == "mix" and rows["real_only"]["real"] == "only"
    assert rows["real_only"]["render"] is None
    # the held-out SoundFont is never a training SoundFont
    held_out = set(rows["heldout"]["render"]["soundfonts"])
    for name in LADDER:
        if rows[name]["render"] is not None and held_out:
            assert not held_out & set(rows[name]["render"]["soundfonts"]), name


def test_unknown_rows_and_aliases_are_refused(realism, tmp_path):
    with pytest.raises(SystemExit, match="unknown row"):
        realism.load_row("no_such_row")
    (tmp_path / "bad.yaml").write_text(yaml.safe_dump({"render": {"soundfonts": ["@nope"]}}))
    with pytest.raises(SystemExit, match="unknown SoundFont alias"):
        realism.load_row("bad", tmp_path)
    (tmp_path / "empty.yaml").write_text(yaml.safe_dump({"render": None, "real": "none"}))
    with pytest.raises(SystemExit, match="needs rendered songs"):
        realism.load_row("empty", tmp_path)


def test_the_fixed_training_recipe_validates_and_trains_ref_masker(tmp_path):
    cfg = load_config(ROWS / "train.yaml", [f"data.train.root={tmp_path}", "max_time=00:01:00"])
    assert cfg.model.name == "ref_masker"
    assert cfg.data.train.split is None and cfg.data.valid is None
    assert cfg.loss.name == "alpha_l1" and cfg.max_time == "00:01:00"


def test_fallback_picks_per_stem_on_the_other_fold(realism):
    names = [f"t{i}" for i in range(6)]
    model = {n: {"drums": 1.0, "bass": 5.0, "other": 2.0, "vocals": 3.0 + i} for i, n in enumerate(names)}
    classical = {n: {"drums": 4.0, "bass": 1.0, "other": 2.5, "vocals": 0.0} for n in names}
    per_stem, choices = realism.fallback_scores(model, classical)
    assert all(c == {"drums": "classical", "bass": "model", "other": "classical", "vocals": "model"} for c in choices)
    assert per_stem == {"drums": 4.0, "bass": 5.0, "other": 2.5, "vocals": 5.5}
    # the choice for one fold never sees that fold: fold 0 (t0, t2, t4) is where the model is good
    # at drums, so fold 1 picks the model (and gets its 1.0) while fold 0 picks classical (4.0)
    for n in ("t0", "t2", "t4"):
        model[n]["drums"] = 9.0
    per_stem, choices = realism.fallback_scores(model, classical)
    assert choices[0]["drums"] == "classical" and choices[1]["drums"] == "model"
    assert per_stem["drums"] == 2.5  # median of 4, 1, 4, 1, 4, 1


def test_table_rows_hold_every_stem(realism):
    result = {"row": "x", "rendered": {"average": 1.234}, "real": {"average": -0.5, "per_stem": dict(
        drums=1.0, bass=2.0, other=3.0, vocals=4.0)}, "training": {"steps": 12, "cpu_s": 30.4}}
    line = realism.table([result]).splitlines()[-1]
    assert line == "| x | 1.23 | -0.50 | 1.00 | 2.00 | 3.00 | 4.00 | 12 | 30 |"


def test_one_tiny_row_end_to_end(realism, tmp_path):
    """Render a song, train ref_masker for a few seconds with `stemkit train`, score it with
    `stemkit evaluate`, make a temperature variant, and report (the rendered set stands in for
    the real validation set so the test needs no shared data)."""
    rows = tmp_path / "rows"
    rows.mkdir()
    row = {"description": "tiny", "real": "none",
           "render": {"soundfonts": ["@bundled"], "discover_soundfonts": False, "vocal_synth_probability": 0.0,
                      "mixing": {"enabled": False}}}
    (rows / "tiny.yaml").write_text(yaml.safe_dump(row))
    recipe = yaml.safe_load((ROWS / "train.yaml").read_text())
    recipe["model"]["args"] = {"n_fft": 512, "hop": 128, "hidden": 8, "layers": 1, "segment": 22050}
    recipe.update(segment=0.5, batch_size=2, log_every=1, augment=[])
    (rows / "train.yaml").write_text(yaml.safe_dump(recipe))
    out = tmp_path / "out"
    args = realism.parse_args(["--rows", "tiny", "--budget", "0.05", "--songs", "1", "--duration", "2", "--real-tracks", "1",
                               "--out", str(out), "--rows-dir", str(rows), "--train-config",
                               str(rows / "train.yaml"), "-q"])
    ladder = realism.Ladder(args)
    data = ladder.train_data(realism.load_row("tiny", rows))
    songs = sorted((data / "train").iterdir())
    assert len(songs) == 1 and all(s.is_symlink() for s in songs)
    ladder.heldout = ladder.real_valid = (out / "songs").iterdir().__next__()
    result = ladder.run_row("tiny")
    assert result["training"]["steps"] >= 1
    assert set(result["real"]["per_stem"]) == {"drums", "bass", "other", "vocals"}
    assert np.isfinite(result["rendered"]["average"])
    # cached: a second run reuses the trained model and the scores
    mtime = (out / "runs" / "tiny" / "last" / "model.safetensors").stat().st_mtime
    assert ladder.run_row("tiny")["real"] == result["real"]
    assert (out / "runs" / "tiny" / "last" / "model.safetensors").stat().st_mtime == mtime
    hot = realism.variant(out / "runs" / "tiny" / "last", out / "variants" / "hot", temperature=4.0)
    assert json.loads((hot / "model.json").read_text())["args"]["temperature"] == 4.0
    text = realism.report(out)
    assert "| tiny |" in text and (out / "results.json").is_file()
