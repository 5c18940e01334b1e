"""find_tracks on a tiny fixture of every layout, and layout detection."""

from __future__ import annotations

import numpy as np
import pytest
import yaml

from stemkit.data.tracks import find_tracks
from stemkit.errors import ConfigError

from .conftest import SOURCES, SR, make_stem_mp4, song_stems, write, write_song


def test_musdb_hq_splits_and_auto_detection(musdb_hq):
    tracks = find_tracks(musdb_hq)
    assert [t.name for t in tracks] == ["Song 1", "Song 2", "Song 3"]
    assert {t.meta["layout"] for t in tracks} == {"musdb_hq"}
    assert [t.name for t in find_tracks(musdb_hq, split="test")] == ["Song 3"]
    # pointing at the split folder itself works too
    assert [t.name for t in find_tracks(musdb_hq / "train", layout="musdb_hq")] == ["Song 1", "Song 2"]
    mix, stems, sr = tracks[0].load()
    expected = song_stems(1)
    assert sr == SR and stems.shape == (4, 2, SR) and mix.shape == (2, SR)
    for i, name in enumerate(SOURCES):
        np.testing.assert_allclose(stems[i], expected[name], atol=1e-7)
    np.testing.assert_allclose(mix, sum(expected.values()), atol=1e-6)


def test_musdb_official_validation_subset_of_train(musdb_hq):
    write_song(musdb_hq / "train" / "ANiMAL - Rockshow", song_stems(9))
    assert [t.name for t in find_tracks(musdb_hq, split="valid")] == ["ANiMAL - Rockshow"]
    # train stays the whole folder: configs and the real split filter it by name
    assert len(find_tracks(musdb_hq, split="train")) == 3
    write_song(musdb_hq / "valid" / "Song 9", song_stems(9))  # an own valid folder wins
    assert [t.name for t in find_tracks(musdb_hq, split="valid")] == ["Song 9"]


def test_missing_split_and_empty_folder_are_config_errors(musdb_hq, tmp_path):
    with pytest.raises(ConfigError, match="valid"):
        find_tracks(musdb_hq, split="valid")  # none of the official validation tracks here
    with pytest.raises(ConfigError, match="extra"):
        find_tracks(musdb_hq, split="extra")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="no dataset found"):
        find_tracks(tmp_path / "empty")
    with pytest.raises(ConfigError, match="not found"):
        find_tracks(tmp_path / "nowhere")
    with pytest.raises(ConfigError, match="unknown dataset layout"):
        find_tracks(musdb_hq, layout="musdb19")


def test_musdb_stem_mp4_streams_in_order(tmp_path):
    root = tmp_path / "musdb18"
    stems = {1: song_stems(1), 2: song_stems(2)}
    for seed, song in stems.items():
        make_stem_mp4(root / "train" / f"Artist - Song {seed}.stem.mp4", song)
    tracks = find_tracks(root)
    assert [t.name for t in tracks] == ["Artist - Song 1", "Artist - Song 2"]
    assert tracks[0].meta["layout"] == "musdb" and tracks[0].meta["split"] == "train"
    assert tracks[0].duration == pytest.approx(1.0, abs=0.01)
    mix, got, sr = tracks[1].load()
    assert sr == SR and got.shape[:2] == (4, 2)
    for i, name in enumerate(SOURCES):
        np.testing.assert_allclose(got[i, :, :SR], stems[2][name], atol=1e-4)
    np.testing.assert_allclose(mix[:, :SR], sum(stems[2].values()), atol=1e-4)


def test_dsd100_split_names(tmp_path):
    root = tmp_path / "DSD100"
    for folder, seed in (("Dev", 1), ("Test", 2)):
        song = song_stems(seed)
        write_song(root / "Sources" / folder / f"00{seed} - Song", song, mixture=False)
        write(root / "Mixtures" / folder / f"00{seed} - Song" / "mixture.wav",
              0.5 * np.sum(list(song.values()), axis=0))
    tracks = find_tracks(root)
    assert [t.meta["split"] for t in tracks] == ["dev", "test"]
    train = find_tracks(root, split="train")
    assert [t.name for t in train] == ["001 - Song"] and train[0].meta["layout"] == "dsd100"
    mix, stems, _ = train[0].load()
    # the mixture file is used when present (here deliberately half the stem sum)
    np.testing.assert_allclose(mix, 0.5 * stems.sum(0), atol=1e-6)
    with pytest.raises(ConfigError, match="dev"):
        find_tracks(root, split="valid")


def test_medleydb_instruments_are_grouped_into_targets(tmp_path):
    song = tmp_path / "MedleyDB" / "Audio" / "Band_Tune"
    stems_dir = song / "Band_Tune_STEMS"
    rng = np.random.default_rng(0)
    labels = {"S01": "drum set", "S02": "electric bass", "S03": "female singer",
              "S04": "male singer", "S05": "piano", "S06": ["tambourine"]}
    audio = {}
    for key, label in labels.items():
        audio[key] = (0.1 * rng.standard_normal((2, SR))).astype(np.float32)
        write(stems_dir / f"Band_Tune_STEM_{key[1:]}.wav", audio[key])
    meta = {"artist": "Band", "mix_filename": "Band_Tune_MIX.wav", "stem_dir": "Band_Tune_STEMS",
            "stems": {k: {"filename": f"Band_Tune_STEM_{k[1:]}.wav", "instrument": v}
                      for k, v in labels.items()}}
    (song / "Band_Tune_METADATA.yaml").write_text(yaml.safe_dump(meta))
    tracks = find_tracks(tmp_path / "MedleyDB")
    assert len(tracks) == 1 and tracks[0].meta["layout"] == "medleydb"
    mix, stems, _ = tracks[0].load()
    np.testing.assert_allclose(stems[0], audio["S01"] + audio["S06"], atol=1e-6)  # drums
    np.testing.assert_allclose(stems[1], audio["S02"], atol=1e-6)  # bass
    np.testing.assert_allclose(stems[2], audio["S05"], atol=1e-6)  # other: piano
    np.testing.assert_allclose(stems[3], audio["S03"] + audio["S04"], atol=1e-6)  # vocals
    np.testing.assert_allclose(mix, stems.sum(0), atol=1e-5)  # sum of stems, not the MIX file


def test_folder_layout_name_patterns_and_unmatched_go_to_other(tmp_path):
    root = tmp_path / "mystems"
    song = song_stems(4)
    extra = (0.1 * np.ones((2, SR))).astype(np.float32)
    write(root / "take1" / "Lead_Vox.flac", song["vocals"])
    write(root / "take1" / "voice2.flac", song["vocals"])
    write(root / "take1" / "kick.flac", song["drums"])
    write(root / "take1" / "bass.flac", song["bass"])
    write(root / "take1" / "synth.flac", extra)
    tracks = find_tracks(root, layout="folder", names={"vocals": ["*vox", "voice*"]})
    assert len(tracks) == 1 and tracks[0].meta["unmatched"] == ["synth.flac"]
    mix, stems, _ = tracks[0].load()
    np.testing.assert_allclose(stems[3], 2 * song["vocals"], atol=1e-4)  # both vocal files summed
    np.testing.assert_allclose(stems[0], song["drums"], atol=1e-4)  # kick -> drums by default
    np.testing.assert_allclose(stems[2], extra, atol=1e-4)  # unmatched -> other
    np.testing.assert_allclose(mix, stems.sum(0), atol=1e-4)
    # auto-detection: arbitrary names are the folder layout
    assert find_tracks(root)[0].meta["layout"] == "folder"
    with pytest.raises(ConfigError, match="pattern"):
        find_tracks(root, layout="folder", names={"vocals": [3]})


def test_a_single_song_folder_is_one_track(musdb_hq):
    tracks = find_tracks(musdb_hq / "train" / "Song 2")
    assert [t.name for t in tracks] == ["Song 2"] and tracks[0].meta["layout"] == "musdb_hq"


def test_real_flac_song_folder(real_track):
    track = find_tracks(real_track)[0]
    mix, stems, sr = track.load()
    assert sr == 44100 and stems.shape == (4, 2, mix.shape[1])
    assert 10 * np.log10(np.sum((mix - stems.sum(0)) ** 2) / np.sum(mix ** 2)) < -25


def test_export_stem_mp4_to_musdb_hq_folders_and_resume(tmp_path):
    from stemkit.data.loader_export import export_tracks

    root = tmp_path / "musdb18"
    song = song_stems(6)
    make_stem_mp4(root / "test" / "Band - Tune.stem.mp4", song)
    source = find_tracks(root)
    out = tmp_path / "hq"
    folders = export_tracks(source, out, quiet=True)
    assert folders == [out / "test" / "Band - Tune"]
    exported = find_tracks(out, split="test")
    assert exported[0].meta["layout"] == "musdb_hq"
    mix_a, stems_a, _ = source[0].load()
    mix_b, stems_b, _ = exported[0].load()
    np.testing.assert_array_equal(stems_a, stems_b)
    np.testing.assert_array_equal(mix_a, mix_b)
    stamp = (folders[0] / "vocals.wav").stat().st_mtime_ns
    export_tracks(source, out, quiet=True)  # complete folders are skipped
    assert (folders[0] / "vocals.wav").stat().st_mtime_ns == stamp
    with pytest.raises(ConfigError, match="overwrite the input"):
        export_tracks(exported, out, quiet=True)
    with pytest.raises(ConfigError, match="subtype"):
        export_tracks(source, out, subtype="PCM_8")
