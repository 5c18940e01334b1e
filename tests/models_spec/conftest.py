"""Small synthetic material and tiny model variants for the spectrogram-model tests."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from stemkit.models import build_model

# Small variants: the reports' architectures with fewer channels and shorter STFTs, so the whole
# test area runs in seconds on one core.
TINY = {
    "spec_unet": dict(n_fft=256, hop=64, base_channels=4, segment=4096, sample_rate=8000, dropout=0.0),
    "chandna": dict(n_fft=256, hop=64, frames=9, t2=4, n1=8, n2=6, bottleneck=16, segment=4096,
                    sample_rate=8000),
    "vocal_mask": dict(n_fft=256, hop=64, stft_frames=9, res_dims=[[4, 4], [4, 8]], segment=4096,
                       sample_rate=8000, eval_batch=64),
}


@pytest.fixture(autouse=True)
def _seeded():
    torch.manual_seed(0)


@pytest.fixture
def tiny():
    """``tiny(name, **overrides)`` -> a small registered model in eval mode."""

    def make(name, **overrides):
        return build_model(name, **{**TINY[name], **overrides}).eval()

    return make


def tone(freq: float, length: int, sample_rate: int, *, phase: float = 0.0) -> np.ndarray:
    t = np.arange(length) / sample_rate
    return np.sin(2 * np.pi * freq * t + phase)


@pytest.fixture
def synth_stems():
    """``synth_stems(sources, length, sample_rate, channels=1, seed=0)`` -> stems ``(1, S, C, T)``.

    Each source is a different harmonic tone switching on and off at its own rate, so the sources
    overlap in time but not in frequency: a separable toy mixture.
    """

    def make(sources: int, length: int, sample_rate: int, channels: int = 1, seed: int = 0):
        rng = np.random.default_rng(seed)
        stems = np.zeros((sources, channels, length))
        t = np.arange(length) / sample_rate
        for s in range(sources):
            base = 200.0 * (s + 1) * 1.37
            sig = sum(tone(base * h, length, sample_rate, phase=rng.uniform(0, 6.28)) / h for h in (1, 2, 3))
            gate = (np.sin(2 * np.pi * (1.5 + s) * t + s) > -0.3).astype(float)
            for c in range(channels):
                stems[s, c] = 0.2 * sig * gate * (1.0 - 0.3 * c)
        return torch.tensor(stems[None], dtype=torch.float32)

    return make
