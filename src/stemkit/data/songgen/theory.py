"""Keys, modes, chords and chord progressions (pitch classes and scale degrees)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

MODES = {
    "major": (0, 2, 4, 5, 7, 9, 11),
    "minor": (0, 2, 3, 5, 7, 8, 10),
    "dorian": (0, 2, 3, 5, 7, 9, 10),
    "mixolydian": (0, 2, 4, 5, 7, 9, 10),
    "harmonic_minor": (0, 2, 3, 5, 7, 8, 11),
}
KEY_NAMES = ("C", "C#", "D", "Eb", "E", "F", "F#", "G", "Ab", "A", "Bb", "B")

# Progressions as 0-based scale degrees, one chord per bar; "major-like" modes share one list.
_PROGRESSIONS = {
    "major": ((0, 4, 5, 3), (0, 5, 3, 4), (1, 4, 0, 0), (0, 3, 4, 3), (5, 3, 0, 4), (0, 3, 0, 4),
              (0, 2, 3, 4), (3, 0, 4, 5)),
    "minor": ((0, 5, 2, 6), (0, 3, 4, 0), (0, 6, 5, 6), (0, 3, 6, 2), (5, 6, 0, 0), (0, 2, 3, 4)),
}


@dataclass(frozen=True)
class Key:
    tonic: int  # pitch class 0-11
    mode: str

    @property
    def scale(self) -> np.ndarray:
        """Pitch classes of the scale, (7,)."""
        return (self.tonic + np.array(MODES[self.mode])) % 12

    @property
    def name(self) -> str:
        return f"{KEY_NAMES[self.tonic]} {self.mode}"

    def chord(self, degree: int, sevenths: bool = False) -> tuple[int, ...]:
        """Pitch classes of the diatonic chord on ``degree`` (root first), stacked thirds."""
        steps = (0, 2, 4, 6) if sevenths else (0, 2, 4)
        return tuple(int(self.scale[(degree + s) % 7]) for s in steps)

    def nearest_in_scale(self, pitch: int) -> int:
        """The scale pitch closest to MIDI ``pitch`` (ties go down)."""
        for d in (0, -1, 1, -2, 2):
            if (pitch + d) % 12 in self.scale:
                return pitch + d
        return pitch


def progression_family(mode: str) -> str:
    return "minor" if mode in ("minor", "dorian", "harmonic_minor") else "major"


def choose_progression(mode: str, rng: np.random.Generator) -> tuple[int, ...]:
    options = _PROGRESSIONS[progression_family(mode)]
    return options[int(rng.integers(len(options)))]


def pitch_in_range(pitch_class: int, low: int, high: int, near: int | None = None) -> int:
    """A MIDI pitch of ``pitch_class`` in [low, high], the one nearest ``near`` if given."""
    candidates = [p for p in range(low, high + 1) if p % 12 == pitch_class]
    if not candidates:
        return low + (pitch_class - low) % 12
    target = near if near is not None else (low + high) // 2
    return min(candidates, key=lambda p: abs(p - target))
