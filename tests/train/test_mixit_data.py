"""Unlabelled chunks for MixIT: files found, decoded once into the cache, drawn by seed, silence skipped."""

import numpy as np
import pytest
import soundfile as sf

from stemkit.data.loader_unlabelled import UnlabelledChunks, find_audio_files
from stemkit.errors import ConfigError

RATE = 8000


def tone(freq, seconds=1.0, rate=RATE, channels=2, amplitude=0.3):
    t = np.arange(int(seconds * rate)) / rate
    x = amplitude * np.sin(2 * np.pi * freq * t)
    return np.stack([x * (1 - 0.2 * c) for c in range(channels)], axis=1).astype(np.float32)


@pytest.fixture
def music(tmp_path):
    """A folder of three 'recordings' (wav at 8 kHz, ogg at 16 kHz, nested mono flac) and some noise."""
    root = tmp_path / "music"
    (root / "album").mkdir(parents=True)
    (root / ".hidden").mkdir()
    sf.write(root / "a.wav", tone(200, 1.0), RATE)
    sf.write(root / "b.ogg", tone(600, 1.5, rate=16000), 16000)
    sf.write(root / "album" / "c.flac", tone(1000, 0.8, channels=1)[:, 0], RATE)
    sf.write(root / ".hidden" / "d.wav", tone(50), RATE)
    (root / "notes.txt").write_text("not audio")
    return root


def chunks(root, tmp_path, **kw):
    args = dict(sample_rate=RATE, channels=2, segment=1000, seed=0, cache_dir=tmp_path / "cache", quiet=True)
    return UnlabelledChunks(root, **{**args, **kw}).prepare()


def dominant_hz(x):
    spectrum = np.abs(np.fft.rfft(x.mean(0)))
    return np.argmax(spectrum) * RATE / x.shape[-1]


def test_finds_audio_files_only(music):
    names = [p.name for p in find_audio_files(music)]
    assert names == ["a.wav", "c.flac", "b.ogg"]  # sorted by path: a.wav, album/c.flac, b.ogg


def test_missing_or_empty_folder_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match="data.unlabelled.root: no such folder"):
        find_audio_files(tmp_path / "nowhere", "data.unlabelled.root")
    (tmp_path / "empty").mkdir()
    (tmp_path / "empty" / "readme.md").write_text("x")
    with pytest.raises(ConfigError, match="no audio files"):
        UnlabelledChunks(tmp_path / "empty", sample_rate=RATE, channels=2, segment=100)


def test_chunks_at_the_model_rate_and_channels(music, tmp_path):
    data = chunks(music, tmp_path, channels=1)
    assert data.seconds == pytest.approx(1.0 + 1.5 + 0.8, abs=0.01)  # the ogg resampled to 8 kHz
    pair = data.pair(0)
    assert pair.shape == (2, 1, 1000) and pair.dtype == np.float32
    # every chunk is one of the three tones, at its own pitch after resampling
    found = {round(dominant_hz(data.pair(p)[j])) for p in range(12) for j in range(2)}
    assert found <= {200, 600, 1000} and len(found) >= 2


def test_pairs_come_from_two_files_and_depend_on_seed_and_position(music, tmp_path):
    data = chunks(music, tmp_path)
    for position in range(10):
        first, second = data.pair(position)
        assert round(dominant_hz(first)) != round(dominant_hz(second))
    np.testing.assert_array_equal(data.pair(3), chunks(music, tmp_path).pair(3))
    assert not np.array_equal(data.pair(3), data.pair(4))
    assert not np.array_equal(data.pair(3), data.reseeded(1).pair(3))


def test_decoded_once_into_the_cache(music, tmp_path):
    chunks(music, tmp_path)
    cached = sorted((tmp_path / "cache").glob("*.npy"))
    assert len(cached) == 3 and not list((tmp_path / "cache").glob(".*"))
    stamps = [p.stat().st_mtime_ns for p in cached]
    again = chunks(music, tmp_path)
    assert [p.stat().st_mtime_ns for p in cached] == stamps  # read back, not decoded again
    assert np.asarray(again._audio[0]).dtype == np.float16
    sf.write(music / "a.wav", tone(300, 1.0), RATE)  # a changed file gets a new entry
    chunks(music, tmp_path)
    assert len(list((tmp_path / "cache").glob("*.npy"))) == 4


def test_near_silent_chunks_are_redrawn(tmp_path):
    root = tmp_path / "quiet"
    root.mkdir()
    sf.write(root / "silence.wav", np.zeros((RATE * 4, 2), np.float32), RATE)  # 4 s: drawn most often
    sf.write(root / "x.wav", tone(250), RATE)
    sf.write(root / "y.wav", tone(700), RATE)
    data = chunks(root, tmp_path)
    levels = [10 * np.log10(np.mean(c ** 2) + 1e-12) for p in range(20) for c in data.pair(p)]
    assert min(levels) > -40
    loose = chunks(root, tmp_path, silence_db=-120.0)  # nothing counts as silent: silence is drawn
    assert min(10 * np.log10(np.mean(c ** 2) + 1e-12) for p in range(20) for c in loose.pair(p)) < -100


def test_batch_positions_split_ranks_and_gain_attenuates(music, tmp_path):
    data = chunks(music, tmp_path)
    batch = data.batch(step=1, batch_size=2, rank=1, world=2)
    assert tuple(batch.shape) == (2, 2, 2, 1000)
    np.testing.assert_array_equal(batch[0].numpy(), data.pair(6))  # (step * world + rank) * B + j
    np.testing.assert_array_equal(data.batch(step=1, batch_size=2, rank=0, world=2)[1].numpy(), data.pair(5))
    quieter = data.pair(6, gain_db=12.0)
    ratio = np.sqrt((quieter ** 2).sum(axis=(1, 2)) / (data.pair(6) ** 2).sum(axis=(1, 2)))
    assert np.all(ratio <= 1.0 + 1e-6) and np.all(ratio >= 10 ** (-12 / 20) - 1e-6) and ratio.min() < 0.99
