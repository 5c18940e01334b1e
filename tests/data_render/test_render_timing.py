"""Sample-exact note timing and track rendering."""

import io

import mido
import numpy as np
import pretty_midi
import pytest

from stemkit.data.render import render_midi_stems, render_tracks

SR = 44100


def _first_sound(x: np.ndarray, threshold: float = 1e-6) -> int:
    loud = np.flatnonzero(np.abs(x).max(axis=0) > threshold)
    return int(loud[0]) if len(loud) else -1


def _one_note(start: float, program: int = 0, drum: bool = False, pitch: int = 60):
    pm = pretty_midi.PrettyMIDI()
    inst = pretty_midi.Instrument(program, is_drum=drum)
    inst.notes.append(pretty_midi.Note(110, pitch, start, start + 0.3))
    pm.instruments.append(inst)
    return pm


@pytest.mark.parametrize("start", [0.0123, 0.5, 1.23456])
@pytest.mark.parametrize("program,drum,pitch", [(0, False, 60), (33, False, 40), (0, True, 38)])
def test_onset_lands_on_its_sample(start, program, drum, pitch):
    (track,) = render_tracks(_one_note(start, program, drum, pitch), duration=2.0)
    expected = round(start * SR)
    onset = _first_sound(track.audio)
    assert track.audio.shape == (2, 2 * SR) and track.audio.dtype == np.float32
    assert np.all(track.audio[:, :expected] == 0.0)  # exact digital silence before the note
    assert expected <= onset <= expected + 8


@pytest.mark.parametrize("backend", ["tinysoundfont", "fluidsynth"])
def test_previous_track_never_rings_into_the_next(backend):
    from stemkit.data.render.fluidsynth_backend import fluidsynth_available

    if backend == "fluidsynth" and not fluidsynth_available():
        pytest.skip("FluidSynth not installed")
    # A cymbal-heavy drum track first, then a quiet late note: the second must start silent.
    pm = pretty_midi.PrettyMIDI()
    drums = pretty_midi.Instrument(0, is_drum=True)
    drums.notes += [pretty_midi.Note(127, k, 0.0, 0.9) for k in (49, 51, 57)]
    late = pretty_midi.Instrument(0)
    late.notes.append(pretty_midi.Note(90, 72, 0.7, 0.9))
    pm.instruments += [drums, late]
    tracks = render_tracks(pm, duration=1.0, backend=backend)
    assert _first_sound(tracks[1].audio) >= round(0.7 * SR) - 64


def test_consecutive_notes_keep_their_spacing():
    pm = pretty_midi.PrettyMIDI()
    inst = pretty_midi.Instrument(0, is_drum=True)
    starts = [0.1 + 0.25 * k + 0.0003 * k for k in range(6)]
    inst.notes += [pretty_midi.Note(120, 37, s, s + 0.05) for s in starts]
    pm.instruments.append(inst)
    (track,) = render_tracks(pm, duration=2.0)
    env = np.abs(track.audio).max(axis=0)
    for s in starts[1:]:  # each hit re-excites the signal at its own sample
        k = round(s * SR)
        assert env[k: k + 200].max() > 5 * env[k - 60: k - 10].max() + 1e-6


def test_inputs_path_bytes_mido_and_pretty_midi_agree(tmp_path):
    pm = _one_note(0.25)
    path = tmp_path / "one.mid"
    pm.write(str(path))
    buf = io.BytesIO()
    pm.write(buf)
    a = render_midi_stems(str(path), duration=1.0)
    b = render_midi_stems(buf.getvalue(), duration=1.0)
    c = render_midi_stems(mido.MidiFile(str(path)), duration=1.0)
    d = render_midi_stems(pretty_midi.PrettyMIDI(str(path)), duration=1.0)
    for other in (b, c, d):
        assert np.array_equal(a["other"], other["other"])
    assert set(a) == {"drums", "bass", "other", "vocals"}
    assert not a["drums"].any() and a["other"].any()


@pytest.mark.parametrize("path", ["pyfluidsynth", "cli"])
def test_fluidsynth_backend_onsets_within_its_block(path, monkeypatch):
    from stemkit.data.render import fluidsynth_backend as fb

    if path == "pyfluidsynth" and not fb.pyfluidsynth_available():
        pytest.skip("pyfluidsynth not installed")
    if path == "cli":
        if not fb.fluidsynth_cli_available():
            pytest.skip("fluidsynth program not installed")
        monkeypatch.setattr(fb, "pyfluidsynth_available", lambda: False)
    (track,) = render_tracks(_one_note(0.5), backend="fluidsynth", duration=1.0)
    onset = _first_sound(track.audio)
    assert track.audio.any()
    lag = onset - round(0.5 * SR)
    if path == "pyfluidsynth":
        assert abs(lag) <= 64 + 8  # FluidSynth's 64-sample internal block
    else:  # the program's MIDI player adds its tick latency: late by 1.5-3.5 ms, never early
        assert 0 <= lag <= 4 * SR // 1000
