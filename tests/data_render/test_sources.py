"""Song sources: a folder of user MIDI files (seed 001's instrument filter), music21, cropping."""

import importlib.util

import numpy as np
import pretty_midi
import pytest

from stemkit.data.corpus import render_song, song_source
from stemkit.data.songgen.crop import crop_midi
from stemkit.data.songgen.midi_folder import MidiFolder, has_instruments
from stemkit.errors import ConfigError


def _write(path, programs, drums=False, seconds=8.0):
    pm = pretty_midi.PrettyMIDI()
    for prog in programs:
        inst = pretty_midi.Instrument(prog)
        inst.notes += [pretty_midi.Note(90, 48 + prog % 24, t, t + 0.4) for t in np.arange(0, seconds, 0.5)]
        pm.instruments.append(inst)
    if drums:
        d = pretty_midi.Instrument(0, is_drum=True)
        d.notes += [pretty_midi.Note(100, 36, t, t + 0.1) for t in np.arange(0, seconds, 0.5)]
        pm.instruments.append(d)
    pm.write(str(path))


def test_midi_folder_keeps_only_songs_with_the_requested_instruments(tmp_path):
    _write(tmp_path / "a_piano_only.mid", [0])
    _write(tmp_path / "b_full.mid", [0, 33, 48], drums=True)
    (tmp_path / "c_broken.mid").write_bytes(b"not midi at all")
    src = MidiFolder(tmp_path, require=("drums", "bass", "piano", "strings"))
    for seed in range(4):
        pm, info = src.song(seed, 4.0)
        assert info["file"].endswith("b_full.mid")
        assert has_instruments(pm, ("drums", "bass", "piano", "strings", "other"))
        assert pm.get_end_time() <= 4.0 + 1e-6
    with pytest.raises(ConfigError):
        MidiFolder(tmp_path, require=("brass",)).song(0, 4.0)


def test_render_from_midi_folder(tmp_path):
    _write(tmp_path / "song.mid", [0, 33], drums=True)
    song = render_song(0, {"duration": 2.0}, song_source("midi", str(tmp_path)))
    assert song.meta["source"]["source"] == "midi"
    assert not song.stems["vocals"].any() and song.stems["bass"].any() and song.stems["drums"].any()


def test_crop_shifts_notes_and_keeps_controllers():
    pm = pretty_midi.PrettyMIDI()
    inst = pretty_midi.Instrument(0)
    inst.notes += [pretty_midi.Note(90, 60, 1.0, 3.0), pretty_midi.Note(90, 62, 5.0, 6.0)]
    inst.control_changes.append(pretty_midi.ControlChange(64, 127, 0.5))
    pm.instruments.append(inst)
    out = crop_midi(pm, 2.0, 2.5)
    (note,) = out.instruments[0].notes
    assert (note.start, note.end, note.pitch) == (0.0, 1.0, 60)
    assert [(c.number, c.value, c.time) for c in out.instruments[0].control_changes] == [(64, 127, 0.0)]


@pytest.mark.skipif(importlib.util.find_spec("music21") is None, reason="music21 not installed")
def test_music21_source_assigns_an_instrument_per_part():
    pm, info = song_source("music21").song(3, 6.0)
    assert info["source"] == "music21" and len(pm.instruments) >= 2
    assert len({(i.name, i.program) for i in pm.instruments}) == len(pm.instruments)
    assert 0 < pm.get_end_time() <= 6.0 + 1e-6
