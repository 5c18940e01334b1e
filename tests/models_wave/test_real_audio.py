"""Checks on the shared real multitrack (skipped when ../shared is absent)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from stemkit.audio import read_audio
from stemkit.engine import separate_tensor
from stemkit.models.dwt import DWTSubbands
from stemkit.models.registry import build_model

TRACK = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "real" / "Music_Delta_-_80s_Rock"

pytestmark = [
    pytest.mark.real,
    pytest.mark.skipif(not TRACK.is_dir(), reason="../shared/data/real is not available"),
]


def load(stem: str, seconds: float = 3.0) -> torch.Tensor:
    audio, sr = read_audio(TRACK / f"{stem}.flac", sample_rate=22050)
    return torch.from_numpy(audio[:, : int(seconds * sr)])


def test_subbands_of_real_music_reconstruct_it_and_split_bass_from_cymbals():
    dwt = DWTSubbands("db4", levels=2)
    mix = load("mixture")
    bands = dwt(mix[None])[0]  # (C, 3, T)
    assert torch.allclose(bands.sum(dim=1), mix, atol=1e-5)
    share = {}
    for stem in ("bass", "drums"):
        energy = dwt(load(stem)[None])[0].pow(2).sum(dim=(0, 2))
        share[stem] = energy / energy.sum()
    # The bass lives in the lowest band; drums (cymbals) put more of their energy in the top band.
    assert share["bass"][0] > 0.99
    assert share["drums"][2] > 10 * share["bass"][2]


def test_cascade_on_real_music_returns_four_stems_that_sum_to_the_mix():
    torch.manual_seed(0)
    cascade = build_model(
        "cascade",
        stages=[{"model": "wave_unet", "args": {"sources": [s], "num_levels": 4, "growth": 6}}
                for s in ("vocals", "drums", "bass")],
    ).eval()
    mix = load("mixture", seconds=2.0).mean(dim=0, keepdim=True)
    stems = separate_tensor(cascade, mix)
    assert stems.shape == (4, 1, mix.shape[-1])
    assert torch.allclose(stems.sum(dim=0), mix, atol=1e-5)
