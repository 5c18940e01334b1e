"""Rendered songs: exact sums, determinism, fine stems, the chunk-pool callable."""

import numpy as np
import pytest

from stemkit.data.corpus import assign_splits, make_song, parse_split, render_song
from stemkit.data.render.config import RenderConfig, preset
from stemkit.errors import ConfigError

SHORT = {"duration": 3.0}


def _sum(stems):
    return np.sum(np.stack([stems[k] for k in ("drums", "bass", "other", "vocals")]), axis=0,
                  dtype=np.float32)


def test_make_song_is_the_chunk_pool_callable_and_deterministic():
    a, b = make_song(4, SHORT), make_song(4, SHORT)
    assert list(a) == ["drums", "bass", "other", "vocals"]
    for k in a:
        assert a[k].shape == (2, 3 * 44100) and a[k].dtype == np.float32
        assert np.array_equal(a[k], b[k])
    assert not np.array_equal(make_song(5, SHORT)["bass"], a["bass"])


def test_mixture_is_the_exact_sum_and_fine_stems_sum_to_groups():
    song = render_song(7, {"duration": 3.0, "vocal_synth_probability": 1.0}, fine_stems=True)
    assert np.array_equal(song.mixture, _sum(song.stems))
    for group, classes in song.meta["fine_classes"].items():
        parts = [song.fine[c] for c in classes]
        expected = np.sum(np.stack(parts), axis=0, dtype=np.float32) if parts else np.zeros_like(song.mixture)
        assert np.array_equal(song.stems[group], expected)
    assert all(np.abs(song.stems[g]).max() > 0 for g in song.stems)  # every stem sounds
    assert any(t["renderer"] == "singer" for t in song.meta["tracks"])
    assert 20 * np.log10(np.abs(song.mixture).max()) <= -0.9


def test_vocal_renderer_follows_the_configured_probability():
    gm = render_song(7, {"duration": 2.0, "vocal_synth_probability": 0.0,
                         "mixing": {"enabled": False}})
    voice = [t for t in gm.meta["tracks"] if t["fine_class"] == "voice"]
    assert voice and all(t["renderer"] == "tinysoundfont" and t["program"] in (52, 53, 54) for t in voice)


def test_soundfont_per_stem_and_forced_soundfont(tmp_path):
    from stemkit.data.render.soundfonts import bundled_soundfont

    cfg = {"duration": 2.0, "soundfonts": [str(bundled_soundfont())], "discover_soundfonts": False,
           "soundfont_per_stem": True, "vocal_synth_probability": 1.0}
    song = render_song(1, cfg)
    assert song.meta["soundfonts"] == [str(bundled_soundfont().resolve())]


def test_config_from_dict_and_yaml_validate(tmp_path):
    cfg = RenderConfig.from_dict({"duration": 5, "mixing": {"reverb_probability": 0.0},
                                  "generator": {"styles": ["funk"]}})
    assert cfg.mixing.reverb_probability == 0.0 and cfg.generator.styles == ("funk",)
    assert RenderConfig.from_dict(cfg.to_dict()) == cfg
    path = tmp_path / "r.yaml"
    path.write_text("duration: 4\nbackend: random\nmixing:\n  chorus_probability: 0.5\n")
    assert RenderConfig.from_yaml(path).mixing.chorus_probability == 0.5
    for bad in ({"durations": 3}, {"mixing": {"reverb": 1}}, {"backend": "timidity"},
                {"vocal_synth_probability": 2}):
        with pytest.raises(ConfigError):
            RenderConfig.from_dict(bad)
    assert preset("dry").mixing.enabled is False


def test_split_parsing_and_assignment():
    assert parse_split("8:1:1") == pytest.approx((0.8, 0.1, 0.1))
    assert assign_splits(10, (0.8, 0.1, 0.1)).count("train") == 8
    assert assign_splits(2, (0.5, 0.5, 0.0)) == ["train", "valid"]
    with pytest.raises(ConfigError):
        parse_split("0.8:0.2")


def test_a_stuck_note_does_not_stretch_a_whole_song_render():
    import pretty_midi

    from stemkit.data.corpus import MAX_NOTE_SECONDS, _release_stuck_notes

    pm = pretty_midi.PrettyMIDI()
    piano = pretty_midi.Instrument(program=0)
    piano.notes.append(pretty_midi.Note(velocity=90, pitch=60, start=0.5, end=1307.0))  # lost note-off
    piano.notes.append(pretty_midi.Note(velocity=90, pitch=64, start=1.0, end=2.0))
    pm.instruments.append(piano)
    _release_stuck_notes(pm)
    assert pm.get_end_time() == 0.5 + MAX_NOTE_SECONDS
    assert piano.notes[1].end == 2.0
