import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from stemkit import Separator, save_stems
from stemkit.cli.main import main
from stemkit.errors import AudioReadError, StemkitError
from stemkit.models.base import SeparationModel
from stemkit.models.registry import register


@register("test_lowpass", description="test model: smooths into 'low', rest 'high'")
class LowHigh(SeparationModel):
    """Deterministic, position-independent and not a trivial split: low = 5-tap moving average."""

    family = "classical"

    def __init__(self, segment: int = 22050):
        super().__init__(sources=("low", "high"), sample_rate=22050, channels=2, segment=segment)

    def forward(self, mix):
        kernel = torch.ones(1, 1, 5) / 5
        b, c, t = mix.shape
        low = torch.nn.functional.conv1d(mix.reshape(b * c, 1, t), kernel, padding=2).reshape(b, c, t)
        return torch.stack([low, mix - low], dim=1)


def _sum_error_db(stems, mix):
    total = sum(stems.values())
    return 20 * np.log10(np.linalg.norm(total - mix) / np.linalg.norm(mix) + 1e-30)


@pytest.mark.parametrize("sr", [8000, 11025, 44100, 48000, 96000])
@pytest.mark.parametrize("channels", [1, 2])
def test_stems_sum_to_input_at_any_rate(sr, channels):
    rng = np.random.default_rng(sr)
    mix = (0.1 * rng.standard_normal((channels, int(sr * 0.7) + 3))).astype(np.float32)
    stems = Separator("test_lowpass").separate(mix, sr)
    assert set(stems) == {"low", "high"}
    assert all(s.shape == mix.shape for s in stems.values())
    assert _sum_error_db(stems, mix) < -60


def test_separation_does_something_and_mono_stays_mono():
    t = np.arange(22050) / 22050
    mix = (np.sin(2 * np.pi * 100 * t) + 0.5 * np.sin(2 * np.pi * 9000 * t)).astype(np.float32)
    stems = Separator("test_lowpass").separate(mix, 22050)
    assert stems["low"].ndim == 1
    spec_low = np.abs(np.fft.rfft(stems["low"]))
    assert spec_low[100] > 20 * spec_low[9000]  # 1 Hz bins over 1 s


def test_more_than_two_channels_downmix_with_warning():
    mix = np.random.default_rng(0).standard_normal((6, 5000)).astype(np.float32) * 0.1
    with pytest.warns(UserWarning, match="downmixing 6 channels"):
        stems = Separator("test_lowpass").separate(mix, 22050)
    assert stems["low"].shape == (2, 5000)


def test_two_stems_and_consistency_off():
    mix = np.random.default_rng(1).standard_normal((2, 4000)).astype(np.float32) * 0.1
    sep = Separator("test_lowpass", two_stems="low")
    stems = sep.separate(mix, 22050)
    assert list(stems) == ["low", "no_low"] == sep.sources
    assert _sum_error_db(stems, mix) < -60
    loose = Separator("test_lowpass", consistency=False).separate(mix, 44100)
    assert _sum_error_db(loose, mix) > -60  # resampling loses the band above 11 kHz


def test_bad_arrays_and_options():
    with pytest.raises(AudioReadError, match="NaN"):
        Separator("test_lowpass").separate(np.full((2, 100), np.nan, np.float32), 22050)
    with pytest.raises(AudioReadError):
        Separator("test_lowpass").separate(np.zeros((2, 0), np.float32), 22050)
    with pytest.raises(AudioReadError, match="outside"):
        Separator("test_lowpass").separate(np.zeros((2, 10), np.float32), 1000)
    with pytest.raises(StemkitError, match="two-stems"):
        Separator("test_lowpass", two_stems="vocals")
    with pytest.raises(StemkitError, match="unknown model"):
        Separator("no_such_model")


def test_separate_file_and_save_stems(make_wav, tmp_path):
    path = make_wav("in.wav", seconds=1.0, sr=48000)
    stems = Separator("test_lowpass").separate_file(path)
    written = save_stems(stems, tmp_path / "out", 48000, fmt="float32")
    mix, _ = sf.read(path, dtype="float32", always_2d=True)
    back = sum(sf.read(p, dtype="float32", always_2d=True)[0] for p in written.values())
    assert 20 * np.log10(np.linalg.norm(back - mix) / np.linalg.norm(mix)) < -60


def test_cli_layout_formats_and_sum(make_wav, tmp_path):
    song = make_wav("My Song.wav", seconds=1.5, sr=44100)
    out = tmp_path / "sep"
    assert main(["separate", str(song), "-n", "test_lowpass", "-o", str(out), "--float32", "-q"]) == 0
    low, high = out / "test_lowpass" / "My Song" / "low.wav", out / "test_lowpass" / "My Song" / "high.wav"
    mix, sr = sf.read(song, dtype="float32")
    total = sf.read(low, dtype="float32")[0] + sf.read(high, dtype="float32")[0]
    assert sr == 44100 and 20 * np.log10(np.linalg.norm(total - mix) / np.linalg.norm(mix)) < -60
    assert main(["separate", str(song), "-n", "test_lowpass", "-o", str(out), "--mp3", "--mp3-bitrate", "128",
                 "-q", "--two-stems", "low"]) == 0
    assert sorted(p.name for p in (out / "test_lowpass" / "My Song").glob("*.mp3")) == ["low.mp3", "no_low.mp3"]
    assert main(["separate", str(song), "-n", "test_lowpass", "-o", str(out), "--flac", "-q"]) == 0
    assert sf.info(out / "test_lowpass" / "My Song" / "low.flac").subtype == "PCM_24"


def test_cli_batch_continues_past_bad_files(make_wav, tmp_path, capsys):
    folder = tmp_path / "album"
    make_wav("album/good.wav", seconds=0.5)
    (folder / "broken.wav").write_bytes(b"not audio" * 50)
    (folder / "empty.mp3").write_bytes(b"")
    out = tmp_path / "out"
    code = main(["separate", str(folder), "-n", "test_lowpass", "-o", str(out), "-q"])
    err = capsys.readouterr().err
    assert code == 1
    assert (out / "test_lowpass" / "good" / "low.wav").exists()
    assert not (out / "test_lowpass" / "broken").exists() and not (out / "test_lowpass" / "empty").exists()
    assert "broken.wav" in err and "empty file" in err and "2 input(s) failed, 1 separated" in err
    assert "Traceback" not in err


def test_cli_bad_model_and_unwritable_output(make_wav, tmp_path, capsys):
    song = make_wav("s.wav", seconds=0.2)
    assert main(["separate", str(song), "-n", "nope", "-o", str(tmp_path)]) != 0
    assert "unknown model 'nope'" in capsys.readouterr().err
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert main(["separate", str(song), "-n", "test_lowpass", "-o", str(blocker / "out")]) != 0
    err = capsys.readouterr().err
    assert "cannot write to output folder" in err and "Traceback" not in err


def test_cli_never_overwrites_input(tmp_path, capsys):
    folder = tmp_path / "test_lowpass" / "x"
    folder.mkdir(parents=True)
    song = folder / "low.wav"
    sf.write(song, np.zeros((1000, 2), np.float32) + 0.1, 22050)
    before = song.read_bytes()
    assert main(["separate", str(song), "-n", "test_lowpass", "-o", str(tmp_path), "--filename",
                 "x/{stem}.{ext}".replace("x/", "{track}/../x/")]) == 1
    assert song.read_bytes() == before
    assert "refusing to overwrite the input" in capsys.readouterr().err


def test_cli_parallel_jobs(make_wav, tmp_path):
    a = make_wav("a.wav", seconds=0.3)
    b = make_wav("b.wav", seconds=0.3, seed=2)
    out = tmp_path / "o"
    code = subprocess.run(
        [sys.executable, "-c", "import sys; from stemkit.cli.main import main; "
         f"sys.exit(main(['separate', r'{a}', r'{b}', '-n', 'hpss', '-o', r'{out}', '-j', '2', '-q']))"],
        cwd=Path(__file__).resolve().parents[2], capture_output=True, text=True)
    if "unknown model 'hpss'" in code.stderr:
        pytest.skip("hpss not registered yet")
    assert code.returncode == 0, code.stderr
    assert sorted(p.name for p in (out / "hpss").iterdir()) == ["a", "b"]


def test_console_script_help_and_version():
    proc = subprocess.run([sys.executable, "-m", "stemkit", "--version"], capture_output=True, text=True)
    assert proc.returncode == 0 and proc.stdout.startswith("stemkit ")
    for cmd in ("separate", "models"):
        proc = subprocess.run([sys.executable, "-m", "stemkit", cmd, "--help"], capture_output=True, text=True)
        assert proc.returncode == 0 and "examples:" in proc.stdout


class _HalfVocals(SeparationModel):
    """One stem: half the input (a cascade stage's shape: its stem is not the whole mixture)."""

    family = "classical"

    def forward(self, mix):
        return 0.5 * mix.unsqueeze(1)


def test_a_one_stem_model_is_not_forced_to_the_mixture():
    model = _HalfVocals(sources=("vocals",), sample_rate=8000, channels=2, segment=8000)
    mix = np.random.default_rng(0).standard_normal((2, 12000)).astype(np.float32) * 0.1
    stems = Separator(model, progress=False).separate(mix, 8000)
    assert list(stems) == ["vocals"]
    np.testing.assert_allclose(stems["vocals"], 0.5 * mix, atol=1e-5)


def test_cli_segment_workers_same_stems_and_bad_value(make_wav, tmp_path, capsys):
    song = make_wav("w.wav", seconds=3.0, sr=44100)
    outs = {}
    for workers in ("1", "2"):
        out = tmp_path / f"w{workers}"
        assert main(["separate", str(song), "-n", "hpss", "-o", str(out), "--float32", "-q",
                     "--segment", "1", "--workers", workers]) == 0
        outs[workers] = {p.name: sf.read(p, dtype="float32")[0] for p in (out / "hpss" / "w").glob("*.wav")}
    assert set(outs["1"]) == set(outs["2"]) and len(outs["1"]) >= 2
    for stem, audio in outs["1"].items():
        np.testing.assert_array_equal(audio, outs["2"][stem])
    assert main(["separate", str(song), "-n", "hpss", "-o", str(tmp_path / "w0"), "--workers", "0"]) != 0
    err = capsys.readouterr().err
    assert "--workers must be at least 1" in err and "Traceback" not in err
