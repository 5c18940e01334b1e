"""Which files stemkit reads and writes, and how each output format is encoded."""

from __future__ import annotations

from dataclasses import dataclass

#: Read with soundfile (libsndfile).
SOUNDFILE_EXTENSIONS = (".wav", ".flac", ".ogg", ".oga", ".opus", ".mp3", ".aif", ".aiff", ".au")
#: Read through an ffmpeg subprocess (AAC and other containers libsndfile cannot open).
FFMPEG_EXTENSIONS = (".m4a", ".mp4", ".aac", ".wma", ".webm", ".mka", ".mkv", ".mov")
AUDIO_EXTENSIONS = SOUNDFILE_EXTENSIONS + FFMPEG_EXTENSIONS

MIN_RATE, MAX_RATE = 8000, 192000


@dataclass(frozen=True)
class OutputFormat:
    """An output encoding: file extension, soundfile format and subtype, whether it is integer-limited."""

    extension: str
    format: str
    subtype: str | None
    bounded: bool  # samples beyond [-1, 1] cannot be stored: rescale or clamp
    bitrate: int | None = None  # kbit/s, mp3 only

    @property
    def mp3_compression_level(self) -> float | None:
        """libsndfile maps compression level c to a CBR bitrate of about 320 - 288 c kbit/s."""
        if self.bitrate is None:
            return None
        return min(0.999, max(0.0, (320 - self.bitrate) / 288))


def output_format(kind: str = "wav16", *, mp3_bitrate: int = 320) -> OutputFormat:
    """``kind``: ``wav16`` (default, as Demucs), ``int24``, ``float32``, ``flac``, ``mp3``."""
    table = {
        "wav16": OutputFormat(".wav", "WAV", "PCM_16", True),
        "int24": OutputFormat(".wav", "WAV", "PCM_24", True),
        "float32": OutputFormat(".wav", "WAV", "FLOAT", False),
        "flac": OutputFormat(".flac", "FLAC", "PCM_24", True),
        "mp3": OutputFormat(".mp3", "MP3", "MPEG_LAYER_III", True, bitrate=mp3_bitrate),
    }
    if kind not in table:
        raise ValueError(f"unknown output format {kind!r}; one of {', '.join(table)}")
    if kind == "mp3" and not 32 <= mp3_bitrate <= 320:
        raise ValueError("mp3 bitrate must be between 32 and 320 kbit/s")
    return table[kind]


def format_for_path(path: str, subtype: str | None = None, bitrate: int | None = None) -> OutputFormat:
    """The output format implied by a file name (used by :func:`stemkit.audio.write_audio`)."""
    ext = path[path.rfind(".") :].lower() if "." in path else ""
    if ext == ".wav":
        sub = subtype or "FLOAT"
        return OutputFormat(".wav", "WAV", sub, sub != "FLOAT" and sub != "DOUBLE")
    if ext == ".flac":
        return OutputFormat(".flac", "FLAC", subtype or "PCM_24", True)
    if ext == ".mp3":
        return OutputFormat(".mp3", "MP3", "MPEG_LAYER_III", True, bitrate=bitrate or 320)
    if ext in (".ogg", ".oga"):
        return OutputFormat(ext, "OGG", "VORBIS", True)
    raise ValueError(f"cannot write {ext or 'extension-less'} files; use .wav, .flac, .mp3 or .ogg")
