"""Property checks over random inputs: ratio masks and the gate's gain stay in their bounds."""

from __future__ import annotations

import numpy as np
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from stemkit.models._spec_masking import ratio_masks
from stemkit.postprocess import gate_gain


@settings(max_examples=30, deadline=None)
@given(
    sources=st.integers(1, 5),
    scale=st.sampled_from([0.0, 1e-12, 1.0, 1e6]),
    seed=st.integers(0, 2**16),
)
def test_ratio_masks_sum_to_one_even_for_all_zero_estimates(sources, scale, seed):
    gen = torch.Generator().manual_seed(seed)
    raw = torch.rand(2, sources, 3, 7, generator=gen) * scale
    masks = ratio_masks(raw, dim=1)
    assert (masks >= 0).all() and (masks <= 1).all()
    assert torch.allclose(masks.sum(dim=1), torch.ones(2, 3, 7), atol=1e-5)
    if scale == 0.0:
        assert torch.allclose(masks, torch.full_like(masks, 1 / sources))


@settings(max_examples=30, deadline=None)
@given(
    length=st.integers(1, 3000),
    window_s=st.floats(0.001, 0.2),
    hop_s=st.floats(0.001, 0.2),
    fade_s=st.floats(0.0, 0.05),
    statistic=st.sampled_from(["median", "mean"]),
    seed=st.integers(0, 2**16),
)
def test_gate_gain_is_a_gain(length, window_s, hop_s, fade_s, statistic, seed):
    rng = np.random.default_rng(seed)
    envelope = np.abs(rng.standard_normal(length)) * rng.choice([0.0, 1.0], size=length, p=[0.3, 0.7])
    gain = gate_gain(envelope, 8000, window_s=window_s, hop_s=hop_s, fade_s=fade_s, statistic=statistic)
    assert gain.shape == (length,) and gain.dtype == np.float32
    assert (gain >= 0).all() and (gain <= 1).all()
