"""Seed 002's denoise gate and the low/high-pass filters on synthetic signals."""

from __future__ import annotations

import numpy as np
import pytest

from stemkit.errors import ConfigError
from stemkit.postprocess import (
    DenoiseGate,
    band_limit,
    denoise_gate,
    gate_gain,
    highpass,
    hilbert_envelope,
    lowpass,
)

SR = 8000


def rms(x):
    return float(np.sqrt(np.mean(np.square(x))))


def noisy_phrase(loud_from: float, loud_to: float, seconds: float = 4.0, seed: int = 0):
    """Low noise floor everywhere plus a loud tone between ``loud_from`` and ``loud_to`` seconds."""
    rng = np.random.default_rng(seed)
    n = int(seconds * SR)
    t = np.arange(n) / SR
    x = 0.01 * rng.standard_normal(n)
    a, b = int(loud_from * SR), int(loud_to * SR)
    x[a:b] += 0.5 * np.sin(2 * np.pi * 440 * t[a:b])
    return np.stack([x, 0.8 * x]).astype(np.float32), (a, b)


@pytest.mark.parametrize("statistic", ["median", "mean"])
def test_gate_mutes_the_noise_floor_and_keeps_the_loud_part(statistic):
    audio, (a, b) = noisy_phrase(1.0, 3.0)
    out = denoise_gate(audio, SR, statistic=statistic, window_s=0.5, hop_s=0.25, softness=2.0, fade_s=0.05)
    assert out.shape == audio.shape and out.dtype == np.float32
    head, tail = slice(0, int(0.5 * SR)), slice(int(3.5 * SR), None)
    assert rms(out[:, head]) < 0.01 * rms(audio[:, head])
    assert rms(out[:, tail]) < 0.01 * rms(audio[:, tail])
    inner = slice(a + int(0.1 * SR), b - int(0.1 * SR))
    np.testing.assert_array_equal(out[:, inner], audio[:, inner])


def test_median_threshold_follows_the_majority():
    # Loud for only a quarter of the time: the median envelope is the noise floor, so with
    # softness 2 nothing lies below the threshold; the mean is pulled up by the loud part.
    audio, _ = noisy_phrase(1.0, 2.0)
    env = hilbert_envelope(audio)
    assert gate_gain(env, SR, statistic="median").min() == 1.0
    assert gate_gain(env, SR, statistic="mean").min() == 0.0


def test_softness_lowers_the_threshold():
    audio, _ = noisy_phrase(1.0, 3.0)
    env = hilbert_envelope(audio)
    assert gate_gain(env, SR, softness=2.0).mean() < 0.9
    assert gate_gain(env, SR, softness=1000.0).min() == 1.0


def test_fades_ramp_linearly_outside_the_muted_region():
    audio, _ = noisy_phrase(1.0, 3.0)
    gain = gate_gain(hilbert_envelope(audio), SR, fade_s=0.1)
    muted = np.flatnonzero(gain == 0)
    last_muted = muted[muted < 2 * SR].max()
    ramp = gain[last_muted + 1:last_muted + 1 + int(0.1 * SR)]
    assert np.all(np.diff(ramp) > 0) and ramp[-1] == pytest.approx(1.0)
    np.testing.assert_allclose(np.diff(ramp), 1 / (0.1 * SR), rtol=1e-3)
    hard = gate_gain(hilbert_envelope(audio), SR, fade_s=0.0)
    assert set(np.unique(hard)) == {0.0, 1.0}


def test_gate_is_deterministic_and_leaves_its_input_alone():
    audio, _ = noisy_phrase(1.0, 3.0, seed=3)
    before = audio.copy()
    gate = DenoiseGate(statistic="mean", softness=3.0)
    first, second = gate(audio, SR), gate(audio, SR)
    np.testing.assert_array_equal(first, second)
    np.testing.assert_array_equal(audio, before)
    mono = denoise_gate(audio[0], SR)
    assert mono.shape == audio[0].shape


def test_short_and_silent_inputs():
    assert denoise_gate(np.zeros((2, 0), np.float32), SR).shape == (2, 0)
    silent = np.zeros((1, 100), np.float32)
    np.testing.assert_array_equal(denoise_gate(silent, SR), silent)
    with pytest.raises(ConfigError, match="statistic"):
        denoise_gate(silent, SR, statistic="mode")


def test_filters_keep_one_band_and_remove_the_other():
    t = np.arange(SR) / SR
    low, high = np.sin(2 * np.pi * 100 * t), np.sin(2 * np.pi * 3000 * t)
    mix = np.stack([low + high, low - high]).astype(np.float32)
    mid = slice(SR // 4, -SR // 4)
    lp, hp = lowpass(mix, SR, 800), highpass(mix, SR, 800)
    # Zero-phase filtering: the pass band comes out in place, not delayed.
    np.testing.assert_allclose(lp[0, mid], low[mid], atol=0.02)
    np.testing.assert_allclose(hp[1, mid], -high[mid], atol=0.02)
    both = band_limit(mix, SR, low_hz=50, high_hz=800)
    np.testing.assert_allclose(both[0, mid], low[mid], atol=0.05)
    np.testing.assert_array_equal(band_limit(mix, SR), mix)
    assert lowpass(mix[:, :5], SR, 800).shape == (2, 5)
    with pytest.raises(ConfigError, match="cutoff"):
        lowpass(mix, SR, 5000)
