"""Singing-voice synthesis: glottal source, moving vowel formants, vibrato, breath, consonants."""
