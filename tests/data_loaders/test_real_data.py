"""The MUSDB loader on the real .stem.mp4 excerpts, and the committed real validation split."""

from __future__ import annotations

import numpy as np
import pytest

from stemkit.data.datasets import ChunkDataset
from stemkit.data.real_split import artist_of, choose_split, real_split, real_tracks
from stemkit.data.tracks import find_tracks
from stemkit.errors import ConfigError


def test_committed_split_is_reproducible_and_artist_disjoint():
    split = real_split()
    valid, train = split["valid"], split["train"]
    assert len(valid) == 30 and len(train) == 64 and not set(valid) & set(train)
    assert not {artist_of(n) for n in valid} & {artist_of(n) for n in train}
    assert all(n in valid for n in train + valid if n.startswith("Music Delta"))
    assert choose_split(valid + train) == split  # the JSON is what choose_split makes


def test_musdb_loader_reads_real_excerpts(real_musdb):
    tracks = find_tracks(real_musdb)
    assert len(tracks) == 94 and {t.meta["layout"] for t in tracks} == {"musdb"}
    assert len(find_tracks(real_musdb, split="valid")) == 14  # MUSDB18's validation subset
    assert len(find_tracks(real_musdb, split="train")) == 94
    track = next(t for t in tracks if t.name == "Music Delta - 80s Rock")
    mix, stems, sr = track.load()
    assert sr == 44100 and stems.shape == (4, 2, mix.shape[1]) and mix.shape[1] > 6 * sr
    # streams are mixture, drums, bass, other, vocals: the stems sum to the mixture (AAC error)
    err_db = 10 * np.log10(np.sum((mix - stems.sum(0)) ** 2) / np.sum(mix ** 2))
    assert err_db < -20
    assert all(np.mean(s ** 2) > 1e-5 for s in stems)
    m, s = track.read_chunk(44100, 22050)
    np.testing.assert_array_equal(s, stems[..., 44100:66150])
    np.testing.assert_array_equal(m, mix[:, 44100:66150])


def test_real_tracks_follow_the_split(real_musdb, monkeypatch, tmp_path):
    valid = real_tracks(real_musdb, "valid")
    assert [t.name for t in valid] == real_split()["valid"]
    assert valid[0].meta["real_split"] == "valid"
    monkeypatch.setenv("STEMKIT_REAL_DATA", str(real_musdb))
    train = real_tracks(part="train")
    assert len(train) == 64
    ds = ChunkDataset(train[:3], segment=44100, samples_per_epoch=2, seed=0)
    mix, stems = ds[0]
    assert mix.shape == (2, 44100) and stems.shape == (4, 2, 44100)
    monkeypatch.setenv("STEMKIT_REAL_DATA", str(tmp_path))
    with pytest.raises(ConfigError, match="STEMKIT_REAL_DATA"):
        real_tracks()
    with pytest.raises(ConfigError, match="part"):
        real_tracks(real_musdb, "test")
