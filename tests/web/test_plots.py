"""Stem pictures: streamed sketches equal whole-signal ones; PNGs of the promised size."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from stemkit.web.plots import Sketch, StemSketch, render_sketch


def sketch_of(signal, sr, block, **kw):
    sk = StemSketch(sr, signal.shape[-1], **kw)
    for i in range(0, signal.shape[-1], block):
        sk.push(signal[..., i : i + block])
    return sk.freeze()


@pytest.mark.parametrize("n", [1000, 44100 * 3 + 17])  # shorter than a frame; several columns
def test_block_size_does_not_change_the_sketch(n):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((2, n)).astype(np.float32)
    whole = sketch_of(x, 44100, n)
    for block in (997, 4096):
        part = sketch_of(x, 44100, block)
        np.testing.assert_array_equal(part.lows, whole.lows)
        np.testing.assert_array_equal(part.highs, whole.highs)
        np.testing.assert_allclose(part.db.astype(np.float32), whole.db.astype(np.float32), atol=0.05)
        assert part.length == n


def test_envelope_is_the_range_of_each_column():
    x = np.zeros(1000, np.float32)
    x[250], x[740] = 0.75, -0.5  # exact in float32
    sk = sketch_of(x, 8000, 333, columns=4)  # hop 250
    np.testing.assert_array_equal(sk.highs, [0.0, 0.75, 0.0, 0.0])
    np.testing.assert_array_equal(sk.lows, [0.0, 0.0, -0.5, 0.0])


def test_spectrogram_peaks_at_the_tone():
    sr = 16000
    t = np.arange(sr) / sr
    sk = sketch_of(np.sin(2 * np.pi * 1000 * t).astype(np.float32), sr, 4000, columns=10, n_fft=1024)
    assert sk.db.shape == (513, 10)
    peak_hz = sk.freqs[np.argmax(sk.db.astype(np.float32).mean(axis=1))]
    assert abs(peak_hz - 1000) <= sr / 1024
    assert float(sk.db.max()) == pytest.approx(0.0, abs=1.0)  # a full-scale sine reads about 0 dB


def test_save_load_and_render(tmp_path):
    rng = np.random.default_rng(1)
    sk = sketch_of(rng.standard_normal((1, 30000)).astype(np.float32) * 0.1, 22050, 8192)
    loaded = Sketch.load(sk.save(tmp_path / "s.npz"))
    np.testing.assert_array_equal(loaded.db, sk.db)
    png = render_sketch(loaded, tmp_path / "vocals.png", title="vocals", width_px=500, height_px=200)
    with Image.open(png) as im:
        assert im.size == (500, 200) and im.format == "PNG"
        pixels = np.asarray(im.convert("RGB"))
    assert pixels.std() > 10  # something is drawn
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temp leftovers
