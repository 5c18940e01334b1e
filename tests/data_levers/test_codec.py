"""Lossy-codec round trips: aligned, same length, band-limited, and the mixture stays the sum."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from stemkit.data.codec import CodecConfig, codec_round_trips, round_trip
from stemkit.errors import ConfigError

needs_ffmpeg = pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg not installed")
SR = 44100


def _signal(seconds=2.0, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    tone = 0.3 * np.sin(2 * np.pi * 440 * t) * (t > 0.4)
    noise = 0.1 * rng.standard_normal(t.size) * (t > 0.8)
    return np.stack([tone + noise, tone - noise]).astype(np.float32)


@needs_ffmpeg
@pytest.mark.parametrize("fmt", ["mp3", "aac"])
def test_round_trip_is_aligned_and_keeps_the_length(fmt):
    x = _signal()
    y = round_trip(x, SR, fmt, 128)
    assert y.shape == x.shape and y.dtype == np.float32
    # the decoded audio lines up with the input: best cross-correlation lag is 0
    a, b = x[0, 20000:60000], y[0]
    lags = np.arange(-2000, 2001)
    cc = [np.dot(a, b[20000 + k: 60000 + k]) for k in lags]
    assert lags[int(np.argmax(cc))] == 0
    err = x - y
    assert 10 * np.log10(np.sum(x ** 2) / np.sum(err ** 2)) > 8  # close, but changed
    assert np.abs(err).max() > 1e-3


@needs_ffmpeg
def test_low_bitrate_mp3_removes_the_top_band():
    rng = np.random.default_rng(1)
    x = (0.2 * rng.standard_normal((2, SR))).astype(np.float32)  # white noise: energy up to 22 kHz
    y = round_trip(x, SR, "mp3", 96)

    def top(z):
        spec = np.abs(np.fft.rfft(z[0])) ** 2
        f = np.fft.rfftfreq(z.shape[1], 1 / SR)
        return spec[f > 17000].sum() / spec.sum()

    assert top(y) < 0.1 * top(x)


@needs_ffmpeg
def test_codec_round_trips_draws_per_song_and_skips_silence():
    stems = {"drums": _signal(1.0, 0), "bass": np.zeros((2, SR), np.float32), "other": _signal(1.0, 2)}
    cfg = CodecConfig(probability=1.0, formats=("mp3", "aac"), bitrate_kbps=(96, 256))
    out, meta = codec_round_trips(stems, SR, cfg, np.random.default_rng(3))
    assert list(out) == list(stems) and out["bass"] is stems["bass"]
    assert not np.array_equal(out["drums"], stems["drums"])
    drawn = {(d["format"], d["bitrate_kbps"]) for d in meta["stems"].values()}
    assert len(drawn) == 1  # one format and bitrate for the whole song
    fmt, kbps = drawn.pop()
    assert fmt in ("mp3", "aac") and 96 <= kbps <= 256 and kbps % 8 == 0
    same, none = codec_round_trips(stems, SR, CodecConfig(probability=0.0), np.random.default_rng(3))
    assert none is None and same is stems


def test_codec_config_validation():
    assert CodecConfig.from_dict({"formats": ["aac"], "bitrate_kbps": [128, 128]}).formats == ("aac",)
    for bad in ({"formats": ["ogg"]}, {"bitrate_kbps": [8, 64]}, {"probability": 2}, {"rate": 1}):
        with pytest.raises(ConfigError):
            CodecConfig.from_dict(bad)


@needs_ffmpeg
def test_render_song_with_codec_keeps_the_mixture_exact():
    from stemkit.data.corpus import render_song
    from stemkit.data.render.soundfonts import bundled_soundfont

    cfg = {"duration": 3.0, "soundfonts": [str(bundled_soundfont())], "discover_soundfonts": False,
           "vocal_synth_probability": 0.0, "codec": {"probability": 1.0, "formats": ["aac"]}}
    song = render_song(2, cfg)
    assert song.meta["codec"]["stems"] and all(d["format"] == "aac" for d in song.meta["codec"]["stems"].values())
    total = np.sum(np.stack([song.stems[s] for s in ("drums", "bass", "other", "vocals")]), axis=0,
                   dtype=np.float32)
    assert np.array_equal(total, song.mixture)
    plain = render_song(2, {**cfg, "codec": {}})
    assert "codec" not in plain.meta
    assert not np.array_equal(plain.mixture, song.mixture)
    assert np.corrcoef(plain.mixture.ravel(), song.mixture.ravel())[0, 1] > 0.95
