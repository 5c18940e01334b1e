"""The sung line: monophonic notes with syllables, from a MIDI track and its lyrics."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..songgen.lyrics import split_syllable, syllables


@dataclass(frozen=True)
class SungNote:
    start: float  # seconds
    end: float
    pitch: float  # MIDI pitch
    velocity: int
    consonant: str
    vowel: str


def sung_notes(instrument, lyrics=(), rng: np.random.Generator | None = None) -> list[SungNote]:
    """Notes of ``instrument`` made monophonic (a later onset cuts the previous note; of
    simultaneous onsets the highest wins), each with the lyric syllable starting within 20 ms of
    it, else a random syllable."""
    rng = rng or np.random.default_rng(0)
    notes = sorted(instrument.notes, key=lambda n: (n.start, -n.pitch))
    mono = []
    for n in notes:
        if mono and abs(n.start - mono[-1].start) < 1e-3:
            continue  # a chord in the vocal track: keep the top note
        mono.append(n)
    lyric_times = np.array([ly.time for ly in lyrics]) if len(lyrics) else np.zeros(0)
    fallback = syllables(len(mono), rng)
    out = []
    for i, n in enumerate(mono):
        end = min(n.end, mono[i + 1].start) if i + 1 < len(mono) else n.end
        syl = fallback[i]
        if len(lyric_times):
            j = int(np.argmin(np.abs(lyric_times - n.start)))
            if abs(lyric_times[j] - n.start) < 0.02 and lyrics[j].text.strip():
                syl = lyrics[j].text.strip().lower()
        cons, vowel = split_syllable(syl)
        if end - n.start > 0.03:
            out.append(SungNote(n.start, end, float(n.pitch), int(n.velocity), cons, vowel))
    return out
