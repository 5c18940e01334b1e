"""The singing synthesizer: pitch follows the melody, vibrato at 5-6 Hz, vowels move formants."""

import librosa
import numpy as np
import pretty_midi
import pytest

from stemkit.data.voice.score import SungNote, sung_notes
from stemkit.data.voice.singer import sing, sing_instrument

SR = 44100
HOP = 256


def _f0(y: np.ndarray, fmin=70, fmax=900) -> np.ndarray:
    return librosa.yin(y, fmin=fmin, fmax=fmax, sr=SR, frame_length=2048, hop_length=HOP)


def _hz(midi: float) -> float:
    return 440.0 * 2 ** ((midi - 69) / 12)


@pytest.mark.parametrize("voice,shift", [("tenor", 0), ("soprano", 12), ("bass", -12)])
def test_pitch_follows_the_melody(voice, shift):
    melody = [(57, "la"), (60, "so"), (62, "mi"), (64, "ta"), (62, "na"), (59, "ke")]
    notes = [SungNote(0.1 + 0.5 * k, 0.1 + 0.5 * k + 0.45, p + shift, 100, s[:-1], s[-1])
             for k, (p, s) in enumerate(melody)]
    y = sing(notes, int(3.3 * SR), voice=voice, seed=3)
    f0 = _f0(y)
    times = np.arange(len(f0)) * HOP / SR
    errors = []
    for n in notes:  # the steady middle of each note; glides and consonants at the edges
        inside = (times > n.start + 0.1) & (times < n.end - 0.08)
        errors.append(np.median(1200 * np.log2(f0[inside] / _hz(n.pitch))))
    assert np.max(np.abs(errors)) < 30, errors


def test_vibrato_is_a_5_to_6_hz_modulation():
    note = [SungNote(0.05, 3.0, 57.0, 100, "", "a")]
    y = sing(note, int(3.1 * SR), voice="tenor", seed=1)
    f0 = _f0(y)
    times = np.arange(len(f0)) * HOP / SR
    steady = (times > 0.8) & (times < 2.9)
    cents = 1200 * np.log2(f0[steady] / _hz(57))
    cents -= np.polyval(np.polyfit(times[steady], cents, 1), times[steady])
    spectrum = np.abs(np.fft.rfft(cents * np.hanning(len(cents)), 8192))
    freqs = np.fft.rfftfreq(8192, HOP / SR)
    band = freqs > 1.0
    peak = freqs[band][np.argmax(spectrum[band])]
    assert 4.8 <= peak <= 6.2
    assert 15 < np.std(cents) * np.sqrt(2) < 120  # vibrato depth (cents amplitude)
    assert abs(np.median(1200 * np.log2(f0[steady] / _hz(57)))) < 20


def _band_energy(y, lo, hi):
    spec = np.abs(np.fft.rfft(y * np.hanning(len(y)))) ** 2
    f = np.fft.rfftfreq(len(y), 1 / SR)
    return spec[(f >= lo) & (f < hi)].sum()


def test_vowels_shape_the_spectrum_and_differ_from_an_organ():
    a = sing([SungNote(0.0, 1.0, 50, 100, "", "a")], SR, voice="tenor", seed=0)[SR // 4: 3 * SR // 4]
    i = sing([SungNote(0.0, 1.0, 50, 100, "", "i")], SR, voice="tenor", seed=0)[SR // 4: 3 * SR // 4]
    # /a/ has a high F1 (~650 Hz) and low F2; /i/ a low F1 (~290 Hz) and a high F2 (~1900 Hz).
    assert _band_energy(a, 550, 800) / _band_energy(a, 200, 350) > _band_energy(i, 550, 800) / _band_energy(i, 200, 350)
    assert _band_energy(i, 1700, 2600) / _band_energy(i, 550, 1200) > _band_energy(a, 1700, 2600) / _band_energy(a, 550, 1200)
    # Jitter, shimmer, breath: successive periods are not identical copies.
    period = round(SR / _hz(50))
    seg = a[:period * 20]
    assert np.corrcoef(seg[:-period], seg[period:])[0, 1] < 0.999


def test_consonants_and_breath_add_noise_before_and_at_onsets():
    notes = [SungNote(1.0, 1.5, 57, 100, "s", "a")]
    y = sing(notes, 2 * SR, voice="alto", seed=0)
    before = y[int(0.94 * SR): int(0.995 * SR)]
    assert np.sqrt(np.mean(before**2)) > 1e-3  # the "s" starts before the vowel
    assert _band_energy(before, 4000, 11000) > _band_energy(before, 100, 1500)
    assert not y[: int(0.5 * SR)].any() or np.abs(y[: int(0.5 * SR)]).max() < 0.05


def test_same_seed_same_voice_and_instrument_interface():
    inst = pretty_midi.Instrument(53, name="vocals")
    inst.notes += [pretty_midi.Note(100, 60, 0.1, 0.5), pretty_midi.Note(100, 64, 0.1, 0.4),
                   pretty_midi.Note(90, 62, 0.45, 0.9)]
    lyrics = [pretty_midi.Lyric("shi", 0.1), pretty_midi.Lyric("lo", 0.45)]
    mono = sung_notes(inst, lyrics)
    assert [(n.pitch, n.consonant, n.vowel) for n in mono] == [(64.0, "sh", "i"), (62.0, "l", "o")]
    assert mono[0].end == pytest.approx(0.4)
    a = sing_instrument(inst, SR, lyrics=lyrics, seed=4)
    b = sing_instrument(inst, SR, lyrics=lyrics, seed=4)
    c = sing_instrument(inst, SR, lyrics=lyrics, seed=5)
    assert a.shape == (2, SR) and a.dtype == np.float32
    assert np.array_equal(a, b) and not np.array_equal(a, c)
