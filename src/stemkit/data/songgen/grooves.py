"""Drum grooves per style on the sixteenth grid, fills and crashes (GM drum keys)."""

from __future__ import annotations

import numpy as np

from .meter import Meter
from .notes import StepNote

KICK, SIDE_STICK, SNARE, CLAP, CLOSED_HH, PEDAL_HH, OPEN_HH = 36, 37, 38, 39, 42, 44, 46
LOW_TOM, MID_TOM, HIGH_TOM, CRASH, RIDE, TAMBOURINE = 45, 47, 50, 49, 51, 54

STYLES = ("rock", "pop", "funk", "hiphop", "electronic", "swing", "ballad")

# One 4/4 bar per style: 16 characters per sound, X accent, x normal, o ghost, . rest.
_TEMPLATES = {
    "rock": {KICK: "X.....x.X.....x.", SNARE: "....X.......X...", CLOSED_HH: "x.x.x.x.x.x.x.x."},
    "pop": {KICK: "X......xX.x.....", SNARE: "....X.......X...", CLOSED_HH: "xoxoxoxoxoxoxoxo",
            TAMBOURINE: "....x.......x..."},
    "funk": {KICK: "X..x..x...X..x..", SNARE: "....X..o.o..X..o", CLOSED_HH: "xoxoxoxoxoxoxo..",
             OPEN_HH: "..............x."},
    "hiphop": {KICK: "X......x..X..x..", SNARE: "....X.......X...", CLOSED_HH: "x.x.x.x.x.x.x.xx"},
    "electronic": {KICK: "X...X...X...X...", CLAP: "....X.......X...", CLOSED_HH: "xxx.xxx.xxx.xxx.",
                   OPEN_HH: "..x...x...x...x."},
    "swing": {RIDE: "X...x.x.X...x.x.", PEDAL_HH: "....x.......x...", KICK: "o...o...o...o...",
              SNARE: "......o.......o."},
    "ballad": {KICK: "X.......x.x.....", SIDE_STICK: "....x.......x...", CLOSED_HH: "x.x.x.x.x.x.x.x."},
}
_VELOCITY = {"X": 112, "x": 88, "o": 48}


def _compound_bar(style: str, meter: Meter) -> dict[int, str]:
    """Compound meters (6/8, 12/8): kick on beat 1, backbeat on the other beats, eighth hats."""
    n, beat = meter.steps, meter.beat_steps
    kick, snare, hats = ["."] * n, ["."] * n, ["."] * n
    for b in range(meter.beats):
        (kick if b % 2 == 0 else snare)[b * beat] = "X" if b == 0 else "x"
    for s in range(0, n, 2):
        hats[s] = "x" if s % beat == 0 else "o"
    back = SIDE_STICK if style == "ballad" else SNARE
    top = RIDE if style == "swing" else CLOSED_HH
    return {KICK: "".join(kick), back: "".join(snare), top: "".join(hats)}


def bar_pattern(style: str, meter: Meter) -> dict[int, str]:
    """Drum key -> hit string (``meter.steps`` characters) of one bar of ``style``."""
    if meter.compound:
        return _compound_bar(style, meter)
    template = _TEMPLATES[style]
    # Simple meters: beats are quarters; beat i of the bar takes template beat i mod 4, the last
    # beat of an odd bar takes beat 4 so the bar still ends with a backbeat.
    out = {}
    for key, line in template.items():
        beats = [line[4 * (i % 4): 4 * (i % 4) + 4] for i in range(meter.beats)]
        if meter.beats % 2 == 1 and meter.beats > 1:
            beats[-1] = line[12:16]
        out[key] = "".join(beats)
    return out


def _fill(meter: Meter, bar_start: int, rng: np.random.Generator) -> list[StepNote]:
    """Sixteenth-note tom/snare run over the last beat (or two) of a bar, high to low."""
    beats = 2 if rng.random() < 0.4 else 1
    first = meter.steps - beats * meter.beat_steps
    toms = [SNARE, HIGH_TOM, MID_TOM, LOW_TOM]
    steps = range(first, meter.steps)
    return [StepNote(bar_start + s, 1, toms[min(3, (s - first) * 4 // len(steps))],
                     int(rng.integers(80, 115))) for s in steps]


def drum_bar(style: str, meter: Meter, bar_start: int, rng: np.random.Generator, *,
             fill: bool = False, crash: bool = False, intensity: float = 1.0) -> list[StepNote]:
    """Notes of one bar; ``fill`` replaces its end with a fill, ``crash`` marks its downbeat."""
    fill_notes = _fill(meter, bar_start, rng) if fill else []
    cut = min((n.start for n in fill_notes), default=bar_start + meter.steps) - bar_start
    notes = []
    for key, line in bar_pattern(style, meter).items():
        for step, ch in enumerate(line):
            if ch != "." and step < cut:
                vel = _VELOCITY[ch] * (0.75 + 0.25 * intensity)
                notes.append(StepNote(bar_start + step, 1, key, int(np.clip(vel, 1, 127))))
    if crash:
        notes.append(StepNote(bar_start, 8, CRASH, 110))
    return notes + fill_notes
