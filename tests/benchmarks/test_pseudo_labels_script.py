"""benchmarks/pseudo_labels.py: unlabelled recordings -> a musdb_hq folder of a teacher's stems."""

import importlib.util
from pathlib import Path

import numpy as np
import soundfile as sf

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
spec = importlib.util.spec_from_file_location("pseudo_labels_script", BENCH / "pseudo_labels.py")
pseudo = importlib.util.module_from_spec(spec)
spec.loader.exec_module(pseudo)

SR = 22050


def _music(seconds, seed):
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * SR)) / SR
    tone = 0.3 * np.sin(2 * np.pi * 110 * t) + 0.1 * rng.standard_normal(len(t))
    return np.stack([tone, 0.8 * tone], 1).astype(np.float32)


def test_excerpts_are_labelled_by_the_teacher_and_sum_to_the_recording(tmp_path):
    music = tmp_path / "music"
    music.mkdir()
    sf.write(music / "a_song.wav", _music(3.0, 0), SR)
    sf.write(music / "b_short.wav", _music(0.5, 1), SR)            # shorter than an excerpt: skipped
    sf.write(music / "c_silent.flac", np.zeros((3 * SR, 2)), SR)    # below --silence-db: skipped
    sf.write(music / "d_mono.wav", _music(2.0, 2)[:, 0], SR)        # mono: both channels

    out = tmp_path / "pseudo"
    assert pseudo.main([str(music), "--teacher", "classical", "--excerpts", "3", "--seconds", "1",
                        "--out", str(out)]) == 0
    folders = sorted((out / "train").iterdir())
    assert len(folders) == 3 and {f.name.split("_")[0] for f in folders} == {"a", "d"}
    for folder in folders:
        stems = {p.stem: sf.read(p, dtype="float32")[0] for p in folder.glob("*.wav")}
        assert set(stems) == {"drums", "bass", "other", "vocals", "mixture"}
        total = sum(stems[s] for s in ("drums", "bass", "other", "vocals"))
        np.testing.assert_allclose(stems["mixture"], total, atol=1e-6)
        # the mixture is the cut of the recording (the classical teacher's stems sum back to it)
        name, start = folder.name.rsplit("_", 1)
        source, _ = sf.read(next(music.glob(name + ".*")), dtype="float32", always_2d=True)
        cut = np.repeat(source, 2, 1) if source.shape[1] == 1 else source
        np.testing.assert_allclose(stems["mixture"], cut[int(start): int(start) + SR], atol=1e-4)
    # a training folder as stemkit train reads it
    from stemkit.data.loader_layouts import find_musdb_hq_tracks

    tracks = find_musdb_hq_tracks(out, split="train", sources=("drums", "bass", "other", "vocals"))
    assert sorted(t.name for t in tracks) == [f.name for f in folders]


def test_an_empty_folder_or_an_unknown_teacher_is_one_line_and_exit_2(tmp_path, capsys):
    assert pseudo.main([str(tmp_path), "--out", str(tmp_path / "o")]) == 2
    assert "no audio files" in capsys.readouterr().err
    sf.write(tmp_path / "x.wav", _music(1.0, 0), SR)
    assert pseudo.main([str(tmp_path), "--teacher", "no_such_model", "--out", str(tmp_path / "o")]) == 2
    assert capsys.readouterr().err.count("\n") == 1
