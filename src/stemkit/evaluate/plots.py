"""PNG figures of an evaluation (matplotlib, Agg backend: no display needed).

- :func:`sdr_boxplot`: one box per stem of frame SDRs pooled over tracks;
- :func:`grouped_boxplot`: the same for several evaluations side by side (``stemkit compare``);
- :func:`track_figures`: spectrograms of mixture, references and estimates, and their waveforms
  (seed 002's visualiser: dB power spectrograms from an n_fft 2048 / hop 512 STFT).
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np

SPEC_N_FFT = 2048
SPEC_HOP = 512


def _pyplot():
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> Path:
    """Render to memory, then write atomically (temp file + rename), as every output."""
    import os
    import tempfile

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    _pyplot().close(fig)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    with os.fdopen(fd, "wb") as f:
        f.write(buf.getvalue())
    os.replace(tmp, path)
    return path


def sdr_boxplot(frames: dict[str, np.ndarray], path: Path, *, title: str = "") -> Path:
    """Box per stem of its frame SDRs (dB) pooled over all tracks; NaN frames already removed."""
    plt = _pyplot()
    names = list(frames)
    fig, ax = plt.subplots(figsize=(1.6 * max(len(names), 2) + 1.5, 4.5))
    data = [np.asarray(frames[n], dtype=float) for n in names]
    ax.boxplot([d if d.size else [np.nan] for d in data], showfliers=False)
    ax.set_xticks(range(1, len(names) + 1), [f"{n}\n(n={d.size})" for n, d in zip(names, data)])
    ax.set_ylabel("SDR per 1 s frame (dB)")
    ax.grid(axis="y", alpha=0.3)
    ax.set_title(title or "BSS Eval v4 SDR per frame")
    fig.tight_layout()
    return _save(fig, path)


def grouped_boxplot(
    frames: dict[str, dict[str, np.ndarray]], path: Path, *, title: str = "", ylabel: str = ""
) -> Path:
    """Groups of boxes, one group per stem, one box per evaluation: ``frames[method][stem]``."""
    plt = _pyplot()
    methods = list(frames)
    stems: list[str] = []
    for per_stem in frames.values():
        stems += [s for s in per_stem if s not in stems]
    width = 0.8 / max(len(methods), 1)
    fig, ax = plt.subplots(figsize=(max(6.0, 1.2 * len(stems) * max(len(methods), 1) + 2), 4.8))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    for k, method in enumerate(methods):
        positions, data = [], []
        for i, stem in enumerate(stems):
            values = np.asarray(frames[method].get(stem, []), dtype=float)
            values = values[np.isfinite(values)]
            positions.append(i + (k - (len(methods) - 1) / 2) * width)
            data.append(values if values.size else [np.nan])
        box = ax.boxplot(data, positions=positions, widths=width * 0.9, patch_artist=True,
                         showfliers=False, manage_ticks=False)
        color = colors[k % len(colors)]
        for patch in box["boxes"]:
            patch.set_facecolor(color)
            patch.set_alpha(0.6)
        ax.plot([], [], color=color, linewidth=8, alpha=0.6, label=method)
    ax.set_xticks(range(len(stems)), stems)
    ax.set_ylabel(ylabel or "SDR per 1 s frame (dB)")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(loc="best", fontsize="small")
    ax.set_title(title or "BSS Eval v4 SDR per frame")
    fig.tight_layout()
    return _save(fig, path)


#: Most columns drawn per image or waveform; longer tracks are pooled down to this (max-pooling
#: keeps transients visible), so drawing a 10-minute track costs what drawing a short one does.
MAX_COLUMNS = 1500


def _db_spectrogram(x: np.ndarray, sample_rate: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(C, T)`` -> ``(times (N+1,), freqs (F,), dB power (F-1, N))`` of the channel mean.

    Seed 002's recipe: |STFT|^2 (n_fft 2048, hop 512, Hann) in dB. The DC row is dropped so the
    frequency axis can be logarithmic; frames are max-pooled to at most :data:`MAX_COLUMNS`.
    """
    import torch

    mono = torch.from_numpy(np.ascontiguousarray(np.asarray(x, dtype=np.float32).mean(axis=0)))
    spec = torch.stft(mono, n_fft=SPEC_N_FFT, hop_length=SPEC_HOP, window=torch.hann_window(SPEC_N_FFT),
                      center=True, pad_mode="constant", return_complex=True)
    power = spec.abs().square().numpy()[1:]  # (F-1, N)
    pool = max(1, int(np.ceil(power.shape[1] / MAX_COLUMNS)))
    if pool > 1:
        n = power.shape[1] // pool * pool
        power = power[:, :n].reshape(power.shape[0], -1, pool).max(axis=2)
    db = 10.0 * np.log10(np.maximum(power, 1e-10))
    times = np.arange(power.shape[1] + 1) * pool * SPEC_HOP / sample_rate
    freqs = np.arange(1, SPEC_N_FFT // 2 + 2) * sample_rate / SPEC_N_FFT - sample_rate / SPEC_N_FFT / 2
    return times, freqs, db


def _draw_spectrogram(ax, spec, vmin: float, vmax: float, title: str):
    times, freqs, db = spec
    mesh = ax.pcolormesh(times, freqs, db, vmin=vmin, vmax=vmax, cmap="magma", shading="flat",
                         rasterized=True)
    ax.set_yscale("log")
    ax.set_ylim(max(freqs[0], 20.0), freqs[-1])
    ax.set_ylabel("Hz")
    ax.set_title(title)
    return mesh


def _draw_waveform(ax, x: np.ndarray, sample_rate: int, **style):
    """Min/max envelope of the channel mean, one pair per column (what a DAW draws)."""
    mono = np.asarray(x, dtype=np.float32).mean(axis=0)
    pool = max(1, int(np.ceil(mono.size / MAX_COLUMNS)))
    n = max(mono.size // pool, 1) * pool
    frames = np.pad(mono, (0, max(0, n - mono.size)))[:n].reshape(-1, pool)
    t = (np.arange(frames.shape[0]) + 0.5) * pool / sample_rate
    ax.fill_between(t, frames.min(axis=1), frames.max(axis=1), linewidth=0.3, **style)
    ax.set_xlim(0, mono.size / sample_rate)
    ax.set_ylabel("amplitude")


def track_figures(
    name: str,
    mixture: np.ndarray,
    references: np.ndarray,
    estimates: np.ndarray,
    sources: list[str],
    sample_rate: int,
    out_dir: Path,
) -> list[Path]:
    """Spectrogram grid and waveform grid of one track; arrays ``(C, T)`` and ``(S, C, T)``.

    Spectrograms: a row for the mixture (with its waveform), then a row per stem with
    reference | estimate, on one shared dB colour scale so they compare by eye. Waveforms:
    reference and estimate overlaid per stem. Returns the written paths
    ``<out_dir>/<name>_spectrograms.png`` and ``<out_dir>/<name>_waveforms.png``.
    """
    plt = _pyplot()
    out_dir = Path(out_dir)
    spec_mix = _db_spectrogram(mixture, sample_rate)
    specs_ref = [_db_spectrogram(r, sample_rate) for r in references]
    specs_est = [_db_spectrogram(e, sample_rate) for e in estimates]
    vmax = max(float(np.max(s[2])) for s in [spec_mix, *specs_ref, *specs_est])
    vmin = vmax - 80.0

    rows = 1 + len(sources)
    fig, axes = plt.subplots(rows, 2, figsize=(12, 2.3 * rows), squeeze=False, layout="constrained")
    mesh = _draw_spectrogram(axes[0, 0], spec_mix, vmin, vmax, f"{name}: mixture")
    _draw_waveform(axes[0, 1], mixture, sample_rate, color="tab:blue")
    axes[0, 1].set_title("mixture waveform")
    for i, stem in enumerate(sources, start=1):
        _draw_spectrogram(axes[i, 0], specs_ref[i - 1], vmin, vmax, f"{stem}: reference")
        _draw_spectrogram(axes[i, 1], specs_est[i - 1], vmin, vmax, f"{stem}: estimate")
    axes[-1, 0].set_xlabel("time (s)")
    axes[-1, 1].set_xlabel("time (s)")
    fig.colorbar(mesh, ax=axes, format="%+.0f dB", shrink=0.5)
    spec_path = _save(fig, out_dir / f"{name}_spectrograms.png")

    fig, axes = plt.subplots(len(sources), 1, figsize=(12, 2.0 * len(sources)), squeeze=False,
                             layout="constrained")
    for i, stem in enumerate(sources):
        ax = axes[i, 0]
        # estimate underneath, reference on top: where the estimate sticks out is what it adds
        _draw_waveform(ax, estimates[i], sample_rate, color="tab:orange", alpha=0.6, label="estimate")
        _draw_waveform(ax, references[i], sample_rate, color="tab:blue", alpha=0.6, label="reference")
        ax.set_title(stem)
        ax.legend(loc="upper right", fontsize="small")
    axes[-1, 0].set_xlabel("time (s)")
    wave_path = _save(fig, out_dir / f"{name}_waveforms.png")
    return [spec_path, wave_path]
