"""The session-3 ladder rows: each differs from `bus` in exactly its lever, and the ladder's row
mechanics (songs_from, train overrides, @avldrums) work."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
import yaml

from stemkit.data.drumkits import installed_drum_kits
from stemkit.data.render.config import RenderConfig
from stemkit.data.speech import festival_available
from stemkit.train.config import load_config

REPO = Path(__file__).resolve().parents[2]
ROWS = REPO / "configs" / "realism"


@pytest.fixture(scope="module")
def realism():
    spec = importlib.util.spec_from_file_location("realism_levers", REPO / "benchmarks" / "realism.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _raw(name):
    return yaml.safe_load((ROWS / f"{name}.yaml").read_text())


@pytest.mark.parametrize("name, lever", [
    ("codec", {"codec": {"probability": 0.8, "formats": ["mp3", "aac"], "bitrate_kbps": [96, 256]}}),
    ("real_levels", {"stem_levels": "real"}),
    ("speech_voice", {"speech_voice_probability": 0.35, "vocal_synth_probability": 0.35}),
    ("avldrums", {"drum_soundfonts": ["@avldrums"]}),
    ("bus_s3", {}),
    ("avldrums_half", {"drum_soundfonts": ["@avldrums"], "drum_kit_probability": 0.5}),
    ("levers_s3", {"drum_soundfonts": ["@avldrums"], "speech_voice_probability": 0.35,
                   "vocal_synth_probability": 0.35, "stem_levels": "real",
                   "codec": {"probability": 0.8, "formats": ["mp3", "aac"], "bitrate_kbps": [96, 256]}}),
])
def test_rendered_rows_change_only_their_lever(name, lever):
    bus, row = _raw("bus")["render"], _raw(name)["render"]
    assert {**bus, **lever} == row
    assert _raw(name)["real"] == "none"


def test_codec_and_levels_rows_load_as_renderer_configs(realism):
    for name in ("codec", "real_levels", "bus_s3"):
        cfg = RenderConfig.from_dict(realism.load_row(name)["render"])
        assert cfg.soundfont_per_stem
    assert RenderConfig.from_dict(realism.load_row("real_levels")["render"]).stem_levels == "real"


@pytest.mark.skipif(not installed_drum_kits(), reason="avldrums kits not installed")
def test_avldrums_alias_resolves_to_the_installed_kits(realism):
    row = realism.load_row("avldrums")
    assert row["render"]["drum_soundfonts"] == [str(k) for k in installed_drum_kits()]
    assert any("drum kits" in n for n in row["notes"])


@pytest.mark.skipif(not festival_available(), reason="festival not installed")
def test_speech_row_loads(realism):
    assert realism.load_row("speech_voice")["render"]["speech_voice_probability"] == 0.35


@pytest.mark.parametrize("name, extra", [("pitch", "pitch_shift"), ("tempo", "tempo")])
def test_augmentation_rows_reuse_bus_songs_and_override_augment(realism, tmp_path, name, extra):
    row = realism.load_row(name)
    bus = realism.load_row("bus")
    assert row["songs_from"] == "bus" and row["render"] == bus["render"]
    overrides = realism.train_overrides(row["train"])
    assert len(overrides) == 1 and overrides[0].startswith("augment=[")
    cfg = load_config(REPO / "configs" / "realism" / "train.yaml", overrides)
    names = [a["name"] for a in cfg.augment]
    assert names == ["remix", "gain", "channel_swap", extra]


def test_songs_from_and_render_together_are_refused(realism, tmp_path):
    (tmp_path / "bus.yaml").write_text((ROWS / "bus.yaml").read_text())
    (tmp_path / "twice.yaml").write_text("songs_from: bus\nrender: {duration: 5}\nreal: none\n")
    with pytest.raises(SystemExit, match="either render"):
        realism.load_row("twice", tmp_path)
