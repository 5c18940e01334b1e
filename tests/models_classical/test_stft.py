"""STFT helpers: shapes on any leading dims, exact inversion, the Stft setting object."""

from __future__ import annotations

import pytest
import torch

from stemkit.dsp.stft import Stft, istft, make_window, num_frames, stft


@pytest.mark.parametrize("length", [1, 100, 4095, 44101])
@pytest.mark.parametrize("n_fft,hop", [(4096, 1024), (1024, 256), (512, 128)])
def test_round_trip_any_length(length, n_fft, hop):
    x = torch.randn(2, 3, length, generator=torch.Generator().manual_seed(length))
    spec = stft(x, n_fft, hop)
    assert spec.shape == (2, 3, n_fft // 2 + 1, num_frames(length, hop))
    assert spec.is_complex()
    back = istft(spec, length, n_fft, hop)
    assert back.shape == x.shape
    assert torch.allclose(back, x, atol=1e-5)


def test_stft_of_sine_peaks_at_its_bin():
    sr, n_fft = 44100, 4096
    freq = 100 * sr / n_fft  # exactly bin 100
    t = torch.arange(sr) / sr
    spec = stft(torch.sin(2 * torch.pi * freq * t), n_fft, 1024)
    assert int(spec.abs().mean(-1).argmax()) == 100


def test_stft_object_matches_functions():
    setting = Stft(n_fft=1024, hop=256)
    x = torch.randn(2, 5000)
    assert torch.equal(setting(x), stft(x, 1024, 256))
    assert setting.bins == 513 and setting.frames(5000) == num_frames(5000, 256)
    assert torch.allclose(setting.inverse(setting(x), 5000), x, atol=1e-5)
    freqs = setting.bin_frequencies(44100)
    assert freqs.shape == (513,) and freqs[-1] == pytest.approx(22050)


def test_bad_inputs_raise():
    with pytest.raises(ValueError, match="unknown window"):
        make_window("triangle", 8)
    with pytest.raises(TypeError):
        stft(torch.randn(4, 100, dtype=torch.complex64), 64, 16)
    with pytest.raises(ValueError, match="bins"):
        istft(torch.zeros(10, 3, dtype=torch.complex64), 100, 64, 16)
