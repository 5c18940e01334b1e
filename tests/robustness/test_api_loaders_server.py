"""The same inputs through the Python API, the dataset loaders and the web service (without Gradio)."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import torch
from conftest import noise

from stemkit import Separator
from stemkit.errors import AudioReadError, ConfigError, StemkitError

MODEL = "robust_smooth"


# -- Python API ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("audio,message", [
    (np.zeros((2, 0), np.float32), "at least one sample"),
    (np.zeros((2, 3, 4), np.float32), "channels, samples"),
    (np.array([[0.1, np.nan, 0.2]], np.float32), "NaN or Inf"),
    (np.array([0.1, np.inf], np.float32), "NaN or Inf"),
])
def test_separate_refuses_bad_arrays(audio, message):
    with pytest.raises(AudioReadError, match=message):
        Separator(MODEL).separate(audio, 8000)


@pytest.mark.parametrize("rate", [0, -8000, 7999, 192001])
def test_separate_refuses_bad_rates(rate):
    with pytest.raises(AudioReadError, match="sample rate"):
        Separator(MODEL).separate(np.zeros((1, 100), np.float32), rate)


@pytest.mark.parametrize("content,message", [(b"", "empty file"), (b"\x00" * 500, "not a readable audio file")],
                         ids=["empty", "zeros"])
def test_separate_file_refuses_bad_files(tmp_path, content, message):
    path = tmp_path / "bad.flac"
    path.write_bytes(content)
    with pytest.raises(AudioReadError, match=message):
        Separator(MODEL).separate_file(path)


def test_absurd_float_levels_are_refused_not_turned_into_nan():
    # finite float32, but resampling and summing overflow: stems would be NaN
    x = (1e38 * np.clip(np.random.default_rng(0).standard_normal((2, 5000)), -3, 3)).astype(np.float32)
    with pytest.raises(AudioReadError, match="too extreme to separate"):
        Separator(MODEL).separate(x, 44100)


def test_a_model_that_returns_nan_is_a_bug_not_a_stem(monkeypatch):
    from robust_model import _Smooth

    monkeypatch.setattr(_Smooth, "forward", lambda self, mix: torch.full((*mix.shape[:1], 2, *mix.shape[1:]),
                                                                         float("nan")))
    with pytest.raises(RuntimeError, match="NaN or Inf stems from finite input"):
        Separator(MODEL).separate(np.ones((2, 100), np.float32) * 0.1, 8000)


def test_segment_shorter_than_a_sample_is_refused():
    with pytest.raises(StemkitError, match="shorter than one sample"):
        Separator(MODEL, segment=1e-5)
    assert Separator(MODEL, segment=1 / 8000).separate(np.ones((1, 5), np.float32), 8000)["low"].shape == (1, 5)


def test_separate_file_refuses_folders_and_missing_files(tmp_path):
    with pytest.raises(AudioReadError, match="is a folder"):
        Separator(MODEL).separate_file(tmp_path)
    with pytest.raises(AudioReadError, match="no such file"):
        Separator(MODEL).separate_file(tmp_path / "gone.wav")


def test_separate_to_files_refuses_to_overwrite_its_input(write, tmp_path):
    song = write("low.wav", noise(2000), subtype="FLOAT")
    before = song.read_bytes()
    with pytest.raises(StemkitError, match="overwrite the input"):
        Separator(MODEL).separate_to_files(song, song.parent)
    assert song.read_bytes() == before


def test_unreadable_message_does_not_claim_the_file_is_missing(tmp_path):
    # libsndfile says "File does not exist or is not a regular file" for garbage named .mp3
    path = tmp_path / "garbage.mp3"
    path.write_bytes(np.random.default_rng(5).bytes(4000))
    with pytest.raises(AudioReadError) as info:
        Separator(MODEL).separate_file(path)
    assert "does not exist" not in str(info.value) and "not a readable audio file" in str(info.value)


# -- dataset loaders ------------------------------------------------------------------------------------

def _musdb_hq(root, damage=None):
    for song in ("a", "b"):
        folder = root / "train" / song
        folder.mkdir(parents=True)
        for k, stem in enumerate(("mixture", "drums", "bass", "other", "vocals")):
            sf.write(folder / f"{stem}.wav", noise(4000, seed=k), 8000, subtype="FLOAT")
    if damage:
        damage(root / "train" / "b" / "vocals.wav")
    return root


def test_find_tracks_on_missing_and_empty_folders(tmp_path):
    from stemkit.data.tracks import find_tracks

    with pytest.raises(ConfigError, match="not found"):
        find_tracks(tmp_path / "nowhere")
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError):
        find_tracks(tmp_path / "empty")
    with pytest.raises(ConfigError, match="layout"):
        find_tracks(tmp_path / "empty", layout="itunes")


@pytest.mark.parametrize("damage,message", [
    (lambda p: p.write_bytes(b""), None),
    (lambda p: p.write_bytes(b"RIFF1234WAVEjunk" * 10), None),
    (lambda p: p.unlink(), None),
])
def test_a_broken_stem_fails_its_own_track_only(tmp_path, damage, message):
    from stemkit.data.tracks import find_tracks

    tracks = {t.name: t for t in find_tracks(_musdb_hq(tmp_path / "musdb", damage), layout="musdb_hq")}
    mix, stems, rate = tracks["a"].load()
    assert stems.shape == (4, 2, 4000) and rate == 8000
    if "b" not in tracks:  # a layout finder may drop an incomplete song; then it must not appear at all
        return
    try:
        mix, stems, _ = tracks["b"].load()
    except AudioReadError as exc:
        assert "vocals.wav" in str(exc) and "\n" not in str(exc)
    else:  # a missing stem is silence, by the loaders' convention
        assert not stems[3].any() and np.isfinite(stems).all()


def test_track_with_nan_samples_is_refused(tmp_path):
    from stemkit.data.tracks import find_tracks

    def poison(path):
        data = noise(4000)
        data[100, 0] = np.nan
        sf.write(path, data, 8000, subtype="FLOAT")

    tracks = {t.name: t for t in find_tracks(_musdb_hq(tmp_path / "musdb", poison), layout="musdb_hq")}
    try:
        _, stems, _ = tracks["b"].load()
    except AudioReadError as exc:
        assert "NaN" in str(exc)
    else:
        pytest.fail(f"NaN samples came through the loader (finite: {np.isfinite(stems).all()})")


# -- web service (the part Gradio calls; its HTTP behaviour is tested in tests/web) ------------------------

@pytest.fixture
def service(tmp_path):
    pytest.importorskip("gradio")
    from stemkit.web.app import PageSettings, SeparationService
    from stemkit.web.catalog import ModelCard
    from stemkit.web.janitor import TempRoot
    from stemkit.web.uploads import accepted_extensions

    root = TempRoot(tmp_path / "serve")
    card = ModelCard(MODEL, "classical", ("low", "high"), 8000)
    settings = PageSettings(cards={MODEL: card}, model_paths={MODEL: MODEL}, default_model=MODEL,
                            max_upload_bytes=200_000, extensions=accepted_extensions(), ttl_minutes=5)
    yield SeparationService(settings, root)
    root.remove()


@pytest.fixture
def decode_spy(monkeypatch):
    """Counts how often an audio decoder is opened by the web job."""
    import stemkit.web.jobs as jobs

    opened = []
    real = jobs.AudioReader

    def spy(path, *a, **k):
        opened.append(path)
        return real(path, *a, **k)

    monkeypatch.setattr(jobs, "AudioReader", spy)
    return opened


def _upload(service, name, data: bytes):
    folder = service.root.path / "upload-1"
    folder.mkdir(exist_ok=True)
    path = folder / name
    path.write_bytes(data)
    return path


def _wav_bytes(tmp_path, frames):
    path = tmp_path / "x.wav"
    sf.write(path, noise(frames, amplitude=0.1), 8000, subtype="PCM_16")
    return path.read_bytes()


@pytest.mark.parametrize("name,content,message", [
    ("big.wav", None, "upload limit"),
    ("lyrics.wav", b"la la la " * 100, "not a WAV file"),
    ("song.exe", b"MZ" + b"\x00" * 200, "not accepted"),
    ("sneaky.mp3", b"RIFF\x00\x00\x00\x00WAVEfmt " + b"\x00" * 100, "contents are WAV"),
])
def test_uploads_are_refused_before_any_decoder_runs(service, decode_spy, tmp_path, name, content, message):
    from stemkit.web.app import MODE_ALL
    from stemkit.web.uploads import UploadRejected

    data = content if content is not None else _wav_bytes(tmp_path, 60_000)  # 240 kB > 200 kB limit
    path = _upload(service, name, data)
    with pytest.raises(UploadRejected, match=message) as info:
        service.separate(str(path), MODEL, MODE_ALL, "WAV 16-bit")
    assert decode_spy == []
    assert str(service.root.path) not in str(info.value)  # messages never show server paths
    assert not [p for p in service.root.jobs.rglob("*") if p.is_file()]


def test_upload_outside_the_server_folder_is_refused(service, decode_spy, write):
    from stemkit.web.app import MODE_ALL
    from stemkit.web.uploads import UploadRejected

    outside = write("private.wav", noise(2000), subtype="PCM_16")
    for path in (outside, service.root.path / ".." / ".." / "in" / "private.wav"):
        with pytest.raises(UploadRejected, match="not uploaded to this server"):
            service.separate(str(path), MODEL, MODE_ALL, "WAV 16-bit")
    assert decode_spy == []


def test_symlinked_upload_pointing_outside_is_refused(service, decode_spy, write):
    from stemkit.web.app import MODE_ALL
    from stemkit.web.uploads import UploadRejected

    outside = write("private.wav", noise(2000), subtype="PCM_16")
    link = service.root.path / "upload-1" / "song.wav"
    link.parent.mkdir()
    link.symlink_to(outside)
    with pytest.raises(UploadRejected):
        service.separate(str(link), MODEL, MODE_ALL, "WAV 16-bit")
    assert decode_spy == []


@pytest.mark.parametrize("name", ["..%2F..%2Fevil.wav", "..\\..\\evil.wav", "CON.wav", "\u202eevil\u202dwav.wav",
                                  ".hidden.wav", "new\nline.wav"])
def test_hostile_upload_names_give_stems_inside_the_job_folder(service, tmp_path, name):
    from stemkit.web.app import MODE_ALL

    try:
        path = _upload(service, name, _wav_bytes(tmp_path, 2000))
    except OSError:
        pytest.skip("this file system refuses the name itself")
    result = service.separate(str(path), MODEL, MODE_ALL, "WAV 16-bit")
    files = [result.archive, *result.stems.values()]
    for f in files:
        assert f.resolve().parent == result.folder.resolve() and f.is_file()
        assert not f.name.startswith(".") and "\n" not in f.name and "\u202e" not in f.name
        assert len(f.name.encode()) < 200
    mix, _ = sf.read(path, dtype="float32")
    total = sum(sf.read(p, dtype="float32")[0] for p in result.stems.values())
    np.testing.assert_allclose(total, mix, atol=3e-4)  # two 16-bit roundings


def test_long_upload_name_is_accepted(service, tmp_path):
    from stemkit.web.app import MODE_ALL

    path = _upload(service, "a" * 240 + ".wav", _wav_bytes(tmp_path, 2000))
    result = service.separate(str(path), MODEL, MODE_ALL, "WAV 16-bit")
    assert all(len(f.name.encode()) < 200 for f in result.stems.values())
