"""The one-pass writer: 16-bit (and other) files equal to the old float-temp-then-encode path."""

import warnings

import numpy as np
import pytest
import soundfile as sf

from stemkit.audio import writer as writer_mod
from stemkit.audio.formats import output_format
from stemkit.audio.writer import AudioWriter, float_to_pcm16, numpy_pcm16_matches


def _signal(peak, n=150_000, seed=0, at=120_000):
    x = (np.random.default_rng(seed).standard_normal((2, n)) * 0.2).astype(np.float32)
    np.clip(x, -0.95, 0.95, out=x)
    x[:, at] = peak
    return x


def _two_pass(path, x, fmt, clip):
    """The old writer: every sample to float first, then the whole file encoded by libsndfile."""
    peak = float(np.abs(x).max())
    gain = 1.0 / peak if (peak > 1.0 and clip == "rescale") else 1.0
    sf.write(path, np.clip(x.T * gain, -1.0, 1.0), 44100, subtype=fmt.subtype, format=fmt.format)


def _write(path, x, fmt, clip):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        w = AudioWriter(path, 44100, x.shape[0], fmt, clip=clip)
        for i in range(0, x.shape[1], 40_000):
            w.write(x[:, i : i + 40_000])
        w.close()
    return [str(c.message) for c in caught]


@pytest.mark.parametrize("kind", ["wav16", "int24", "flac"])
@pytest.mark.parametrize("clip,peak", [("rescale", 0.9), ("clamp", 0.9), ("clamp", 1.6)])
def test_one_pass_output_equals_the_two_pass_output(tmp_path, kind, clip, peak):
    fmt = output_format(kind)
    x = _signal(peak)
    _two_pass(tmp_path / f"ref{fmt.extension}", x, fmt, clip)
    messages = _write(tmp_path / f"new{fmt.extension}", x, fmt, clip)
    ref = sf.read(tmp_path / f"ref{fmt.extension}", dtype="int32")[0]
    new = sf.read(tmp_path / f"new{fmt.extension}", dtype="int32")[0]
    np.testing.assert_array_equal(new, ref)
    assert any("clamped" in m for m in messages) == (peak > 1.0)
    assert not list(tmp_path.glob(".*part*"))


def test_direct_writing_makes_one_temp_file_in_the_target_format(tmp_path, monkeypatch):
    opened = []
    real_open = AudioWriter._open

    def spy(self, extension, container, subtype, extra):
        opened.append((extension, container, subtype))
        return real_open(self, extension, container, subtype, extra)

    monkeypatch.setattr(AudioWriter, "_open", spy)
    _write(tmp_path / "a.wav", _signal(0.9), output_format("wav16"), "rescale")
    assert opened == [(".wav", "WAV", "PCM_16")]


@pytest.mark.parametrize("kind", ["wav16", "flac"])
def test_rescale_after_a_late_overflow_spills_and_rescales(tmp_path, kind):
    fmt = output_format(kind)
    x = _signal(2.5, at=140_000)  # beyond full scale only in the last block: spills after 3 direct blocks
    _two_pass(tmp_path / f"ref{fmt.extension}", x, fmt, "rescale")
    messages = _write(tmp_path / f"new{fmt.extension}", x, fmt, "rescale")
    assert any("rescaled by -8.0 dB" in m for m in messages)
    step = 2 ** (32 - (16 if fmt.subtype == "PCM_16" else 24))
    ref = sf.read(tmp_path / f"ref{fmt.extension}", dtype="int32")[0].astype(np.int64)
    new = sf.read(tmp_path / f"new{fmt.extension}", dtype="int32")[0].astype(np.int64)
    # Samples before the spill were quantised once more: at most one step of the format apart.
    assert np.abs(new - ref).max() <= step
    assert np.mean(new == ref) > 0.5  # most samples identical, and the peak is full scale, not clipped
    assert np.abs(new[140_000]).max() >= 2 ** 31 - step
    assert not list(tmp_path.glob(".*part*"))


def test_lossy_rescale_keeps_the_float_temp_path(tmp_path, monkeypatch):
    opened = []
    real_open = AudioWriter._open
    monkeypatch.setattr(AudioWriter, "_open", lambda self, *a: (opened.append(a[1]), real_open(self, *a))[1])
    _write(tmp_path / "a.ogg", _signal(0.9, n=20_000, at=5), output_format("wav16").__class__(
        ".ogg", "OGG", "VORBIS", True), "rescale")
    assert opened == ["WAV"] and (tmp_path / "a.ogg").stat().st_size > 0


def test_numpy_pcm16_conversion_is_libsndfiles_where_used(tmp_path):
    x = np.concatenate([np.random.default_rng(3).uniform(-1.2, 1.2, 100_000),
                        (np.arange(-300, 300) + 0.5) / 32768]).astype(np.float32)
    sf.write(tmp_path / "ref.wav", np.clip(x, -1, 1), 8000, subtype="PCM_16")
    ref = sf.read(tmp_path / "ref.wav", dtype="int16")[0]
    if numpy_pcm16_matches("WAV"):
        np.testing.assert_array_equal(float_to_pcm16(x), ref)
    else:  # another libsndfile: the writer leaves the conversion to it
        assert not AudioWriter(tmp_path / "x.wav", 8000, 1, output_format("wav16"))._pcm16


def test_a_failed_direct_write_leaves_nothing(tmp_path, monkeypatch):
    w = AudioWriter(tmp_path / "out.wav", 8000, 2, output_format("wav16"))
    w.write(_signal(0.5, n=1000, at=0))

    def full(self, data):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(writer_mod.sf.SoundFile, "write", full)
    with pytest.raises(Exception, match="no space left"):
        w.write(_signal(0.5, n=1000, at=0))
    assert not list(tmp_path.iterdir())
