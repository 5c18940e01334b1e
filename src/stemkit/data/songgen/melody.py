"""Vocal melodies: phrases built from a repeated rhythmic motif, chord tones on strong beats."""

from __future__ import annotations

import numpy as np

from .lyrics import syllables
from .meter import Meter
from .notes import StepNote
from .theory import Key, pitch_in_range

_DENSITY = {"rock": 0.45, "pop": 0.5, "funk": 0.55, "hiphop": 0.6, "electronic": 0.45,
            "swing": 0.4, "ballad": 0.3}


def _motif(meter: Meter, density: float, rng: np.random.Generator) -> list[int]:
    """Onset steps of one bar: every beat may sound, eighths and sixteenths less often."""
    onsets = []
    for step in range(0, meter.steps, 2):
        on_beat = step % meter.beat_steps == 0
        p = 0.55 + density * 0.4 if on_beat else density * 0.7
        if rng.random() < p:
            onsets.append(step)
    if rng.random() < density * 0.5:  # an occasional syncopated sixteenth
        onsets.append(int(rng.integers(meter.steps // 2)) * 2 + 1)
    return sorted(set(onsets)) or [0]


def melody_phrase(key: Key, chords: list, meter: Meter, start: int, low: int, high: int,
                  style: str, prev: int | None, rng: np.random.Generator) -> tuple[list[StepNote], int]:
    """One phrase over ``chords`` (one per bar): motif, repeated, ending on a held chord tone."""
    density = _DENSITY.get(style, 0.45)
    motif = _motif(meter, density, rng)
    pitch = prev if prev is not None else pitch_in_range(chords[0][0], low, high)
    notes = []
    for b, chord in enumerate(chords):
        last_bar = b == len(chords) - 1
        onsets = [s for s in motif if s < meter.steps // 2] if last_bar else motif
        onsets = onsets or [0]
        for i, step in enumerate(onsets):
            strong = step % meter.beat_steps == 0
            if strong or (last_bar and i == len(onsets) - 1):
                pitch = pitch_in_range(int(rng.choice(chord)), low, high, pitch)
            else:
                idx = int(np.argmin(np.abs(key.scale - pitch % 12)))
                move = int(rng.choice([-2, -1, -1, 1, 1, 2]))
                pc = int(key.scale[(idx + move) % 7])
                pitch = pitch_in_range(pc, low, high, pitch + move)
            end = onsets[i + 1] if i + 1 < len(onsets) else (meter.steps - 1 if not last_bar
                                                            else meter.steps - 2)
            length = max(1.0, (end - step) * (0.92 if not last_bar else 1.0))
            vel = int(np.clip(88 + (10 if strong else 0) + rng.integers(-8, 9), 1, 127))
            notes.append(StepNote(start + b * meter.steps + step, length, pitch, vel))
    for note, syl in zip(notes, syllables(len(notes), rng)):
        note.syllable = syl
    return notes, pitch
