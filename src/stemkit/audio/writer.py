"""Writing audio atomically, whole or block by block, without ever clipping silently.

Blocks are encoded straight into a temp file of the target format beside the target, while the
peak is tracked; ``close()`` renames it into place. A failure at any point leaves no file at the
target path. Integer formats cannot hold samples beyond full scale:

- ``clip="clamp"`` clips them block by block (one pass, a warning at the end);
- ``clip="rescale"`` scales the whole file down, which needs the peak of the whole file: while
  every sample is within full scale the blocks go straight to the target format (one pass: the
  usual case); at the first block beyond it the writer *spills*: what was written so far is
  decoded into a float32 temp file, the rest follows as float, and ``close()`` encodes the target
  in a second streamed pass with the gain ``1 / peak``. Samples before the spill were quantised
  once already, so they may differ from a direct float rescale by one step of the format (16 bit:
  -96 dBFS). Lossy formats (mp3, ogg) in rescale mode always take the float temp file (decoding
  and re-encoding them would add a second generation of coding loss).

16-bit PCM is converted by numpy when that gives libsndfile's own numbers (checked once per
process and format on a probe signal), about four times faster than libsndfile's conversion; the
bytes of the file are the same either way.
"""

from __future__ import annotations

import errno
import io
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
#: Formats whose encoding loses information: never decoded and encoded again.
LOSSY_FORMATS = ("MP3", "OGG")

_PCM16_MATCHES: dict[str, bool] = {}


def float_to_pcm16(block: np.ndarray) -> np.ndarray:
    """float32 samples -> int16 as libsndfile 1.2 converts them (scale by 2^31, round half to even,
    keep the top 16 bits: ``floor(rint(x * 2^31) / 2^16)``), clipping beyond full scale. Any shape.

    Every step is exact in float32 (power-of-two scalings of integers below 2^31), so this is
    libsndfile's integer arithmetic without integer temporaries."""
    scaled = np.empty(block.shape, np.float32)
    with np.errstate(over="ignore"):  # beyond +-2^97: inf, clipped below like any overflow
        np.multiply(block, np.float32(2 ** 31), out=scaled)
    np.rint(scaled, out=scaled)
    scaled *= np.float32(2 ** -16)
    np.floor(scaled, out=scaled)
    np.clip(scaled, -32768, 32767, out=scaled)
    return scaled.astype(np.int16)


def interleave(block: np.ndarray) -> np.ndarray:
    """``(C, n)`` -> ``(n, C)`` C-contiguous, one channel at a time (numpy's transposing copy of a
    two-row array is about eight times slower)."""
    out = np.empty((block.shape[1], block.shape[0]), block.dtype)
    for channel in range(block.shape[0]):
        out[:, channel] = block[channel]
    return out


def numpy_pcm16_matches(container: str) -> bool:
    """Whether :func:`float_to_pcm16` gives libsndfile's own 16-bit numbers for ``container``
    (``"WAV"``, ``"FLAC"``...): checked once per process on a probe written to memory."""
    if container not in _PCM16_MATCHES:
        steps = np.arange(-40, 40, dtype=np.float64)
        probe = np.concatenate([
            (steps[:, None] + np.array([0.0, 0.25, 0.5, 0.75])).ravel() / 32768,  # rounding at and between steps
            (32760 + steps[:, None] + np.array([0.0, 0.5])).ravel() / 32768,  # near full scale
            [1.0, -1.0, 1.5, -1.5, 0.99999994, -0.99999994, 0.0, 1e-30, -1e-30],
            np.random.default_rng(0).uniform(-1, 1, 4096),
        ]).astype(np.float32)
        try:
            buffer = io.BytesIO()
            with sf.SoundFile(buffer, "w", 8000, 1, subtype="PCM_16", format=container) as f:
                f.write(np.clip(probe, -1.0, 1.0))
            buffer.seek(0)
            with sf.SoundFile(buffer) as f:
                reference = f.read(dtype="int16")
            _PCM16_MATCHES[container] = bool(np.array_equal(reference, float_to_pcm16(probe)))
        except (sf.LibsndfileError, RuntimeError, TypeError, ValueError):
            _PCM16_MATCHES[container] = False
    return _PCM16_MATCHES[container]


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
        self._file = None
        self._tmp: Path | None = None
        # Direct: encode each block into the target format now. Float temp file: keep the float
        # samples for the second pass (rescaling a lossy format), or the output *is* float.
        self.direct = not self.fmt.bounded or not (clip == "rescale" and self.fmt.format in LOSSY_FORMATS)
        self._pcm16 = (self.direct and self.fmt.subtype == "PCM_16"
                       and numpy_pcm16_matches(self.fmt.format))
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            if self.direct:
                self._open(self.fmt.extension, self.fmt.format, self.fmt.subtype, self._encoder_options())
            else:
                self._open(".wav", "WAV", "FLOAT", {})
        except (OSError, sf.LibsndfileError) as exc:
            self._drop_temp()
            raise _write_error(self.path, exc) from None

    def _encoder_options(self) -> dict:
        if self.fmt.bitrate is None:
            return {}
        return {"compression_level": self.fmt.mp3_compression_level, "bitrate_mode": "CONSTANT"}

    def _open(self, extension: str, container: str, subtype: str | None, extra: dict) -> None:
        """A new temp file beside the target (``.<stem>.XXXX.part<ext>``) becomes the one written."""
        fd, tmp = tempfile.mkstemp(prefix=f".{self.path.stem}.", suffix=".part" + extension, dir=self.path.parent)
        os.close(fd)
        self._tmp = Path(tmp)
        self._file = sf.SoundFile(tmp, "w", self.sample_rate, self.channels, subtype=subtype,
                                  format=container, **extra)

    def _drop_temp(self) -> None:
        if self._tmp is not None:
            self._tmp.unlink(missing_ok=True)

    def _encode(self, block: np.ndarray) -> np.ndarray:
        """``block (C, n)`` float32 -> ``(n, C)`` frames for the direct file (clipped: bounded formats
        hold [-1, 1]); 16-bit converted before interleaving, so half the bytes are moved."""
        if self._pcm16:
            return interleave(float_to_pcm16(block))
        if self.fmt.bounded:
            return interleave(np.clip(block, -1.0, 1.0))
        return interleave(block)

    def write(self, block: np.ndarray) -> None:
        """Append ``block (C, n)`` float32."""
        if block.shape[0] != self.channels:
            raise ValueError(f"expected {self.channels} channels, got {block.shape[0]}")
        if block.shape[1] == 0:
            return
        block = np.asarray(block, dtype=np.float32)
        self.peak = max(self.peak, float(block.max()), -float(block.min()))  # no |block| temporary
        try:
            if self.direct and self.fmt.bounded and self.clip == "rescale" and self.peak > 1.0:
                self._spill()
            self._file.write(self._encode(block) if self.direct else interleave(block))
        except (OSError, sf.LibsndfileError, RuntimeError) as exc:
            self.abort()
            raise _write_error(self.path, exc) from None
        self.frames += block.shape[1]

    def _spill(self) -> None:
        """Rescaling turned out to be needed: continue in a float temp file holding what the direct
        file has so far (decoded), so :meth:`close` can rescale the whole file."""
        self._file.close()
        encoded = self._tmp
        self.direct, self._pcm16 = False, False
        try:
            self._open(".wav", "WAV", "FLOAT", {})
            with sf.SoundFile(encoded) as src:
                for frames in src.blocks(_BLOCK, dtype="float32", always_2d=True):
                    self._file.write(frames)
        finally:
            encoded.unlink(missing_ok=True)

    def _warn_clipping(self) -> float:
        """The gain of the second pass; warns when the peak exceeds full scale."""
        if not self.fmt.bounded or self.peak <= 1.0:
            return 1.0
        if self.clip == "rescale":
            gain = 1.0 / self.peak
            warnings.warn(f"{self.path.name}: peak {self.peak:.2f} exceeds full scale; "
                          f"rescaled by {20 * np.log10(gain):.1f} dB (use --clip-mode clamp "
                          "or --float32 to keep levels)")
            return gain
        warnings.warn(f"{self.path.name}: peak {self.peak:.2f} exceeds full scale; "
                      "samples clamped (use --float32 to keep them)")
        return 1.0

    def close(self) -> Path:
        """Finish the target format and move it into place; returns the path."""
        final_tmp = None
        try:
            self._file.close()
            gain = self._warn_clipping()
            if self.direct:
                final_tmp, self._tmp = self._tmp, None
            else:
                fd, final_tmp = tempfile.mkstemp(prefix=f".{self.path.stem}.", suffix=".part" + self.fmt.extension,
                                                 dir=self.path.parent)
                os.close(fd)
                with sf.SoundFile(self._tmp) as src, sf.SoundFile(
                    final_tmp, "w", self.sample_rate, self.channels, subtype=self.fmt.subtype,
                    format=self.fmt.format, **self._encoder_options()
                ) as dst:
                    for block in src.blocks(_BLOCK, dtype="float32", always_2d=True):
                        dst.write(np.clip(block * gain, -1.0, 1.0) if self.fmt.bounded else block)
            os.chmod(final_tmp, _umask_mode())  # mkstemp makes 0600 files; stems are ordinary files
            os.replace(final_tmp, self.path)
            return self.path
        except (OSError, sf.LibsndfileError, RuntimeError) as exc:
            if final_tmp:
                Path(final_tmp).unlink(missing_ok=True)
            raise _write_error(self.path, exc) from None
        finally:
            self._drop_temp()

    def abort(self) -> None:
        """Drop everything written so far; the target path is left untouched."""
        try:
            if self._file is not None:
                self._file.close()
        except Exception:
            pass
        self._drop_temp()

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
