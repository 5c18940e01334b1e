"""Bass lines that follow the chords: roots on strong beats, fifths, octaves, approach notes."""

from __future__ import annotations

import numpy as np

from .meter import Meter
from .notes import StepNote
from .theory import Key, pitch_in_range

BASS_LOW, BASS_HIGH = 28, 55

# Onset steps (4/4) and what each plays: r root, f fifth, o octave up, a approach to next chord.
_PATTERNS = {
    "rock": ("0r 2r 4r 6r 8r 10r 12r 14a",),
    "pop": ("0r 6r 8f 12r 14a", "0r 3r 8r 10f 14a"),
    "funk": ("0r 3o 6r 7r 10o 12f 14a", "0r 2r 3o 8r 11o 13f"),
    "hiphop": ("0r 7r 10r", "0r 3r 10f 14a"),
    "electronic": ("2r 6r 10r 14r", "0r 2o 4r 6o 8r 10o 12r 14o"),
    "ballad": ("0r 8f", "0r 12a"),
}


def _walking_bar(key: Key, chord, nxt, meter: Meter, start: int, prev: int,
                 rng: np.random.Generator) -> list[StepNote]:
    """Swing: a quarter note per beat through chord tones, ending a half step from the next root."""
    notes = []
    beats = meter.beats
    for b in range(beats):
        if b == 0:
            pc = chord[0]
        elif b == beats - 1:
            target = pitch_in_range(nxt[0], BASS_LOW, BASS_HIGH, prev)
            notes.append(StepNote(start + b * meter.beat_steps, meter.beat_steps,
                                  target + int(rng.choice([-1, 1])), int(rng.integers(80, 100))))
            break
        else:
            pc = int(rng.choice(chord)) if rng.random() < 0.7 else int(rng.choice(key.scale))
        prev = pitch_in_range(pc, BASS_LOW, BASS_HIGH, prev)
        notes.append(StepNote(start + b * meter.beat_steps, meter.beat_steps, prev,
                              int(rng.integers(80, 105))))
    return notes


def _pattern_steps(pattern: str, meter: Meter) -> list[tuple[int, str]]:
    hits = [(int(tok[:-1]), tok[-1]) for tok in pattern.split()]
    if meter.steps == 16 and not meter.compound:
        return hits
    # Other meters: keep the bar's beat structure; map the 4/4 beat of each hit onto its beats.
    out = []
    for b in range(meter.beats):
        for step, role in hits:
            if step // 4 == b % 4 and step % 4 < meter.beat_steps:
                scaled = step % 4 * meter.beat_steps // 4
                out.append((b * meter.beat_steps + scaled, role))
    return out or [(0, "r")]


def bass_bar(style: str, key: Key, chord, next_chord, meter: Meter, start: int, prev: int,
             rng: np.random.Generator, variant: int) -> tuple[list[StepNote], int]:
    """One bar of bass over ``chord``; returns the notes and the last pitch (for voice leading)."""
    if style == "swing":
        notes = _walking_bar(key, chord, next_chord, meter, start, prev, rng)
        return notes, notes[-1].pitch
    options = _PATTERNS.get(style, _PATTERNS["rock"])
    hits = _pattern_steps(options[variant % len(options)], meter)
    root = pitch_in_range(chord[0], BASS_LOW, BASS_HIGH - 12, prev)
    notes = []
    for i, (step, role) in enumerate(hits):
        end = hits[i + 1][0] if i + 1 < len(hits) else meter.steps
        if role == "f":
            pitch = pitch_in_range(chord[2] if len(chord) > 2 else chord[0], root, root + 11)
        elif role == "o":
            pitch = root + 12
        elif role == "a":
            nxt = pitch_in_range(next_chord[0], BASS_LOW, BASS_HIGH - 12, root)
            pitch = key.nearest_in_scale(nxt + (2 if nxt < root else -2)) if nxt != root else root
        else:
            pitch = root
        length = max(1, end - step - (1 if style in ("funk", "electronic") else 0))
        accent = 100 if step % meter.beat_steps == 0 else 84
        notes.append(StepNote(start + step, length, pitch, int(accent + rng.integers(-6, 7))))
    return notes, root
