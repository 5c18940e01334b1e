"""Each augmentation keeps (B, S, C, T) and does what its name says."""

from __future__ import annotations

import pytest
import torch

from stemkit.data.augment import (ChannelSwap, Compose, PitchShift, RandomGain, RemixAcrossBatch,
                                  SignFlip, StemEQ, TempoChange, TimeShift, build_augment)
from stemkit.errors import ConfigError


@pytest.fixture
def stems():
    return torch.randn(6, 4, 2, 512, generator=torch.Generator().manual_seed(0))


def test_remix_keeps_each_source_content_set_and_mixes_songs(stems):
    out = RemixAcrossBatch(seed=1)(stems)
    assert out.shape == stems.shape
    changed = False
    for s in range(4):
        before = sorted(stems[:, s].flatten(1).tolist())
        after = sorted(out[:, s].flatten(1).tolist())
        assert before == after  # same stems of source s, in another order
        changed |= not torch.equal(out[:, s], stems[:, s])
    assert changed
    assert torch.equal(RemixAcrossBatch(p=0.0, seed=1)(stems), stems)


def test_channel_swap_swaps(stems):
    out = ChannelSwap(p=1.0, seed=0)(stems)
    assert torch.equal(out[:, :, 0], stems[:, :, 1]) and torch.equal(out[:, :, 1], stems[:, :, 0])
    assert torch.equal(ChannelSwap(p=0.0)(stems), stems)
    mono = stems[:, :, :1]
    assert torch.equal(ChannelSwap(p=1.0)(mono), mono)


def test_sign_flip_negates(stems):
    assert torch.equal(SignFlip(p=1.0, seed=0)(stems), -stems)
    half = SignFlip(p=0.5, seed=3)(stems)
    flipped = [torch.equal(half[b, s], -stems[b, s]) for b in range(6) for s in range(4)]
    kept = [torch.equal(half[b, s], stems[b, s]) for b in range(6) for s in range(4)]
    assert all(f or k for f, k in zip(flipped, kept)) and any(flipped) and any(kept)


def test_random_gain_is_one_gain_per_stem_within_bounds(stems):
    out = RandomGain(-6.0, 3.0, seed=0)(stems)
    ratio = out / stems
    per_stem = ratio.flatten(2)
    assert torch.allclose(per_stem, per_stem[..., :1].expand_as(per_stem), atol=1e-5)
    db = 20 * torch.log10(per_stem[..., 0])
    assert db.min() >= -6.0 - 1e-4 and db.max() <= 3.0 + 1e-4 and db.std() > 0.5


def test_time_shift_is_a_circular_shift_within_max(stems):
    out = TimeShift(max_samples=40, seed=0)(stems)
    assert out.shape == stems.shape
    offsets = set()
    for b in range(6):
        for s in range(4):
            k = next(k for k in range(41) if torch.equal(out[b, s], torch.roll(stems[b, s], k, -1)))
            offsets.add(k)
    assert len(offsets) > 1
    same = TimeShift(max_samples=40, same=True, seed=0)(stems)
    for b in range(6):
        k = next(k for k in range(41) if torch.equal(same[b, 0], torch.roll(stems[b, 0], k, -1)))
        assert all(torch.equal(same[b, s], torch.roll(stems[b, s], k, -1)) for s in range(4))


def test_seeds_and_generators_make_augmentation_reproducible(stems):
    config = [{"name": "remix"}, {"name": "gain"}, {"name": "channel_swap"}, {"name": "sign_flip"},
              {"name": "time_shift", "max_samples": 16}]
    a, b = build_augment(config, seed=7), build_augment(config, seed=7)
    assert isinstance(a, Compose) and len(a.augmentations) == 5
    assert torch.equal(a(stems), b(stems))
    g1, g2 = torch.Generator().manual_seed(9), torch.Generator().manual_seed(9)
    assert torch.equal(a(stems, generator=g1), b(stems, generator=g2))
    assert not torch.equal(a(stems), stems)


def test_build_augment_errors():
    assert build_augment([]) is None
    with pytest.raises(ConfigError, match="unknown augmentation"):
        build_augment([{"name": "reverb"}])
    with pytest.raises(ConfigError, match="gain"):
        build_augment([{"name": "gain", "min_db": 0, "loudness": 3}])
    with pytest.raises(ConfigError, match="name"):
        build_augment(["gain"])


def _peak_hz(x: torch.Tensor, sr: int) -> float:
    spectrum = torch.fft.rfft(x[1000:7000]).abs()
    return float(spectrum.argmax()) * sr / 6000


def test_pitch_shift_moves_the_tone_by_whole_semitones():
    sr = 8000
    tone = torch.sin(2 * torch.pi * 440 * torch.arange(sr) / sr).expand(1, 2, 2, sr).contiguous()
    shifts = []
    for seed in range(3):
        out = PitchShift(max_semitones=3, p=1.0, sample_rate=sr, seed=seed)(tone)
        assert out.shape == tone.shape
        semitones = float(12 * torch.log2(torch.tensor(_peak_hz(out[0, 0, 0], sr) / 440.0)))
        assert abs(semitones) < 3.2 and abs(semitones - round(semitones)) < 0.1
        shifts.append(round(semitones))
    assert any(shifts)
    assert torch.equal(PitchShift(p=0.0, sample_rate=sr)(tone), tone)


def test_tempo_change_keeps_pitch_and_moves_the_end_of_a_note():
    sr = 8000
    note = torch.sin(2 * torch.pi * 440 * torch.arange(sr) / sr)
    note[sr // 2:] = 0.0  # the note ends at 0.5 s
    stems = note.expand(1, 2, 2, sr).contiguous()
    out = TempoChange(max_change=0.3, p=1.0, seed=0)(stems)
    assert out.shape == stems.shape
    assert abs(_peak_hz(out[0, 0, 0], sr) - 440.0) < 3.0
    loud = (out[0, 0, 0].abs() > 0.1).nonzero().flatten()
    ratio = float(loud[-1]) / (sr // 2)  # new end / old end = 1 / speed
    assert 1 / 1.3 - 0.03 < ratio < 1 / 0.7 + 0.03 and abs(ratio - 1.0) > 0.01


def _band_db(x, lo, hi, sr=44100):
    spec = torch.fft.rfft(x, dim=-1).abs() ** 2
    f = torch.fft.rfftfreq(x.shape[-1], 1 / sr)
    return 10 * torch.log10(spec[..., (f >= lo) & (f < hi)].mean(-1))


def test_stem_eq_reshapes_each_stem_within_its_gain_range():
    sr, n = 44100, 44100
    noise = torch.randn(3, 4, 2, n, generator=torch.Generator().manual_seed(0))
    out = StemEQ(max_db=9, seed=3)(noise)
    assert out.shape == noise.shape
    # per stem, the level change in bands spread over the spectrum: different stems, different curves
    bands = [(50, 150), (400, 800), (1500, 3000), (6000, 12000), (15000, 20000)]
    change = torch.stack([_band_db(out, lo, hi) - _band_db(noise, lo, hi) for lo, hi in bands], -1)
    assert change.abs().max() < 3 * 9 + 1  # at most the shelves and two peaks, all at +-9 dB, stacked
    assert change.std(-1).mean() > 1.0  # the spectral balance moved, not just the level
    assert change[:, 0, 0].sub(change[:, 1, 0]).abs().max() > 0.5  # each stem its own EQ
    assert torch.allclose(change[..., 0, :], change[..., 1, :], atol=0.3)  # both channels alike
    assert torch.equal(StemEQ(max_db=0)(noise), noise)
    assert torch.equal(StemEQ(p=0.0)(noise), noise)


def test_stem_eq_leaves_the_mixture_the_sum_of_its_parts():
    from stemkit.data.datasets import augment_chunk

    stems = torch.randn(4, 2, 8000, generator=torch.Generator().manual_seed(1))
    mix = stems.sum(0) + 0.1 * torch.randn(2, 8000)  # a residual (sources not asked for)
    new_mix, new_stems = augment_chunk(build_augment([{"name": "eq", "max_db": 6}], seed=0), mix, stems)
    assert not torch.allclose(new_stems, stems)
    residual = new_mix - new_stems.sum(0)
    assert 0.01 < residual.pow(2).mean() < 0.1  # the residual was filtered too, not dropped
    with pytest.raises(ConfigError, match="max_db"):
        build_augment([{"name": "eq", "max_db": -1}])
