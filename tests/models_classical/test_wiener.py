"""Multichannel Wiener filter: recovery from exact magnitudes, shapes, silence, post-filter."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))
from classical_signals import SR, clicks, pan, sdr, tone  # noqa: E402

from stemkit.dsp.stft import istft, stft  # noqa: E402
from stemkit.dsp.wiener import wiener, wiener_postfilter  # noqa: E402


def _two_panned_sources(seconds=1.5):
    """Two sources with overlapping spectra but different stereo positions, ``(2, 2, T)``."""
    rng = np.random.default_rng(1)
    noise = (0.1 * rng.standard_normal(int(seconds * SR))).astype(np.float32)
    a = pan(tone(330, seconds, harmonics=6) + noise, 0.15)
    b = pan(tone(440, seconds, harmonics=6) + clicks(seconds), 0.8)
    return np.stack([a, b])


def test_exact_magnitudes_recover_panned_sources():
    refs = _two_panned_sources()
    mix = refs.sum(0)
    X, R = stft(torch.from_numpy(mix), 2048, 512), stft(torch.from_numpy(refs), 2048, 512)
    estimates = istft(wiener(X, R.abs(), iterations=2), mix.shape[-1], 2048, 512).numpy()
    masked = istft(wiener(X, R.abs(), iterations=0), mix.shape[-1], 2048, 512).numpy()
    for j in range(2):
        # EM learns each source's stereo position and uses it: better than magnitude + mixture phase
        assert sdr(estimates[j], refs[j]) > 15
        assert sdr(estimates[j], refs[j]) > sdr(masked[j], refs[j]) + 3


@pytest.mark.parametrize("channels", [1, 2, 3])
def test_shapes_and_sum_for_any_channel_count(channels):
    g = torch.Generator().manual_seed(channels)
    X = torch.randn(channels, 65, 20, dtype=torch.complex64, generator=g)
    mags = torch.rand(4, channels, 65, 20, generator=g)
    Y = wiener(X, mags, iterations=2)
    assert Y.shape == (4, channels, 65, 20) and Y.dtype == X.dtype
    # Wiener gains sum to the identity, so the estimates add up to the mixture.
    assert torch.allclose(Y.sum(0), X, atol=1e-3 * X.abs().max())
    assert wiener(X, mags, iterations=1, residual=True).shape == (5, channels, 65, 20)


def test_softmask_with_zero_iterations_is_ratio_mask():
    g = torch.Generator().manual_seed(3)
    X = torch.randn(2, 33, 10, dtype=torch.complex64, generator=g)
    mags = torch.rand(3, 2, 33, 10, generator=g) + 0.1
    Y = wiener(X, mags, iterations=0, softmask=True)
    assert torch.allclose(Y, mags / mags.sum(0) * X, atol=1e-5)


def test_silence_gives_zeros_not_nan():
    X = torch.zeros(2, 129, 30, dtype=torch.complex64)
    Y = wiener(X, torch.zeros(4, 2, 129, 30), iterations=3)
    assert torch.isfinite(Y.real).all() and torch.isfinite(Y.imag).all()
    assert Y.abs().max() == 0


def test_mismatched_shapes_raise():
    with pytest.raises(ValueError):
        wiener(torch.zeros(2, 10, 5, dtype=torch.complex64), torch.zeros(3, 2, 11, 5))


def test_postfilter_improves_rough_estimates_and_keeps_type():
    refs = _two_panned_sources()
    mix = refs.sum(0)
    # Rough estimates: each source leaks 40% of the other.
    rough = np.stack([refs[0] + 0.4 * refs[1], refs[1] + 0.4 * refs[0]]).astype(np.float32)
    refined = wiener_postfilter(mix, rough, iterations=2, n_fft=2048, hop=512)
    assert isinstance(refined, np.ndarray) and refined.shape == rough.shape
    assert np.mean([sdr(refined[j], refs[j]) for j in range(2)]) > np.mean(
        [sdr(rough[j], refs[j]) for j in range(2)]
    ) + 3
    # Up to the covariance regularisation, the refined stems still add up to the mixture.
    assert sdr(refined.sum(0), mix) > 25
    as_tensor = wiener_postfilter(torch.from_numpy(mix), torch.from_numpy(rough), iterations=1)
    assert isinstance(as_tensor, torch.Tensor) and as_tensor.shape == rough.shape
