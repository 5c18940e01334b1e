"""StemPostprocess: gate / filter chosen stems, the removed audio goes to the complement stem."""

import numpy as np
import pytest

from stemkit.errors import ConfigError
from stemkit.postprocess import DenoiseGate, StemPostprocess, parse_cutoffs

SR = 8000


def _stems(seed=0):
    """vocals: a loud 1 s burst in 3 s of faint noise; accompaniment: a 60 Hz hum + 2 kHz tone."""
    rng = np.random.default_rng(seed)
    t = np.arange(3 * SR) / SR
    vocals = 1e-3 * rng.standard_normal((2, t.size))
    vocals[:, SR:2 * SR] += np.sin(2 * np.pi * 440 * t[SR:2 * SR])
    accomp = np.stack([np.sin(2 * np.pi * 60 * t), np.sin(2 * np.pi * 2000 * t)]) * 0.3
    return np.stack([vocals, accomp]).astype(np.float32)


def test_gate_moves_the_muted_noise_to_the_complement_and_keeps_the_sum():
    stems = _stems()
    post = StemPostprocess(denoise=("vocals",), gate=DenoiseGate(window_s=0.2, hop_s=0.1, statistic="mean", fade_s=0.01))
    out = post(stems, ["vocals", "accompaniment"], SR)
    np.testing.assert_allclose(out.sum(0), stems.sum(0), atol=1e-6)
    # the quiet start of the vocal is muted, its loud middle kept
    assert np.abs(out[0, :, : SR // 2]).max() == 0.0
    np.testing.assert_allclose(out[0, :, int(1.2 * SR):int(1.8 * SR)], stems[0, :, int(1.2 * SR):int(1.8 * SR)])
    # what was muted is now in the accompaniment
    np.testing.assert_allclose(out[1, :, : SR // 2], stems.sum(0)[:, : SR // 2], atol=1e-6)
    assert not np.shares_memory(out, stems)


def test_highpass_on_a_stem_hands_the_low_band_to_other():
    rng = np.random.default_rng(1)
    stems = rng.standard_normal((4, 1, SR)).astype(np.float32) * 0.1
    t = np.arange(SR) / SR
    stems[3, 0] += np.sin(2 * np.pi * 50 * t).astype(np.float32)  # hum on the vocals
    sources = ["drums", "bass", "other", "vocals"]
    out = StemPostprocess(highpass={"vocals": 200.0})(stems, sources, SR)
    np.testing.assert_allclose(out.sum(0), stems.sum(0), atol=1e-5)
    hum = np.sin(2 * np.pi * 50 * t)
    mid = slice(SR // 4, 3 * SR // 4)
    assert abs(np.dot(out[3, 0, mid], hum[mid])) < 0.05 * abs(np.dot(stems[3, 0, mid], hum[mid]))
    np.testing.assert_array_equal(out[:2], stems[:2])  # drums, bass untouched


def test_inactive_is_a_copy_and_errors_are_one_line():
    stems = _stems()
    out = StemPostprocess()(stems, ["vocals", "accompaniment"], SR)
    np.testing.assert_array_equal(out, stems)
    with pytest.raises(ConfigError, match="not among"):
        StemPostprocess(denoise=("piano",))(stems, ["vocals", "accompaniment"], SR)
    with pytest.raises(ConfigError, match="complement"):
        StemPostprocess(denoise=("accompaniment",))(stems, ["vocals", "accompaniment"], SR)
    with pytest.raises(ConfigError, match="complement"):
        StemPostprocess(denoise=("vocals",))(stems, ["vocals", "piano"], SR)


def test_parse_cutoffs():
    assert parse_cutoffs(["vocals=120", "bass=8000.5"], "--highpass") == {"vocals": 120.0, "bass": 8000.5}
    for bad in ("vocals", "vocals=", "=100", "vocals=-3", "vocals=abc"):
        with pytest.raises(ConfigError, match="--lowpass"):
            parse_cutoffs([bad], "--lowpass")
