"""Band-limited resampling with soxr, whole arrays or streamed block by block."""

from __future__ import annotations

import numpy as np
import soxr

QUALITY = "HQ"


def resample(x: np.ndarray, sr_in: int, sr_out: int) -> np.ndarray:
    """``x (C, T)`` float32 at ``sr_in`` -> ``(C, round(T * sr_out / sr_in))`` at ``sr_out``."""
    if sr_in == sr_out:
        return x
    y = soxr.resample(np.ascontiguousarray(x.T), sr_in, sr_out, quality=QUALITY)
    return np.ascontiguousarray(y.T, dtype=np.float32)


def resampled_length(n: int, sr_in: int, sr_out: int) -> int:
    return int(round(n * sr_out / sr_in))


class StreamResampler:
    """Resample a stream of ``(C, n)`` blocks; the output equals :func:`resample` of the whole.

    soxr keeps filter state between calls and delays its output; ``flush()`` at the end returns
    the tail so the total length is ``round(T * sr_out / sr_in)``.
    """

    def __init__(self, sr_in: int, sr_out: int, channels: int):
        self.identity = sr_in == sr_out
        self.channels = channels
        if not self.identity:
            self._stream = soxr.ResampleStream(sr_in, sr_out, channels, dtype="float32", quality=QUALITY)

    def __call__(self, block: np.ndarray, last: bool = False) -> np.ndarray:
        if self.identity:
            return block
        y = self._stream.resample_chunk(np.ascontiguousarray(block.T), last=last)
        return np.ascontiguousarray(y.T, dtype=np.float32).reshape(self.channels, -1)

    def flush(self) -> np.ndarray:
        return self(np.zeros((self.channels, 0), dtype=np.float32), last=True)
