"""Tape-speed augmentation: pitch moves by the drawn factor, stems keep summing to the mixture."""

from __future__ import annotations

import numpy as np
import pytest

from stemkit.data.datasets import ChunkDataset, RemixDataset
from stemkit.data.speed import change_speed, draw_speed, source_length
from stemkit.data.tracks import find_tracks
from stemkit.errors import ConfigError
from stemkit.train.config import DataSourceConfig

from .conftest import SR, write_song

SEG = 4000


def peak_hz(x: np.ndarray, sr: int = SR) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(x.size)))
    return float(np.argmax(spectrum) * sr / x.size)


def sine(freq: float, seconds: float, channels: int = 2) -> np.ndarray:
    t = np.arange(int(seconds * SR)) / SR
    return np.repeat((0.3 * np.sin(2 * np.pi * freq * t))[None], channels, 0).astype(np.float32)


@pytest.mark.parametrize("speed", [0.8, 1.25])
def test_change_speed_moves_pitch_and_keeps_length(speed):
    x = sine(400.0, 2.0)
    y = change_speed(x, speed, SEG)
    assert y.shape == (2, SEG) and y.dtype == np.float32
    assert peak_hz(y[0, 500:3500]) == pytest.approx(400.0 * speed, abs=6.0)
    # reading source_length samples is enough: no zero tail after the speed change
    z = change_speed(x[:, :source_length(SEG, speed)], speed, SEG)
    assert np.abs(z[:, -50:]).max() > 0.1


def test_draw_speed_range_and_off():
    rng = np.random.default_rng(0)
    speeds = np.array([draw_speed(rng, 2.0) for _ in range(400)])
    assert speeds.min() >= 2 ** (-2 / 12) and speeds.max() <= 2 ** (2 / 12)
    assert speeds.min() < 0.9 and speeds.max() > 1.1  # the whole range is used
    assert draw_speed(rng, 0.0) == 1.0


@pytest.fixture
def sine_tracks(tmp_path):
    """Two 3 s songs whose stems are steady sines at known pitches."""
    for i in (1, 2):
        stems = {name: sine(200.0 * (k + 1) + 10 * i, 3.0) * (0.5 + 0.1 * k)
                 for k, name in enumerate(("drums", "bass", "other", "vocals"))}
        write_song(tmp_path / "d" / f"S{i}", stems)
    return find_tracks(tmp_path / "d")


def test_chunk_dataset_plays_chunks_at_a_random_speed(sine_tracks):
    plain = ChunkDataset(sine_tracks, segment=SEG, samples_per_epoch=12, seed=1, sample_rate=SR)
    fast_slow = ChunkDataset(sine_tracks, segment=SEG, samples_per_epoch=12, seed=1, sample_rate=SR,
                             speed_semitones=3.0)
    ratios = []
    for i in range(len(fast_slow)):
        mix, stems = fast_slow[i]
        assert mix.shape == (2, SEG) and stems.shape == (4, 2, SEG)
        np.testing.assert_allclose(stems.sum(0).numpy(), mix.numpy(), atol=1e-4)
        # the bass sine (400-420 Hz at speed 1) moves by the same factor as every other stem
        bass, vocals = peak_hz(stems[1, 0].numpy()), peak_hz(stems[3, 0].numpy())
        assert vocals / bass == pytest.approx(2.0, rel=0.03)
        ratios.append(bass / 410.0)
    ratios = np.array(ratios)
    assert ratios.min() > 2 ** (-3 / 12) - 0.03 and ratios.max() < 2 ** (3 / 12) + 0.03
    assert ratios.max() - ratios.min() > 0.05  # speeds differ between items
    # speed off draws nothing extra: the same chunks as a dataset built without the option
    off = ChunkDataset(sine_tracks, segment=SEG, samples_per_epoch=12, seed=1, sample_rate=SR,
                       speed_semitones=0.0)
    assert all(np.array_equal(off[i][0].numpy(), plain[i][0].numpy()) for i in range(4))


def test_remix_dataset_speeds_each_source(sine_tracks):
    ds = RemixDataset(sine_tracks, segment=SEG, samples_per_epoch=6, seed=2, sample_rate=SR,
                      speed_semitones=3.0)
    for i in range(len(ds)):
        mix, stems = ds[i]
        assert stems.shape == (4, 2, SEG)
        np.testing.assert_allclose(stems.sum(0).numpy(), mix.numpy(), atol=1e-5)


@pytest.mark.parametrize("bad", [-1.0, 13.0])
def test_speed_semitones_out_of_range_is_a_config_error(sine_tracks, bad):
    with pytest.raises(ConfigError):
        ChunkDataset(sine_tracks, segment=SEG, samples_per_epoch=2, seed=0, sample_rate=SR, speed_semitones=bad)
    with pytest.raises(ConfigError, match="speed_semitones"):
        DataSourceConfig(type="musdb_hq", root="x", speed_semitones=bad).validate("data.train")
