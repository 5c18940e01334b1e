"""Checks an upload passes before any decoder sees it: size, extension and magic bytes."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from ..errors import StemkitError

#: Extension -> container family the file's first bytes must show.
EXTENSION_KINDS = {
    ".wav": "wav", ".flac": "flac", ".mp3": "mp3", ".ogg": "ogg", ".oga": "ogg", ".opus": "ogg",
    ".m4a": "mp4", ".mp4": "mp4",
}
#: Containers decoded through ffmpeg (accepted only where ffmpeg is installed).
FFMPEG_KINDS = {"mp4"}
KIND_NAMES = {"wav": "WAV", "flac": "FLAC", "mp3": "MP3", "ogg": "OGG", "mp4": "M4A/MP4"}
_ARTICLES = {"wav": "a", "flac": "a", "mp3": "an", "ogg": "an", "mp4": "an"}


class UploadRejected(StemkitError):
    """An upload refused before decoding: too large, wrong extension, or not the audio it claims."""

    exit_code = 3


def sniff_container(head: bytes) -> str | None:
    """The audio container ``head`` (a file's first bytes, 12 or more) starts, or None.

    RIFF/RIFX/RF64 ``WAVE``, ``fLaC``, ``OggS``, ``ftyp`` at offset 4 (MP4/M4A), and MP3 as an
    ``ID3`` tag or a bare MPEG audio frame header (11 sync bits, a valid version and a layer;
    AAC ADTS shares the sync bits but has layer 00, so it is not taken for MP3).
    """
    if head[:4] in (b"RIFF", b"RIFX", b"RF64") and head[8:12] == b"WAVE":
        return "wav"
    if head[:4] == b"fLaC":
        return "flac"
    if head[:4] == b"OggS":
        return "ogg"
    if head[4:8] == b"ftyp":
        return "mp4"
    if head[:3] == b"ID3":
        return "mp3"
    if len(head) >= 2 and head[0] == 0xFF and head[1] & 0xE0 == 0xE0:
        version, layer = (head[1] >> 3) & 0b11, (head[1] >> 1) & 0b11
        if version != 0b01 and layer != 0b00:
            return "mp3"
    return None


def accepted_extensions(ffmpeg_available: bool | None = None) -> list[str]:
    """Extensions the page accepts here; M4A/MP4 only when ffmpeg can decode them."""
    if ffmpeg_available is None:
        ffmpeg_available = shutil.which("ffmpeg") is not None
    return [ext for ext, kind in EXTENSION_KINDS.items() if ffmpeg_available or kind not in FFMPEG_KINDS]


def describe_accepted(extensions: list[str]) -> str:
    kinds = []
    for ext in extensions:
        name = KIND_NAMES[EXTENSION_KINDS[ext]]
        if name not in kinds:
            kinds.append(name)
    return ", ".join(kinds[:-1]) + " or " + kinds[-1] if len(kinds) > 1 else kinds[0]


def check_upload(path: str | os.PathLike, display_name: str, *, max_bytes: int,
                 extensions: list[str]) -> str:
    """Raise :class:`UploadRejected` unless ``path`` may be decoded; returns its container kind.

    ``display_name`` is what messages call the file (never a server path). Nothing is decoded:
    only the size and the first 12 bytes are read.
    """
    path = Path(path)
    try:
        size = path.stat().st_size
    except OSError:
        raise UploadRejected("the upload is gone (it may have expired); please upload it again",
                             path=display_name) from None
    if size > max_bytes:
        raise UploadRejected(f"{_megabytes(size)} is larger than this server's upload limit of "
                             f"{_megabytes(max_bytes)}", path=display_name)
    if size == 0:
        raise UploadRejected("the file is empty", path=display_name)
    ext = _extension(display_name)
    accepted = describe_accepted(extensions)
    if ext not in extensions:
        what = f"{ext} files are" if ext else "files without an extension are"
        raise UploadRejected(f"{what} not accepted; upload {accepted}", path=display_name)
    with open(path, "rb") as f:
        head = f.read(12)
    kind, expected = sniff_container(head), EXTENSION_KINDS[ext]
    if kind is None:
        raise UploadRejected(f"not {_ARTICLES[expected]} {KIND_NAMES[expected]} file (its first bytes are "
                             f"{head[:4].hex(' ')}); upload {accepted}", path=display_name)
    if kind != expected:
        raise UploadRejected(f"the name says {KIND_NAMES[expected]} but the contents are "
                             f"{KIND_NAMES[kind]}; rename it and upload again", path=display_name)
    return kind


def _extension(name: str) -> str:
    lower = name.lower()
    dot = lower.rfind(".")
    return lower[dot:] if dot > 0 else ""


def _megabytes(n: int) -> str:
    return f"{n / 1e6:.1f} MB" if n < 1e7 else f"{n / 1e6:.0f} MB"
