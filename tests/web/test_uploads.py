"""Upload checks before decoding: size, extension, magic bytes, ffmpeg-only containers."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest
import soundfile as sf

from stemkit.web.uploads import UploadRejected, accepted_extensions, check_upload, sniff_container

EXTS = accepted_extensions(ffmpeg_available=True)


def tone(path, fmt=None, subtype=None):
    t = np.arange(8000) / 8000
    sf.write(path, (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), 8000, format=fmt, subtype=subtype)
    return path


@pytest.mark.parametrize(("name", "kind"), [("a.wav", "wav"), ("a.flac", "flac"), ("a.ogg", "ogg"), ("a.mp3", "mp3")])
def test_real_files_of_each_kind_pass(tmp_path, name, kind):
    path = tone(tmp_path / name)
    assert check_upload(path, name, max_bytes=10**6, extensions=EXTS) == kind


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="ffmpeg is not installed")
def test_m4a_passes_when_ffmpeg_is_installed(tmp_path):
    src = tone(tmp_path / "a.wav")
    out = tmp_path / "a.m4a"
    subprocess.run(["ffmpeg", "-v", "error", "-i", str(src), "-c:a", "aac", str(out)], check=True)
    assert check_upload(out, "a.m4a", max_bytes=10**6, extensions=EXTS) == "mp4"


def test_m4a_is_refused_without_ffmpeg(tmp_path):
    assert ".m4a" not in accepted_extensions(ffmpeg_available=False)
    path = tmp_path / "a.m4a"
    path.write_bytes(b"\x00\x00\x00\x20ftypM4A " + bytes(100))
    with pytest.raises(UploadRejected, match=r"a\.m4a: \.m4a files are not accepted; upload WAV, FLAC, MP3 or OGG"):
        check_upload(path, "a.m4a", max_bytes=10**6, extensions=accepted_extensions(ffmpeg_available=False))


def test_size_limit_is_checked_first(tmp_path):
    path = tmp_path / "big.wav"
    path.write_bytes(b"x" * 2001)  # not even audio: the size is what is reported
    with pytest.raises(UploadRejected, match=r"big\.wav: 0\.0 MB is larger than this server's upload limit of 0\.0 MB"):
        check_upload(path, "big.wav", max_bytes=2000, extensions=EXTS)


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("x.wav", b"<?php system($_GET['c']); ?>", r"x\.wav: not a WAV file \(its first bytes are 3c 3f 70 68\)"),
        ("x.exe", b"MZ\x90\x00", r"\.exe files are not accepted"),
        ("noext", b"RIFF\x00\x00\x00\x00WAVE", r"files without an extension are not accepted"),
        ("x.flac", b"OggS" + bytes(20), r"the name says FLAC but the contents are OGG"),
        ("x.mp3", b"\xff\xf1\x50\x80" + bytes(20), r"not an MP3 file"),  # AAC ADTS is not MP3
        ("empty.wav", b"", r"the file is empty"),
    ],
)
def test_refusals_name_the_problem(tmp_path, name, data, message):
    path = tmp_path / "upload.bin"
    path.write_bytes(data)
    with pytest.raises(UploadRejected, match=message) as info:
        check_upload(path, name, max_bytes=10**6, extensions=EXTS)
    assert str(tmp_path) not in str(info.value)  # messages never show server paths


def test_missing_upload_says_so(tmp_path):
    with pytest.raises(UploadRejected, match="expired"):
        check_upload(tmp_path / "gone.wav", "gone.wav", max_bytes=10, extensions=EXTS)


@pytest.mark.parametrize(
    ("head", "kind"),
    [
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", "wav"),
        (b"RF64\xff\xff\xff\xffWAVEds64", "wav"),
        (b"fLaC\x00\x00\x00\x22", "flac"),
        (b"OggS\x00\x02", "ogg"),
        (b"ID3\x04\x00\x00", "mp3"),
        (b"\xff\xfb\x90\x64", "mp3"),  # MPEG-1 layer III frame header
        (b"\xff\xf1\x50\x80", None),  # AAC ADTS: same sync bits, layer 00
        (b"\x00\x00\x00\x18ftypmp42", "mp4"),
        (b"RIFF\x24\x00\x00\x00AVI LIST", None),
        (b"", None),
    ],
)
def test_sniff_container(head, kind):
    assert sniff_container(head) == kind
