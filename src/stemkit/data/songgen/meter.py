"""Meters: bar length and the sixteenth-note grid of each time signature."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Meter:
    numerator: int
    denominator: int

    @property
    def steps(self) -> int:
        """Sixteenth-note steps per bar (4/4 -> 16, 3/4 -> 12, 6/8 -> 12)."""
        return self.numerator * 16 // self.denominator

    @property
    def compound(self) -> bool:
        """6/8, 9/8, 12/8: beats are dotted quarters of three eighths."""
        return self.denominator == 8 and self.numerator % 3 == 0

    @property
    def beat_steps(self) -> int:
        """Steps per felt beat: a quarter (4) or, in compound meters, a dotted quarter (6)."""
        return 6 if self.compound else 4

    @property
    def beats(self) -> int:
        return self.steps // self.beat_steps

    @property
    def quarters(self) -> float:
        """Bar length in quarter notes (what the tempo counts)."""
        return self.numerator * 4 / self.denominator

    def __str__(self) -> str:
        return f"{self.numerator}/{self.denominator}"


METERS = {"4/4": Meter(4, 4), "3/4": Meter(3, 4), "6/8": Meter(6, 8), "2/4": Meter(2, 4),
          "12/8": Meter(12, 8), "5/4": Meter(5, 4)}
