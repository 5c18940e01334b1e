"""Render a MIDI song into one dry stereo signal per instrument track."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ...errors import ConfigError
from .events import instrument_events, load_midi
from .instruments import fine_class, stem_group
from .soundfonts import bundled_soundfont

BACKENDS = ("tinysoundfont", "fluidsynth")
SAMPLE_RATE = 44100


@dataclass
class TrackAudio:
    """One instrument track rendered: ``audio`` is ``(2, T)`` float32 at the song's rate."""

    name: str
    program: int
    is_drum: bool
    fine_class: str
    stem: str
    audio: np.ndarray
    renderer: str = "tinysoundfont"
    soundfont: str | None = None
    extra: dict = field(default_factory=dict)

    def describe(self) -> dict:
        """JSON-able description (no audio) for ``meta.json``."""
        return {"name": self.name, "program": self.program, "is_drum": self.is_drum,
                "fine_class": self.fine_class, "stem": self.stem, "renderer": self.renderer,
                "soundfont": self.soundfont, **self.extra}


def song_length(pm, sample_rate: int, tail: float) -> int:
    """Samples needed for every note of ``pm`` plus a release ``tail`` in seconds."""
    return int(np.ceil((pm.get_end_time() + tail) * sample_rate))


def render_instrument(instrument, *, soundfont: str | Path | None = None,
                      backend: str = "tinysoundfont", sample_rate: int = SAMPLE_RATE,
                      n_samples: int, note_cache: bool = True) -> np.ndarray:
    """One ``pretty_midi.Instrument`` -> ``(2, n_samples)`` float32, dry.

    ``note_cache`` (TinySoundFont only): render each distinct note once and copy it to its onsets.
    """
    soundfont = str(soundfont or bundled_soundfont())
    events = instrument_events(instrument, sample_rate)
    if backend == "tinysoundfont":
        from .tsf_backend import render_tsf

        return render_tsf(events, program=instrument.program, is_drum=instrument.is_drum,
                          soundfont=soundfont, sample_rate=sample_rate, n_samples=n_samples,
                          note_cache=note_cache)
    if backend == "fluidsynth":
        from .fluidsynth_backend import render_fluidsynth

        return render_fluidsynth(events, instrument, soundfont=soundfont,
                                 sample_rate=sample_rate, n_samples=n_samples)
    raise ConfigError(f"unknown rendering backend {backend!r} (choose from {', '.join(BACKENDS)})")


def render_tracks(midi, *, soundfont: str | Path | None = None, backend: str = "tinysoundfont",
                  sample_rate: int = SAMPLE_RATE, duration: float | None = None,
                  tail: float = 2.0, note_cache: bool = True) -> list[TrackAudio]:
    """Render every non-empty track of ``midi`` (path, bytes, PrettyMIDI or mido.MidiFile).

    All tracks share one length: ``duration`` seconds if given, else the song plus ``tail``.
    """
    pm = load_midi(midi)
    n = round(duration * sample_rate) if duration else song_length(pm, sample_rate, tail)
    tracks = []
    for inst in pm.instruments:
        if not inst.notes:
            continue
        fine = fine_class(inst.program, inst.is_drum, inst.name)
        audio = render_instrument(inst, soundfont=soundfont, backend=backend,
                                  sample_rate=sample_rate, n_samples=n, note_cache=note_cache)
        tracks.append(TrackAudio(inst.name or "", int(inst.program), bool(inst.is_drum), fine,
                                 stem_group(fine), audio, backend, str(soundfont or bundled_soundfont())))
    return tracks
