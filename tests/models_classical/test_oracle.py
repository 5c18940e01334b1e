"""Oracle separators: IRM/IBM/MWF quality on a known mix, partition, the mixture floor, models."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))
from classical_signals import SR, clicks, pan, sdr, tone  # noqa: E402

from stemkit.errors import ModelError  # noqa: E402
from stemkit.models import build_model, load_model  # noqa: E402
from stemkit.models.oracle import (  # noqa: E402
    ideal_binary_mask,
    ideal_ratio_mask,
    mixture_floor,
    multichannel_wiener,
)


@pytest.fixture(scope="module")
def two_sources():
    """A harmonic tone panned left and noisy hits panned right, ``(2, 2, T)`` for 1.5 s."""
    rng = np.random.default_rng(7)
    a = pan(tone(220, 1.5, harmonics=8), 0.3)
    b = pan(clicks(1.5, every=0.2) + 0.02 * rng.standard_normal(int(1.5 * SR)).astype(np.float32), 0.7)
    return np.stack([a, b])


def test_irm_reconstructs_well(two_sources):
    mix = two_sources.sum(0)
    for power in (1, 2):
        est = ideal_ratio_mask(mix, two_sources, power=power)
        assert est.shape == two_sources.shape and est.dtype == np.float32
        assert min(sdr(est[j], two_sources[j]) for j in range(2)) > 10
    assert np.allclose(est.sum(0), mix, atol=1e-4)  # ratio masks partition the mixture


def test_ibm_partitions_the_mixture(two_sources):
    mix = two_sources.sum(0)
    est = ideal_binary_mask(mix, two_sources)
    assert np.allclose(est.sum(0), mix, atol=1e-4)
    assert min(sdr(est[j], two_sources[j]) for j in range(2)) > 8
    # A silent reference wins no bins, so its estimate is silent.
    with_silence = np.concatenate([two_sources, np.zeros_like(two_sources[:1])])
    assert np.abs(ideal_binary_mask(mix, with_silence)[2]).max() < 1e-6


def test_mwf_beats_or_matches_irm(two_sources):
    mix = two_sources.sum(0)
    mwf = multichannel_wiener(mix, two_sources, iterations=1)
    irm = ideal_ratio_mask(mix, two_sources, power=2)
    mwf_sdr = np.mean([sdr(mwf[j], two_sources[j]) for j in range(2)])
    irm_sdr = np.mean([sdr(irm[j], two_sources[j]) for j in range(2)])
    assert mwf_sdr > irm_sdr - 0.5


def test_floor_is_the_mixture_and_types_follow_input(two_sources):
    mix = two_sources.sum(0)
    floor = mixture_floor(mix, two_sources)
    assert floor.shape == two_sources.shape and np.array_equal(floor[1], mix)
    as_tensor = ideal_ratio_mask(torch.from_numpy(mix), torch.from_numpy(two_sources))
    assert isinstance(as_tensor, torch.Tensor)
    assert torch.allclose(as_tensor, torch.from_numpy(ideal_ratio_mask(mix, two_sources)), atol=1e-6)


@pytest.mark.parametrize("name", ["oracle_ibm", "oracle_irm", "oracle_irm2", "oracle_mwf", "mixture"])
def test_registered_oracle_models(name, two_sources):
    model = load_model(name)
    assert model.family == "oracle" and model.sources == ("drums", "bass", "other", "vocals")
    mix = two_sources.sum(0)
    # They follow the references given (2 here), not their default 4 sources.
    est = model.separate_with_references(mix, two_sources)
    assert est.shape == (2, 2, mix.shape[-1]) and est.dtype == np.float32
    if name == "mixture":
        assert np.array_equal(est[0], mix)
    else:
        assert min(sdr(est[j], two_sources[j]) for j in range(2)) > 8
    with pytest.raises(ModelError, match="reference stems"):
        model(torch.from_numpy(mix)[None])


def test_bad_shapes_and_options_raise(two_sources):
    mix = two_sources.sum(0)
    with pytest.raises(ValueError):
        ideal_ratio_mask(mix, two_sources[:, :1])
    with pytest.raises(ValueError):
        ideal_ratio_mask(mix, two_sources, power=0)
    with pytest.raises(ValueError):
        build_model("oracle_mwf", iterations=0).separate_with_references(mix, two_sources)
