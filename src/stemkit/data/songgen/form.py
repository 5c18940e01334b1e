"""Song form: sections with lengths in bars, their progressions and which parts play."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .theory import choose_progression

FORMS = (
    ("intro", "verse", "chorus", "verse", "chorus", "bridge", "chorus", "outro"),
    ("intro", "verse", "verse", "chorus", "verse", "chorus", "outro"),
    ("verse", "chorus", "verse", "chorus", "bridge", "chorus"),
)
_BARS = {"intro": (2, 4), "verse": (8,), "chorus": (8,), "bridge": (4, 8), "outro": (2, 4)}
_INTENSITY = {"intro": 0.5, "verse": 0.7, "chorus": 1.0, "bridge": 0.8, "outro": 0.6}


@dataclass
class Section:
    name: str
    first_bar: int
    bars: int
    progression: tuple[int, ...]
    intensity: float

    @property
    def sung(self) -> bool:
        return self.name in ("verse", "chorus", "bridge")


def plan_form(mode: str, min_bars: int, rng: np.random.Generator, *, intro: bool) -> list[Section]:
    """Sections covering at least ``min_bars`` bars (the form repeats if the song is long); with
    ``min_bars`` <= 0, the whole form once."""
    form = list(FORMS[int(rng.integers(len(FORMS)))])
    if not intro and form[0] == "intro":
        form = form[1:]
    progressions = {name: choose_progression(mode, rng) for name in _BARS}
    sections, bar = [], 0
    i = 0
    while bar < min_bars or (min_bars <= 0 and i < len(form)):
        name = form[i % len(form)]
        i += 1
        if i > len(form) and name in ("intro", "outro"):
            continue
        bars = int(rng.choice(_BARS[name]))
        sections.append(Section(name, bar, bars, progressions[name], _INTENSITY[name]))
        bar += bars
    return sections
