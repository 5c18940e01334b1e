"""Stem level statistics (the source of the default stem levels)."""

from pathlib import Path

import numpy as np
import pytest

from stemkit.data.mixing.levels import level_statistics, stem_levels_db

SR = 44100
SHARED = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "real" / "Music_Delta_-_80s_Rock"


def test_levels_are_relative_to_the_mixture_and_absent_stems_are_ignored():
    rng = np.random.default_rng(0)
    mix = rng.standard_normal((2, SR)).astype(np.float32)
    levels = stem_levels_db(mix, {"half": mix * 0.5, "tenth": mix * 0.1}, SR)
    assert levels["half"] == pytest.approx(-6.02, abs=0.01)
    assert levels["tenth"] == pytest.approx(-20.0, abs=0.01)
    stats = level_statistics([{"a": -6.0, "b": -80.0}, {"a": -8.0, "b": -10.0}])
    assert stats == {"a": (-7.0, 1.0), "b": (-10.0, 0.0)}


@pytest.mark.real
@pytest.mark.skipif(not SHARED.is_dir(), reason="../shared data absent")
def test_real_song_levels_sit_in_the_default_ranges():
    from stemkit.audio import read_audio
    from stemkit.data.mixing.config import MixConfig

    mix = read_audio(SHARED / "mixture.flac")[0]
    stems = {s: read_audio(SHARED / f"{s}.flac")[0] for s in ("drums", "bass", "other", "vocals")}
    levels = stem_levels_db(mix, stems, SR)
    defaults = MixConfig().level_db
    for stem, db in levels.items():
        mean, sd = defaults[stem]
        assert abs(db - mean) < 3 * sd + 3, (stem, db)
