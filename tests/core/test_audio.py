import shutil
import subprocess

import numpy as np
import pytest
import soundfile as sf

from stemkit.audio import AudioReader, adapt_channels, audio_info, read_audio, resample, write_audio
from stemkit.audio.resample import StreamResampler
from stemkit.errors import AudioReadError, AudioWriteError, MissingToolError


def _signal(channels=2, n=22050, seed=0):
    rng = np.random.default_rng(seed)
    return np.clip(0.1 * rng.standard_normal((channels, n)), -0.9, 0.9).astype(np.float32)


@pytest.mark.parametrize(
    "name,subtype,tol",
    [("a.wav", "FLOAT", 0), ("a.wav", "PCM_16", 2e-4), ("a.wav", "PCM_24", 1e-6), ("a.flac", None, 1e-6)],
)
def test_lossless_formats_round_trip(tmp_path, name, subtype, tol):
    x = _signal()
    write_audio(tmp_path / name, x, 44100, subtype=subtype)
    y, sr = read_audio(tmp_path / name)
    assert sr == 44100 and y.shape == x.shape
    np.testing.assert_allclose(y, x, atol=tol)


@pytest.mark.parametrize("name", ["a.mp3", "a.ogg"])
def test_lossy_formats_round_trip(tmp_path, name):
    t = np.arange(44100) / 44100
    x = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)[None].repeat(2, 0)
    write_audio(tmp_path / name, x, 44100)
    y, sr = read_audio(tmp_path / name)
    assert sr == 44100 and y.shape[0] == 2
    n = min(y.shape[1], x.shape[1])
    # Codec delay aside, the tone's energy survives.
    assert abs(np.sqrt(np.mean(y[:, :n] ** 2)) - np.sqrt(np.mean(x ** 2))) < 0.03


def test_mp3_bitrate_option_sets_file_size(tmp_path):
    x = _signal(n=44100 * 4)
    write_audio(tmp_path / "lo.mp3", x, 44100, bitrate=64)
    write_audio(tmp_path / "hi.mp3", x, 44100, bitrate=320)
    lo, hi = (tmp_path / "lo.mp3").stat().st_size, (tmp_path / "hi.mp3").stat().st_size
    kbps_lo = lo * 8 / 4 / 1000
    assert 50 < kbps_lo < 80 and hi > 4 * lo


def test_integer_output_rescales_with_warning(tmp_path):
    x = np.full((1, 1000), 2.0, np.float32)
    with pytest.warns(UserWarning, match="rescaled"):
        write_audio(tmp_path / "r.wav", x, 8000, subtype="PCM_16")
    y, _ = read_audio(tmp_path / "r.wav")
    assert 0.99 < y.max() <= 1.0


def test_integer_output_clamps_with_warning(tmp_path):
    x = np.concatenate([np.full((1, 10), 2.0), np.full((1, 10), 0.5)], axis=1).astype(np.float32)
    with pytest.warns(UserWarning, match="clamped"):
        write_audio(tmp_path / "c.wav", x, 8000, subtype="PCM_24", clip="clamp")
    y, _ = read_audio(tmp_path / "c.wav")
    assert y[0, :10].max() <= 1.0 and abs(y[0, 15] - 0.5) < 1e-5


def test_float_output_keeps_values_beyond_full_scale(tmp_path, recwarn):
    x = np.full((2, 100), 3.0, np.float32)
    write_audio(tmp_path / "f.wav", x, 8000, subtype="FLOAT")
    assert read_audio(tmp_path / "f.wav")[0].max() == 3.0
    assert not [w for w in recwarn if "full scale" in str(w.message)]


@pytest.mark.parametrize("sr_in,sr_out", [(8000, 44100), (44100, 22050), (48000, 44100), (192000, 44100)])
def test_resampling_round_trip_keeps_in_band_signal(sr_in, sr_out):
    t = np.arange(int(sr_in * 0.5)) / sr_in
    x = np.sin(2 * np.pi * 500 * t).astype(np.float32)[None]
    y = resample(resample(x, sr_in, sr_out), sr_out, sr_in)
    assert y.shape == x.shape
    mid = slice(len(t) // 10, -len(t) // 10)
    err = np.linalg.norm(y[:, mid] - x[:, mid]) / np.linalg.norm(x[:, mid])
    assert 20 * np.log10(err) < -60


def test_stream_resampler_equals_whole_resampling():
    x = _signal(n=30011)
    whole = resample(x, 44100, 48000)
    r = StreamResampler(44100, 48000, 2)
    parts = [r(x[:, i : i + 4097]) for i in range(0, x.shape[1], 4097)] + [r.flush()]
    np.testing.assert_allclose(np.concatenate(parts, 1), whole, atol=1e-6)


def test_channel_adaptation():
    x = _signal(channels=6, n=100)
    assert adapt_channels(x, 2).shape == (2, 100)
    assert adapt_channels(x[:1], 2).shape == (2, 100)
    np.testing.assert_allclose(adapt_channels(x[:2], 1)[0], x[:2].mean(0))


def test_read_with_resample_and_channels(tmp_path):
    write_audio(tmp_path / "m.wav", _signal(channels=1, n=8000), 8000)
    y, sr = read_audio(tmp_path / "m.wav", sample_rate=16000, channels=2)
    assert sr == 16000 and y.shape == (2, 16000)


def test_reader_streams_blocks(tmp_path):
    x = _signal(n=10000)
    write_audio(tmp_path / "b.wav", x, 44100)
    blocks = list(AudioReader(tmp_path / "b.wav").blocks(3000))
    assert [b.shape[1] for b in blocks] == [3000, 3000, 3000, 1000]


@pytest.mark.parametrize(
    "content,match",
    [(b"", "empty file"), (b"this is not audio at all" * 10, "not a readable audio file"),
     (b"RIFF\x24\x00\x00\x00WAVE", "not a readable")],
)
def test_bad_files_raise_one_clear_error(tmp_path, content, match):
    p = tmp_path / "bad.wav"
    p.write_bytes(content)
    with pytest.raises(AudioReadError, match=match):
        read_audio(p)


def test_header_only_wav_has_no_samples(tmp_path):
    p = tmp_path / "h.wav"
    sf.write(p, np.zeros((0, 2), np.float32), 44100)
    with pytest.raises(AudioReadError, match="no audio samples"):
        read_audio(p)


def test_nan_samples_are_refused(tmp_path):
    x = _signal(n=1000)
    x[0, 500] = np.nan
    p = tmp_path / "nan.wav"
    sf.write(p, x.T, 44100, subtype="FLOAT")
    with pytest.raises(AudioReadError, match="NaN"):
        read_audio(p)


def test_missing_file_and_unsupported_rate(tmp_path):
    with pytest.raises(AudioReadError, match="no such file"):
        audio_info(tmp_path / "nope.wav")
    p = tmp_path / "slow.wav"
    sf.write(p, np.zeros((100, 1), np.float32), 4000)
    with pytest.raises(AudioReadError, match="outside the supported"):
        audio_info(p)


def test_unwritable_folder_raises_write_error(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o500)
    try:
        if shutil.os.access(ro, shutil.os.W_OK):
            pytest.skip("running as a user that ignores permissions")
        with pytest.raises(AudioWriteError, match="permission"):
            write_audio(ro / "x.wav", _signal(n=10), 8000)
    finally:
        ro.chmod(0o700)


def test_failed_write_leaves_no_file(tmp_path, monkeypatch):
    from stemkit.audio import writer as writer_mod

    target = tmp_path / "out.wav"
    w = writer_mod.AudioWriter(target, 8000, 2, clip="rescale")
    w.write(_signal(n=100))
    w.abort()
    assert not target.exists() and not list(tmp_path.glob(".*part*"))


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg not installed")
def test_m4a_through_ffmpeg_and_stream_selection(tmp_path):
    a, b = tmp_path / "a.wav", tmp_path / "b.wav"
    write_audio(a, _signal(n=8000, seed=1), 44100)
    write_audio(b, np.zeros((2, 8000), np.float32), 44100)
    out = tmp_path / "two.stem.mp4"
    subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", str(a), "-i", str(b), "-map", "0:a", "-map", "1:a",
                    "-c:a", "aac", "-b:a", "128k", str(out)], check=True)
    first, sr = read_audio(out, stream=0)
    second, _ = read_audio(out, stream=1)
    assert sr == 44100 and first.shape[0] == 2
    assert np.abs(first).mean() > 10 * np.abs(second).mean()
    with pytest.raises(AudioReadError, match="stream"):
        read_audio(out, stream=5)


def test_missing_ffmpeg_names_the_tool(tmp_path, monkeypatch):
    p = tmp_path / "x.m4a"
    p.write_bytes(b"\x00" * 100)
    monkeypatch.setattr("stemkit.audio.ffmpeg.shutil.which", lambda name: None)
    with pytest.raises(MissingToolError, match="ffmpeg"):
        read_audio(p)


def test_output_under_a_file_raises_write_error(tmp_path):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("x")
    with pytest.raises(AudioWriteError):
        write_audio(blocker / "x.wav", _signal(n=10), 8000)


def test_written_files_get_ordinary_permissions(tmp_path):
    import os
    import stat

    mask = os.umask(0o022)
    try:
        for name, sub in (("f.wav", "FLOAT"), ("i.wav", "PCM_16")):
            write_audio(tmp_path / name, _signal(n=10), 8000, subtype=sub)
            assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o644
    finally:
        os.umask(mask)
