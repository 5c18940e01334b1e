"""The block-FFT linear stage (EQ, width, pan, reverb) against plain time-domain references."""

import numpy as np
import pytest
from scipy.signal import fftconvolve, sosfilt

from stemkit.data.mixing.chain import mix_tracks
from stemkit.data.mixing.colour import chorus
from stemkit.data.mixing.config import MixConfig
from stemkit.data.mixing.dynamics import frames_to_samples
from stemkit.data.mixing.filters import eq_sos, random_eq
from stemkit.data.mixing.linear_stage import linear_stage
from stemkit.data.mixing.reverb import Room, room_impulse_response
from stemkit.data.mixing.spectral import BlockPlan, apply_transfer, block_plan
from stemkit.data.mixing.stereo import placement_matrix
from stemkit.data.render.stems import exact_sum

SR = 44100


def _signal(n, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n) / SR
    left = np.sin(2 * np.pi * 110 * t) * (t % 0.5 < 0.25) + 0.1 * rng.standard_normal(n)
    right = 0.5 * rng.standard_normal(n) * (t % 0.3 < 0.1)
    return np.stack([left, right]).astype(np.float32)


def _dry_reference(x, eq, w, p):
    return placement_matrix(w, p) @ sosfilt(eq_sos(eq, SR), x.astype(np.float64), axis=-1)


@pytest.mark.parametrize("n", [700, 5 * SR + 123])
def test_eq_width_pan_match_the_time_domain_filters(n):
    x = _signal(n)
    eq = random_eq(np.random.default_rng(1), (-6.0, 6.0))
    y = linear_stage(x, SR, eq=eq, width=0.7, pan=-0.4)
    ref = _dry_reference(x, eq, 0.7, -0.4)
    assert y.dtype == np.float32 and y.shape == x.shape
    assert np.abs(y - ref).max() < 1e-5 * np.abs(ref).max()


def _reverb_parts(x, eq, w, p, room):
    n = x.shape[-1]
    dry = _dry_reference(x, eq, w, p)
    full = np.stack([fftconvolve(dry[c], room.ir[c].astype(np.float64)) for c in range(2)])
    return dry, full, full[:, :n]  # the tail past the signal's end is cut


def test_reverb_is_the_convolution_with_the_room():
    x = _signal(4 * SR, seed=2)
    room = Room(room_impulse_response(np.random.default_rng(3), SR, t60=1.2, predelay=0.02))
    eq = random_eq(np.random.default_rng(4), (-6.0, 6.0))
    wet = 0.3
    y = linear_stage(x, SR, eq=eq, width=1.1, pan=0.2, room=room, wet=wet)
    dry, _, rev = _reverb_parts(x, eq, 1.1, 0.2, room)
    # y = (1 - wet) dry + wet g rev: solve for g by least squares, then check the fit is exact
    resid = y - (1 - wet) * dry
    g = float(np.sum(resid * rev) / np.sum(rev * rev)) / wet
    assert g > 0 and np.abs(resid - wet * g * rev).max() < 1e-4 * np.abs(y).max()


def test_reverb_gets_the_energy_of_the_dry_signal():
    # Broadband input: the gain is estimated from band-averaged spectra, which is what a tone's
    # reverb energy scatters around (one tone sees the room's response at one frequency).
    rng = np.random.default_rng(10)
    noise = rng.standard_normal((2, 4 * SR))
    x = sosfilt(eq_sos([("low_shelf", 200.0, 9.0, 0.707)], SR), noise, axis=-1).astype(np.float32)
    x[1] *= 0.3
    room = Room(room_impulse_response(np.random.default_rng(11), SR, t60=1.5, predelay=0.01))
    wet = 0.5
    y = linear_stage(x, SR, width=0.9, pan=-0.3, room=room, wet=wet)
    dry, full, rev = _reverb_parts(x, [("peak", 1000.0, 0.0, 1.0)], 0.9, -0.3, room)
    g = float(np.sum((y - (1 - wet) * dry) * rev) / np.sum(rev * rev)) / wet
    assert g**2 * np.sum(full**2) == pytest.approx(np.sum(dry**2), rel=0.1)


def test_identical_channels_take_the_mono_path_with_the_same_result():
    n = 2 * SR
    mono = _signal(n)[0]
    x = np.stack([mono, mono])
    nudged = x.copy()
    nudged[1, 0] = np.nextafter(nudged[1, 0], np.float32(np.inf))  # not identical: stereo path
    assert not np.array_equal(nudged[0], nudged[1])
    response = np.random.default_rng(5).standard_normal((2, 2, 8193)) + 0j
    plan = BlockPlan(n, 16384, 12000)
    a, b = apply_transfer(x, response, plan), apply_transfer(nudged, response, plan)
    assert np.abs(a - b).max() < 1e-4 * np.abs(a).max()


def test_block_plan_leaves_room_for_the_tail_and_covers_the_signal():
    for n, tail in ((10, 0), (SR, 4410), (30 * SR, 140_000), (100, 300_000)):
        plan = block_plan(n, tail)
        assert plan.n_fft - plan.block >= tail and plan.n_blocks * plan.block >= n
        assert plan == block_plan(n, tail)


def test_frames_to_samples_is_np_interp():
    rng = np.random.default_rng(6)
    for frame, first, n in ((220, 110.0, 44100), (220, -110.5, 5000), (7, 3.5, 50), (220, 110.0, 219)):
        values = rng.random(-(-n // frame) + 1)
        ref = np.interp(np.arange(n), first + frame * np.arange(len(values)), values)
        assert np.abs(frames_to_samples(values, frame, first, n) - ref).max() < 1e-6


def test_exact_sum_has_the_bits_of_a_stacked_np_sum():
    rng = np.random.default_rng(7)
    for k in (2, 3, 5):
        parts = [(rng.standard_normal((2, 9999)) * 10.0 ** rng.uniform(-3, 1)).astype(np.float32)
                 for _ in range(k)]
        assert np.array_equal(exact_sum(parts, (2, 9999)),
                              np.sum(np.stack(parts), axis=0, dtype=np.float32))


def test_one_room_per_song_every_send_deterministic_and_sums_exact():
    rng = np.random.default_rng(8)
    tracks = [(rng.standard_normal((2, 2 * SR)) * s).astype(np.float32) for s in (0.1, 0.3, 0.05, 0.2)]
    stems = ["drums", "bass", "other", "vocals"]
    cfg = MixConfig(reverb_probability=1.0)
    a, meta = mix_tracks(tracks, stems, cfg, SR, np.random.default_rng(9))
    b, _ = mix_tracks(tracks, stems, cfg, SR, np.random.default_rng(9))
    assert all(np.array_equal(x, y) for x, y in zip(a, b))
    assert meta["room"] is not None and all("reverb_wet" in p for p in meta["tracks"])
    mixture = exact_sum(a, (2, 2 * SR))
    assert np.array_equal(mixture, np.sum(np.stack(a), axis=0, dtype=np.float32))
    # the inputs are untouched (the bus scales the chain's own copies in place)
    assert np.array_equal(tracks[0], (np.random.default_rng(8).standard_normal((2, 2 * SR)) * 0.1)
                          .astype(np.float32))


def test_chorus_interpolates_precisely_late_in_a_long_signal():
    n = 20 * SR
    t = np.arange(n) / SR
    x = np.stack([np.sin(2 * np.pi * 220 * t)] * 2).astype(np.float32)
    y = chorus(x, SR, np.random.default_rng(0), depth_ms=0.0, base_ms=10.0, rate_hz=1.0, mix=1.0)
    late = slice(n - SR, n)
    expected = np.sin(2 * np.pi * 220 * (t[late] - 0.010))
    assert np.abs(y[0, late] - expected).max() < 1e-3


_THREADED_SCRIPT = """
import sys, numpy as np, torch
from stemkit.data.mixing.filters import random_eq
from stemkit.data.mixing.linear_stage import linear_stage
from stemkit.data.mixing.reverb import Room, room_impulse_response
assert torch.get_num_threads() == 2
rng = np.random.default_rng(12)
x = rng.standard_normal((2, 44100)).astype(np.float32)
room = Room(room_impulse_response(rng, 44100, t60=0.6))
y = linear_stage(x, 44100, eq=random_eq(rng, (-6.0, 6.0)), width=0.8, pan=0.1, room=room, wet=0.3)
assert torch.get_num_threads() == 2  # the caller's setting is given back
np.save(sys.argv[1], y)
"""


def test_same_bits_in_a_many_thread_process(tmp_path):
    # MKL's FFT results depend on how many threads split a transform; the stage runs its FFTs on
    # one thread so a -j 1 main process and the one-thread workers of -j N render the same bits.
    import os
    import subprocess
    import sys

    out = tmp_path / "y.npy"
    env = {**os.environ, "OMP_NUM_THREADS": "2", "MKL_NUM_THREADS": "2"}
    subprocess.run([sys.executable, "-c", _THREADED_SCRIPT, str(out)], env=env, check=True)
    rng = np.random.default_rng(12)
    x = rng.standard_normal((2, 44100)).astype(np.float32)
    room = Room(room_impulse_response(rng, 44100, t60=0.6))
    y = linear_stage(x, 44100, eq=random_eq(rng, (-6.0, 6.0)), width=0.8, pan=0.1, room=room, wet=0.3)
    assert np.array_equal(np.load(out), y)
