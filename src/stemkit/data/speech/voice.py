"""A vocal line spoken by festival on the melody's pitches and rhythm."""

from __future__ import annotations

import numpy as np

from ..voice.score import SungNote, sung_notes
from .festival import SAMPLE_RATE, Utterance, synthesize

SYLLABLE_SECONDS = 0.32  # about the kal voice's length of one CV syllable at stretch 1
STRETCH_RANGE = (0.6, 3.0)  # festival's own lengthening; the phase vocoder does the rest
FADE_IN, FADE_OUT = 0.008, 0.03  # seconds


# The generator's syllables (consonant + one of a e i o u) spelled as English words, so festival's
# letter-to-sound rules say one open syllable ("shi" -> "shee") instead of spelling letters.
_VOWEL_SPELLING = {"a": "ah", "e": "eh", "i": "ee", "o": "oh", "u": "oo"}


def syllable_word(consonant: str, vowel: str) -> str:
    """``("sh", "i")`` -> ``"shee"``; other syllables (real lyrics) pass through."""
    return consonant + _VOWEL_SPELLING.get(vowel, vowel)


def _midi_hz(pitch: float) -> float:
    return 440.0 * 2.0 ** ((pitch - 69.0) / 12.0)


def _trim(x: np.ndarray, floor_db: float = -45.0) -> np.ndarray:
    """Cut the leading and trailing silence festival leaves around an utterance."""
    if not x.size:
        return x
    frame = 160  # 10 ms at 16 kHz
    n = max(1, len(x) // frame)
    rms = np.sqrt(np.mean(x[: n * frame].reshape(n, frame) ** 2, axis=1) + 1e-20)
    on = np.flatnonzero(rms > rms.max() * 10 ** (floor_db / 20))
    return x[on[0] * frame: (on[-1] + 1) * frame] if on.size else x[:0]


def _fit(x: np.ndarray, length: int) -> np.ndarray:
    """Time-stretch ``x`` (mono) to exactly ``length`` samples (phase vocoder; pitch kept)."""
    import librosa

    if len(x) < 512 or length < 64:
        return np.zeros(length, np.float32)
    rate = len(x) / length
    if abs(rate - 1.0) > 0.02:
        x = librosa.effects.time_stretch(x, rate=rate)
    x = x[:length]
    return np.pad(x, (0, length - len(x))).astype(np.float32)


def _envelope(length: int, sample_rate: int) -> np.ndarray:
    t = np.arange(length) / sample_rate
    return np.minimum(1.0, t / FADE_IN) * np.clip((length / sample_rate - t) / FADE_OUT, 0.0, 1.0)


def speak(notes: list[SungNote], n_samples: int, *, sample_rate: int = 44100) -> np.ndarray:
    """Mono ``(n_samples,)`` float32, peak 0.5: each note's syllable spoken at its pitch and length."""
    import soxr

    out = np.zeros(n_samples, np.float32)
    notes = [n for n in notes if int(n.start * sample_rate) < n_samples]
    if not notes:
        return out
    # one utterance per distinct (syllable, pitch, stretch): repeated notes are synthesised once
    keys = []
    for n in notes:
        stretch = float(np.clip((n.end - n.start) / SYLLABLE_SECONDS, *STRETCH_RANGE))
        keys.append((syllable_word(n.consonant, n.vowel), round(_midi_hz(n.pitch), 2), round(stretch, 1)))
    unique = list(dict.fromkeys(keys))
    spoken = synthesize([Utterance(t, f0, s) for t, f0, s in unique])
    audio = {k: soxr.resample(_trim(x), SAMPLE_RATE, sample_rate).astype(np.float32)
             for k, x in zip(unique, spoken)}
    for n, key in zip(notes, keys):
        a = int(round(n.start * sample_rate))
        b = min(n_samples, int(round(n.end * sample_rate)))
        if b - a < 64:
            continue
        x = audio[key]
        x = _fit(x / (np.sqrt(np.mean(x ** 2)) + 1e-9), b - a) if x.size else np.zeros(b - a, np.float32)
        out[a:b] += x * _envelope(b - a, sample_rate) * (0.35 + 0.65 * n.velocity / 127.0)
    peak = np.abs(out).max()
    return (0.5 * out / peak).astype(np.float32) if peak > 0 else out


def speak_instrument(instrument, n_samples: int, *, lyrics=(), sample_rate: int = 44100,
                     seed: int = 0) -> tuple[np.ndarray, dict]:
    """Speak a ``pretty_midi.Instrument``'s line (with the song's ``lyrics``) ->
    ``((2, n_samples) float32, description)``. ``seed`` draws the syllables of notes without lyrics."""
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0x5EEC]))
    notes = sung_notes(instrument, lyrics, rng)
    mono = speak(notes, n_samples, sample_rate=sample_rate)
    return np.stack([mono, mono]), {"voice": "festival_kal_diphone", "notes": len(notes)}
