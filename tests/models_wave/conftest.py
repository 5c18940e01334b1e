"""Fixtures for the waveform models: tiny synthetic sources and a short overfitting loop."""

from __future__ import annotations

import math

import pytest
import torch


def synth_sources(length: int = 2048, sample_rate: int = 8000, seed: int = 0) -> dict[str, torch.Tensor]:
    """Four distinguishable toy stems ``name -> (1, 1, length)``: a bass sine, decaying noise
    bursts (drums), a square-ish lead (other) and a vibrato tone (vocals)."""
    g = torch.Generator().manual_seed(seed)
    t = torch.arange(length, dtype=torch.float32) / sample_rate
    phase = torch.rand(4, generator=g) * 2 * math.pi
    bass = 0.3 * torch.sin(2 * math.pi * 55 * t + phase[0])
    hits = torch.zeros(length)
    hits[:: sample_rate // 8] = 1.0
    decay = torch.exp(-torch.arange(200, dtype=torch.float32) / 30.0)
    envelope = torch.nn.functional.conv1d(hits.view(1, 1, -1), decay.flip(0).view(1, 1, -1), padding=199)
    envelope = envelope.view(-1)[199 : 199 + length] if envelope.numel() > length else envelope.view(-1)[:length]
    drums = 0.3 * envelope * torch.randn(length, generator=g)
    other = 0.2 * torch.tanh(4 * torch.sin(2 * math.pi * 330 * t + phase[2]))
    vocals = 0.25 * torch.sin(2 * math.pi * 440 * t + 3 * torch.sin(2 * math.pi * 5 * t) + phase[3])
    stems = {"drums": drums, "bass": bass, "other": other, "vocals": vocals}
    return {k: v.view(1, 1, -1) for k, v in stems.items()}


@pytest.fixture
def toy():
    return synth_sources


def fit(model, inputs, target, *, steps: int, lr: float = 1e-3, forward=None, seed: int = 0) -> list[float]:
    """Adam on MSE for ``steps`` steps on one example; returns the loss per step."""
    torch.manual_seed(seed)
    model.train()
    forward = forward or model
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        optimiser.zero_grad()
        estimate = forward(*inputs)
        assert estimate.shape == target.shape  # no silent broadcasting in the loss
        loss = torch.nn.functional.mse_loss(estimate, target)
        loss.backward()
        optimiser.step()
        losses.append(loss.item())
    return losses


@pytest.fixture
def overfit():
    return fit
