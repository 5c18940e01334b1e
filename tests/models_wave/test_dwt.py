"""DWT sub-band audio: exact reconstruction, agreement with PyWavelets, gradients."""

from __future__ import annotations

import numpy as np
import pytest
import pywt
import torch

from stemkit.errors import ConfigError
from stemkit.models.dwt import DWTSubbands


@pytest.mark.parametrize("wavelet", ["haar", "db4", "sym8"])
@pytest.mark.parametrize("length", [4096, 1001, 37])
def test_subbands_sum_to_input(wavelet, length):
    x = torch.randn(2, 2, length, generator=torch.Generator().manual_seed(length))
    bands = DWTSubbands(wavelet, levels=2)(x)
    assert bands.shape == (2, 2, 3, length)
    assert torch.allclose(bands.sum(dim=2), x, atol=1e-5)
    # Each band carries real signal, not just the whole input in one band.
    energies = bands.pow(2).mean(dim=(0, 1, 3))
    assert (energies > 1e-3 * x.pow(2).mean()).all()


@pytest.mark.parametrize("wavelet", ["haar", "db4", "coif3"])
def test_matches_pywavelets_periodization(wavelet):
    levels = 3
    x = np.random.default_rng(1).standard_normal((3, 256))
    module = DWTSubbands(wavelet, levels).double()
    ours_coeffs = module.coefficients(torch.from_numpy(x))
    ref_coeffs = pywt.wavedec(x, wavelet, mode="periodization", level=levels)
    for ours, ref in zip(ours_coeffs, ref_coeffs):
        np.testing.assert_allclose(ours.numpy(), ref, atol=1e-5)
    bands = module(torch.from_numpy(x)[:, None])[:, 0].numpy()  # (3, bands, T)
    for k in range(levels + 1):
        only_k = [c if i == k else np.zeros_like(c) for i, c in enumerate(ref_coeffs)]
        np.testing.assert_allclose(bands[:, k], pywt.waverec(only_k, wavelet, mode="periodization"), atol=1e-5)


def test_bands_split_by_frequency():
    sr, n = 8000, 4096
    t = torch.arange(n) / sr
    module = DWTSubbands("db4", levels=2)
    inner = slice(64, n - 64)  # periodic boundaries wrap the non-periodic tones: skip the ends

    def energy_share(tone):
        energy = module(tone.view(1, 1, -1))[0, 0, :, inner].pow(2).sum(dim=-1)
        return energy / energy.sum()

    # Approximation band (0 - sr/8) takes a 60 Hz tone; the finest detail band (sr/4 - sr/2) 3 kHz.
    assert energy_share(torch.sin(2 * torch.pi * 60 * t))[0] > 0.99
    assert energy_share(torch.sin(2 * torch.pi * 3000 * t))[2] > 0.9


def test_gradients_flow_through_the_decomposition():
    module = DWTSubbands("db4", levels=2).double()
    x = torch.randn(1, 1, 64, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradcheck(lambda v: module(v)[:, :, 1], (x,))


def test_rejects_biorthogonal_and_unknown_wavelets():
    with pytest.raises(ConfigError):
        DWTSubbands("bior2.2")
    with pytest.raises(ConfigError):
        DWTSubbands("not-a-wavelet")


def test_empty_input_gives_empty_bands():
    assert DWTSubbands("db4", 2)(torch.zeros(1, 2, 0)).shape == (1, 2, 3, 0)
