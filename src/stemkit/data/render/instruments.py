"""General MIDI program -> fine instrument class -> stem group.

Fine classes follow the sixteen GM families, with three refinements that matter for separation:
``voice`` (choir aahs, voice oohs, synth voice: sung sounds, grouped into ``vocals``), string
ensembles and synth strings (48-51) joining ``strings`` (seed 001's "string ensemble" stem), so
``ensemble`` keeps only the orchestra hit (55), and ``drums`` (any drum-channel track). ``percussive`` (taiko,
woodblock, synth drum...) joins the ``drums`` stem, as percussion does in MUSDB18.
"""

from __future__ import annotations

import re

STEM_GROUPS = ("drums", "bass", "other", "vocals")

# One entry per block of 8 GM programs (0-based program numbers).
_FAMILIES = (
    "piano", "chromatic_percussion", "organ", "guitar", "bass", "strings", "ensemble", "brass",
    "reed", "pipe", "synth_lead", "synth_pad", "synth_fx", "ethnic", "percussive", "sound_fx",
)
VOICE_PROGRAMS = (52, 53, 54)  # choir aahs, voice oohs, synth voice

FINE_CLASSES = _FAMILIES + ("voice", "drums")

_GROUP_OF_CLASS = {"drums": "drums", "percussive": "drums", "bass": "bass", "voice": "vocals"}

# Track names that mark a sung line in user MIDI files (Lakh files often name it so).
_VOCAL_NAME = re.compile(r"\b(vocals?|voice|vox|sing(er|ing)?|lead ?vocal|melody ?vocal)\b", re.I)


def fine_class(program: int, is_drum: bool = False, name: str = "") -> str:
    """Fine instrument class of a track from its GM ``program`` (0-127), drum flag and name."""
    if is_drum:
        return "drums"
    if not 0 <= int(program) <= 127:
        raise ValueError(f"GM program out of range: {program}")
    if program in VOICE_PROGRAMS or (name and _VOCAL_NAME.search(name)):
        return "voice"
    if 48 <= program <= 51:
        return "strings"
    return _FAMILIES[int(program) // 8]


def stem_group(fine: str) -> str:
    """Stem group (``drums``, ``bass``, ``other``, ``vocals``) of a fine class."""
    if fine not in FINE_CLASSES:
        raise ValueError(f"unknown fine instrument class: {fine!r}")
    return _GROUP_OF_CLASS.get(fine, "other")
