"""``classical``'s ``mask_pool``: every mask computed on groups of bins, then repeated over them."""

from __future__ import annotations

import numpy as np
import torch

from stemkit.models.registry import build_model


def stereo_mix(seconds=3.0, sr=44100, seed=0):
    """A centred tone with vibrato (vocal-like), a panned chord, clicks: every classical cue has work."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    voice = 0.3 * np.sin(2 * np.pi * (440 * t + 3 * np.sin(2 * np.pi * 5 * t)))
    chord = 0.2 * (np.sin(2 * np.pi * 110 * t) + np.sin(2 * np.pi * 165 * t))
    clicks = np.zeros_like(t)
    clicks[:: sr // 4] = 1.0
    clicks = np.convolve(clicks, rng.standard_normal(300) * np.exp(-np.arange(300) / 40), mode="same")
    left, right = voice + 0.9 * chord + clicks, voice + 0.2 * chord + clicks
    return torch.from_numpy(np.stack([left, right]).astype(np.float32))


def masks_of(model, mix):
    return model.masks(model.stft(mix).numpy())


def test_pooled_masks_partition_the_bins_and_are_constant_over_each_group():
    mix = stereo_mix()
    pooled = build_model("classical", n_fft=2048, hop=512, vocal_cue="centre", mask_pool=2)
    masks = masks_of(pooled, mix)
    assert masks.shape == (4, 1, 1025, pooled.stft.frames(mix.shape[-1]))
    np.testing.assert_allclose(masks.sum(axis=0), 1.0, atol=1e-6)
    assert masks.min() >= 0
    np.testing.assert_array_equal(masks[..., 0:1024:2, :], masks[..., 1:1024:2, :])
    assert masks[:, 0].transpose(0, 2, 1).flags.c_contiguous  # frames-major, like the STFT


def test_pooled_masks_stay_close_to_the_full_resolution_ones_and_pool_1_changes_nothing():
    mix = stereo_mix(seed=1)
    full = masks_of(build_model("classical", n_fft=2048, hop=512, vocal_cue="centre"), mix)
    same = masks_of(build_model("classical", n_fft=2048, hop=512, vocal_cue="centre", mask_pool=1), mix)
    pooled = masks_of(build_model("classical", n_fft=2048, hop=512, vocal_cue="centre", mask_pool=2), mix)
    np.testing.assert_array_equal(same, full)
    difference = np.abs(pooled - full).mean(axis=(1, 2, 3))
    assert np.all(difference < 0.1) and difference.max() > 1e-4
