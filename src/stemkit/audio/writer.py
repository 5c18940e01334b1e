"""Writing audio atomically, whole or block by block, without ever clipping silently.

Blocks go to a float32 temp file beside the target while the peak is tracked; ``close()`` then
encodes the target format in a second streamed pass (rescaling or clamping if the format is
integer-limited and the peak exceeds full scale, with a warning) and renames the result into
place. A failure at any point leaves no file at the target path.
"""

from __future__ import annotations

import errno
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np
import soundfile as sf

from ..errors import AudioWriteError
from .formats import OutputFormat, format_for_path

CLIP_MODES = ("rescale", "clamp")
_BLOCK = 1 << 16


def _umask_mode() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return 0o666 & ~mask


def _write_error(path: Path, exc: BaseException) -> AudioWriteError:
    if isinstance(exc, OSError):
        if exc.errno == errno.ENOSPC:
            return AudioWriteError("no space left on device", path=str(path))
        if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
            return AudioWriteError("cannot write here (permission denied or read-only)", path=str(path))
        return AudioWriteError(f"cannot write ({exc.strerror or exc})", path=str(path))
    return AudioWriteError(f"cannot write ({exc})", path=str(path))


class AudioWriter:
    """Incremental atomic writer: ``write((C, n))`` blocks, then ``close()`` (or ``abort()``).

    ``clip``: ``"rescale"`` scales the whole file down to full scale when its peak exceeds 1,
    ``"clamp"`` clips the samples beyond it; both warn. Float WAV keeps values as they are.
    """

    def __init__(self, path, sample_rate: int, channels: int, fmt: OutputFormat | None = None,
                 *, clip: str = "rescale"):
        if clip not in CLIP_MODES:
            raise ValueError(f"clip must be one of {CLIP_MODES}")
        self.path = Path(path)
        self.fmt = fmt or format_for_path(str(self.path))
        self.sample_rate, self.channels, self.clip = int(sample_rate), int(channels), clip
        self.peak = 0.0
        self.frames = 0
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=f".{self.path.stem}.", suffix=".part.wav",
                                       dir=self.path.parent)
            os.close(fd)
            self._tmp = Path(tmp)
            self._file = sf.SoundFile(tmp, "w", self.sample_rate, self.channels, subtype="FLOAT",
                                      format="WAV")
        except (OSError, sf.LibsndfileError) as exc:
            if hasattr(self, "_tmp"):
                self._tmp.unlink(missing_ok=True)
            raise _write_error(self.path, exc) from None

    def write(self, block: np.ndarray) -> None:
        """Append ``block (C, n)`` float32."""
        if block.shape[0] != self.channels:
            raise ValueError(f"expected {self.channels} channels, got {block.shape[0]}")
        if block.shape[1] == 0:
            return
        self.peak = max(self.peak, float(np.abs(block).max()))
        try:
            self._file.write(np.ascontiguousarray(block.T, dtype=np.float32))
        except (OSError, sf.LibsndfileError, RuntimeError) as exc:
            self.abort()
            raise _write_error(self.path, exc) from None
        self.frames += block.shape[1]

    def close(self) -> Path:
        """Encode into the target format and move it into place; returns the path."""
        self._file.close()
        final_tmp = None
        try:
            if not self.fmt.bounded and self.fmt.format == "WAV" and self.fmt.subtype == "FLOAT":
                os.chmod(self._tmp, _umask_mode())  # mkstemp makes 0600 files; stems are ordinary files
                os.replace(self._tmp, self.path)
                return self.path
            gain = 1.0
            if self.peak > 1.0:
                if self.clip == "rescale":
                    gain = 1.0 / self.peak
                    warnings.warn(f"{self.path.name}: peak {self.peak:.2f} exceeds full scale; "
                                  f"rescaled by {20 * np.log10(gain):.1f} dB (use --clip-mode clamp "
                                  "or --float32 to keep levels)")
                else:
                    warnings.warn(f"{self.path.name}: peak {self.peak:.2f} exceeds full scale; "
                                  "samples clamped (use --float32 to keep them)")
            fd, final_tmp = tempfile.mkstemp(prefix=f".{self.path.stem}.", suffix=".part" + self.fmt.extension,
                                             dir=self.path.parent)
            os.close(fd)
            extra = {}
            if self.fmt.bitrate is not None:
                extra = {"compression_level": self.fmt.mp3_compression_level, "bitrate_mode": "CONSTANT"}
            with sf.SoundFile(self._tmp) as src, sf.SoundFile(
                final_tmp, "w", self.sample_rate, self.channels, subtype=self.fmt.subtype,
                format=self.fmt.format, **extra
            ) as dst:
                for block in src.blocks(_BLOCK, dtype="float32", always_2d=True):
                    dst.write(np.clip(block * gain, -1.0, 1.0) if self.fmt.bounded else block)
            os.chmod(final_tmp, _umask_mode())
            os.replace(final_tmp, self.path)
            return self.path
        except (OSError, sf.LibsndfileError, RuntimeError) as exc:
            if final_tmp:
                Path(final_tmp).unlink(missing_ok=True)
            raise _write_error(self.path, exc) from None
        finally:
            self._tmp.unlink(missing_ok=True)

    def abort(self) -> None:
        """Drop everything written so far; the target path is left untouched."""
        try:
            self._file.close()
        except Exception:
            pass
        self._tmp.unlink(missing_ok=True)

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.close()
        else:
            self.abort()


def write_audio(path, data: np.ndarray, sample_rate: int, *, subtype: str | None = None,
                clip: str = "rescale", bitrate: int | None = None,
                fmt: OutputFormat | None = None) -> Path:
    """Write ``data (C, T)`` atomically; the format follows the extension (``subtype`` for wav/flac)."""
    data = np.asarray(data, dtype=np.float32)
    if data.ndim == 1:
        data = data[None]
    fmt = fmt or format_for_path(str(path), subtype, bitrate)
    with AudioWriter(path, sample_rate, data.shape[0], fmt, clip=clip) as w:
        for i in range(0, data.shape[1], _BLOCK):
            w.write(data[:, i : i + _BLOCK])
    return Path(path)
