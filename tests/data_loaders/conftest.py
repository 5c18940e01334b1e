"""Fixtures of the loader tests: tiny multitrack songs written in each dataset layout."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

REPO = Path(__file__).resolve().parents[2]
MUSDB_7S = REPO.parent / "shared" / "data" / "musdb18-7s"
SR = 8000
SOURCES = ("drums", "bass", "other", "vocals")


def song_stems(seed: int, seconds: float = 1.0, sr: int = SR, channels: int = 2) -> dict:
    """Four distinguishable stems ``(C, T)``: a sine per source (different pitch and level)."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    stems = {}
    for i, name in enumerate(SOURCES):
        freq = 110.0 * (i + 1) * (1 + 0.1 * rng.random())
        wave = (0.05 * (i + 1)) * np.sin(2 * np.pi * freq * t + rng.random())
        pan = np.linspace(0.6, 1.0, channels)[:, None] if channels > 1 else np.ones((1, 1))
        stems[name] = (wave[None] * pan).astype(np.float32)
    return stems


def write(path: Path, audio: np.ndarray, sr: int = SR) -> Path:
    """Write ``(C, T)`` float audio (format from the extension)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    subtype = "FLOAT" if path.suffix == ".wav" else None
    sf.write(path, audio.T, sr, subtype=subtype)
    return path


def write_song(folder: Path, stems: dict, *, mixture: bool = True, ext: str = ".wav",
               names: dict | None = None, sr: int = SR) -> None:
    """``folder/<name>.<ext>`` per stem (renamed with ``names``) and ``mixture.<ext>``."""
    for name, audio in stems.items():
        write(folder / f"{(names or {}).get(name, name)}{ext}", audio, sr)
    if mixture:
        write(folder / f"mixture{ext}", np.sum(list(stems.values()), axis=0), sr)


@pytest.fixture
def musdb_hq(tmp_path) -> Path:
    """``root/{train,test}/SONG/{mixture,drums,bass,other,vocals}.wav``: 2 + 1 songs."""
    root = tmp_path / "musdb18hq"
    for split, seeds in (("train", (1, 2)), ("test", (3,))):
        for seed in seeds:
            write_song(root / split / f"Song {seed}", song_stems(seed))
    return root


def make_stem_mp4(path: Path, stems: dict, sr: int = SR) -> Path:
    """A MUSDB-style ``.stem.mp4``: streams mixture, drums, bass, other, vocals (lossless ALAC)."""
    ffmpeg = shutil.which("ffmpeg")
    if ffmpeg is None:
        pytest.skip("ffmpeg is not installed")
    work = path.parent / (path.name + ".parts")
    parts = [write(work / "mixture.wav", np.sum([stems[s] for s in SOURCES], axis=0), sr)]
    parts += [write(work / f"{s}.wav", stems[s], sr) for s in SOURCES]
    cmd = [ffmpeg, "-v", "error", "-y"]
    for part in parts:
        cmd += ["-i", str(part)]
    for k in range(len(parts)):
        cmd += ["-map", f"{k}:a"]
    cmd += ["-c:a", "alac", str(path)]
    subprocess.run(cmd, check=True, capture_output=True)
    shutil.rmtree(work)
    return path


@pytest.fixture
def real_musdb() -> Path:
    if not (MUSDB_7S / "train").is_dir():
        pytest.skip("../shared/data/musdb18-7s is not available")
    return MUSDB_7S
