"""Classical separators: shapes, stems that sum to the input, and each doing what it says."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import torch

sys.path.insert(0, str(Path(__file__).parent))
from classical_signals import SR, clicks, pan, sdr, tone  # noqa: E402

from stemkit.models import build_model, load_model  # noqa: E402
from stemkit.models.registry import architectures  # noqa: E402

CLASSICAL = {
    "hpss": ("drums", "no_drums"),
    "repet": ("vocals", "accompaniment"),
    "centre": ("vocals", "accompaniment"),
    "classical": ("drums", "bass", "other", "vocals"),
}


def separate(name: str, mix: np.ndarray, **kwargs) -> np.ndarray:
    """``mix (C, T)`` -> ``(S, C, T)`` through the model's forward."""
    with torch.no_grad():
        return build_model(name, **kwargs)(torch.from_numpy(mix)[None])[0].numpy()


@pytest.mark.parametrize("name", sorted(CLASSICAL))
@pytest.mark.parametrize("channels,length", [(2, 44100 + 1), (1, 9999), (2, 777)])
def test_shapes_and_stems_sum_to_input(name, channels, length):
    rng = np.random.default_rng(length)
    mix = torch.from_numpy((0.3 * rng.standard_normal((2, channels, length))).astype(np.float32))
    model = load_model(name)
    assert model.family == "classical" and model.sources == CLASSICAL[name]
    assert model.num_parameters == 0
    out = model(mix)
    assert out.shape == (2, len(CLASSICAL[name]), channels, length)
    assert torch.isfinite(out).all()
    assert torch.allclose(out.sum(1), mix, atol=1e-5)


@pytest.mark.parametrize("name", sorted(CLASSICAL))
def test_silence_in_silence_out(name):
    out = load_model(name)(torch.zeros(1, 2, 20000))
    assert torch.isfinite(out).all() and out.abs().max() == 0


def test_declared_chunking_suits_each_method():
    for name in CLASSICAL:
        model = load_model(name)
        assert 0 < model.default_overlap < 0.5
    # REPET-SIM needs many seconds of context to find repetitions.
    assert load_model("repet").segment >= 20 * SR
    assert load_model("classical").segment >= 20 * SR
    assert {a.family for n, a in architectures().items() if n in CLASSICAL} == {"classical"}


def test_hpss_puts_clicks_in_drums_and_tone_in_no_drums():
    hits, sustained = clicks(3.0), tone(440, 3.0, harmonics=4)
    mix = np.stack([hits + sustained] * 2)
    drums, no_drums = separate("hpss", mix)
    assert sdr(drums, np.stack([hits] * 2)) > 5
    assert sdr(no_drums, np.stack([sustained] * 2)) > 10


def test_centre_splits_centre_from_hard_panned():
    voice, guitar = tone(523, 2.0, harmonics=3), tone(330, 2.0, harmonics=3)
    centred, panned = pan(voice, 0.5), pan(guitar, 0.0)
    vocals, accompaniment = separate("centre", centred + panned)
    assert sdr(vocals, centred) > 10
    assert sdr(accompaniment, panned) > 10


def test_centre_mono_falls_back_instead_of_taking_everything():
    # A mono loop repeats exactly: with no stereo cue, REPET-SIM calls it accompaniment.
    loop = np.tile(tone(300, 0.5, harmonics=3) * np.hanning(SR // 2).astype(np.float32), 12)
    vocals, accompaniment = separate("centre", loop[None])
    assert np.sum(vocals**2) < 0.1 * np.sum(loop**2)


def _loop_and_melody(seconds=12.0):
    """A repeating 1 s chord loop and a non-repeating melody of unique notes, mono each."""
    beat = np.concatenate([tone(f, 0.25, harmonics=4) for f in (196, 247, 294, 247)])
    loop = np.tile(beat, int(seconds))
    rng = np.random.default_rng(3)
    notes = rng.uniform(600, 1400, size=int(seconds * 2))
    melody = np.concatenate([tone(f, 0.5, harmonics=2, amp=0.2) for f in notes])
    return loop, melody


def test_repet_takes_the_non_repeating_melody():
    loop, melody = _loop_and_melody()
    mix = np.stack([loop + melody] * 2)
    vocals, accompaniment = separate("repet", mix)
    # Much closer to the melody (and the loop) than the untouched mixture is.
    assert sdr(vocals, np.stack([melody] * 2)) > sdr(mix, np.stack([melody] * 2)) + 4
    assert sdr(accompaniment, np.stack([loop] * 2)) > sdr(mix, np.stack([loop] * 2)) + 4


def test_classical_puts_low_sine_in_bass():
    seconds = 4.0
    bass_line = tone(50, seconds, amp=0.4)
    hits = clicks(seconds, every=0.5)
    voice = pan(tone(700, seconds, harmonics=3, amp=0.2), 0.5)
    mix = pan(bass_line, 0.5) + pan(hits, 0.5) + voice
    drums, bass, other, vocals = separate("classical", mix)
    assert sdr(bass, pan(bass_line, 0.5)) > 10
    assert sdr(drums, pan(hits, 0.5)) > 3
    assert np.sum(bass**2) > 0.8 * np.sum(pan(bass_line, 0.5) ** 2)


def test_classical_wiener_option_keeps_sum_and_shape():
    rng = np.random.default_rng(0)
    mix = torch.from_numpy((0.2 * rng.standard_normal((1, 2, 30000))).astype(np.float32))
    out = build_model("classical", wiener_iterations=1)(mix)
    assert out.shape == (1, 4, 2, 30000)
    assert torch.allclose(out.sum(1), mix, atol=1e-5)


def test_unknown_vocal_cue_is_refused():
    from stemkit.errors import ModelError

    with pytest.raises(ModelError):
        build_model("classical", vocal_cue="karaoke")


def test_classical_vocals_take_the_centred_melody_not_the_panned_loop():
    loop, melody = _loop_and_melody(seconds=8.0)
    voice = pan(melody, 0.5)
    mix = pan(loop, 0.0) + voice
    drums, bass, other, vocals = separate("classical", mix)
    assert sdr(vocals, voice) > sdr(mix, voice) + 4
    assert np.sum(vocals[0] ** 2) < np.sum(vocals[1] ** 2) * 1.5  # little of the left-only loop
