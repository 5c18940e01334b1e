"""The note cache: each distinct note rendered once and copied, against the event-by-event path.

Tolerances, and why: the cache holds notes for a multiple of 10 ms (a note-off moves by <= 5 ms),
takes velocity as a gain, and TinySoundFont's 64-sample envelope blocks start at each note's onset
rather than at the previous event. On generated songs the difference measured -31 to -62 dB below
the track (energy ratio), long-term spectra within 0.1 dB, and 10 ms RMS envelopes within 0.02 dB
(median); the bounds below leave a margin over those figures and would catch a wrong duration, a
lost note, a wrong velocity gain or a missing choke (each 10-40 dB off).
"""

import numpy as np
import pretty_midi
import pytest

from stemkit.data.render.events import NOTE_OFF, NOTE_ON, EventList, instrument_events
from stemkit.data.render.note_cache import render_cached
from stemkit.data.render.note_plan import plan_notes
from stemkit.data.render.sf2_presets import Region, preset_regions
from stemkit.data.render.soundfonts import bundled_soundfont
from stemkit.data.render.tsf_backend import render_tsf
from stemkit.data.songgen.generator import generate_song

SR = 44100
FONT = str(bundled_soundfont())


def _render(inst, n, cache):
    return render_tsf(instrument_events(inst, SR), program=inst.program, is_drum=inst.is_drum,
                      soundfont=FONT, sample_rate=SR, n_samples=n, note_cache=cache)


def _error_db(ref, x):
    return 10 * np.log10(np.sum((ref - x) ** 2) / (np.sum(ref ** 2) + 1e-20) + 1e-20)


def _spectrum_db(x, n_fft=4096):
    mono = x.mean(axis=0)
    k = len(mono) // n_fft
    frames = mono[: k * n_fft].reshape(k, n_fft) * np.hanning(n_fft)
    return 10 * np.log10(np.mean(np.abs(np.fft.rfft(frames, axis=1)) ** 2, axis=0) + 1e-20)


def _envelope_db(x, frame=441):
    power = np.mean(x ** 2, axis=0)
    k = len(power) // frame
    return 10 * np.log10(power[: k * frame].reshape(k, frame).mean(axis=1) + 1e-12)


@pytest.mark.parametrize("seed", [0, 3])
def test_cached_tracks_sound_like_the_event_path(seed):
    song = generate_song(seed, 8.0, None)
    n = 8 * SR
    used_cache = 0
    for inst in (i for i in song.midi.instruments if i.notes):
        plain, cached = _render(inst, n, False), _render(inst, n, True)
        used_cache += not np.array_equal(plain, cached)
        assert cached.shape == plain.shape == (2, n) and cached.dtype == np.float32
        assert _error_db(plain, cached) < -25.0, inst.name
        spec_p, spec_c = _spectrum_db(plain), _spectrum_db(cached)
        loud = spec_p > spec_p.max() - 60
        assert np.mean(np.abs(spec_p - spec_c)[loud]) < 0.3, inst.name
        env_p, env_c = _envelope_db(plain), _envelope_db(cached)
        active = env_p > env_p.max() - 40
        diff = np.abs(env_p - env_c)[active]
        assert np.median(diff) < 0.1 and np.percentile(diff, 95) < 1.0, inst.name
    assert used_cache >= 2  # drums and the repeated accompaniment went through the cache


def test_cache_is_deterministic_and_sample_exact():
    inst = pretty_midi.Instrument(0, is_drum=True)
    onsets = [0.05 + 0.125 * k for k in range(16)]
    inst.notes += [pretty_midi.Note(100 - 3 * (k % 4), 36 if k % 2 == 0 else 38, t, t + 0.1)
                   for k, t in enumerate(onsets)]
    a, b = _render(inst, SR * 3, True), _render(inst, SR * 3, True)
    assert np.array_equal(a, b)
    first = np.flatnonzero(np.abs(a).max(axis=0) > 0)[0]
    assert first == round(onsets[0] * SR)  # the first copy starts on its own sample
    assert not np.array_equal(a, _render(inst, SR * 3, False))  # the cache did the rendering


def test_open_hihat_is_choked_by_the_closed_hihat():
    regions = preset_regions(FONT)
    kit = next(i for i, rs in enumerate(regions) if any(r.group and r.lokey <= 46 <= r.hikey for r in rs))
    assert {r.group for r in regions[kit] if r.lokey <= 42 <= r.hikey} == \
        {r.group for r in regions[kit] if r.lokey <= 46 <= r.hikey} != {0}
    starts = [0.1 + 0.6 * k for k in range(4)]  # four bars of open hat, then closed hat
    open_only = pretty_midi.Instrument(0, is_drum=True)
    open_only.notes += [pretty_midi.Note(110, 46, t, t + 0.5) for t in starts]
    closed_only = pretty_midi.Instrument(0, is_drum=True)
    closed_only.notes += [pretty_midi.Note(90, 42, t + 0.25, t + 0.3) for t in starts]
    both = pretty_midi.Instrument(0, is_drum=True)
    both.notes += open_only.notes + closed_only.notes
    n = 3 * SR
    cached, plain = _render(both, n, True), _render(both, n, False)
    assert not np.array_equal(cached, plain)  # the cache rendered it
    closed = _render(closed_only, n, True)
    unchoked = _render(open_only, n, True) + closed

    def open_hat_energy(x):  # what is left of the open hat 20-200 ms after each closed hat
        rest = x - closed
        return sum(float(np.sum(rest[:, round((t + 0.27) * SR): round((t + 0.45) * SR)] ** 2))
                   for t in starts)

    ringing = open_hat_energy(unchoked)
    assert ringing > 30 * open_hat_energy(plain)  # TinySoundFont chokes the open hat
    assert open_hat_energy(cached) < 0.05 * ringing  # and so does the cache
    assert _error_db(plain, cached) < -25.0


def _events(rows):
    arr = np.array(rows, np.int64)
    return EventList(arr[:, 0], arr[:, 1], arr[:, 2], arr[:, 3])


def test_plan_follows_tinysoundfont_voice_rules():
    plain = (Region(0, 127, 0, 127, 0, False),)
    # Same key twice, overlapping: the first note-off releases the oldest held voice.
    setup, notes = plan_notes(_events([(0, NOTE_ON, 60, 100), (10, NOTE_ON, 60, 90),
                                       (20, NOTE_OFF, 60, 0), (30, NOTE_OFF, 60, 0)]), plain)
    assert setup == [] and [(p.onset, p.release) for p in notes] == [(0, 20), (10, 30)]
    # Exclusive class 1: a closed hat chokes the open one, whose note-off then finds no voice.
    hats = (Region(42, 42, 0, 127, 1, False), Region(46, 46, 0, 127, 1, False))
    _, notes = plan_notes(_events([(0, NOTE_ON, 46, 100), (10, NOTE_ON, 42, 100),
                                   (50, NOTE_OFF, 46, 0), (60, NOTE_OFF, 42, 0)]), hats)
    assert [(p.choke, p.release) for p in notes] == [(10, None), (None, 60)]
    # The same open hat struck twice: the choked first voice no longer answers note-offs, so the
    # first note-off releases the second note (tsf_channel_note_off skips released voices).
    _, notes = plan_notes(_events([(0, NOTE_ON, 46, 100), (10, NOTE_ON, 46, 100),
                                   (50, NOTE_OFF, 46, 0), (60, NOTE_OFF, 46, 0)]), hats)
    assert [(p.choke, p.release) for p in notes] == [(10, None), (None, 50)]
    # A key no region plays makes no voice.
    _, notes = plan_notes(_events([(0, NOTE_ON, 50, 100), (5, NOTE_OFF, 50, 0)]), hats)
    assert notes == []


def test_controllers_after_the_first_note_use_the_event_path():
    inst = pretty_midi.Instrument(0)
    inst.notes += [pretty_midi.Note(100, 60, 0.1 * k, 0.1 * k + 0.08) for k in range(8)]
    inst.pitch_bends.append(pretty_midi.PitchBend(2000, 0.35))
    events = instrument_events(inst, SR)
    regions = preset_regions(FONT)[0]
    assert plan_notes(events, regions) is None
    assert render_cached(None, None, 0, events, regions, SR, SR) is None
    assert np.array_equal(_render(inst, SR, True), _render(inst, SR, False))
    # Controllers before any note are channel set-up, applied once: the cache still renders.
    inst.pitch_bends.clear()
    inst.control_changes.append(pretty_midi.ControlChange(7, 90, 0.0))
    setup, notes = plan_notes(instrument_events(inst, SR), regions)
    assert len(setup) == 1 and len(notes) == 8


def test_soundfont_presets_match_tinysoundfont():
    from stemkit.data.render.tsf_backend import _synth

    synth, sfid = _synth(FONT, SR)
    sf = synth.soundfonts[sfid]
    regions = preset_regions(FONT)
    assert len(regions) == sf.get_preset_count()
    synth.program_select(9, sfid, 128, 0, True)
    kit = regions[sf.channel_get_preset_index(9)]
    groups = {k: {r.group for r in kit if r.lokey <= k <= r.hikey} for k in (36, 42, 44, 46)}
    assert groups[36] == {0} and groups[42] == groups[44] == groups[46] != {0}
