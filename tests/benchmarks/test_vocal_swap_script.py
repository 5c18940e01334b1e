"""benchmarks/vocal_swap.py: real accompaniment with vocal lines from rendered songs."""

import importlib.util
import json
from pathlib import Path

import numpy as np
import soundfile as sf

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
spec = importlib.util.spec_from_file_location("vocal_swap_script", BENCH / "vocal_swap.py")
swap = importlib.util.module_from_spec(spec)
spec.loader.exec_module(swap)

SR = 8000


def _write_track(folder, seed, seconds, vocal_gain=0.2):
    folder.mkdir(parents=True)
    rng = np.random.default_rng(seed)
    for name, gain in (("drums", 0.3), ("bass", 0.2), ("other", 0.1), ("vocals", vocal_gain)):
        sf.write(folder / f"{name}.wav", gain * rng.standard_normal((int(seconds * SR), 2)), SR)


def _write_song(folder, renderer, level):
    folder.mkdir(parents=True)
    line = np.zeros(3 * SR)
    line[SR : 2 * SR] = level * np.sin(2 * np.pi * 200 * np.arange(SR) / SR)  # the loud second
    line[: SR // 2] = 0.01 * level
    sf.write(folder / "vocals.wav", line, SR)  # mono: the hybrids get it on both channels
    tracks = [{"stem": "drums", "renderer": "tinysoundfont"}, {"stem": "vocals", "renderer": renderer}]
    (folder / "meta.json").write_text(json.dumps({"tracks": tracks}))


def test_hybrids_keep_the_real_accompaniment_and_take_the_chosen_vocal_lines(tmp_path):
    real, songs, out = tmp_path / "real", tmp_path / "songs", tmp_path / "out"
    _write_track(real / "a", 0, 1.0)
    _write_track(real / "b", 1, 1.0, vocal_gain=0.0)  # no vocals: the line at 0.7x other's RMS
    _write_song(songs / "s1", "speech", 0.5)
    _write_song(songs / "s2", "tinysoundfont", 0.9)   # not the speech voice: never used
    assert swap.main([str(real), str(songs), "--count", "2", "--out", str(out)]) == 0
    hybrids = sorted((out / "train").iterdir())
    assert len(hybrids) == 2
    for folder in hybrids:
        source = real / folder.name.split("_", 2)[2]
        stems = {p.stem: sf.read(p, dtype="float32")[0] for p in folder.glob("*.wav")}
        for name in ("drums", "bass", "other"):
            np.testing.assert_allclose(stems[name], sf.read(source / f"{name}.wav", dtype="float32")[0], atol=1e-6)
        np.testing.assert_allclose(stems["mixture"], sum(stems[s] for s in ("drums", "bass", "other", "vocals")),
                                   atol=1e-6)
        vocals = stems["vocals"]
        assert vocals.shape == stems["drums"].shape
        # the loud second of the speech line (a 200 Hz tone), not the tinysoundfont song's
        spectrum = np.abs(np.fft.rfft(vocals[:, 0]))
        assert abs(np.argmax(spectrum) * SR / len(vocals) - 200) < 2
        own = sf.read(source / "vocals.wav", dtype="float32")[0]
        target = swap.rms(own) or 0.7 * swap.rms(stems["other"])
        assert abs(swap.rms(vocals) / target - 1) < 1e-3


def test_nothing_to_swap_is_one_line_and_exit_2(tmp_path, capsys):
    _write_track(tmp_path / "real" / "a", 0, 1.0)
    (tmp_path / "songs").mkdir()
    assert swap.main([str(tmp_path / "real"), str(tmp_path / "songs"), "--out", str(tmp_path / "o")]) == 2
    assert capsys.readouterr().err.strip() == "vocal_swap: no vocal stems found"
