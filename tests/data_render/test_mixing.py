"""Mixing effects: each one does what it says, and the chain keeps sums exact."""

import numpy as np
import pytest
from scipy.signal import butter, sosfilt

from stemkit.data.mixing import MixConfig, mix_tracks
from stemkit.data.mixing.colour import chorus, echo, saturate
from stemkit.data.mixing.dynamics import bus_gain, compress
from stemkit.data.mixing.filters import apply_eq
from stemkit.data.mixing.reverb import Room, apply_reverb, room_impulse_response
from stemkit.data.mixing.stereo import pan, width

SR = 44100


def _tone(freq, seconds=1.0, amp=0.5):
    t = np.arange(int(seconds * SR)) / SR
    x = (amp * np.sin(2 * np.pi * freq * t)).astype(np.float32)
    return np.stack([x, x])


def _rms(x):
    return float(np.sqrt(np.mean(np.asarray(x, np.float64) ** 2)))


def test_eq_boosts_and_cuts_at_its_frequencies():
    boosted = apply_eq(_tone(1000), [("peak", 1000.0, 6.0, 1.0)], SR)
    assert 20 * np.log10(_rms(boosted[:, SR // 2:]) / _rms(_tone(1000)[:, SR // 2:])) == pytest.approx(6.0, abs=0.3)
    shelf = apply_eq(_tone(100), [("low_shelf", 300.0, -9.0, 0.707)], SR)
    assert 20 * np.log10(_rms(shelf[:, SR // 2:]) / _rms(_tone(100)[:, SR // 2:])) < -7
    high = apply_eq(_tone(100), [("high_shelf", 5000.0, 9.0, 0.707)], SR)
    assert abs(20 * np.log10(_rms(high[:, SR // 2:]) / _rms(_tone(100)[:, SR // 2:]))) < 0.5


def test_compressor_reduces_loud_parts_more_than_quiet_ones():
    x = np.concatenate([_tone(200, 0.5, 0.05), _tone(200, 0.5, 0.8)], axis=1)
    y = compress(x, SR, threshold_db=-20, ratio=4, makeup=False)
    quiet, loud = y[:, 2000:SR // 2 - 2000], y[:, SR // 2 + 5000:]
    assert _rms(quiet) == pytest.approx(_rms(x[:, 2000:SR // 2 - 2000]), rel=0.05)
    assert _rms(loud) < 0.5 * _rms(x[:, SR // 2 + 5000:])


def test_bus_limiter_keeps_the_peak_near_its_ceiling():
    rng = np.random.default_rng(0)
    mix = (rng.standard_normal((2, SR)) * 0.1).astype(np.float32)
    mix[:, SR // 2: SR // 2 + 100] *= 8
    gain = bus_gain(mix, SR, threshold_db=None, limit_db=-6.0)
    assert gain.shape == (SR,) and gain.max() <= 1.0
    assert np.abs(mix * gain).max() < np.abs(mix).max() * 0.8


def test_room_impulse_response_decays_faster_in_high_bands():
    rng = np.random.default_rng(1)
    ir = room_impulse_response(rng, SR, t60=1.0, predelay=0.01)
    assert ir.shape[0] == 2 and ir.dtype == np.float32
    assert not np.allclose(ir[0], ir[1])  # decorrelated ears
    late = ir[:, int(0.5 * SR): int(0.7 * SR)]
    early = ir[:, int(0.05 * SR): int(0.25 * SR)]

    def hf_ratio(seg):
        spec = np.abs(np.fft.rfft(seg, axis=-1)) ** 2
        f = np.fft.rfftfreq(seg.shape[-1], 1 / SR)
        return spec[:, f > 5000].sum() / spec[:, (f > 100) & (f < 1000)].sum()

    assert hf_ratio(late) < 0.5 * hf_ratio(early)
    mid = sosfilt(butter(4, [300 / (SR / 2), 900 / (SR / 2)], "bandpass", output="sos"), ir, axis=-1)
    env = [_rms(mid[:, int(t * SR): int((t + 0.05) * SR)]) for t in (0.15, 0.45)]
    assert 20 * np.log10(env[1] / env[0]) == pytest.approx(-60 * 0.3, abs=4)  # mid-band T60 = 1 s
    x = np.zeros((2, SR), np.float32)
    x[:, 100] = 1.0
    y = apply_reverb(x, Room(ir), wet=0.5)
    assert y[:, 100].min() >= 0.5 - 1e-6 and np.abs(y[:, SR // 2:]).max() > 0


def test_pan_width_saturation_chorus_echo():
    x = _tone(440)
    left = pan(x, -1.0)
    assert _rms(left[1]) < 1e-6 and _rms(left[0]) == pytest.approx(np.sqrt(2) * _rms(x[0]), rel=1e-4)
    assert np.allclose(pan(x, 0.0), x)
    st = np.stack([x[0], -x[0]])
    assert _rms(width(st, 0.0)) < 1e-6 and np.allclose(width(st, 1.0), st)
    sat = saturate(x, drive=5.0)
    assert np.abs(sat).max() <= np.abs(x).max() + 1e-6 and _rms(sat) > _rms(x)
    ch = chorus(x, SR, np.random.default_rng(0))
    assert not np.allclose(ch[0], ch[1])
    imp = np.zeros((2, SR), np.float32)
    imp[0, 0] = 1.0
    e = echo(imp, SR, delay_s=0.1, feedback=0.5, mix=1.0)
    assert e[1, 4410] == pytest.approx(1.0) and e[0, 8820] == pytest.approx(0.5)


def test_mix_tracks_is_seeded_and_leaves_sums_exact():
    rng = np.random.default_rng(3)
    tracks = [(rng.standard_normal((2, SR)) * s).astype(np.float32) for s in (0.1, 0.3, 0.05)]
    stems = ["drums", "bass", "other"]
    a, meta_a = mix_tracks(tracks, stems, MixConfig(), SR, np.random.default_rng(5))
    b, meta_b = mix_tracks(tracks, stems, MixConfig(), SR, np.random.default_rng(5))
    assert all(np.array_equal(x, y) for x, y in zip(a, b)) and meta_a == meta_b
    mix = np.sum(np.stack(a), axis=0, dtype=np.float32)
    assert 20 * np.log10(np.abs(mix).max()) == pytest.approx(meta_a["bus"]["peak_db"], abs=0.01)
    assert all(x.dtype == np.float32 and x.shape == (2, SR) for x in a)
    dry, meta = mix_tracks(tracks, stems, MixConfig(enabled=False), SR, np.random.default_rng(5))
    ratio = [_rms(d) / _rms(t) for d, t in zip(dry, tracks)]
    assert np.allclose(ratio, ratio[0], rtol=1e-4)  # dry: one common scale, balance untouched


def test_stem_levels_follow_the_configured_statistics():
    from stemkit.data.mixing.chain import active_rms

    cfg = MixConfig(level_db={"drums": (0.0, 0.0), "bass": (-10.0, 0.0), "other": (-5.0, 0.0)},
                    track_level_sd=0.0, eq_probability=0, compression_probability=0,
                    reverb_probability=0, saturation_probability=0, chorus_probability=0,
                    delay_probability=0, pan_probability=0, width_range=(1.0, 1.0),
                    bus_compression_probability=0, bus_limiter=False)
    rng = np.random.default_rng(0)
    tracks = [(rng.standard_normal((2, SR)) * s).astype(np.float32) for s in (0.3, 0.01, 0.2, 0.05)]
    out, meta = mix_tracks(tracks, ["drums", "bass", "other", "other"], cfg, SR, np.random.default_rng(1))
    db = {name: 20 * np.log10(active_rms(x, SR)) for name, x in
          (("drums", out[0]), ("bass", out[1]), ("other", out[2] + out[3]))}
    assert db["drums"] - db["bass"] == pytest.approx(10.0, abs=0.2)
    assert db["drums"] - db["other"] == pytest.approx(5.0, abs=0.3)  # two tracks share the stem level
    assert meta["stem_levels_db"] == {"drums": 0.0, "bass": -10.0, "other": -5.0}
