"""Reading audio, whole or block by block, with every failure turned into one clear message."""

from __future__ import annotations

import os
import re
import sys
import threading
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

import numpy as np
import soundfile as sf

from ..errors import AudioReadError
from . import ffmpeg
from .formats import FFMPEG_EXTENSIONS, MAX_RATE, MIN_RATE


@dataclass(frozen=True)
class AudioInfo:
    path: str
    sample_rate: int
    channels: int
    frames: int | None  # None when only an estimate is known (ffmpeg containers)
    duration: float
    backend: str  # "soundfile" or "ffmpeg"
    stream: int = 0


@contextmanager
def _quiet_decoder():
    """Silence what libsndfile's MP3 decoder (libmpg123) prints straight to fd 2 on damaged frames
    ("Note: Illegal Audio-MPEG-Header..."), so a bad file gets stemkit's one line and nothing else.

    Only on the main thread: fd 2 is process-wide, and a server's worker threads must not silence
    each other's messages; the command line reads in its main thread.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (OSError, ValueError, AttributeError):  # no usable fd 2 (embedded interpreters)
        yield
        return
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 2)
        os.close(devnull)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)


def _check_file(path: str) -> None:
    p = Path(path)
    if not p.exists():
        raise AudioReadError("no such file", path=path)
    if p.is_dir():
        raise AudioReadError("is a folder, not an audio file", path=path)
    if not os.access(p, os.R_OK):
        raise AudioReadError("not readable (permission denied)", path=path)
    if p.stat().st_size == 0:
        raise AudioReadError("empty file", path=path)


def audio_info(path: str | os.PathLike, *, stream: int | None = None) -> AudioInfo:
    """Facts about an audio file without decoding it."""
    path = str(path)
    _check_file(path)
    use_ffmpeg = stream is not None or Path(path).suffix.lower() in FFMPEG_EXTENSIONS
    streams = None
    if not use_ffmpeg:
        try:
            with _quiet_decoder():
                info = sf.info(path)
            result = AudioInfo(path, int(info.samplerate), int(info.channels), int(info.frames),
                               float(info.frames) / max(info.samplerate, 1), "soundfile")
        except (sf.LibsndfileError, RuntimeError, TypeError) as exc:
            # libsndfile may not know the container; ffmpeg might (if installed).
            not_audio = AudioReadError(f"not a readable audio file ({_short(exc)})", path=path)
            if ffmpeg.shutil.which("ffprobe") is None:
                raise not_audio from None
            try:
                streams = ffmpeg.probe(path)
            except AudioReadError:
                raise not_audio from None
            if not any(s["channels"] > 0 and s["sample_rate"] > 0 for s in streams):
                raise not_audio from None  # ffprobe guessed a raw format with no real audio stream
            use_ffmpeg = True
    if use_ffmpeg:
        streams = streams or ffmpeg.probe(path)
        k = stream or 0
        if not 0 <= k < len(streams):
            raise AudioReadError(f"has {len(streams)} audio stream(s), asked for stream {k}", path=path)
        s = streams[k]
        result = AudioInfo(path, s["sample_rate"], s["channels"], None, s["duration"], "ffmpeg", k)
    if result.channels < 1:
        raise AudioReadError("has no audio channels", path=path)
    if not MIN_RATE <= result.sample_rate <= MAX_RATE:
        raise AudioReadError(
            f"sample rate {result.sample_rate} Hz is outside the supported {MIN_RATE}-{MAX_RATE} Hz",
            path=path,
        )
    if result.frames == 0:
        raise AudioReadError("contains no audio samples", path=path)
    return result


def _short(exc: Exception) -> str:
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else exc.__class__.__name__
    text = re.sub(r"^Error opening (?:'.*?'|\S+): ", "", text).strip()  # the path is said once already
    if "does not exist or is not a regular file" in text:  # libsndfile's words for undecodable data
        return "unrecognised format or corrupt data"
    if "SF_INFO struct incomplete" in text:  # its words for a header with a zero or absurd rate
        return "invalid header: sample rate or format fields"
    return text[:200]


class AudioReader:
    """Streams an audio file as float32 blocks ``(C, n)`` at its own sample rate.

    Blocks are checked as they arrive: NaN or Inf samples raise :class:`AudioReadError`, and a
    file that yields no samples at all raises too, so callers never see invalid audio.
    """

    def __init__(self, path: str | os.PathLike, *, stream: int | None = None):
        self.info = audio_info(path, stream=stream)
        self.path = self.info.path

    @property
    def sample_rate(self) -> int:
        return self.info.sample_rate

    @property
    def channels(self) -> int:
        return self.info.channels

    def blocks(self, blocksize: int = 65536) -> Iterator[np.ndarray]:
        total = 0
        for block in self._raw_blocks(blocksize):
            if block.shape[1] == 0:
                continue
            if not np.isfinite(block).all():
                raise AudioReadError("contains NaN or Inf samples", path=self.path)
            total += block.shape[1]
            yield block
        if total == 0:
            raise AudioReadError("contains no audio samples (empty or truncated)", path=self.path)

    def _raw_blocks(self, blocksize: int) -> Iterator[np.ndarray]:
        if self.info.backend == "ffmpeg":
            yield from ffmpeg.decode_blocks(self.path, self.info.stream, self.channels, blocksize)
            return
        try:
            with _quiet_decoder():
                f = sf.SoundFile(self.path)
            with f:
                while True:
                    with _quiet_decoder():
                        data = f.read(blocksize, dtype="float32", always_2d=True)
                    if len(data) == 0:
                        break
                    yield np.ascontiguousarray(data.T)
        except sf.LibsndfileError as exc:
            raise AudioReadError(f"truncated or corrupt audio ({_short(exc)})", path=self.path) from None

    def read(self) -> np.ndarray:
        """The whole file as ``(C, T)`` float32."""
        return np.concatenate(list(self.blocks()), axis=1)


def read_audio(
    path: str | os.PathLike,
    *,
    sample_rate: int | None = None,
    channels: int | None = None,
    stream: int | None = None,
) -> tuple[np.ndarray, int]:
    """Read a whole file as ``(C, T)`` float32 and its rate.

    ``sample_rate`` resamples (band-limited, soxr); ``channels`` = 1 averages to mono, 2 duplicates
    mono or downmixes more channels; ``stream`` picks an audio stream (``.stem.mp4``: 0 = mixture).
    """
    from .channels import adapt_channels
    from .resample import resample

    reader = AudioReader(path, stream=stream)
    audio = reader.read()
    rate = reader.sample_rate
    if channels is not None:
        audio = adapt_channels(audio, channels)
    if sample_rate is not None and sample_rate != rate:
        audio = resample(audio, rate, sample_rate)
        rate = sample_rate
    return audio, rate
