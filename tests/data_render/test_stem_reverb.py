"""One reverb per stem (mixing.reverb_mode = stem) against per-track reverbs and a plain reference."""

import numpy as np
import pytest
from scipy.signal import fftconvolve, sosfilt

from stemkit.data.corpus import render_song, write_song
from stemkit.data.mixing.chain import mix_stems
from stemkit.data.mixing.config import MixConfig
from stemkit.data.mixing.filters import eq_sos, random_eq
from stemkit.data.mixing.linear_stage import linear_stage
from stemkit.data.mixing.reverb import Room, room_impulse_response
from stemkit.data.mixing.stem_stage import LinearTrack, render_stem
from stemkit.data.mixing.stereo import placement_matrix
from stemkit.data.render.config import RenderConfig
from stemkit.errors import ConfigError

SR = 44100


def _tracks(n, seed):
    rng = np.random.default_rng(seed)
    t = np.arange(n) / SR
    stereo = np.stack([np.sin(2 * np.pi * 220 * t) * (t % 0.4 < 0.2),
                       0.3 * rng.standard_normal(n) * (t % 0.25 < 0.05)])
    mono = np.sin(2 * np.pi * 330 * t) * (t % 0.5 < 0.3) + 0.05 * rng.standard_normal(n)
    noise = 0.2 * rng.standard_normal((2, n))
    return [a.astype(np.float32) for a in (stereo, np.stack([mono, mono]), noise)]


def _room(seed=3, t60=0.8):
    return Room(room_impulse_response(np.random.default_rng(seed), SR, t60=t60, predelay=0.01))


def test_stem_reverb_equals_the_sum_of_per_track_reverbs_through_the_shared_room():
    x = _tracks(2 * SR + 77, 0)
    room = _room()
    settings = [dict(eq=random_eq(np.random.default_rng(1), (-6.0, 6.0)), width=1.2, pan=-0.3, wet=0.3),
                dict(eq=None, width=0.8, pan=0.5, wet=0.15),  # a mono track, reverb without EQ
                dict(eq=random_eq(np.random.default_rng(2), (-6.0, 6.0)), width=1.0, pan=0.0, wet=0.0)]
    stem = render_stem([LinearTrack(a, **s) for a, s in zip(x, settings)], SR, room)
    per_track = np.sum([linear_stage(a, SR, room=room, **s) for a, s in zip(x, settings)], axis=0)
    assert stem.dtype == np.float32 and stem.shape == x[0].shape
    assert np.abs(stem - per_track).max() < 2e-5 * np.abs(per_track).max()


def test_stem_reverb_is_the_dry_paths_plus_the_room_response_to_the_summed_sends():
    # Plain reference: time-domain EQ and placement per track, the wet sends summed, then ONE
    # fftconvolve of the sum with the room (the send gains g read off the per-track stage).
    x = _tracks(SR + 5, 4)[:2]
    room = _room(5, 0.5)
    eqs = [random_eq(np.random.default_rng(6), (-6.0, 6.0)), None]
    places, wets = [(1.1, 0.2), (0.9, -0.4)], [0.25, 0.3]
    dry, sends = 0.0, 0.0
    for a, eq, (w, p), wet in zip(x, eqs, places, wets):
        d = placement_matrix(w, p) @ (sosfilt(eq_sos(eq, SR), a.astype(np.float64), axis=-1) if eq else a)
        # g: this track's reverb gain, from its own stage (y = (1 - wet) d + wet g conv(d))
        alone = linear_stage(a, SR, eq=eq, width=w, pan=p, room=room, wet=wet)
        rev = np.stack([fftconvolve(d[c], room.ir[c].astype(np.float64))[: a.shape[-1]] for c in range(2)])
        g = float(np.sum((alone - (1 - wet) * d) * rev) / np.sum(rev * rev)) / wet
        dry = dry + (1 - wet) * d
        sends = sends + wet * g * d
    wet_sum = np.stack([fftconvolve(sends[c], room.ir[c].astype(np.float64))[: x[0].shape[-1]]
                        for c in range(2)])
    ref = dry + wet_sum
    stem = render_stem([LinearTrack(a, eq=eq, width=w, pan=p, wet=wet)
                        for a, eq, (w, p), wet in zip(x, eqs, places, wets)], SR, room)
    assert np.abs(stem - ref).max() < 1e-4 * np.abs(ref).max()


def test_mix_stems_is_seeded_exact_and_the_track_mode_stays_selectable():
    x = _tracks(SR, 7) + _tracks(SR, 8)[:1]
    stems = ["other", "vocals", "other", "drums"]
    runs = {}
    for mode in ("stem", "track"):
        cfg = MixConfig(reverb_probability=1.0, reverb_mode=mode)
        a, meta_a = mix_stems(x, stems, stems, cfg, SR, np.random.default_rng(5))
        b, meta_b = mix_stems(x, stems, stems, cfg, SR, np.random.default_rng(5))
        assert list(a) == ["other", "vocals", "drums"] and meta_a == meta_b
        assert all(np.array_equal(a[k], b[k]) for k in a)  # same seed, same bits
        runs[mode] = a, meta_a
    (stem, meta_s), (track, meta_t) = runs["stem"], runs["track"]
    # the same random draws in both modes (the limiter sits at the measured peak: rounding apart)
    assert meta_s["tracks"] == meta_t["tracks"] and meta_s["room"] == meta_t["room"]
    assert meta_s["bus"]["peak_db"] == meta_t["bus"]["peak_db"]
    assert meta_s["bus"]["limiter_db"] == pytest.approx(meta_t["bus"]["limiter_db"], abs=1e-4)
    for k in stem:
        assert np.abs(stem[k] - track[k]).max() < 1e-4 * np.abs(track[k]).max()
    mix = np.sum(np.stack(list(stem.values())), axis=0, dtype=np.float32)
    assert 20 * np.log10(np.abs(mix).max()) == pytest.approx(meta_s["bus"]["peak_db"], abs=0.01)


def test_a_silent_track_bypasses_the_stem_stage():
    x = _tracks(SR, 9)
    x[1] = np.zeros_like(x[1])
    out, _ = mix_stems(x, ["other"] * 3, ["other"] * 3, MixConfig(reverb_probability=1.0), SR,
                       np.random.default_rng(0))
    assert out["other"].shape == (2, SR) and np.isfinite(out["other"]).all()
    assert np.abs(out["other"]).max() > 0


def test_render_song_default_sums_exactly_and_fine_stems_keep_per_class_reverb(tmp_path):
    from stemkit.data.render.soundfonts import bundled_soundfont

    cfg = {"duration": 2.0, "vocal_synth_probability": 1.0, "discover_soundfonts": False,
           "soundfonts": [str(bundled_soundfont())]}  # the small GM font: a quick test
    song = render_song(3, cfg)
    assert song.meta["mix"]["reverb_mode"] == "stem" and song.meta["mix"]["mixed_per"] == "stem"
    assert song.fine == {} and list(song.stems) == ["drums", "bass", "other", "vocals"]
    assert np.array_equal(song.mixture, np.sum(np.stack(list(song.stems.values())), axis=0,
                                               dtype=np.float32))
    again = render_song(3, cfg)
    assert all(np.array_equal(song.stems[g], again.stems[g]) for g in song.stems)
    fine = render_song(3, cfg, fine_stems=True)
    assert fine.meta["mix"]["mixed_per"] == "fine_class" and fine.fine
    old = render_song(3, {**cfg, "mixing": {"reverb_mode": "track"}})
    for g in song.stems:  # three renderings of one song: equal up to float32 rounding
        top = np.abs(old.stems[g]).max() + 1e-12
        assert np.abs(song.stems[g] - old.stems[g]).max() < 1e-4 * top
        assert np.abs(fine.stems[g] - old.stems[g]).max() < 1e-4 * top
    with pytest.raises(ValueError, match="fine stems"):
        write_song(song, tmp_path / "s", fine_stems=True)


def test_reverb_mode_is_validated():
    assert RenderConfig.from_dict({"mixing": {"reverb_mode": "track"}}).mixing.reverb_mode == "track"
    with pytest.raises(ConfigError, match="reverb_mode"):
        RenderConfig.from_dict({"mixing": {"reverb_mode": "hall"}})
