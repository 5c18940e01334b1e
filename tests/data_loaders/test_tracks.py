"""Track: mixture rule, missing and complement sources, chunks, resampling, channels."""

from __future__ import annotations

import numpy as np
import pytest

from stemkit.data.tracks import Track, find_tracks

from .conftest import SR, song_stems, write, write_song


@pytest.fixture
def track(tmp_path) -> Track:
    write_song(tmp_path / "songs" / "A", song_stems(7, seconds=2.0), mixture=False)
    return find_tracks(tmp_path / "songs")[0]


def test_mixture_is_sum_of_all_stems_and_missing_sources_are_silent(track):
    mix, stems, _ = track.load(("vocals", "piano"))
    assert stems.shape == (2, 2, 2 * SR)
    assert not stems[1].any()  # piano: not in the track -> silence
    full = song_stems(7, seconds=2.0)
    np.testing.assert_allclose(mix, sum(full.values()), atol=1e-6)


def test_complement_sources(track):
    mix, stems, _ = track.load(("vocals", "no_vocals"))
    np.testing.assert_allclose(stems.sum(0), mix, atol=1e-6)
    _, acc, _ = track.load(("accompaniment",))
    np.testing.assert_allclose(acc[0], stems[1], atol=1e-7)


def test_read_chunk_equals_slice_of_load_and_pads_past_the_end(track):
    mix, stems, _ = track.load()
    m, s = track.read_chunk(1234, 500)
    np.testing.assert_array_equal(m, mix[:, 1234:1734])
    np.testing.assert_array_equal(s, stems[..., 1234:1734])
    m, s = track.read_chunk(2 * SR - 100, 300)
    assert m.shape == (2, 300)
    np.testing.assert_array_equal(m[:, :100], mix[:, -100:])
    assert not m[:, 100:].any() and not s[..., 100:].any()


def test_resampled_chunk_matches_resampled_track(track):
    mix, _, sr = track.load(sample_rate=16000)
    assert sr == 16000 and mix.shape[1] == 2 * 16000
    m, s = track.read_chunk(5000, 2000, sample_rate=16000)
    assert m.shape == (2, 2000) and s.shape == (4, 2, 2000)
    err = np.sqrt(np.mean((m - mix[:, 5000:7000]) ** 2)) / np.sqrt(np.mean(mix[:, 5000:7000] ** 2))
    assert err < 1e-3


def test_channels_mono_file_is_duplicated_and_downmix(tmp_path):
    song = song_stems(3, channels=1)
    write_song(tmp_path / "s" / "mono", song, mixture=False)
    write(tmp_path / "s" / "mono" / "other.wav", np.stack([song["other"][0], -song["other"][0]]))
    track = find_tracks(tmp_path / "s")[0]
    assert track.channels == 2
    _, stems, _ = track.load()
    np.testing.assert_array_equal(stems[0, 0], stems[0, 1])  # mono drums duplicated
    _, mono, _ = track.load(channels=1)
    assert mono.shape == (4, 1, SR)
    np.testing.assert_allclose(mono[2, 0], 0.0, atol=1e-7)  # other: L and -L average to 0


def test_duration_from_headers(track):
    assert track.duration == pytest.approx(2.0)
    assert track.frames == 2 * SR and track.rate == SR


def test_a_stem_at_another_rate_is_resampled_to_the_track_rate(tmp_path):
    song = song_stems(5)
    write_song(tmp_path / "m" / "S", {k: v for k, v in song.items() if k != "vocals"}, mixture=False)
    t = np.arange(2 * SR) / (2 * SR)
    vocals_16k = (0.2 * np.sin(2 * np.pi * 300 * t))[None].repeat(2, 0).astype(np.float32)
    write(tmp_path / "m" / "S" / "vocals.wav", vocals_16k, sr=2 * SR)
    track = find_tracks(tmp_path / "m")[0]
    mix, stems, sr = track.load()
    assert sr == SR and stems.shape == (4, 2, SR)
    expected = (0.2 * np.sin(2 * np.pi * 300 * np.arange(SR) / SR)).astype(np.float32)
    np.testing.assert_allclose(stems[3, 0, 100:-100], expected[100:-100], atol=2e-3)
    m, s = track.read_chunk(3000, 1000)
    np.testing.assert_allclose(s, stems[..., 3000:4000], atol=1e-6)
