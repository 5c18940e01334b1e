"""MIDI input and sample-exact event lists.

A synthesizer's own sequencer schedules events at block boundaries and drifts; here every
note-on/off, pitch bend and controller is converted to an absolute sample index once, so a renderer
can generate audio exactly up to each event and apply it there.
"""

from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...errors import AudioReadError

# Order of simultaneous events: controllers first (a sustain release or bend applies to the note
# that starts at the same instant), then note-offs (a repeated pitch re-triggers), then note-ons.
CONTROL, PITCH_BEND, NOTE_OFF, NOTE_ON = 0, 1, 2, 3
# Controllers forwarded to the synth; pan (10) is left to the mixer, which pans whole stems.
FORWARDED_CONTROLLERS = (1, 7, 11, 64, 66, 67, 91, 93)


@dataclass(frozen=True)
class EventList:
    """Sorted events of one track: ``samples`` (E,) int64, ``kinds`` (E,), ``a``/``b`` (E,) ints.

    ``a``/``b`` are key/velocity for notes, controller/value for controls, bend (-8192..8191)/0.
    """

    samples: np.ndarray
    kinds: np.ndarray
    a: np.ndarray
    b: np.ndarray

    @property
    def end_sample(self) -> int:
        return int(self.samples[-1]) if len(self.samples) else 0


def load_midi(midi):
    """A :class:`pretty_midi.PrettyMIDI` from a path, bytes, a PrettyMIDI or a ``mido.MidiFile``."""
    import pretty_midi

    if isinstance(midi, pretty_midi.PrettyMIDI):
        return midi
    try:
        if isinstance(midi, (str, Path)):
            return pretty_midi.PrettyMIDI(str(midi))
        if isinstance(midi, (bytes, bytearray)):
            return pretty_midi.PrettyMIDI(io.BytesIO(bytes(midi)))
        import mido

        if isinstance(midi, mido.MidiFile):
            buf = io.BytesIO()
            midi.save(file=buf)
            buf.seek(0)
            return pretty_midi.PrettyMIDI(buf)
    except (OSError, EOFError, ValueError, KeyError, IndexError) as exc:
        raise AudioReadError(f"cannot read MIDI: {exc}", path=str(midi)[:200]) from exc
    raise TypeError(f"expected a MIDI path, bytes, PrettyMIDI or mido.MidiFile, got {type(midi)!r}")


def instrument_events(instrument, sample_rate: int) -> EventList:
    """Sample-exact events of one ``pretty_midi.Instrument``."""
    rows: list[tuple[int, int, int, int]] = []
    for n in instrument.notes:
        on, off = round(n.start * sample_rate), round(n.end * sample_rate)
        rows.append((on, NOTE_ON, n.pitch, n.velocity))
        rows.append((max(off, on + 1), NOTE_OFF, n.pitch, 0))
    for pb in instrument.pitch_bends:
        rows.append((round(pb.time * sample_rate), PITCH_BEND, pb.pitch, 0))
    for cc in instrument.control_changes:
        if cc.number in FORWARDED_CONTROLLERS:
            rows.append((round(cc.time * sample_rate), CONTROL, cc.number, cc.value))
    if not rows:
        empty = np.zeros(0, np.int64)
        return EventList(empty, empty, empty, empty)
    arr = np.array(rows, dtype=np.int64)
    arr[:, 0] = np.maximum(arr[:, 0], 0)
    order = np.lexsort((arr[:, 1], arr[:, 0]))
    arr = arr[order]
    return EventList(arr[:, 0], arr[:, 1], arr[:, 2], arr[:, 3])
