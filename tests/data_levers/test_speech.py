"""The speech voice: festival's diphones spoken on a melody follow its pitches and rhythm."""

from __future__ import annotations

import numpy as np
import pretty_midi
import pytest

from stemkit.data.speech import festival_available
from stemkit.data.speech.festival import clean_text
from stemkit.data.speech.voice import syllable_word

needs_festival = pytest.mark.skipif(not festival_available(),
                                    reason="festival not installed (apt-get install festival festvox-kallpc16k)")
SR = 44100


def test_syllables_are_spelled_as_words_and_text_is_sanitised():
    assert syllable_word("sh", "i") == "shee" and syllable_word("", "a") == "ah"
    assert syllable_word("str", "ong") == "strong"
    assert clean_text('He said "hi"; (quit)') == "he said hi quit"
    assert clean_text("123") == "ah"


@needs_festival
def test_speech_follows_the_melody():
    import librosa

    from stemkit.data.speech import speak_instrument

    pitches = [57, 60, 64, 62, 55, 67, 74, 45]  # 74: above festival's range, spoken an octave lower
    inst = pretty_midi.Instrument(53, name="vocals")
    for i, p in enumerate(pitches):
        inst.notes.append(pretty_midi.Note(90, p, 0.1 + 0.5 * i, 0.5 + 0.5 * i))
    audio, info = speak_instrument(inst, int(4.5 * SR), sample_rate=SR, seed=1)
    assert audio.shape == (2, int(4.5 * SR)) and info["notes"] == len(pitches)
    assert np.abs(audio).max() == pytest.approx(0.5, abs=1e-6)
    x = audio[0].astype(np.float64)
    errors = []
    for i, p in enumerate(pitches):
        a, b = int((0.1 + 0.5 * i) * SR), int((0.5 + 0.5 * i) * SR)
        f0, voiced, _ = librosa.pyin(x[a:b], fmin=80, fmax=600, sr=SR, frame_length=2048)
        if voiced.sum() >= 3:
            errors.append(abs(1200 * np.log2(np.nanmedian(f0[voiced]) / librosa.midi_to_hz(p))))
    assert len(errors) >= 6
    assert np.median(errors) < 30 and sum(e < 50 for e in errors) >= len(errors) - 1  # cents
    # rhythm: silence between notes (0.4 s notes every 0.5 s), sound inside them
    gap = x[int(0.52 * SR): int(0.58 * SR)]
    inside = x[int(0.2 * SR): int(0.4 * SR)]
    assert np.sqrt(np.mean(gap ** 2)) < 0.05 * np.sqrt(np.mean(inside ** 2))
    assert not x[: int(0.09 * SR)].any()  # nothing before the first note


@needs_festival
def test_render_song_with_speech_voice_keeps_the_sum_exact():
    from stemkit.data.corpus import render_song
    from stemkit.data.render.soundfonts import bundled_soundfont

    cfg = {"duration": 5.0, "vocal_synth_probability": 0.0, "speech_voice_probability": 1.0,
           "soundfonts": [str(bundled_soundfont())], "discover_soundfonts": False}
    song = render_song(1, cfg)
    voices = [t for t in song.meta["tracks"] if t["fine_class"] == "voice"]
    assert voices and all(t["renderer"] == "speech" for t in voices)
    assert np.sqrt(np.mean(song.stems["vocals"] ** 2)) > 1e-3
    total = np.sum(np.stack([song.stems[s] for s in ("drums", "bass", "other", "vocals")]), axis=0,
                   dtype=np.float32)
    assert np.array_equal(total, song.mixture)


def test_speech_probability_is_bounded_by_the_singer_share():
    from stemkit.data.render.config import RenderConfig
    from stemkit.errors import ConfigError

    RenderConfig.from_dict({"vocal_synth_probability": 0.35, "speech_voice_probability": 0.35})
    with pytest.raises(ConfigError):
        RenderConfig.from_dict({"vocal_synth_probability": 0.7, "speech_voice_probability": 0.5})
