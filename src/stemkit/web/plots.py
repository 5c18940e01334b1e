"""Waveform and spectrogram pictures of each stem (seed 002's visualiser), built while streaming.

A :class:`StemSketch` sees a stem block by block and keeps only what a small picture needs: a
min/max envelope per column and one STFT frame per column. Memory stays flat in song length,
so a two-hour upload costs the same as a two-minute one.
"""

from __future__ import annotations

import math
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from scipy.signal import get_window

#: Colours per stem name (others get the default cycle's grey).
STEM_COLOURS = {
    "mixture": "#4b5563", "drums": "#dc2626", "bass": "#2563eb", "other": "#16a34a",
    "vocals": "#9333ea", "no_vocals": "#ea580c", "accompaniment": "#ea580c",
}


class StemSketch:
    """Streaming summary of one signal for its picture.

    Args:
        sample_rate: of the blocks pushed. expected_frames: the signal's length (an estimate is
            fine: a longer signal just gets more columns). columns: picture width in columns.
        n_fft: STFT window of the spectrogram frames.
    """

    def __init__(self, sample_rate: int, expected_frames: int, *, columns: int = 600, n_fft: int = 2048):
        self.sample_rate, self.n_fft = int(sample_rate), int(n_fft)
        self.hop = max(1, math.ceil(max(expected_frames, 1) / columns))
        self._window = get_window("hann", self.n_fft).astype(np.float32)
        self._lows: list[np.ndarray] = []
        self._highs: list[np.ndarray] = []
        self._carry = np.zeros(0, np.float32)  # samples of the envelope column not yet complete
        self._buffer = np.zeros(0, np.float32)  # samples the next spectrogram frames still need
        self._buffer_start = 0  # absolute index of _buffer[0]
        self._next_frame = 0  # absolute index where the next spectrogram frame starts
        self._frames: list[np.ndarray] = []
        self.length = 0

    def push(self, block: np.ndarray) -> None:
        """Add ``block (C, n)`` (channels are averaged) or ``(n,)``."""
        mono = np.asarray(block, np.float32)
        if mono.ndim == 2:
            mono = mono.mean(axis=0)
        self.length += mono.size
        self._push_envelope(mono)
        self._push_spectrogram(mono)

    def _push_envelope(self, mono: np.ndarray) -> None:
        data = np.concatenate([self._carry, mono])
        full = data.size // self.hop
        if full:
            rows = data[: full * self.hop].reshape(full, self.hop)
            self._lows.append(rows.min(axis=1))
            self._highs.append(rows.max(axis=1))
        self._carry = data[full * self.hop :]

    def _push_spectrogram(self, mono: np.ndarray) -> None:
        buf = np.concatenate([self._buffer, mono])
        end = self._buffer_start + buf.size
        starts = []
        while self._next_frame + self.n_fft <= end:
            starts.append(self._next_frame - self._buffer_start)
            self._next_frame += self.hop
        if starts:
            frames = np.stack([buf[i : i + self.n_fft] for i in starts]) * self._window
            self._frames.append(np.abs(np.fft.rfft(frames, axis=1)).astype(np.float32))
        drop = min(self._next_frame - self._buffer_start, buf.size)
        self._buffer, self._buffer_start = buf[drop:], self._buffer_start + drop

    def freeze(self) -> "Sketch":
        """The picture's data so far: envelope and spectrogram (a short signal is zero-padded)."""
        lows, highs = list(self._lows), list(self._highs)
        if self._carry.size:
            lows.append(self._carry.min(keepdims=True))
            highs.append(self._carry.max(keepdims=True))
        low = np.concatenate(lows) if lows else np.zeros(1, np.float32)
        high = np.concatenate(highs) if highs else np.zeros(1, np.float32)
        frames = list(self._frames)
        if not frames:
            tail = np.zeros(self.n_fft, np.float32)
            tail[: self._buffer.size] = self._buffer[: self.n_fft]
            frames = [np.abs(np.fft.rfft(tail * self._window))[None].astype(np.float32)]
        mag = np.concatenate(frames).T
        db = 20 * np.log10(np.maximum(mag / (self._window.sum() / 2), 1e-6))
        return Sketch(self.sample_rate, self.length, low, high, np.fft.rfftfreq(self.n_fft, 1.0 / self.sample_rate),
                      db.astype(np.float16))


@dataclass(frozen=True)
class Sketch:
    """What one picture shows: ``lows/highs (K,)`` envelope columns, ``db (F, N)`` at ``freqs (F,)``."""

    sample_rate: int
    length: int  # samples
    lows: np.ndarray
    highs: np.ndarray
    freqs: np.ndarray
    db: np.ndarray

    def save(self, path: str | Path) -> Path:
        """An ``.npz`` (no pickles), written atomically."""
        path = Path(path)
        fd, tmp = tempfile.mkstemp(prefix=".sketch.", suffix=".npz", dir=path.parent)
        os.close(fd)
        try:
            np.savez(tmp, sample_rate=self.sample_rate, length=self.length, lows=self.lows, highs=self.highs,
                     freqs=self.freqs, db=self.db)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        return path

    @classmethod
    def load(cls, path: str | Path) -> "Sketch":
        with np.load(path, allow_pickle=False) as z:
            return cls(int(z["sample_rate"]), int(z["length"]), z["lows"], z["highs"], z["freqs"], z["db"])


def render_sketch(sketch: Sketch, path: str | Path, *, title: str, width_px: int = 720,
                  height_px: int = 260) -> Path:
    """Draw waveform (top) and spectrogram (bottom, dB, log frequency) into a PNG, atomically."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure  # no pyplot: its global state is not thread-safe
    from matplotlib.ticker import MaxNLocator

    dpi = 100
    fig = Figure(figsize=(width_px / dpi, height_px / dpi), dpi=dpi)
    FigureCanvasAgg(fig)
    wave_ax, spec_ax = fig.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [1, 2]})
    colour = STEM_COLOURS.get(title, "#6b7280")
    duration = max(sketch.length / sketch.sample_rate, 1e-3)
    low, high = sketch.lows.astype(np.float32), sketch.highs.astype(np.float32)
    times = (np.arange(low.size) + 0.5) * duration / low.size
    wave_ax.fill_between(times, low, high, color=colour, linewidth=0.5)
    peak = max(float(np.abs(low).max()), float(np.abs(high).max()), 1e-3)
    wave_ax.set_ylim(-peak * 1.05, peak * 1.05)
    wave_ax.set_yticks([])
    wave_ax.set_title(title, loc="left", fontsize=9, color=colour, fontweight="bold")
    freqs, db = sketch.freqs, sketch.db.astype(np.float32)
    # imshow of rows resampled to a log-frequency grid: far faster than pcolormesh on a log axis.
    low_hz, high_hz = 30.0, sketch.sample_rate / 2
    grid = np.geomspace(low_hz, high_hz, 160)
    image = _interp_rows(freqs, db, grid)
    top = float(image.max())
    spec_ax.imshow(image, origin="lower", aspect="auto", cmap="magma", vmin=top - 80, vmax=top,
                   extent=(0, duration, 0, 1), interpolation="nearest")
    ticks = [f for f in (100, 1000, 10000) if low_hz < f < high_hz]
    spec_ax.set_yticks([np.log(f / low_hz) / np.log(high_hz / low_hz) for f in ticks])
    spec_ax.set_yticklabels([{100: "100", 1000: "1k", 10000: "10k"}[f] for f in ticks])
    spec_ax.set_ylabel("Hz", fontsize=7)
    spec_ax.set_xlabel("seconds", fontsize=7)
    spec_ax.set_xlim(0, duration)
    spec_ax.xaxis.set_major_locator(MaxNLocator(6))  # few ticks: tick artists dominate drawing time
    wave_ax.tick_params(labelbottom=False)
    for ax in (wave_ax, spec_ax):
        ax.tick_params(labelsize=7)
    fig.subplots_adjust(left=0.07, right=0.97, top=0.9, bottom=0.16, hspace=0.08)
    path = Path(path)
    fd, tmp = tempfile.mkstemp(prefix=".plot.", suffix=".png", dir=path.parent)
    os.close(fd)
    try:
        fig.savefig(tmp, format="png", dpi=dpi, pil_kwargs={"compress_level": 1})
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def _interp_rows(freqs: np.ndarray, db: np.ndarray, grid: np.ndarray) -> np.ndarray:
    """``db (F, N)`` sampled at ``freqs`` -> ``(len(grid), N)`` by linear interpolation along F."""
    pos = np.interp(grid, freqs, np.arange(freqs.size))
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, freqs.size - 1)
    w = (pos - lo)[:, None]
    return db[lo] * (1 - w) + db[hi] * w
