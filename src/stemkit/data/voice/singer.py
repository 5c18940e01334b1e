"""The singing-voice synthesizer: a sung line (notes + syllables) -> mono waveform.

Source-filter model: Rosenberg glottal pulses following a pitch contour with portamento, delayed
vibrato, slow drift and cycle-to-cycle jitter/shimmer; aspiration noise gated by the glottal flow;
an amplitude envelope per note; vowel formants gliding between syllables; fricatives, plosive
bursts and breaths before phrases. Everything is vectorised (numpy/scipy, one STFT).
"""

from __future__ import annotations

import numpy as np

from .characters import CHARACTERS, VoiceCharacter
from .consonants import consonant_noise
from .contour import glottal_phase, pitch_contour
from .formants import CONSONANT_SECONDS, HOP, apply_formants, formant_tracks
from .glottal import aspiration, voiced_source
from .score import SungNote, sung_notes

_NASAL = ("m", "n")


def _amplitude(notes: list[SungNote], n_samples: int, sample_rate: int,
               attack: float = 0.04, release: float = 0.07) -> np.ndarray:
    env = np.zeros(n_samples, np.float32)
    for n in notes:
        a, b = int(n.start * sample_rate), min(n_samples, int(n.end * sample_rate))
        if b <= a:
            continue
        t = np.arange(b - a, dtype=np.float32) / np.float32(sample_rate)
        shape = np.minimum(np.float32(1.0), t / np.float32(attack))
        shape *= np.clip((np.float32(n.end - n.start) - t) / np.float32(release), 0.0, 1.0)
        if n.consonant in _NASAL:  # nasals are quieter than the vowel that follows
            shape[: int(CONSONANT_SECONDS * sample_rate)] *= np.float32(0.45)
        shape *= np.float32(0.35 + 0.65 * n.velocity / 127.0)
        np.maximum(env[a:b], shape, out=env[a:b])
    return env


def _pad_to(x: np.ndarray, n: int) -> np.ndarray:
    return np.concatenate([x, np.full(max(0, n - len(x)), x[-1])])[:n]


def sing(notes: list[SungNote], n_samples: int, *, sample_rate: int = 44100,
         voice: VoiceCharacter | str = "tenor", seed: int = 0,
         vibrato_rate: tuple[float, float] = (5.0, 6.0),
         vibrato_cents: float | None = None) -> np.ndarray:
    """Mono singing ``(n_samples,)`` float32, peak 0.5 (silence when ``notes`` is empty)."""
    voice = CHARACTERS[voice] if isinstance(voice, str) else voice
    if not notes or n_samples == 0:
        return np.zeros(n_samples, np.float32)
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0x5146]))
    depth = voice.vibrato_depth_cents if vibrato_cents is None else vibrato_cents
    pitch, voiced = pitch_contour(notes, n_samples, sample_rate, rng, vibrato_rate=vibrato_rate,
                                  vibrato_cents=depth)
    phase = glottal_phase(pitch, sample_rate, rng)
    excitation, flow = voiced_source(phase, voice.open_quotient, rng)
    env = _amplitude(notes, n_samples, sample_rate)
    source = aspiration(flow, rng)
    source *= np.float32(voice.breathiness * 8.0)
    source += excitation
    source *= env
    f0_frames = 440.0 * 2.0 ** ((pitch[::HOP] - 69.0) / 12.0)
    wet = apply_formants(source, lambda n: formant_tracks(notes, n, sample_rate, voice,
                                                          f0=_pad_to(f0_frames, n)),
                         voice.bandwidths, sample_rate)
    wet /= np.std(wet[voiced]) + 1e-9 if voiced.any() else 1.0
    out = np.add(wet, consonant_noise(notes, n_samples, sample_rate, rng), out=wet)
    out *= np.float32(0.5 / (max(out.max(), -out.min()) + 1e-9))  # peak 0.5, in place
    return out


def sing_instrument(instrument, n_samples: int, *, lyrics=(), sample_rate: int = 44100,
                    voice: VoiceCharacter | str = "tenor", seed: int = 0) -> np.ndarray:
    """Sing a ``pretty_midi.Instrument`` (with the song's ``lyrics``) -> ``(2, n_samples)`` float32."""
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0x1B1C]))
    mono = sing(sung_notes(instrument, lyrics, rng), n_samples, sample_rate=sample_rate,
                voice=voice, seed=seed)
    return np.stack([mono, mono])
