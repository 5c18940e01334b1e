"""Seed 001's chunk pool: shapes, reuse, per-song limits, workers, shutdown, errors."""

from __future__ import annotations

import multiprocessing as mp
from collections import Counter

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from stemkit.data.chunk_pool import ChunkPool
from stemkit.data.loader_song_chunks import song_seed
from stemkit.errors import ConfigError, MissingToolError

SEG = 400
SONG = 4000  # 10 chunks per song


def fake_song(seed: int) -> dict:
    """Noise stems; the left channel of ``drums`` is a constant that tags the song (seed mod 9973)."""
    rng = np.random.default_rng(seed)
    stems = {k: (0.1 * rng.standard_normal((2, SONG))).astype(np.float32)
             for k in ("drums", "bass", "other", "vocals")}
    stems["drums"][0] = (seed % 9973) / 9973.0
    return stems


def failing_song(seed: int) -> dict:
    raise ValueError("renderer exploded")


def _chunk_key(stems: torch.Tensor) -> bytes:
    return stems.numpy().tobytes()


def _pool(**kw) -> ChunkPool:
    args = dict(segment=SEG, workers=0, pool_size=20, reuse_factor=1, max_chunks_per_song=4,
                seed=0, samples_per_epoch=60)
    args.update(kw)
    return ChunkPool(fake_song, **args)


@pytest.mark.parametrize("workers", [0, 2])
def test_shapes_and_exact_reuse(workers):
    items = list(_pool(workers=workers, reuse_factor=3))
    assert len(items) == 60
    assert all(m.shape == (2, SEG) and s.shape == (4, 2, SEG) for m, s in items)
    uses = Counter(_chunk_key(s) for _, s in items)
    assert max(uses.values()) == 3  # never more than reuse_factor
    assert sum(v == 3 for v in uses.values()) >= 10  # most chunks served exactly 3 times
    assert not mp.active_children()  # renderers are gone once the epoch ends


def test_fractional_reuse_and_chunk_limit_per_song():
    items = list(_pool(reuse_factor=1.5, samples_per_epoch=300, pool_size=8))
    uses = Counter(_chunk_key(s) for _, s in items)
    assert set(uses.values()) <= {1, 2}
    assert 1.3 < len(items) / len(uses) < 1.7
    distinct = {_chunk_key(s): s for _, s in items}
    per_song = Counter(round(float(s[0, 0, 0]) * 9973) for s in distinct.values())
    assert max(per_song.values()) <= 4 and len(per_song) > 10  # max_chunks_per_song


def test_inline_pool_is_reproducible_and_epochs_differ():
    a = [s for _, s in _pool(samples_per_epoch=10)]
    b = [s for _, s in _pool(samples_per_epoch=10)]
    assert all(torch.equal(x, y) for x, y in zip(a, b))
    pool = _pool(samples_per_epoch=10)
    pool.set_epoch(1)
    assert not torch.equal(next(iter(pool))[1], a[0])


def test_dataloader_workers_render_distinct_songs():
    pool = _pool(samples_per_epoch=40, max_chunks_per_song=2, pool_size=4)
    batches = list(DataLoader(pool, batch_size=None, num_workers=2))
    assert len(batches) == 40
    songs = [set(), set()]
    for i, (mix, stems) in enumerate(batches):  # workers alternate in order
        assert mix.shape == (2, SEG) and stems.shape == (4, 2, SEG)
        songs[i % 2].add(round(float(stems[0, 0, 0]) * 9973))
    assert songs[0] and songs[1] and not songs[0] & songs[1]
    expected_first = round(song_seed(0, 0, 0) % 9973)
    assert expected_first in songs[0]  # worker 0 renders songs 0, 2, 4...
    batched = next(iter(DataLoader(pool, batch_size=4, num_workers=2)))
    assert batched[0].shape == (4, 2, SEG) and batched[1].shape == (4, 4, 2, SEG)


def test_endless_pool_stops_renderers_when_closed():
    pool = _pool(workers=2, samples_per_epoch=None)
    it = iter(pool)
    for _ in range(5):
        next(it)
    assert len(mp.active_children()) == 2
    it.close()
    assert not mp.active_children()
    with pytest.raises(TypeError):
        len(pool)


def missing_tool_song(seed: int) -> dict:
    raise MissingToolError("no soundfont found")


def test_renderer_errors_reach_the_consumer():
    with pytest.raises(MissingToolError, match="no soundfont"):
        next(iter(ChunkPool(missing_tool_song, segment=SEG, workers=1, pool_size=4)))
    pool = ChunkPool(failing_song, segment=SEG, workers=1, pool_size=4, seed=0)
    with pytest.raises(RuntimeError, match="renderer exploded"):
        next(iter(pool))
    assert not mp.active_children()
    with pytest.raises(ValueError, match="renderer exploded"):
        next(iter(ChunkPool(failing_song, segment=SEG, workers=0, pool_size=4)))


def test_silent_chunks_never_enter_the_pool():
    def half_silent(seed):
        song = fake_song(seed)
        for audio in song.values():
            audio[:, : SONG // 2] = 0.0
        return song

    pool = ChunkPool(half_silent, segment=SEG, workers=0, pool_size=8, seed=1,
                     max_chunks_per_song=None, samples_per_epoch=40)
    for mix, _ in pool:
        assert float(mix.pow(2).mean()) > 1e-6


def test_bad_settings_are_config_errors():
    with pytest.raises(ConfigError, match="reuse_factor"):
        ChunkPool(fake_song, segment=SEG, reuse_factor=0.5)
    with pytest.raises(ConfigError):
        ChunkPool(fake_song, segment=0)


def test_songs_without_usable_chunks_raise_instead_of_hanging():
    def silent(seed):
        return {k: np.zeros((2, SONG), np.float32) for k in ("drums", "bass", "other", "vocals")}

    with pytest.raises(ConfigError, match="no usable chunk"):
        next(iter(ChunkPool(silent, segment=SEG, workers=0, pool_size=4)))
    with pytest.raises(ConfigError, match="no usable chunk"):
        next(iter(ChunkPool(silent, segment=SEG, workers=1, pool_size=4)))
    assert not mp.active_children()
