"""`stemkit separate` on whatever users have on disk: each file ends in correct stems or one clear line.

Correct stems: one file per stem, the input's length and channel layout (mono stays mono, more than two
channels become stereo), summing to the input. A refused file: exit code 1 (some inputs failed), its
path and problem on one line, and no stem or temp file left behind.
"""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from conftest import RATE, noise, partial_files, stem_files

from stemkit.audio import read_audio

MODEL = "robust_smooth"


def separate(cli, tmp_path, *inputs, extra=()):
    out = tmp_path / "out"
    return (*cli("separate", *inputs, "-n", MODEL, "-o", out, "-q", "--float32", *extra), out)


def assert_correct_stems(out, track: str, source_path, *, channels: int | None = None):
    """Both stems exist, have the input's shape and sum to the input."""
    mix, sr = read_audio(source_path)
    want_channels = channels or (1 if mix.shape[0] == 1 else 2)
    folder = out / MODEL / track
    stems = {}
    for name in ("low", "high"):
        data, rate = sf.read(folder / f"{name}.wav", dtype="float32", always_2d=True)
        assert rate == sr
        stems[name] = data.T
        assert stems[name].shape == (want_channels, mix.shape[1])
    if mix.shape[0] == want_channels:
        np.testing.assert_allclose(stems["low"] + stems["high"], mix, atol=1e-5)
    assert not partial_files(out)
    return stems


def assert_refused(code, err, out, name: str, message: str):
    assert code == 1
    assert f"{name}: " in err and message in err, err
    # One input: exactly one line, naming the file and the problem (no batch summary).
    assert len(err.strip().splitlines()) == 1 and err.startswith("stemkit: error: "), err
    assert not any(p.suffix == ".wav" for p in stem_files(out)), stem_files(out)
    assert not (out / MODEL / name.rsplit(".", 1)[0]).exists()  # not even an empty track folder
    assert not partial_files(out)


# -- files that are not (valid) audio --------------------------------------------------------------

def _header_only(path):
    sf.write(path, np.zeros((0, 2), np.float32), RATE)


def _truncated_header(path):
    sf.write(path, noise(4000), RATE, subtype="PCM_16")
    path.write_bytes(path.read_bytes()[:30])


BAD_FILES = {
    "empty.wav": (lambda p: p.write_bytes(b""), "empty file"),
    "header_only.wav": (_header_only, "no audio samples"),
    "cut_in_header.wav": (_truncated_header, "not a readable audio file"),
    "text.wav": (lambda p: p.write_text("these are the lyrics, not the song\n" * 40), "not a readable audio file"),
    "random.wav": (lambda p: p.write_bytes(np.random.default_rng(1).bytes(6000)), "not a readable audio file"),
    "random.mp3": (lambda p: p.write_bytes(np.random.default_rng(2).bytes(6000)), "not a readable audio file"),
    "text.mp3": (lambda p: p.write_text("ID3? no.\n" * 300), "not a readable audio file"),
    "random.flac": (lambda p: p.write_bytes(b"fLaC" + np.random.default_rng(3).bytes(3000)), "not a readable"),
}


@pytest.mark.parametrize("name", sorted(BAD_FILES))
def test_bad_file_gives_one_clear_line(cli, tmp_path, name):
    make, message = BAD_FILES[name]
    path = tmp_path / "in" / name
    path.parent.mkdir()
    make(path)
    code, _, err, out = separate(cli, tmp_path, path)
    assert_refused(code, err, out, name, message)


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_and_inf_in_float_wav_are_refused(cli, write, tmp_path, bad):
    data = noise(70_000)  # the bad sample sits in the second read block: stems were already being written
    data[69_000, 1] = bad
    path = write("nonfinite.wav", data, subtype="FLOAT")
    code, _, err, out = separate(cli, tmp_path, path)
    assert_refused(code, err, out, "nonfinite.wav", "NaN or Inf")


def test_truncated_data_chunk_separates_what_is_there(cli, write, tmp_path):
    path = write("cut.wav", noise(8000), subtype="PCM_16")
    whole = path.read_bytes()
    path.write_bytes(whole[: 44 + 2 * 2 * 3000 + 1])  # 3000 whole frames and a stray byte
    code, _, err, out = separate(cli, tmp_path, path)
    assert code == 0, err
    stems = assert_correct_stems(out, "cut", path)
    assert stems["low"].shape[1] == 3000


def test_flac_named_wav_and_wav_named_mp3_are_read_by_content(cli, write, tmp_path):
    flac = write("really_flac.wav", noise(5000), format="FLAC")
    wav = write("really_wav.mp3", noise(5000, seed=1), format="WAV")
    code, _, err, out = separate(cli, tmp_path, flac, wav)
    assert code == 0, err
    assert_correct_stems(out, "really_flac", flac)
    assert_correct_stems(out, "really_wav", wav)


# -- edge-case signals ---------------------------------------------------------------------------

@pytest.mark.parametrize("frames", [1, 2, 3])
def test_tiny_inputs(cli, write, tmp_path, frames):
    path = write(f"n{frames}.wav", noise(frames, seed=frames), subtype="FLOAT")
    code, _, err, out = separate(cli, tmp_path, path)
    assert code == 0, err
    assert_correct_stems(out, f"n{frames}", path)


SIGNALS = {
    "silence": lambda t: np.zeros((t, 2), np.float32),
    "dc_offset": lambda t: np.full((t, 2), 0.5, np.float32) + noise(t, amplitude=0.01),
    "square_full_scale": lambda t: np.repeat(np.sign(np.sin(2 * np.pi * 100 * np.arange(t) / RATE))[:, None],
                                             2, axis=1).astype(np.float32),
    "full_scale_noise": lambda t: np.clip(noise(t, amplitude=2.0), -1, 1),
}


@pytest.mark.parametrize("kind", sorted(SIGNALS))
def test_edge_signals_separate_and_sum(cli, write, tmp_path, kind):
    path = write(f"{kind}.wav", SIGNALS[kind](12_000), subtype="FLOAT")
    code, _, err, out = separate(cli, tmp_path, path)
    assert code == 0, err
    stems = assert_correct_stems(out, kind, path)
    assert all(np.isfinite(s).all() for s in stems.values())
    if kind == "silence":
        assert all(not s.any() for s in stems.values())


def test_full_scale_square_wave_to_16_bit_is_rescaled_never_wrapped(cli, write, tmp_path):
    # low + high of a full-scale square overshoot 1.0; 16-bit output must rescale with a warning.
    path = write("square.wav", SIGNALS["square_full_scale"](8000), subtype="PCM_16")
    out = tmp_path / "out"
    code, _, err = cli("separate", path, "-n", MODEL, "-o", out)
    assert code == 0
    low, _ = sf.read(out / MODEL / "square" / "low.wav", dtype="float32")
    high, _ = sf.read(out / MODEL / "square" / "high.wav", dtype="float32")
    assert np.abs(low).max() <= 1.0 and np.abs(high).max() <= 1.0
    mix, _ = sf.read(path, dtype="float32")
    # rescaled stems keep their shape: the sum is proportional to the mix, not clipped garbage
    total = (low + high).ravel()
    gain = float(total @ mix.ravel() / (mix.ravel() @ mix.ravel()))
    assert 0.3 < gain <= 1.0 + 1e-4
    np.testing.assert_allclose(total, gain * mix.ravel(), atol=3e-4)


# -- layouts: channels, rates, sample formats ------------------------------------------------------

@pytest.mark.parametrize("channels", range(1, 9))
def test_one_to_eight_channels(cli, write, tmp_path, channels):
    path = write(f"c{channels}.wav", noise(6000, channels, seed=channels), subtype="FLOAT")
    if channels > 2:
        with pytest.warns(UserWarning, match=f"downmixing {channels} channels to stereo"):
            code, _, err, out = separate(cli, tmp_path, path)
    else:
        code, _, err, out = separate(cli, tmp_path, path)
    assert code == 0, err
    assert_correct_stems(out, f"c{channels}", path)


@pytest.mark.parametrize("rate", [8000, 11025, 22050, 48000, 96000, 192000])
def test_sample_rates(cli, write, tmp_path, rate):
    path = write(f"r{rate}.wav", noise(rate // 4 + 7, seed=rate % 97), sr=rate, subtype="FLOAT")
    code, _, err, out = separate(cli, tmp_path, path)
    assert code == 0, err
    stems = assert_correct_stems(out, f"r{rate}", path)
    mix, _ = read_audio(path)
    # the model runs at 8 kHz: its smoothing must show as less high-frequency energy in "low"
    assert np.linalg.norm(np.diff(stems["low"])) < np.linalg.norm(np.diff(mix))


@pytest.mark.parametrize("rate", [4000, 384000])
def test_unsupported_rates_are_refused(cli, write, tmp_path, rate):
    path = write(f"r{rate}.wav", noise(4000), sr=rate, subtype="FLOAT")
    code, _, err, out = separate(cli, tmp_path, path)
    assert_refused(code, err, out, f"r{rate}.wav", "sample rate")


@pytest.mark.parametrize("subtype", ["PCM_U8", "PCM_24", "PCM_32", "DOUBLE"])
def test_sample_formats(cli, write, tmp_path, subtype):
    path = write(f"{subtype}.wav", noise(5000), subtype=subtype)
    code, _, err, out = separate(cli, tmp_path, path)
    assert code == 0, err
    assert_correct_stems(out, subtype, path)


@pytest.mark.parametrize("name", ["my song.wav", "it's \"quoted\".wav", "Café – Ωμέγα 東京.wav",
                                  "-starts-with-dash.wav", "semi;colon $HOME `x`.wav"])
def test_awkward_names(cli, write, tmp_path, name):
    path = write(name, noise(3000), subtype="FLOAT")
    out = tmp_path / "out"
    code, _, err = cli("separate", "-n", MODEL, "-o", out, "-q", "--float32", "--", path)
    assert code == 0, err
    assert_correct_stems(out, path.stem, path)
    assert [p.name for p in (out / MODEL).iterdir()] == [path.stem]


def test_folder_of_good_and_bad_files(cli, write, tmp_path):
    good = [write(f"album/good{k}.wav", noise(3000, seed=k), subtype="FLOAT") for k in range(3)]
    album = good[0].parent
    (album / "bad.wav").write_bytes(b"RIFF....WAVEfmt garbage")
    (album / "empty.flac").write_bytes(b"")
    (album / "notes.txt").write_text("not audio and not an audio extension: skipped silently")
    nested = album / "disc 2"
    nested.mkdir()
    good.append(write("album/disc 2/good9.wav", noise(2000, seed=9), subtype="FLOAT"))
    (nested / "cut.mp3").write_bytes(b"\xff\xfb\x90\x00" + b"\x00" * 10)
    code, _, err, out = separate(cli, tmp_path, album)
    assert code == 1
    assert "3 input(s) failed, 4 separated" in err
    for name in ("bad.wav", "empty.flac", "cut.mp3"):
        assert sum(name in line for line in err.splitlines() if line.startswith("stemkit: error")) == 1
    assert "notes.txt" not in err
    for path in good:
        assert_correct_stems(out, path.stem, path)
    assert sorted(p.name for p in (out / MODEL).iterdir()) == sorted(p.stem for p in good)


def test_missing_inputs_do_not_stop_the_batch(cli, write, tmp_path):
    good = write("ok.wav", noise(2000), subtype="FLOAT")
    code, _, err, out = separate(cli, tmp_path, tmp_path / "nope.wav", good, tmp_path / "in")
    assert code == 1
    assert "nope.wav: no such file or folder" in err and "1 input(s) failed, 2 separated" in err
    assert_correct_stems(out, "ok", good)
