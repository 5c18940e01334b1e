"""The generator's working note: positions on the song's sixteenth-note grid."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class StepNote:
    """A note at ``start`` sixteenths from the song start lasting ``length`` sixteenths."""

    start: float
    length: float
    pitch: int
    velocity: int
    syllable: str = ""
