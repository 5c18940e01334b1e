"""Checks on the shared real multitrack (skipped when ../shared is absent)."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
import torch

from stemkit.models import build_model
from stemkit.postprocess import denoise_gate

pytestmark = pytest.mark.real


def read(folder, stem, seconds=None):
    audio, sr = sf.read(folder / f"{stem}.flac", dtype="float32", always_2d=True)
    if seconds is not None:
        audio = audio[: int(seconds * sr)]
    return audio.T, sr


def rms(x):
    return float(np.sqrt(np.mean(np.square(x))))


def test_gate_removes_bleed_around_a_real_vocal(real_track):
    vocals, sr = read(real_track, "vocals", seconds=3.0)
    other, _ = read(real_track, "other", seconds=1.0)
    # The accompaniment leaking into a vocal estimate at -40 dB, 1 s before and after the voice
    # (the median statistic needs the voice to fill most of the clip).
    bleed = 0.01 * other
    estimate = np.concatenate([bleed, vocals, bleed], axis=1)
    out = denoise_gate(estimate, sr, window_s=0.5, hop_s=0.25, statistic="median", softness=2.0, fade_s=0.05)
    n = bleed.shape[1]
    assert rms(out[:, : n - sr // 4]) < 0.01 * rms(bleed)
    assert rms(out[:, -n + sr // 4:]) < 0.01 * rms(bleed)
    kept = out[:, n: n + vocals.shape[1]]
    assert np.sum(kept**2) > 0.98 * np.sum(vocals**2)


def test_chandna_report_network_splits_a_real_mixture(real_track):
    mix, sr = read(real_track, "mixture", seconds=2.0)
    model = build_model("chandna").eval()
    assert sr == model.sample_rate
    x = torch.from_numpy(mix)[None]
    with torch.no_grad():
        stems = model(x)
    assert stems.shape == (1, 4, 2, mix.shape[1])
    # Ratio masks with the mixture phase: the four stems add back up to the mixture.
    assert torch.allclose(stems.sum(dim=1), x, atol=1e-4)
