"""Metrics: MDX SDR and signal difference with known values; BSS Eval v4 equals museval."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from fixtures import synthetic_stems  # noqa: E402

from stemkit.evaluate.metrics import bss_eval_v4, mdx_sdr, signal_difference  # noqa: E402


# ----------------------------------------------------------------------------- MDX SDR
def test_mdx_sdr_of_a_ten_percent_amplitude_error_is_20_db():
    ref = np.ones((2, 2, 1000), np.float32)
    est = 0.9 * ref
    np.testing.assert_allclose(mdx_sdr(ref, est), [20.0, 20.0], atol=1e-4)


def test_mdx_sdr_per_source_and_delta_bounds_a_perfect_estimate():
    rng = np.random.default_rng(1)
    ref = rng.standard_normal((3, 2, 500))
    est = ref.copy()
    est[1] = 0.0  # silent estimate: error energy = reference energy -> 0 dB
    est[2] = -ref[2]  # inverted: error = 2 ref -> -6.02 dB
    sdr = mdx_sdr(ref, est)
    energy0 = np.sum(ref[0] ** 2)
    assert sdr[0] == pytest.approx(10 * np.log10((energy0 + 1e-7) / 1e-7))
    assert sdr[1] == pytest.approx(0.0, abs=1e-6)
    assert sdr[2] == pytest.approx(-20 * np.log10(2), abs=1e-6)


def test_mdx_sdr_zero_pads_short_estimates():
    ref = np.ones((1, 1, 100))
    est = np.ones((1, 1, 50))  # second half missing: error energy 50 of 100
    assert mdx_sdr(ref, est)[0] == pytest.approx(10 * np.log10(100 / 50), abs=1e-6)


# ----------------------------------------------------------------------------- signal difference
def _tone(amplitude=0.5, sr=8000, seconds=1.0, freq=250.0):
    t = np.arange(int(sr * seconds)) / sr
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)[None, None]  # (1, 1, T)


def test_signal_difference_is_zero_for_identical_signals():
    x = synthetic_stems(seconds=0.5, sample_rate=8000)
    d = signal_difference(x, x.copy())
    np.testing.assert_array_equal(d.time, 0.0)
    np.testing.assert_array_equal(d.spectral, 0.0)
    np.testing.assert_array_equal(d.total, 0.0)


def test_signal_difference_known_values_for_a_tone():
    ref = _tone(amplitude=0.5)  # 250 whole periods: RMS exactly 0.5 / sqrt(2)
    inverted = signal_difference(ref, -ref)
    assert inverted.time[0] == pytest.approx(2 * 0.5 / np.sqrt(2), rel=1e-5)
    assert inverted.spectral[0] == pytest.approx(0.0, abs=1e-5)  # same magnitudes

    silent = signal_difference(ref, np.zeros_like(ref))
    half = signal_difference(ref, 0.5 * ref)
    assert silent.time[0] == pytest.approx(0.5 / np.sqrt(2), rel=1e-5)
    # both parts are linear in the error's scale: half the signal missing = half the difference
    assert half.time[0] == pytest.approx(silent.time[0] / 2, rel=1e-5)
    assert half.spectral[0] == pytest.approx(silent.spectral[0] / 2, rel=1e-4)
    assert silent.total[0] == pytest.approx(silent.time[0] + silent.spectral[0])
    # a worse estimate scores higher (lower is better)
    assert silent.total[0] > half.total[0] > 0


# ----------------------------------------------------------------------------- blocks
def _leaky_pair(seconds: float, sr: int, seed: int, channels: int = 2):
    rng = np.random.default_rng(seed)
    refs = rng.standard_normal((2, channels, int(seconds * sr))).astype(np.float32)
    refs[1] = np.cumsum(refs[1], axis=-1) * 0.05  # a low-passed second source
    mixing = np.array([[0.9, 0.2], [0.15, 0.8]], np.float32)  # estimates leak into each other
    ests = np.einsum("ij,jct->ict", mixing, refs)
    ests += 0.05 * rng.standard_normal(refs.shape).astype(np.float32)
    return refs, ests


def test_blocks_bound_memory_without_changing_museval_scores():
    """Long tracks: filter correlations accumulated per block = museval's whole-track v4."""
    import museval

    sr = 4000
    refs, ests = _leaky_pair(5.3, sr, seed=3)
    refs[1, :, : int(1.5 * sr)] = 0.0  # source 1 silent in frame 0 and half of frame 1
    ours = bss_eval_v4(refs, ests, sr, block_seconds=2.0)  # 3 blocks, the last one partial
    sdr, isr, sir, sar = museval.evaluate(refs.transpose(0, 2, 1), ests.transpose(0, 2, 1), win=sr, hop=sr)
    assert ours.SDR.shape == (2, 5)
    assert np.isnan(ours.SDR[:, :1]).all() and np.isfinite(ours.SDR[:, 1:]).all()
    for mine, theirs in ((ours.SDR, sdr), (ours.ISR, isr), (ours.SIR, sir), (ours.SAR, sar)):
        np.testing.assert_allclose(mine, theirs, rtol=0, atol=1e-6)
    assert np.abs(ours.SIR - ours.SDR)[:, 1:].max() > 5  # the metrics differ: filters really used


def test_block_length_does_not_matter_and_silent_stems_give_nan():
    sr = 4000
    refs, ests = _leaky_pair(4.0, sr, seed=4, channels=1)
    small = bss_eval_v4(refs, ests, sr, block_seconds=1.0)
    large = bss_eval_v4(refs, ests, sr, block_seconds=3.0)
    for metric in ("SDR", "SIR", "SAR", "ISR"):
        np.testing.assert_allclose(getattr(small, metric), getattr(large, metric), rtol=0, atol=1e-6)
    refs[0] = 0.0  # museval refuses a track with a silent reference; stemkit scores nothing
    silent = bss_eval_v4(refs, ests, sr)
    assert silent.SDR.shape == (2, 4) and np.isnan(silent.SDR).all() and np.isnan(silent.SAR).all()
    assert np.isnan(silent.medians()["SDR"]).all()


def test_mixture_as_estimate_matches_museval_called_directly():
    """The protocol path (whole track, 44.1 kHz, 1 s windows) is museval's own numbers, exactly."""
    import museval

    sr = 44100
    refs = synthetic_stems(seconds=2.5, sample_rate=sr, seed=7)
    ests = np.repeat(refs.sum(axis=0, keepdims=True), 4, axis=0)
    ours = bss_eval_v4(refs, ests, sr)
    sdr, isr, sir, sar = museval.evaluate(refs.transpose(0, 2, 1), ests.transpose(0, 2, 1),
                                          win=44100, hop=44100)
    np.testing.assert_array_equal(ours.SDR, sdr)
    np.testing.assert_array_equal(ours.SIR, sir)
    np.testing.assert_array_equal(ours.SAR, sar)
    np.testing.assert_array_equal(ours.ISR, isr)
    medians = ours.medians()
    np.testing.assert_array_equal(medians["SDR"], np.nanmedian(sdr, axis=1))
    np.testing.assert_array_equal(medians["SIR"], np.nanmedian(sir, axis=1))
    # the mixture is a poor estimate of any single stem
    assert np.all(medians["SDR"] < 5.0)


def test_shared_factorisation_is_museval_on_leaky_estimates():
    """One solve for all estimates (stacked right-hand sides) = museval's four solves."""
    import museval

    sr = 8000
    refs, ests = _leaky_pair(3.2, sr, seed=11)
    ours = bss_eval_v4(refs, ests, sr)
    sdr, isr, sir, sar = museval.evaluate(refs.transpose(0, 2, 1), ests.transpose(0, 2, 1), win=sr, hop=sr)
    np.testing.assert_array_equal(ours.SDR, sdr)  # SDR does not depend on the filters
    for mine, theirs in ((ours.ISR, isr), (ours.SIR, sir), (ours.SAR, sar)):
        np.testing.assert_allclose(mine, theirs, rtol=0, atol=1e-9)
    assert np.abs(ours.SIR - ours.SDR).max() > 1  # filters matter for SIR: not a degenerate case


def test_sdr_only_equals_museval_sdr_and_keeps_silence_rules():
    import museval

    sr = 8000
    refs, ests = _leaky_pair(4.5, sr, seed=12)
    refs[0, :, : int(1.2 * sr)] = 0.0  # frame 0 and part of frame 1 silent for source 0
    ests[1, :, 3 * sr:] = 0.0  # source 1's estimate silent from frame 3 on: museval skips those frames
    fast = bss_eval_v4(refs, ests, sr, sdr_only=True)
    sdr, *_ = museval.evaluate(refs.transpose(0, 2, 1), ests.transpose(0, 2, 1), win=sr, hop=sr)
    np.testing.assert_allclose(fast.SDR, sdr, rtol=0, atol=1e-9)
    assert np.isnan(fast.SDR[:, 0]).all() and np.isfinite(fast.SDR[:, 1:3]).all()
    assert np.isnan(fast.SDR[:, 3:]).all()
    assert np.isnan(fast.SIR).all() and np.isnan(fast.SAR).all() and np.isnan(fast.ISR).all()
