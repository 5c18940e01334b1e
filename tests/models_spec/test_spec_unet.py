"""spec_unet: report defaults, shapes, pad/crop inside the model, masks, per-channel processing."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from stemkit.errors import ModelError
from stemkit.models import build_model


def test_defaults_follow_seed_002():
    model = build_model("spec_unet")
    assert model.sources == ("vocals", "accompaniment")
    assert (model.sample_rate, model.segment, model.channels) == (44100, 88200, 2)
    assert model.fixed_segment
    assert (model.stft.n_fft, model.stft.hop) == (2048, 512)
    unet = model.unet
    widths = [enc.conv[1][0].out_channels for enc in unet.encoders]
    assert widths == [32, 64, 128, 256]
    assert unet.centre[1][0].out_channels == 512
    assert len(unet.decoders) == 4
    head_conv, head_act = unet.head
    assert head_conv.kernel_size == (1, 1) and head_conv.out_channels == 2
    assert isinstance(head_act, nn.ReLU)
    four = build_model("spec_unet", sources=("drums", "bass", "other", "vocals"))
    assert four.unet.head[0].out_channels == 4


def test_two_second_chunk_is_padded_to_1040x176_and_cropped_back():
    # Report sizes with a narrow network: only the spatial shapes matter here.
    model = build_model("spec_unet", base_channels=2).eval()
    seen = []
    model.unet.register_forward_hook(lambda mod, args, out: seen.append((args[0].shape, out.shape)))
    mix = torch.randn(1, 2, 88200) * 0.1
    with torch.no_grad():
        out = model.training_outputs(mix)
    (image_in, image_out), = seen
    assert image_in == (2, 1, 1040, 176)  # the two channels ride in the batch
    assert image_out == (2, 2, 1040, 176)
    assert out["spec"].shape == (1, 2, 2, 1025, 173)
    assert out["mix_spec"].shape == (1, 2, 1025, 173)


@pytest.mark.parametrize("length", [4096, 1001, 9999, 64])
def test_any_length_gives_matching_stems(tiny, length):
    model = tiny("spec_unet")
    mix = torch.randn(2, 2, length) * 0.1
    with torch.no_grad():
        stems = model(mix)
    assert stems.shape == (2, 2, 2, length)
    assert torch.isfinite(stems).all()


def test_channels_are_processed_independently(tiny):
    model = tiny("spec_unet")
    mix = torch.randn(1, 2, 4096) * 0.1
    other = mix.clone()
    other[:, 1] = torch.randn(4096) * 0.3
    with torch.no_grad():
        a, b = model(mix), model(other)
    assert torch.allclose(a[:, :, 0], b[:, :, 0], atol=1e-6)
    assert not torch.allclose(a[:, :, 1], b[:, :, 1], atol=1e-3)


def test_mask_output_sums_to_the_mixture(tiny):
    model = tiny("spec_unet", output="mask", sources=("drums", "bass", "other", "vocals"))
    mix = torch.randn(1, 2, 5000) * 0.1
    with torch.no_grad():
        out = model.training_outputs(mix)
        stems = model(mix)
    masks = out["mask"]
    assert masks.shape == (1, 4, 2, 129, 5000 // 64 + 1)
    assert (masks >= 0).all() and (masks <= 1).all()
    assert torch.allclose(masks.sum(dim=1), torch.ones_like(masks[:, 0]), atol=1e-5)
    assert torch.allclose(out["spec"], masks * out["mix_spec"].unsqueeze(1))
    # Masks summing to one with the mixture phase: stems add back up to the mixture.
    assert torch.allclose(stems.sum(dim=1), mix, atol=1e-5)


def test_magnitude_output_is_non_negative_and_targets_are_magnitudes(tiny):
    model = tiny("spec_unet")
    mix = torch.randn(1, 2, 3000) * 0.1
    stems = torch.randn(1, 2, 2, 3000) * 0.1
    with torch.no_grad():
        out = model.training_outputs(mix)
    assert "mask" not in out and (out["spec"] >= 0).all()
    target = model.training_targets(stems)["spec"]
    assert target.shape == out["spec"].shape
    expected = torch.stft(stems[0, 1, 0], 256, 64, window=torch.hann_window(256), center=True,
                          pad_mode="constant", return_complex=True).abs()
    assert torch.allclose(target[0, 1, 0], expected, atol=1e-5)


def test_unknown_output_is_refused():
    with pytest.raises(ModelError, match="output"):
        build_model("spec_unet", output="phase")
