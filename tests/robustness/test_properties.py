"""Hypothesis: for any length, rate, channel count, segment, overlap, window and shift count,
``Separator.separate`` returns one stem per source, shaped like the input, finite, summing to it."""

from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from stemkit import Separator

MODEL = "robust_smooth"  # stereo at 8 kHz: other rates are resampled, other channel counts adapted
FAST = settings(max_examples=25, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])

lengths = st.integers(1, 50_000)
rates = st.integers(8000, 192_000)
channel_counts = st.integers(1, 8)
overlaps = st.floats(0.0, 0.95)
segments = st.floats(1 / 8000, 2.0)  # seconds; down to one sample at 8 kHz
shift_counts = st.integers(0, 2)
windows = st.sampled_from(["hann", "triangular", "rectangular"])


def _mix(length: int, channels: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (0.3 * rng.standard_normal((channels, length))).astype(np.float32)


@FAST
@given(length=lengths, rate=rates, channels=channel_counts, overlap=overlaps, segment=segments,
       shifts=shift_counts, window=windows, seed=st.integers(0, 2**16))
def test_stems_sum_to_the_mix(length, rate, channels, overlap, segment, shifts, window, seed):
    mix = _mix(length, channels, seed)
    sep = Separator(MODEL, segment=segment, overlap=overlap, shifts=shifts, window=window, seed=seed,
                    progress=False)
    stems = sep.separate(mix, rate)
    out_channels = 1 if channels == 1 else 2
    assert list(stems) == ["low", "high"]
    for s in stems.values():
        assert s.shape == (out_channels, length) and s.dtype == np.float32 and np.isfinite(s).all()
    reference = mix if channels <= 2 else None
    if reference is not None:
        np.testing.assert_allclose(stems["low"] + stems["high"], reference, atol=2e-5)


@FAST
@given(length=st.integers(1, 30_000), overlap=overlaps, segment=segments, shifts=shift_counts, window=windows,
       seed=st.integers(0, 2**16))
def test_overlap_add_alone_keeps_the_sum(length, overlap, segment, shifts, window, seed):
    """At the model's own rate and channels, with consistency off, only the engine stands between the
    model's exact split and the output: blending must not lose or add anything."""
    mix = _mix(length, 2, seed)
    sep = Separator(MODEL, segment=segment, overlap=overlap, shifts=shifts, window=window, seed=seed,
                    consistency=False, progress=False)
    stems = sep.separate(mix, 8000)
    np.testing.assert_allclose(stems["low"] + stems["high"], mix, atol=2e-5)


@FAST
@given(length=st.integers(1, 40_000), rate=rates, channels=st.integers(1, 2),
       cuts=st.lists(st.integers(1, 40_000), max_size=6), seed=st.integers(0, 2**16))
def test_streaming_in_any_blocks_equals_one_call(length, rate, channels, cuts, seed):
    mix = _mix(length, channels, seed)
    sep = Separator(MODEL, progress=False)
    whole = sep.separate(mix, rate)
    edges = sorted({0, length, *[c for c in cuts if c < length]})
    blocks = [mix[:, a:b] for a, b in zip(edges[:-1], edges[1:])]
    parts = list(sep.stream(iter(blocks), rate, total=length))  # as separate() passes it
    assert sum(m.shape[1] for m, _ in parts) == length
    for name in whole:
        np.testing.assert_allclose(np.concatenate([p[name] for _, p in parts], axis=-1), whole[name], atol=1e-5)
