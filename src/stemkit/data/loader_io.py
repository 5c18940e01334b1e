"""Reading one *source* of a track: a file, or one audio stream of a multi-stream file.

A source is a path (``"song/vocals.wav"``) or a ``(path, stream_index)`` pair
(``("song.stem.mp4", 4)``). Files libsndfile reads (wav, flac, ogg, mp3, aiff) are read with
``soundfile`` and seek, so a chunk costs only its own samples. Everything else (``.stem.mp4``,
``.m4a``) is decoded whole once and kept in a per-process cache bounded in bytes, because AAC
streams cannot be seeked sample-exactly. A multi-stream file (``.stem.mp4``) is decoded by one
ffmpeg call that merges all its streams, since a track's chunk needs all of them anyway and one
process per stream costs five times the start-up.
"""

from __future__ import annotations

import os
import subprocess
import threading
from collections import OrderedDict
from pathlib import Path
from typing import Union

import numpy as np
import soundfile as sf

from stemkit.audio import read_audio
from stemkit.audio.ffmpeg import probe, require
from stemkit.audio.formats import SOUNDFILE_EXTENSIONS
from stemkit.errors import AudioReadError

PathLike = Union[str, "os.PathLike[str]"]
Source = Union[PathLike, tuple]

#: Bytes of decoded ffmpeg audio kept per process (env ``STEMKIT_DECODE_CACHE_MB``).
DEFAULT_CACHE_MB = 1024


def source_path(source: Source) -> Path:
    """The file behind a source."""
    return Path(source[0] if isinstance(source, tuple) else source)


def source_stream(source: Source) -> int | None:
    """The audio stream index of a source, or None for single-stream files."""
    return int(source[1]) if isinstance(source, tuple) else None


def describe(source: Source) -> str:
    """Human-readable name for messages: ``path`` or ``path#stream``."""
    stream = source_stream(source)
    return str(source_path(source)) + (f"#{stream}" if stream is not None else "")


def uses_soundfile(source: Source) -> bool:
    """True when libsndfile reads this source directly (with seeking)."""
    return source_stream(source) is None and source_path(source).suffix.lower() in SOUNDFILE_EXTENSIONS


def source_info(source: Source) -> tuple[int, int, int]:
    """``(frames, sample_rate, channels)`` without decoding the audio."""
    path = source_path(source)
    if not path.is_file():
        raise AudioReadError("file not found", path=str(path))
    if uses_soundfile(source):
        try:
            info = sf.info(str(path))
        except (RuntimeError, sf.LibsndfileError) as exc:
            raise AudioReadError(f"cannot read audio header ({exc})", path=str(path)) from None
        return int(info.frames), int(info.samplerate), int(info.channels)
    return _ffprobe_info(path, source_stream(source) or 0)


def read_source(source: Source, start: int = 0, frames: int | None = None) -> tuple[np.ndarray, int]:
    """Samples ``[start, start + frames)`` of a source as float32 ``(C, n)`` and its rate.

    Reading past the end returns fewer samples (the caller pads); ``frames=None`` reads to the end.
    """
    start = max(int(start), 0)
    if uses_soundfile(source):
        path = str(source_path(source))
        try:
            with sf.SoundFile(path) as f:
                if start >= f.frames:
                    return np.zeros((f.channels, 0), np.float32), f.samplerate
                f.seek(start)
                data = f.read(-1 if frames is None else int(frames), dtype="float32", always_2d=True)
                rate = f.samplerate
        except (RuntimeError, sf.LibsndfileError) as exc:
            raise AudioReadError(f"cannot decode audio ({exc})", path=path) from None
        if not np.isfinite(data).all():  # one NaN would poison a whole training run
            raise AudioReadError("contains NaN or Inf samples", path=path)
        return np.ascontiguousarray(data.T), rate
    audio, sr = _decoded(source)
    stop = None if frames is None else start + int(frames)
    return audio[:, start:stop], sr


# --------------------------------------------------------------------------------------------
# ffmpeg-decoded sources: whole-stream decode with a per-process LRU cache bounded in bytes.

_cache: "OrderedDict[tuple, tuple[np.ndarray, int]]" = OrderedDict()
_cache_lock = threading.Lock()


def _cache_limit_bytes() -> int:
    return int(float(os.environ.get("STEMKIT_DECODE_CACHE_MB", DEFAULT_CACHE_MB)) * 2**20)


def clear_decode_cache() -> None:
    """Forget every decoded stream held by this process."""
    with _cache_lock:
        _cache.clear()


def _decoded(source: Source) -> tuple[np.ndarray, int]:
    path = source_path(source)
    stream = source_stream(source) or 0
    try:
        stat = path.stat()
    except OSError:
        raise AudioReadError("file not found", path=str(path)) from None
    key = (str(path.resolve()), stream, stat.st_mtime_ns, stat.st_size)
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    audio, sr = _decode_stream(path, stream)
    audio.setflags(write=False)  # shared by every chunk read from the cache
    with _cache_lock:
        _cache[key] = (audio, sr)
        limit = _cache_limit_bytes()
        while len(_cache) > 1 and sum(a.nbytes for a, _ in _cache.values()) > limit:
            _cache.popitem(last=False)
    return audio, sr


def _decode_stream(path: Path, stream: int) -> tuple[np.ndarray, int]:
    """Decode audio stream ``stream`` of ``path`` whole: float32 ``(C, T)`` and its rate.

    Multi-stream files are decoded all at once and every stream is put in the cache.
    """
    streams = _probe(path)
    if not 0 <= stream < len(streams):
        raise AudioReadError(f"has {len(streams)} audio stream(s), asked for stream {stream}",
                             path=str(path))
    rates = {s["sample_rate"] for s in streams}
    if len(streams) == 1 or len(rates) != 1:
        audio, sr = read_audio(path, stream=stream)
        return np.ascontiguousarray(audio, dtype=np.float32), int(sr)
    decoded = _decode_all_streams(path, streams)
    stat = path.stat()
    with _cache_lock:
        for k, audio in enumerate(decoded):
            if k != stream:
                audio.setflags(write=False)
                _cache[(str(path.resolve()), k, stat.st_mtime_ns, stat.st_size)] = \
                    (audio, streams[k]["sample_rate"])
    return decoded[stream], streams[stream]["sample_rate"]


def _decode_all_streams(path: Path, streams: list[dict]) -> list[np.ndarray]:
    """Every audio stream of ``path`` (one rate) through one ffmpeg ``amerge``: ``[(C_k, T)]``."""
    inputs = "".join(f"[0:a:{k}]" for k in range(len(streams)))
    channels = [s["channels"] for s in streams]
    cmd = [require("ffmpeg", str(path)), "-nostdin", "-v", "error", "-i", str(path),
           "-filter_complex", f"{inputs}amerge=inputs={len(streams)}[all]", "-map", "[all]",
           "-f", "f32le", "-acodec", "pcm_f32le", "pipe:1"]
    proc = subprocess.run(cmd, capture_output=True)
    if proc.returncode != 0:
        lines = proc.stderr.decode(errors="replace").strip().splitlines()
        raise AudioReadError(f"ffmpeg cannot decode it ({lines[-1] if lines else 'unknown error'})",
                             path=str(path))
    merged = np.frombuffer(proc.stdout, dtype="<f4").reshape(-1, sum(channels)).T
    if merged.shape[1] == 0 or not np.isfinite(merged).all():
        raise AudioReadError("contains no audio samples or NaN/Inf samples", path=str(path))
    bounds = np.cumsum([0, *channels])
    return [np.ascontiguousarray(merged[a:b], dtype=np.float32)
            for a, b in zip(bounds[:-1], bounds[1:])]


_probe_cache: dict[tuple, list[dict]] = {}


def _probe(path: Path) -> list[dict]:
    """Audio streams of an ffmpeg-read file (cached per file version)."""
    stat = path.stat()
    key = (str(path.resolve()), stat.st_mtime_ns, stat.st_size)
    if key not in _probe_cache:
        _probe_cache[key] = probe(str(path))
    return _probe_cache[key]


def _ffprobe_info(path: Path, stream: int) -> tuple[int, int, int]:
    """``(frames, rate, channels)`` of one stream from ffprobe's duration (an estimate)."""
    streams = _probe(path)
    if not 0 <= stream < len(streams):
        raise AudioReadError(f"has {len(streams)} audio stream(s), asked for stream {stream}",
                             path=str(path))
    entry = streams[stream]
    return (int(round(entry["duration"] * entry["sample_rate"])), int(entry["sample_rate"]),
            int(entry["channels"]))
