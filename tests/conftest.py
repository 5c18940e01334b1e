"""Shared fixtures: generated audio files, the shared real data (skipped when absent)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
REAL_TRACK = SHARED / "data" / "real" / "Music_Delta_-_80s_Rock"
MUSDB_7S = SHARED / "data" / "musdb18-7s"


@pytest.fixture
def make_wav(tmp_path):
    """``make_wav(name, seconds=1.0, sr=44100, channels=2, subtype="FLOAT", seed=0) -> Path``."""

    def make(name="song.wav", seconds=1.0, sr=44100, channels=2, subtype="FLOAT", seed=0, amplitude=0.3):
        rng = np.random.default_rng(seed)
        n = int(round(seconds * sr))
        t = np.arange(n) / sr
        tone = np.sin(2 * np.pi * 220 * t)[:, None] * np.linspace(0.5, 1.0, channels)[None]
        audio = (amplitude * (0.7 * tone + 0.3 * rng.standard_normal((n, channels)))).astype(np.float32)
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, audio, sr, subtype=subtype)
        return path

    return make


@pytest.fixture
def real_track():
    if not REAL_TRACK.is_dir():
        pytest.skip("../shared/data/real is not available")
    return REAL_TRACK
