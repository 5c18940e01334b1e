"""Real human voice material on melodies: recorded speech diphones sung on the notes.

Festival's ``kal_diphone`` voice (Debian ``festival`` + ``festvox-kallpc16k``) concatenates
diphones cut from recordings of a real speaker and resynthesises them pitch-synchronously, so its
pitch can be set freely without moving the formants. :func:`speak_instrument` speaks each note's
lyric syllable at a flat pitch equal to the note (festival's ``DuffInt`` intonation), fits it to
the note's length (festival's duration stretch, then a phase-vocoder time stretch) and places it at
the note's onset: a vocal line of real voice timbre, in tune and in time.
"""

from .festival import festival_available, synthesize
from .voice import speak, speak_instrument

__all__ = ["festival_available", "speak", "speak_instrument", "synthesize"]
