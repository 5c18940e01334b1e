"""The running page driven with gradio_client: stems, karaoke, concurrency, refusals, file serving."""

from __future__ import annotations

import os
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import pytest
import soundfile as sf

pytest.importorskip("gradio")
gradio_client = pytest.importorskip("gradio_client")
from gradio_client import Client, handle_file  # noqa: E402
from gradio_client.exceptions import AppError  # noqa: E402

from .conftest import SLOW_MODEL, TEST_MODEL, classical_model, write_song  # noqa: E402


def separate(client, path, mode="All stems", fmt="WAV 16-bit", model=None):
    return client.predict(handle_file(str(path)), model or TEST_MODEL, mode, fmt, api_name="/separate")


def residual_db(path_in: Path, stem_files: list[str]) -> float:
    """Energy of (sum of stems - input) relative to the input, in dB."""
    mix, sr = sf.read(path_in, dtype="float64", always_2d=True)
    total = sum(sf.read(p, dtype="float64", always_2d=True)[0] for p in stem_files)
    assert total.shape == mix.shape
    return 10 * np.log10(np.sum((total - mix) ** 2) / np.sum(mix**2))


def test_stems_sum_to_the_upload(client, tmp_path):
    song = write_song(tmp_path / "song.wav", seconds=1.5)
    files, summary = separate(client, song, model=classical_model())
    assert summary["model"] == classical_model()
    stems, archive = files[:-1], files[-1]
    assert summary["stems"] == ["drums", "bass", "other", "vocals"]
    assert [Path(f).name for f in stems] == [f"song - {s}.wav" for s in summary["stems"]]
    assert summary["seconds"] == pytest.approx(1.5, abs=1e-3) and summary["sample_rate"] == 44100
    for f in stems:
        info = sf.info(f)
        assert (info.samplerate, info.channels, info.subtype) == (44100, 2, "PCM_16")
    assert residual_db(song, stems) < -60
    with zipfile.ZipFile(archive) as z:
        assert sorted(z.namelist()) == sorted(f"song/{s}.wav" for s in summary["stems"])
        assert z.read("song/vocals.wav") == Path(stems[3]).read_bytes()


def test_karaoke_mode_gives_vocals_and_the_rest(client, tmp_path):
    song = write_song(tmp_path / "mono take.flac", seconds=1.0, channels=1, seed=3)
    files, summary = separate(client, song, mode="Karaoke: vocals + no_vocals", fmt="FLAC 24-bit")
    assert summary["stems"] == ["vocals", "no_vocals"] and summary["channels"] == 1
    assert [Path(f).name for f in files] == ["mono take - vocals.flac", "mono take - no_vocals.flac",
                                             "mono take - stems.zip"]
    assert residual_db(song, files[:2]) < -60
    vocals = sf.read(files[0])[0]
    assert np.sum(vocals**2) > 0  # a real split, not silence plus everything


def test_eight_concurrent_clients_each_get_their_own_stems(server, tmp_path):
    songs = [write_song(tmp_path / f"client{i}.wav", seconds=1.0, seed=i) for i in range(8)]

    def one(song):  # a client per thread, as eight browsers would be
        c = Client(server.url, verbose=False, download_files=str(tmp_path / f"dl-{song.stem}"))
        return separate(c, song)

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(one, songs))
    for song, (files, summary) in zip(songs, results):
        assert summary["track"] == song.stem
        assert residual_db(song, files[:-1]) < -60  # another client's stems would not sum to this song
    assert len({summary["job"] for _, summary in results}) == 8


def test_oversize_upload_is_refused_before_it_is_stored(server, client, tmp_path):
    big = tmp_path / "long.wav"
    sf.write(big, np.zeros((600_000, 2), np.float32), 44100, subtype="PCM_16")  # 2.4 MB > 2 MB limit
    with pytest.raises(ValueError, match="exceeds the maximum file size of 2000000 bytes"):
        separate(client, big)  # gradio_client reads the page's limit and refuses up front
    before = set(server.root.path.rglob("long.wav"))
    with open(big, "rb") as f:  # a client that ignores the limit is stopped by the server
        r = httpx.post(f"{server.url}gradio_api/upload", files={"files": ("long.wav", f, "audio/wav")}, timeout=30)
    assert r.status_code == 413 and "maximum allowed size of 2000000 bytes" in r.text
    assert set(server.root.path.rglob("long.wav")) == before


def test_progress_is_reported_while_separating(client, tmp_path):
    song = write_song(tmp_path / "four.wav", seconds=4.0, seed=5)
    job = client.submit(handle_file(str(song)), SLOW_MODEL, "All stems", "WAV 16-bit", api_name="/separate")
    fractions = []
    while not job.done():
        status = job.status()
        for p in status.progress_data or []:
            if p.desc == "separating":
                fractions.append(p.progress)
        time.sleep(0.02)
    assert job.result()[1]["seconds"] == pytest.approx(4.0, abs=1e-3)
    assert fractions and fractions == sorted(fractions) and 0 <= fractions[0] < 0.9


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("notes.txt", b"hello, not audio at all", r"Invalid file type"),
        ("song.wav", b"<html><script>alert(1)</script></html>", r"song\.wav: not a WAV file"),
        ("song.mp3", None, r"song\.mp3: the name says MP3 but the contents are WAV"),
    ],
)
def test_non_audio_upload_is_refused_with_a_message(server, client, tmp_path, name, content, message):
    path = tmp_path / name
    if content is None:
        write_song(tmp_path / "real.wav", seconds=0.2)
        path.write_bytes((tmp_path / "real.wav").read_bytes())
    else:
        path.write_bytes(content)
    jobs_before = set(server.root.jobs.iterdir())
    with pytest.raises(AppError, match=message):
        separate(client, path)
    assert set(server.root.jobs.iterdir()) == jobs_before  # a refused upload leaves no job folder


def test_unknown_model_is_refused(client, tmp_path):
    song = write_song(tmp_path / "song.wav", seconds=0.2)
    with pytest.raises(AppError):
        separate(client, song, model="/etc")


def test_file_names_are_sanitised(client, tmp_path):
    song = write_song(tmp_path / "Café\x07 ☂\u202e  song.wav", seconds=0.3)
    files, summary = separate(client, song)
    assert summary["track"].startswith("Café") and "☂" in summary["track"]
    assert all(ord(ch) >= 32 and ch != "\u202e" for ch in summary["track"])
    assert Path(files[0]).name == f"{summary['track']} - drums.wav"


def test_serves_only_its_own_files(server):
    for target in ("/etc/passwd", str(Path(__file__).resolve())):
        r = httpx.get(f"{server.url}gradio_api/file={target}", timeout=10)
        assert r.status_code in (403, 404)
        assert b"root:" not in r.content and b"def test_" not in r.content
    assert server.page.allowed_paths == [str(server.root.jobs)]


def test_an_uploaded_html_file_is_never_served_as_a_page(server):
    r = httpx.post(f"{server.url}gradio_api/upload", timeout=10,
                   files={"files": ("x.html", b"<script>alert(document.cookie)</script>", "text/html")})
    assert r.status_code == 200
    stored = r.json()[0]
    assert server.root.contains(stored)
    served = httpx.get(f"{server.url}gradio_api/file={stored}", timeout=10)
    assert served.status_code == 200
    assert served.headers["content-disposition"].startswith("attachment")
    assert "text/html" not in served.headers["content-type"]


def test_a_busy_port_fails_with_one_line_and_leaves_nothing(server, tmp_path):
    from stemkit.errors import StemkitError
    from stemkit.web import ServeConfig, WebServer

    other = WebServer(ServeConfig(port=server.config.port, model=TEST_MODEL, temp_dir=str(tmp_path), quiet=True))
    with pytest.raises(StemkitError, match=f"cannot listen on 127.0.0.1:{server.config.port}"):
        other.start()
    assert list(tmp_path.iterdir()) == []
    assert os.environ["GRADIO_TEMP_DIR"] == str(server.root.path)  # the running server keeps its folder
