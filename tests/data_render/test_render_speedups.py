"""Session-4 speed-ups of the renderer: each one either leaves the audio as it was (up to float32
rounding) or changes it only below audibility, by a bounded, measured amount.

- the room response is cut where its expected energy is 60 dB below its peak;
- a cached note ends where it has decayed 60 dB below its peak;
- the compressor's makeup gain comes from 5 ms frame energies;
- the level, a mono track's one channel and the compressor curve ride along to the stem stage;
- the bus measures the mix through one detector power signal;
- the chorus runs a block at a time.
"""

import numpy as np
import pretty_midi
import pytest

from stemkit.data.mixing import colour
from stemkit.data.mixing.chain import nonlinear_stage
from stemkit.data.mixing.colour import chorus, saturate
from stemkit.data.mixing.dynamics import (_smooth, bus_gain, compress, compression_curve,
                                          compressor_gain, loudest_power, power_bus_gain)
from stemkit.data.mixing.linear_stage import cross_spectrum, linear_stage
from stemkit.data.mixing.measure import active_rms, identical_channels
from stemkit.data.mixing.reverb import Room, room_impulse_response, tail_samples
from stemkit.data.render import note_cache
from stemkit.data.render.events import instrument_events
from stemkit.data.render.soundfonts import bundled_soundfont
from stemkit.data.render.tsf_backend import render_tsf

SR = 44100


def _db(num, den):
    return 10 * np.log10(float(num) / float(den) + 1e-30)


def _music(n, seed=0):
    """Stereo test material (2, n) float32: a decaying pluck pattern plus noise bursts and a bass."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / SR
    pluck = np.sin(2 * np.pi * 330 * t) * np.exp(-8 * (t % 0.25))
    bass = 0.6 * np.sin(2 * np.pi * 55 * t) * (t % 0.5 < 0.4)
    noise = 0.2 * rng.standard_normal((2, n)) * (t % 0.5 < 0.05)
    return (np.stack([pluck + bass, 0.7 * pluck + bass]) + noise).astype(np.float32)


@pytest.mark.parametrize("t60", [0.3, 1.0, 2.2])
def test_room_cut_is_a_prefix_of_the_uncut_room_with_its_energy_60_db_down(t60):
    rng_cut, rng_full = np.random.default_rng(4), np.random.default_rng(4)
    cut = room_impulse_response(rng_cut, SR, t60=t60, predelay=0.02).astype(np.float64)
    full = room_impulse_response(rng_full, SR, t60=t60, predelay=0.02, floor_db=None).astype(np.float64)
    assert rng_cut.random() == rng_full.random()  # the same draws: what follows in a song is unchanged
    n = cut.shape[1]
    assert n == tail_samples(t60, SR) + int(0.02 * SR) and n < 0.75 * full.shape[1]
    k = np.sum(full[:, :n] * cut) / np.sum(cut * cut)  # the two differ by the normalisation only
    assert np.abs(full[:, :n] - k * cut).max() < 1e-5 * np.abs(full).max()
    assert _db(np.sum(full[:, n:] ** 2), np.sum(full ** 2)) < -57  # measured -58.8 to -62.5 dB


def test_reverb_through_the_cut_room_differs_from_the_uncut_one_below_minus_50_db():
    x = _music(3 * SR)
    for t60 in (0.8, 2.0):
        rooms = [Room(room_impulse_response(np.random.default_rng(9), SR, t60=t60, floor_db=f))
                 for f in (60.0, None)]
        cut, full = (linear_stage(x, SR, room=r, wet=0.35) for r in rooms)
        assert _db(np.sum((cut - full) ** 2), np.sum(full ** 2)) < -50


def test_smoothing_loop_matches_the_reference_recursion():
    rng = np.random.default_rng(1)
    target = np.minimum(0.0, rng.standard_normal(3000) * 6)
    target[500:900] = 0.0
    a_att, a_rel = np.exp(-0.005 / 0.01), np.exp(-0.005 / 0.12)
    ref, state = np.empty_like(target), 0.0
    for i, v in enumerate(target):
        c = a_att if v < state else a_rel
        state = c * state + (1 - c) * v
        ref[i] = state
    assert np.abs(_smooth(target, 0.01, 0.12, 0.005) - ref).max() < 1e-12


def test_compression_curve_moves_the_threshold_instead_of_scaling_the_input():
    x = _music(2 * SR, 2)
    scale = 3.7
    y = x * compression_curve(x, SR, threshold_db=-18.0, ratio=4.0, scale=scale, makeup=False)
    ref = (scale * x) * compressor_gain(scale * x, SR, threshold_db=-18.0, ratio=4.0)
    assert np.abs(y - ref).max() < 2e-5 * np.abs(ref).max()
    assert np.abs(ref).max() < 0.9 * scale * np.abs(x).max()  # it did compress


@pytest.mark.parametrize("attack", [0.002, 0.01])
def test_frame_makeup_restores_the_energy_within_a_tenth_of_a_db(attack):
    x = _music(3 * SR, 3)
    for threshold, ratio in ((-30.0, 6.0), (-14.0, 2.0)):
        y = compress(x, SR, threshold_db=threshold, ratio=ratio, attack=attack)
        assert abs(_db(np.sum(y.astype(np.float64) ** 2), np.sum(x.astype(np.float64) ** 2))) < 0.1


def _explicit_chain(x, p, rng):
    """The session-3 order of operations: every effect on the full stereo signal."""
    y = x * np.float32(10 ** (p["level_db"] / 20) * 0.1 / active_rms(x, SR))
    if "compression" in p:
        y = compress(y, SR, **p["compression"])
    if "saturation" in p:
        y = saturate(y, **p["saturation"])
    if "chorus" in p:
        y = chorus(y, SR, rng, **p["chorus"])
    return y


@pytest.mark.parametrize("mono", [True, False])
@pytest.mark.parametrize("effects", [{}, {"compression": {"threshold_db": -24.0, "ratio": 3.0}},
                                     {"compression": {"threshold_db": -20.0, "ratio": 5.0},
                                      "saturation": {"drive": 3.0, "mix": 0.7}},
                                     {"chorus": {"rate_hz": 0.7, "depth_ms": 2.0, "mix": 0.3}}])
def test_nonlinear_stage_equals_the_explicit_chain(mono, effects):
    x = _music(2 * SR, 5)
    if mono:
        x = np.stack([x[0], x[0]])
    p = {"level_db": -4.0, **effects}
    processed = nonlinear_stage(x, p, SR, np.random.default_rng(6))
    ref = _explicit_chain(x, p, np.random.default_rng(6))
    assert processed.x.shape[0] == (1 if mono and "chorus" not in p else 2)  # mono stays one channel
    assert ("compression" in p and len(p) == 2) == (processed.curve is not None)  # curve left pending
    out = processed.audio()
    assert out.shape == x.shape and np.abs(out - ref).max() < 1e-5 * np.abs(ref).max()


def test_identical_channels_and_mono_cross_spectrum():
    x = _music(SR)
    mono = np.stack([x[0], x[0]])
    assert identical_channels(mono) and not identical_channels(x)
    late = mono.copy()
    late[1, -1] += 1e-3  # differs only in the last chunk
    assert not identical_channels(late)
    assert np.allclose(cross_spectrum(mono[:1]), cross_spectrum(mono), rtol=1e-5, atol=1e-9)
    curve = np.linspace(0.5, 1.5, SR).astype(np.float32)
    assert np.allclose(cross_spectrum(x, curve), cross_spectrum(x * curve), rtol=1e-4, atol=1e-9)


def test_bus_from_the_detector_power_equals_the_bus_on_the_mix():
    rng = np.random.default_rng(7)
    mix = (rng.standard_normal((2, SR)) * np.linspace(0.05, 0.5, SR)).astype(np.float32)
    power = loudest_power(mix)
    gain = power_bus_gain(power, SR, threshold_db=-20.0, limit_db=-6.0)
    ref = bus_gain(mix, SR, threshold_db=-20.0, limit_db=-6.0)
    assert np.abs(gain - ref).max() < 1e-6
    # power_bus_gain leaves the power of the limited mix behind (the bus reads its peak there)
    limited = loudest_power(mix * gain)
    assert np.abs(power - limited).max() < 1e-5 * limited.max()


def test_chorus_blocks_do_not_change_its_values(monkeypatch):
    x = _music(SR + 123, 8)
    whole = chorus(x, SR, np.random.default_rng(3), rate_hz=1.1, depth_ms=3.0, mix=0.4)
    monkeypatch.setattr(colour, "_BLOCK", 1000)
    blocked = chorus(x, SR, np.random.default_rng(3), rate_hz=1.1, depth_ms=3.0, mix=0.4)
    assert np.array_equal(whole, blocked)


def test_cached_notes_end_60_db_below_their_peak(monkeypatch):
    inst = pretty_midi.Instrument(program=89)  # a warm pad: seconds of release
    for k in range(6):
        inst.notes.append(pretty_midi.Note(velocity=90, pitch=60 + (k % 2) * 7, start=k * 1.5, end=k * 1.5 + 1.0))
    font, n = str(bundled_soundfont()), 12 * SR

    def render():
        return render_tsf(instrument_events(inst, SR), program=inst.program, is_drum=False,
                          soundfont=font, sample_rate=SR, n_samples=n, note_cache=True)

    cut = render()
    monkeypatch.setattr(note_cache, "_FLOOR", 0.0)  # render every note until digital silence
    full = render()
    assert _db(np.sum((cut - full) ** 2), np.sum(full ** 2)) < -45
    # the cut tail: after the last note's sound has fallen 60 dB, the cached render is silent
    last = np.abs(full[:, int(7.5 * SR):]).max(axis=0)
    quiet = np.flatnonzero(last > last.max() * 1e-3)[-1] + int(7.5 * SR) + 1
    assert np.all(cut[:, quiet + 64:] == 0) and np.abs(full[:, quiet + 64:]).max() > 0


_THREADED_MIX = """
import sys, numpy as np, torch
from stemkit.data.mixing.chain import mix_stems
from stemkit.data.mixing.config import MixConfig
assert torch.get_num_threads() == 2
rng = np.random.default_rng(21)
t = np.arange(2 * 44100) / 44100
tracks = [(np.stack([np.sin(2 * np.pi * f * t), np.sin(2 * np.pi * 1.01 * f * t)]) * 0.3
           + 0.05 * rng.standard_normal((2, len(t)))).astype(np.float32) for f in (110, 220, 330, 440)]
tracks[1][1] = tracks[1][0]  # a mono track
cfg = MixConfig(reverb_probability=1.0, compression_probability=1.0, eq_probability=1.0,
                bus_compression_probability=1.0)
stems = ["drums", "bass", "other", "other"]
out, _ = mix_stems(tracks, stems, stems, cfg, 44100, np.random.default_rng(22))
np.savez(sys.argv[1], **out)
"""


def test_mix_stems_gives_the_same_bits_in_a_many_thread_process(tmp_path):
    # Every FFT runs on one thread and every sum avoids BLAS, so the default stem path (batched
    # FFT calls, compressor curves, the bus) renders the same bits whatever the thread count.
    import os
    import subprocess
    import sys

    path = tmp_path / "mix.npz"
    env = {**os.environ, "OMP_NUM_THREADS": "2", "MKL_NUM_THREADS": "2"}
    subprocess.run([sys.executable, "-c", _THREADED_MIX, str(path)], env=env, check=True)
    here = {}
    exec(_THREADED_MIX.replace("assert torch.get_num_threads() == 2\n", "").replace(
        "np.savez(sys.argv[1], **out)", ""), here)
    threaded = np.load(path)
    assert set(threaded.files) == set(here["out"]) == {"drums", "bass", "other"}
    assert all(np.array_equal(threaded[k], here["out"][k]) for k in threaded.files)
