"""Silence filter, deterministic chunks, remixed chunks and whole-track validation items."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from stemkit.data.augment import build_augment
from stemkit.data.datasets import ChunkDataset, RemixDataset, TrackDataset
from stemkit.data.loader_silence import is_silent, keep_chunk
from stemkit.data.tracks import find_tracks

from .conftest import SR, song_stems, write_song

SEG = 800


def test_keep_chunk_rules():
    rng = np.random.default_rng(0)
    stems = (0.1 * rng.standard_normal((4, 2, 1000))).astype(np.float32)
    assert keep_chunk(stems.sum(0), stems)
    silent = np.zeros_like(stems) + 1e-5  # -100 dBFS
    assert not keep_chunk(silent.sum(0), silent)
    solo = np.zeros_like(stems)
    solo[3] = stems[3]  # only vocals play: the mixture *is* the target
    assert not keep_chunk(solo.sum(0), solo)
    assert keep_chunk(solo.sum(0), solo, min_difference_db=None)
    assert is_silent(silent[0]) and not is_silent(stems[0])


@pytest.fixture
def half_silent_tracks(tmp_path):
    """Two 2 s songs whose first second is digital silence."""
    for seed in (1, 2):
        song = song_stems(seed, seconds=2.0)
        for audio in song.values():
            audio[:, :SR] = 0.0
        write_song(tmp_path / "d" / f"S{seed}", song)
    return find_tracks(tmp_path / "d")


def test_chunk_dataset_skips_silent_chunks(half_silent_tracks):
    ds = ChunkDataset(half_silent_tracks, segment=SEG, samples_per_epoch=24, seed=3, sample_rate=SR)
    for mix, stems in (ds[i] for i in range(len(ds))):
        assert mix.shape == (2, SEG) and stems.shape == (4, 2, SEG)
        assert keep_chunk(mix.numpy(), stems.numpy())
    raw = ChunkDataset(half_silent_tracks, segment=SEG, samples_per_epoch=24, seed=3,
                       sample_rate=SR, skip_silent=False)
    assert any(is_silent(raw[i][0].numpy()) for i in range(len(raw)))


def test_chunks_are_deterministic_per_seed_epoch_index_and_across_workers(half_silent_tracks):
    aug = build_augment([{"name": "gain"}, {"name": "channel_swap"}], seed=0)
    ds = ChunkDataset(half_silent_tracks, segment=SEG, samples_per_epoch=8, seed=5,
                      sample_rate=SR, augment=aug)
    first = [ds[i] for i in range(8)]
    again = ds[3]
    assert torch.equal(first[3][0], again[0]) and torch.equal(first[3][1], again[1])
    assert not torch.equal(first[3][1], first[4][1])
    loaded = list(DataLoader(ds, batch_size=4, num_workers=2))
    torch.testing.assert_close(loaded[1][1], torch.stack([f[1] for f in first[4:]]))
    ds.set_epoch(1)
    assert not torch.equal(ds[3][1], first[3][1])
    other_seed = ChunkDataset(half_silent_tracks, segment=SEG, samples_per_epoch=8, seed=6,
                              sample_rate=SR)
    assert not torch.equal(other_seed[3][1], first[3][1])


def test_augmented_mixture_is_sum_of_augmented_stems(half_silent_tracks):
    aug = build_augment([{"name": "gain", "min_db": -6, "max_db": 6}, {"name": "sign_flip"}], seed=1)
    ds = ChunkDataset(half_silent_tracks, segment=SEG, samples_per_epoch=4, seed=0,
                      sample_rate=SR, augment=aug)
    mix, stems = ds[0]
    torch.testing.assert_close(mix, stems.sum(0), atol=1e-5, rtol=0)


def test_remix_dataset_draws_each_source_from_another_track(tmp_path):
    # stem value identifies (track, source): constants 0.1*(k+1) + 0.01*s
    for k in range(4):
        song = {name: np.full((2, SR), 0.1 * (k + 1) + 0.01 * s, np.float32)
                for s, name in enumerate(("drums", "bass", "other", "vocals"))}
        write_song(tmp_path / "r" / f"T{k}", song, mixture=False)
    tracks = find_tracks(tmp_path / "r")
    ds = RemixDataset(tracks, segment=SEG, samples_per_epoch=10, seed=2, sample_rate=SR)
    combinations = set()
    for i in range(len(ds)):
        mix, stems = ds[i]
        torch.testing.assert_close(mix, stems.sum(0))
        origin = tuple(round((float(stems[s, 0, 0]) - 0.01 * s) / 0.1) - 1 for s in range(4))
        assert len(set(origin)) == 4  # four tracks available -> four different tracks
        combinations.add(origin)
    assert len(combinations) > 1  # new combinations, not one fixed permutation


def test_track_dataset_whole_tracks(musdb_hq):
    tracks = find_tracks(musdb_hq, split="train")
    ds = TrackDataset(tracks, ("vocals", "accompaniment"), sample_rate=SR)
    name, mix, stems = ds[1]
    assert name == "Song 2" and mix.shape == (2, SR) and stems.shape == (2, 2, SR)
    torch.testing.assert_close(stems.sum(0), mix, atol=1e-5, rtol=0)
