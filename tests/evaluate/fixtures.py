"""Tiny synthetic multitrack songs for the evaluation tests (seeded, a few seconds long)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import soundfile as sf

SOURCES = ("drums", "bass", "other", "vocals")


def synthetic_stems(seconds: float = 2.5, sample_rate: int = 22050, seed: int = 0, channels: int = 2) -> np.ndarray:
    """Four spectrally distinct stems ``(4, channels, T)`` float32, none silent anywhere.

    drums: decaying noise bursts; bass: 55-110 Hz tones; other: a mid chord; vocals: a vibrato
    tone with harmonics. Distinct spectra make oracle masks work well, as on real music.
    """
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sample_rate)) / sample_rate
    beat = (t * 4) % 1.0
    drums = rng.standard_normal(t.size) * np.exp(-beat * 25) * 0.5
    bass = 0.4 * np.sin(2 * np.pi * (55 + 55 * (t > seconds / 2)) * t)
    other = 0.15 * sum(np.sin(2 * np.pi * f * t + rng.uniform(0, 6)) for f in (523.3, 659.3, 784.0))
    f0 = 330 * (1 + 0.01 * np.sin(2 * np.pi * 5 * t))
    phase = 2 * np.pi * np.cumsum(f0) / sample_rate
    vocals = 0.3 * sum(np.sin(k * phase) / k for k in (1, 2, 3, 4))
    stems = []
    for k, mono in enumerate((drums, bass, other, vocals)):
        pan = 0.3 + 0.1 * k
        stems.append(np.stack([mono * (1 - pan), mono * pan])[:channels])
    return np.asarray(stems, dtype=np.float32)


def write_musdb_hq(root: Path, names=("Song A", "Song B"), split: str = "test", **kw) -> Path:
    """``root/split/NAME/{mixture,drums,bass,other,vocals}.wav`` (float wav), one seed per song.

    Keyword arguments go to :func:`synthetic_stems`; mono keeps museval cheap (its cost grows with
    the square of sources x channels).
    """
    for i, name in enumerate(names):
        song = Path(root) / split / name
        song.mkdir(parents=True, exist_ok=True)
        stems = synthetic_stems(seed=i, **kw)
        sr = kw.get("sample_rate", 22050)
        for s, stem in zip(SOURCES, stems):
            sf.write(song / f"{s}.wav", stem.T, sr, subtype="FLOAT")
        sf.write(song / "mixture.wav", stems.sum(axis=0).T, sr, subtype="FLOAT")
    return Path(root)
