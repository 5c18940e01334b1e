"""On the real 80s Rock excerpt (skipped when ../shared is absent): classical beats the floor."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

sys.path.insert(0, str(Path(__file__).parent))
from classical_signals import sdr  # noqa: E402

from stemkit.models import SOURCES_4, load_model  # noqa: E402

TRACK = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "real" / "Music_Delta_-_80s_Rock"

pytestmark = pytest.mark.real


@pytest.fixture(scope="module")
def track():
    if not TRACK.is_dir():
        pytest.skip("../shared/data/real is not available")
    read = lambda name: sf.read(TRACK / f"{name}.flac", dtype="float32", always_2d=True)[0].T  # noqa: E731
    return read("mixture"), np.stack([read(s) for s in SOURCES_4])


def test_classical_beats_the_mixture_on_every_stem(track):
    mix, refs = track
    with torch.no_grad():
        est = load_model("classical")(torch.from_numpy(mix)[None])[0].numpy()
    assert np.allclose(est.sum(0), mix, atol=1e-5)
    for j, stem in enumerate(SOURCES_4):
        assert sdr(est[j], refs[j]) > sdr(mix, refs[j]) + 2, stem


def test_oracle_irm2_is_far_above_classical(track):
    mix, refs = track
    oracle = load_model("oracle_irm2").separate_with_references(mix, refs)
    assert np.mean([sdr(oracle[j], refs[j]) for j in range(4)]) > 8
