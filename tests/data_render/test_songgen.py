"""The procedural song generator."""

import numpy as np
import pytest

from stemkit.data.render.instruments import fine_class, stem_group
from stemkit.data.songgen import GeneratorConfig, generate_song
from stemkit.data.songgen.grooves import STYLES


def _notes(pm):
    return [(i.name, i.program, i.is_drum, [(n.start, n.end, n.pitch, n.velocity) for n in i.notes])
            for i in pm.instruments]


def test_same_seed_same_midi_other_seed_other_midi():
    a, b, c = generate_song(11, 12), generate_song(11, 12), generate_song(12, 12)
    assert _notes(a.midi) == _notes(b.midi) and a.plan == b.plan
    assert _notes(a.midi) != _notes(c.midi)


@pytest.mark.parametrize("seed", range(6))
def test_every_song_covers_all_four_stems(seed):
    song = generate_song(seed, 10)
    groups = {stem_group(fine_class(i.program, i.is_drum, i.name)) for i in song.midi.instruments if i.notes}
    assert groups == {"drums", "bass", "other", "vocals"}
    assert song.midi.get_end_time() >= 10
    assert 60 <= song.plan["tempo"] <= 180


@pytest.mark.parametrize("style", STYLES)
@pytest.mark.parametrize("meter", ["4/4", "3/4", "6/8"])
def test_styles_and_meters(style, meter):
    cfg = GeneratorConfig(styles=(style,), meters={meter: 1.0})
    song = generate_song(3, 8, cfg)
    assert song.plan["style"] == style and song.plan["meter"] == meter
    drums = next(i for i in song.midi.instruments if i.is_drum)
    assert len(drums.notes) > 8
    ts = song.midi.time_signature_changes[0]
    assert f"{ts.numerator}/{ts.denominator}" == meter


def test_bass_follows_the_chords_and_melody_has_phrases_and_lyrics():
    song = generate_song(5, 30, GeneratorConfig(styles=("rock",), meters={"4/4": 1.0}))
    pm = song.midi
    bass = next(i for i in pm.instruments if i.name == "bass")
    vocals = next(i for i in pm.instruments if i.name == "vocals")
    comp_like = [i for i in pm.instruments if i.name in ("comp", "pad", "arpeggio")]
    # Most bass notes are tones of the chord sounding with them (approach notes are not).
    sounding = [{m.pitch % 12 for i in comp_like for m in i.notes if m.start - 0.06 <= n.start < m.end}
                for n in bass.notes]
    in_chord = [n.pitch % 12 in s for n, s in zip(bass.notes, sounding) if s]
    assert len(in_chord) > 40 and np.mean(in_chord) > 0.75
    gaps = np.diff([n.start for n in vocals.notes])
    assert gaps.max() > 1.0  # phrases are separated by rests
    assert len(pm.lyrics) == len(vocals.notes)
    assert all(ly.text and ly.text[-1] in "aeiou" for ly in pm.lyrics)


def test_humanisation_moves_notes_off_the_grid():
    song = generate_song(2, 10, GeneratorConfig(styles=("pop",), meters={"4/4": 1.0}))
    step = 60.0 / song.plan["tempo"] / 4
    drums = next(i for i in song.midi.instruments if i.is_drum)
    offsets = np.array([(n.start / step) % 1 for n in drums.notes])
    offsets = np.minimum(offsets, 1 - offsets)
    assert 0.0 < np.median(offsets) < 0.3
    assert len({n.velocity for n in drums.notes}) > 5


def test_without_a_duration_the_whole_form_is_written():
    song = generate_song(3, None)
    names = [s["name"] for s in song.plan["sections"]]
    assert "verse" in names and "chorus" in names and len(names) >= 6
    assert song.midi.get_end_time() > 40
