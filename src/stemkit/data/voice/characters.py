"""Voice characters: singing range, formant set and source settings of bass/tenor/alto/soprano."""

from __future__ import annotations

from dataclasses import dataclass

# Formant frequencies (Hz) F1..F5 per vowel, after the classic sung-vowel tables (Peterson &
# Barney-style averages; female and high voices raise formants roughly 10-20%).
_MALE = {
    "a": (650, 1080, 2650, 2900, 3250), "e": (400, 1700, 2600, 3200, 3580),
    "i": (290, 1870, 2800, 3250, 3540), "o": (400, 800, 2600, 2800, 3000),
    "u": (350, 600, 2700, 2900, 3300),
}
_FEMALE = {
    "a": (800, 1150, 2900, 3900, 4950), "e": (350, 2000, 2800, 3600, 4950),
    "i": (270, 2140, 2950, 3900, 4950), "o": (450, 800, 2830, 3800, 4950),
    "u": (325, 700, 2700, 3800, 4950),
}
_BANDWIDTHS = (80, 90, 120, 130, 140)
_WIDE_BANDWIDTHS = (130, 140, 170, 200, 220)  # high voices: fewer harmonics, broader resonances
_AMPLITUDES_DB = (0, -6, -18, -22, -30)


@dataclass(frozen=True)
class VoiceCharacter:
    """Range (MIDI pitches), vowel formants and glottal settings of one singing voice."""

    name: str
    low: int
    high: int
    formants: dict
    formant_scale: float = 1.0
    open_quotient: float = 0.6  # fraction of the period the glottis is open
    breathiness: float = 0.04  # aspiration noise level relative to the voiced source
    vibrato_depth_cents: float = 45.0
    bandwidths: tuple = _BANDWIDTHS
    amplitudes_db: tuple = _AMPLITUDES_DB

    def vowel_formants(self, vowel: str) -> tuple[float, ...]:
        return tuple(f * self.formant_scale for f in self.formants[vowel])


CHARACTERS = {
    "bass": VoiceCharacter("bass", 40, 62, _MALE, 0.93, 0.55, 0.03, 40.0),
    "tenor": VoiceCharacter("tenor", 48, 69, _MALE, 1.0, 0.58, 0.04, 45.0),
    "alto": VoiceCharacter("alto", 53, 74, _FEMALE, 0.95, 0.62, 0.06, 50.0,
                           bandwidths=_WIDE_BANDWIDTHS),
    "soprano": VoiceCharacter("soprano", 60, 81, _FEMALE, 1.05, 0.66, 0.07, 55.0,
                              bandwidths=_WIDE_BANDWIDTHS),
}
VOWELS = tuple(_MALE)
