"""Pitch and tempo augmentation: they work inside a model (nn.Module conversions) and do what
they say on a tone."""

from __future__ import annotations

import numpy as np
import torch

from stemkit.data.augment import PitchShift, TempoChange, build_augment

SR = 22050


def _tone(freq=440.0, seconds=1.0):
    t = np.arange(int(seconds * SR)) / SR
    x = 0.5 * np.sin(2 * np.pi * freq * t).astype(np.float32)
    return torch.from_numpy(np.broadcast_to(x, (1, 2, 2, x.size)).copy())  # (B, S, C, T)


def _peak_hz(x: np.ndarray) -> float:
    spec = np.abs(np.fft.rfft(x * np.hanning(x.size)))
    return float(np.fft.rfftfreq(x.size, 1 / SR)[np.argmax(spec)])


def test_modules_survive_dtype_and_device_moves():
    # nn.Module.to() calls self._apply(fn): an override of that name broke training (session 3)
    aug = build_augment([{"name": "pitch_shift"}, {"name": "tempo"}], seed=0)
    assert aug.to(torch.float32) is aug
    aug.float()


def test_pitch_shift_moves_the_tone_by_whole_semitones():
    shift = PitchShift(max_semitones=2, p=1.0, sample_rate=SR, seed=0)
    gen = torch.Generator().manual_seed(0)
    seen = set()
    for _ in range(6):
        amount = shift._amount(gen)
        y = shift._process(_tone()[0].numpy(), amount, SR)
        assert y.shape == (2, 2, SR)
        expected = 440.0 * 2 ** (amount / 12)
        assert abs(_peak_hz(y[0, 0, 2000:-2000]) - expected) < 4.0
        seen.add(amount)
    assert seen <= {-2.0, -1.0, 0.0, 1.0, 2.0} and len(seen) > 1


def test_tempo_change_keeps_pitch_and_length():
    tempo = TempoChange(max_change=0.1, p=1.0, seed=0)
    y = tempo(_tone())
    assert y.shape == (1, 2, 2, SR)
    assert abs(_peak_hz(y[0, 0, 0, 2000:-4000].numpy()) - 440.0) < 4.0
    assert not torch.equal(y, _tone())
