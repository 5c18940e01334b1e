"""vocal_mask: features, batched window inference, eval-time masks, training windows and targets."""

from __future__ import annotations

import pytest
import torch

from stemkit.errors import ModelError
from stemkit.models import build_model


def test_defaults_follow_seed_003():
    model = build_model("vocal_mask")
    assert model.sources == ("vocals", "accompaniment")
    assert (model.stft.n_fft, model.stft.bins, model.stft_frames) == (1024, 513, 25)
    assert model.net.head[-1].out_features == 513
    assert model.features.power == 3.0  # magnitudes cubed
    big = build_model("vocal_mask", model_type="resnet18")
    assert 10_000_000 < big.num_parameters < 20_000_000 and model.num_parameters < 1_000_000


def test_features_are_weighted_and_in_unit_range(tiny):
    model = tiny("vocal_mask")
    mag = torch.cat([torch.zeros(1, 129, 3), torch.logspace(-3, 3, 129)[None, :, None].expand(1, 129, 4)], -1)
    feats = model.features(mag)
    assert feats.min() >= 0 and feats.max() <= 1
    assert torch.all(feats[..., :3] == 0)  # silence maps to 0
    flat = torch.full((1, 129, 1), 0.5)
    weighted = model.features(flat)[0, :, 0]
    # Same magnitude everywhere: the A-weighting on mel-spaced frequencies makes the lowest bin
    # (125 Hz, about -16 dB) smaller than a mid bin (around 1 kHz, about 0 dB).
    assert weighted[0] < weighted[64]


def test_batched_inference_equals_one_window_at_a_time(tiny):
    model = tiny("vocal_mask", eval_batch=7)  # batches that do not divide the frame count
    mix = torch.randn(2, 2, 3001) * 0.2
    mag = model.stft(mix).abs()
    frames = mag.shape[-1]
    with torch.no_grad():
        batched = model._frame_logits(mag, torch.arange(frames))
        feats = torch.nn.functional.pad(model.features(mag), (4, 4))
        for b, c, n in [(0, 0, 0), (1, 1, frames - 1), (0, 1, frames // 2)]:
            window = feats[b, c, :, n:n + 9].reshape(1, 1, 129, 9)
            assert torch.allclose(batched[b, c, :, n], model.net(window)[0], atol=1e-5)


@pytest.mark.parametrize("length", [64, 3001, 8192])
def test_binary_masks_split_the_mixture(tiny, length):
    model = tiny("vocal_mask")
    mix = torch.randn(1, 2, length) * 0.2
    with torch.no_grad():
        stems = model(mix)
    assert stems.shape == (1, 2, 2, length)
    assert torch.allclose(stems.sum(dim=1), mix, atol=1e-5)


def test_eval_masks():
    probs = torch.tensor([0.05, 0.2, 0.5, 0.9])
    binary = build_model("vocal_mask", model_type="small", eval_mask_threshold=0.5)
    assert binary.vocal_mask(probs).tolist() == [0.0, 0.0, 1.0, 1.0]
    soft = build_model("vocal_mask", mask_at_eval="soft", noise_gate=0.1)
    assert torch.allclose(soft.vocal_mask(probs), torch.tensor([0.0, 0.2, 0.5, 0.9]))
    with pytest.raises(ModelError, match="mask_at_eval"):
        build_model("vocal_mask", mask_at_eval="fuzzy")


def test_training_windows_follow_stft_stride(tiny, synth_stems):
    model = tiny("vocal_mask", stft_stride=4)
    stems = synth_stems(2, 4000, 8000, channels=2)
    mix = stems.sum(dim=1)
    out = model.training_outputs(mix)
    frames = 4000 // 64 + 1
    assert out["frames"].tolist() == list(range(0, frames, 4))
    assert out["logits"].shape == out["mask"].shape == (1, 2, 129, len(out["frames"]))
    target = model.training_targets(stems)["mask"]
    assert target.shape == out["mask"].shape
    assert set(target.unique().tolist()) <= {0.0, 1.0}
    # Threshold target: exactly the frames/bins where the scaled vocal spectrogram reaches 0.5.
    vocal_feats = model.features(model.stft(stems[:, 0]).abs())[..., out["frames"]]
    assert torch.equal(target.bool(), vocal_feats >= 0.5)
    assert 0 < target.mean() < 1


def test_ibm_target(tiny, synth_stems):
    model = tiny("vocal_mask", target_mask="ibm")
    stems = synth_stems(2, 2000, 8000)
    mags = model.stft(stems).abs()
    target = model.training_targets(stems)["mask"]
    assert torch.equal(target.bool(), mags[:, 0] >= mags[:, 1])
