"""Chordal parts: comping (strummed/stabbed chords), arpeggios and sustained pads."""

from __future__ import annotations

import numpy as np

from .meter import Meter
from .notes import StepNote

VOICING_LOW, VOICING_HIGH = 50, 79

_COMP_RHYTHMS = {
    "rock": ("0 2 4 6 8 10 12 14",), "pop": ("0 3 6 8 11 14", "0 4 8 12"),
    "funk": ("1 3 6 9 11 14", "0 3 7 10 13"), "hiphop": ("0 6 10",),
    "electronic": ("2 6 10 14",), "swing": ("0 6 8 14", "4 12"), "ballad": ("0 8",),
}


def voice_chord(chord, previous: list[int] | None, low: int = VOICING_LOW,
                high: int = VOICING_HIGH) -> list[int]:
    """Close-position voicing of ``chord`` pitch classes nearest the ``previous`` voicing."""
    centre = int(np.mean(previous)) if previous else (low + high) // 2 - 4
    best, best_cost = None, None
    for inversion in range(len(chord)):
        pcs = list(chord[inversion:]) + list(chord[:inversion])
        for base in range(low, high - 6):
            if base % 12 != pcs[0]:
                continue
            pitches = [base]
            for pc in pcs[1:]:
                pitches.append(pitches[-1] + ((pc - pitches[-1]) % 12 or 12))  # next one above
            if pitches[-1] > high:
                continue
            cost = abs(np.mean(pitches) - centre)
            if best_cost is None or cost < best_cost:
                best, best_cost = pitches, cost
    return best or [low + pc % 12 for pc in chord]


def _beat_rhythm(spec: str, meter: Meter) -> list[int]:
    steps = [int(s) for s in spec.split()]
    if meter.steps == 16 and not meter.compound:
        return steps
    out = [b * meter.beat_steps + (s % 4) * meter.beat_steps // 4
           for b in range(meter.beats) for s in steps if s // 4 == b % 4]
    return sorted(set(out)) or [0]


def comp_bar(style: str, chord, meter: Meter, start: int, previous, rng: np.random.Generator,
             variant: int, intensity: float) -> tuple[list[StepNote], list[int]]:
    """Rhythmic chords; returns the notes and the voicing used."""
    voicing = voice_chord(chord, previous)
    options = _COMP_RHYTHMS.get(style, _COMP_RHYTHMS["pop"])
    onsets = _beat_rhythm(options[variant % len(options)], meter)
    notes = []
    for i, step in enumerate(onsets):
        end = onsets[i + 1] if i + 1 < len(onsets) else meter.steps
        length = max(1, int((end - step) * (0.5 if style == "funk" else 0.9)))
        vel = int(np.clip(70 + 25 * intensity + rng.integers(-8, 9), 1, 127))
        notes.extend(StepNote(start + step, length, p, vel) for p in voicing)
    return notes, voicing


def arpeggio_bar(chord, meter: Meter, start: int, previous, rng: np.random.Generator,
                 rate: int, intensity: float) -> tuple[list[StepNote], list[int]]:
    """Broken chord every ``rate`` sixteenths, up, down or up-down over about an octave and a half."""
    voicing = voice_chord(chord, previous, 55, 84)
    tones = voicing + [voicing[0] + 12, voicing[1] + 12]
    shape = rng.integers(3)
    order = tones if shape == 0 else tones[::-1] if shape == 1 else tones + tones[-2:0:-1]
    notes = []
    for i, step in enumerate(range(0, meter.steps, rate)):
        vel = int(np.clip(62 + 20 * intensity + (10 if step % meter.beat_steps == 0 else 0)
                          + rng.integers(-6, 7), 1, 127))
        notes.append(StepNote(start + step, rate, order[i % len(order)], vel))
    return notes, voicing


def pad_bar(chord, meter: Meter, start: int, previous, rng: np.random.Generator,
            intensity: float) -> tuple[list[StepNote], list[int]]:
    """One sustained chord over the whole bar, root doubled an octave below."""
    voicing = voice_chord(chord, previous, 48, 74)
    vel = int(np.clip(50 + 20 * intensity + rng.integers(-5, 6), 1, 127))
    notes = [StepNote(start, meter.steps, p, vel) for p in voicing]
    notes.append(StepNote(start, meter.steps, voicing[0] - 12, vel - 8))
    return notes, voicing
