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


def _db_spectrogram(x: np.ndarray) -> np.ndarray:
    """``(C, T)`` -> dB power spectrogram ``(F, N)`` of the channel mean (what seed 002 shows)."""
    import librosa

    mono = np.asarray(x, dtype=np.float32).mean(axis=0)
    power = np.abs(librosa.stft(mono, n_fft=SPEC_N_FFT, hop_length=SPEC_HOP)) ** 2
    return librosa.power_to_db(power, ref=1.0, amin=1e-10, top_db=100.0)


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

    Spectrograms: a row for the mixture, then a row per stem with reference | estimate, on one
    shared dB colour scale so they compare by eye. Waveforms: reference and estimate overlaid
    per stem. Returns the written paths ``<out_dir>/<name>_spectrograms.png`` and ``_waveforms``.
    """
    import librosa.display

    plt = _pyplot()
    out_dir = Path(out_dir)
    specs_ref = [_db_spectrogram(r) for r in references]
    specs_est = [_db_spectrogram(e) for e in estimates]
    spec_mix = _db_spectrogram(mixture)
    vmax = max(float(np.max(s)) for s in [spec_mix, *specs_ref, *specs_est])
    vmin = vmax - 80.0
    common = dict(sr=sample_rate, hop_length=SPEC_HOP, x_axis="time", y_axis="log",
                  vmin=vmin, vmax=vmax, cmap="magma")

    rows = 1 + len(sources)
    fig, axes = plt.subplots(rows, 2, figsize=(12, 2.3 * rows), squeeze=False, layout="constrained")
    img = librosa.display.specshow(spec_mix, ax=axes[0, 0], **common)
    axes[0, 0].set_title(f"{name}: mixture")
    librosa.display.waveshow(np.asarray(mixture).mean(axis=0), sr=sample_rate, ax=axes[0, 1])
    axes[0, 1].set_title("mixture waveform")
    for i, stem in enumerate(sources, start=1):
        librosa.display.specshow(specs_ref[i - 1], ax=axes[i, 0], **common)
        axes[i, 0].set_title(f"{stem}: reference")
        librosa.display.specshow(specs_est[i - 1], ax=axes[i, 1], **common)
        axes[i, 1].set_title(f"{stem}: estimate")
    for ax in axes[:-1].ravel():
        ax.set_xlabel("")
    fig.colorbar(img, ax=axes, format="%+.0f dB", shrink=0.5)
    spec_path = _save(fig, out_dir / f"{name}_spectrograms.png")

    fig, axes = plt.subplots(len(sources), 1, figsize=(12, 2.0 * len(sources)), squeeze=False)
    for i, stem in enumerate(sources):
        ax = axes[i, 0]
        librosa.display.waveshow(np.asarray(references[i]).mean(axis=0), sr=sample_rate, ax=ax,
                                 alpha=0.6, label="reference")
        librosa.display.waveshow(np.asarray(estimates[i]).mean(axis=0), sr=sample_rate, ax=ax,
                                 alpha=0.6, color="tab:orange", label="estimate")
        ax.set_title(stem)
        ax.legend(loc="upper right", fontsize="small")
    fig.tight_layout()
    wave_path = _save(fig, out_dir / f"{name}_waveforms.png")
    return [spec_path, wave_path]
