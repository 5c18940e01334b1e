"""avldrums' recorded kits: discovery, key coverage, split of a drum track, use in render_song."""

from __future__ import annotations

import numpy as np
import pretty_midi
import pytest

from stemkit.data.drumkits import KEY_ALIASES, installed_drum_kits, is_drum_kit, kit_keys, split_for_kit
from stemkit.data.render.soundfonts import bundled_soundfont, discover_soundfonts

needs_kits = pytest.mark.skipif(not installed_drum_kits(),
                                reason="avldrums kits not installed (apt-get install avldrums.lv2)")


def _drum_track(keys, step=0.25):
    inst = pretty_midi.Instrument(0, is_drum=True, name="drums")
    for i, k in enumerate(keys):
        inst.notes.append(pretty_midi.Note(100, k, i * step, i * step + 0.1))
    return inst


def test_split_moves_uncovered_notes_and_maps_the_second_kick():
    inst = _drum_track([35, 36, 38, 42, 64, 76])
    on_kit, elsewhere = split_for_kit(inst, frozenset(range(36, 62)))
    assert sorted(n.pitch for n in on_kit.notes) == [36, 36, 38, 42]  # 35 played as the kick
    assert sorted(n.pitch for n in elsewhere.notes) == [64, 76]
    assert [n.pitch for n in inst.notes] == [35, 36, 38, 42, 64, 76]  # the input is untouched
    assert KEY_ALIASES[35] == 36


def test_general_discovery_leaves_kits_out():
    assert not any(is_drum_kit(p) for p in discover_soundfonts())
    assert is_drum_kit("/x/Red_Zeppelin_4_LV2.sf2") and not is_drum_kit("/x/FluidR3_GM.sf2")


@needs_kits
def test_kits_cover_the_gm_kit_keys():
    for kit in installed_drum_kits():
        keys = kit_keys(str(kit))
        # kick, snare, hi-hats, toms, crash, ride: every key stemkit's groove generator plays
        assert {36, 37, 38, 39, 42, 44, 45, 46, 47, 49, 50, 51, 54} <= keys
        assert 35 not in keys and 76 not in keys


@needs_kits
def test_render_drum_track_plays_kit_and_fallback():
    from stemkit.data.drumkits import render_drum_track

    sr = 44100
    kit = installed_drum_kits()[0]
    inst = _drum_track([36, 38, 76], step=0.5)
    y = render_drum_track(inst, kit, bundled_soundfont(), backend="tinysoundfont", sample_rate=sr,
                          n_samples=2 * sr)
    assert y.shape == (2, 2 * sr) and y.dtype == np.float32
    rms = [float(np.sqrt(np.mean(y[:, int(t * sr): int((t + 0.3) * sr)] ** 2))) for t in (0.0, 0.5, 1.0)]
    assert min(rms) > 1e-3  # the kit's kick and snare, and the fallback SoundFont's wood block
    kit_only = render_drum_track(_drum_track([76]), kit, kit, backend="tinysoundfont",
                                 sample_rate=sr, n_samples=sr)
    assert not kit_only.any()  # key 76 is not on the kit: rendered with the kit it is silence


@needs_kits
def test_render_song_uses_a_kit_for_drums_and_keeps_the_sum_exact():
    from stemkit.data.corpus import render_song

    cfg = {"duration": 4.0, "drum_soundfonts": [str(k) for k in installed_drum_kits()],
           "soundfonts": [str(bundled_soundfont())], "discover_soundfonts": False,
           "mixing": {"enabled": False}}  # dry: the other stems differ only by the peak scale
    song = render_song(1, cfg)
    drums = [t for t in song.meta["tracks"] if t["is_drum"]]
    assert drums and all(is_drum_kit(t["soundfont"]) for t in drums)
    total = np.sum(np.stack([song.stems[s] for s in ("drums", "bass", "other", "vocals")]), axis=0,
                   dtype=np.float32)
    assert np.array_equal(total, song.mixture)
    plain = render_song(1, {**cfg, "drum_soundfonts": []})
    assert not np.allclose(plain.stems["drums"], song.stems["drums"])
    a, b = plain.stems["bass"].ravel(), song.stems["bass"].ravel()
    assert np.corrcoef(a, b)[0, 1] > 0.9999  # only the drums changed (bass: same up to a gain)
