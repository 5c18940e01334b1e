"""Nonsense lyrics: consonant-vowel syllables that drive the singer's formants and consonants."""

from __future__ import annotations

import numpy as np

VOWELS = ("a", "e", "i", "o", "u")
CONSONANTS = ("", "", "l", "m", "n", "r", "d", "t", "k", "b", "s", "sh", "h", "f", "w")


def syllables(n: int, rng: np.random.Generator) -> list[str]:
    """``n`` syllables such as ``"la"``, ``"shi"``, ``"o"``."""
    cons = rng.choice(len(CONSONANTS), n)
    vows = rng.choice(len(VOWELS), n, p=(0.3, 0.2, 0.15, 0.2, 0.15))
    return [CONSONANTS[c] + VOWELS[v] for c, v in zip(cons, vows)]


def split_syllable(syllable: str) -> tuple[str, str]:
    """``"sha"`` -> ``("sh", "a")``; the vowel defaults to ``"a"``."""
    for i, ch in enumerate(syllable):
        if ch in VOWELS:
            return syllable[:i], syllable[i]
    return syllable, "a"
