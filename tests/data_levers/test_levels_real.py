"""Stem levels drawn from the real training excerpts' measured levels."""

from __future__ import annotations

import json

import numpy as np
import pytest

from stemkit.data.levels_real import LEVELS_FILE, SILENT_DB, SOURCES, draw_real_levels, real_levels
from stemkit.data.real_split import real_split


def test_committed_table_covers_the_real_training_excerpts():
    data = json.loads(LEVELS_FILE.read_text())
    names = [r["name"] for r in data["excerpts"]]
    assert sorted(names) == sorted(real_split()["train"])  # the 64 training clips, no validation clip
    for row in real_levels():
        assert set(row) == set(SOURCES)
        assert all(SILENT_DB <= v < 6.0 for v in row.values())


def test_draws_are_one_excerpt_plus_jitter_and_seeded():
    table = np.array([[r[s] for s in SOURCES] for r in real_levels()])
    a = draw_real_levels(np.random.default_rng(5))
    assert a == draw_real_levels(np.random.default_rng(5))
    exact = draw_real_levels(np.random.default_rng(5), jitter_db=0.0)
    row = np.array([exact[s] for s in SOURCES])
    assert (np.abs(table - row).max(axis=1) == 0).any()  # a whole row of the table
    draws = np.array([[d[s] for s in SOURCES] for d in
                      (draw_real_levels(np.random.default_rng(i)) for i in range(400))])
    # the joint structure survives: bass and other trade places in real mixes
    assert np.corrcoef(draws[:, 1], draws[:, 2])[0, 1] < -0.2
    assert abs(draws.mean(0) - table.mean(0)).max() < 1.0


def test_render_song_applies_the_drawn_levels():
    from stemkit.data.corpus import render_song
    from stemkit.data.mixing.levels import stem_levels_db
    from stemkit.data.render.soundfonts import bundled_soundfont

    quiet = {"eq_probability": 0, "compression_probability": 0, "reverb_probability": 0,
             "saturation_probability": 0, "chorus_probability": 0, "delay_probability": 0,
             "pan_probability": 0, "width_range": [1.0, 1.0], "track_level_sd": 0.0,
             "bus_compression_probability": 0, "bus_limiter": False}
    cfg = {"duration": 4.0, "soundfonts": [str(bundled_soundfont())], "discover_soundfonts": False,
           "vocal_synth_probability": 1.0, "stem_levels": "real", "mixing": quiet}
    song = render_song(4, cfg)
    drawn = song.meta["mix"]["stem_levels_db"]
    measured = stem_levels_db(song.mixture, song.stems, 44100)
    present = [s for s in SOURCES if s in drawn and np.any(song.stems[s])]
    assert len(present) >= 3
    # one common offset (the mixture's level), then the stems sit where the real excerpt had them
    offsets = [measured[s] - drawn[s] for s in present if song.stems[s].any()]
    assert np.ptp(offsets) < 1.5
    other = render_song(4, {**cfg, "stem_levels": "config"})
    assert other.meta["mix"]["stem_levels_db"] != drawn
