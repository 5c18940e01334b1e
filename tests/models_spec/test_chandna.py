"""chandna: the report's exact network size, blocks of 25 frames, ratio masks, mono / stereo."""

from __future__ import annotations

import pytest
import torch

from stemkit.errors import ModelError

from stemkit.models import SOURCES_4, build_model


def test_report_network_has_the_keras_parameter_count():
    # Seed 004's Keras summary: "Total params: 489,142" (mono, 4 sources, 513 bins, T = 25).
    model = build_model("chandna")
    assert model.num_parameters == 489_142
    assert model.sources == SOURCES_4
    assert (model.stft.n_fft, model.stft.hop, model.frames, model.block_hop) == (1024, 256, 25, 25)
    vertical, horizontal = model.encoder[0], model.encoder[1]
    assert vertical.kernel_size == (1, 513) and vertical.out_channels == 50
    assert horizontal.kernel_size == (12, 1) and horizontal.out_channels == 30
    assert model.encoder[3].out_features == 128


def test_stereo_variant_takes_both_channels_as_input_channels():
    model = build_model("chandna", stereo=True)
    assert model.encoder[0].in_channels == 2
    assert all(decoder.deconv_v.out_channels == 2 for decoder in model.decoders)
    # Two input and two output channels of the (1 x 513) layers: 2 * 25,650 more weights.
    assert model.num_parameters == 489_142 + 513 * 50 + 4 * (513 * 50 + 1)
    with pytest.raises(ModelError, match="stereo"):  # the registry reports bad arguments as ModelError
        build_model("chandna", stereo=True, channels=1)
    with pytest.raises(ValueError, match="2 channels"):
        model(torch.zeros(1, 1, 1000))


@pytest.mark.parametrize("stereo", [False, True])
@pytest.mark.parametrize("length", [64 * 8, 64 * 30 + 17, 4096, 9001, 100])
def test_shapes_and_masks_sum_to_one(tiny, stereo, length):
    model = tiny("chandna", stereo=stereo)
    mix = torch.randn(2, 2, length) * 0.1
    with torch.no_grad():
        out = model.training_outputs(mix)
        stems = model(mix)
    frames = length // 64 + 1
    assert stems.shape == (2, 4, 2, length)
    assert out["mask"].shape == out["spec"].shape == (2, 4, 2, 129, frames)
    assert (out["mask"] >= 0).all()
    assert torch.allclose(out["mask"].sum(dim=1), torch.ones(2, 2, 129, frames), atol=1e-5)
    assert torch.allclose(out["wave"], stems, atol=1e-6)
    assert torch.allclose(stems.sum(dim=1), mix, atol=1e-5)


def test_non_overlapping_blocks_are_independent(tiny):
    # With block_hop == frames, the masks of frames 0..8 depend only on the first 9-frame block.
    model = tiny("chandna")
    mag = torch.rand(1, 1, 129, 27)
    changed = mag.clone()
    changed[..., 9:] = torch.rand(1, 1, 129, 18) * 5
    with torch.no_grad():
        a, b = model.masks(mag), model.masks(changed)
    assert torch.allclose(a[..., :9], b[..., :9], atol=1e-6)
    assert not torch.allclose(a[..., 9:], b[..., 9:], atol=1e-4)
    # And a block is exactly what the network gives for that block alone.
    with torch.no_grad():
        alone = model.block_masks(mag[..., :9].transpose(-1, -2))
    assert torch.allclose(a[..., :9], alone.transpose(-1, -2), atol=1e-6)


def test_overlapping_blocks_average_masks(tiny):
    model = tiny("chandna", block_hop=3)
    mag = torch.rand(1, 2, 129, 20)
    with torch.no_grad():
        masks = model.masks(mag)
        # Frame 4 lies in the blocks starting at frames 0 and 3 (9-frame blocks, hop 3).
        blocks = [
            model.block_masks(mag[..., s:s + 9].reshape(2, 1, 129, 9).transpose(-1, -2)) for s in (0, 3)
        ]
    expected = (blocks[0][:, :, :, 4] + blocks[1][:, :, :, 1]) / 2  # (2 channels, S, 1, F)
    assert torch.allclose(masks[0, :, :, :, 4], expected[:, :, 0].transpose(0, 1), atol=1e-6)
    assert torch.allclose(masks.sum(dim=1), torch.ones(1, 2, 129, 20), atol=1e-5)


def test_targets(tiny):
    model = tiny("chandna")
    stems = torch.randn(1, 4, 2, 2000)
    targets = model.training_targets(stems)
    assert targets["spec"].shape == (1, 4, 2, 129, 2000 // 64 + 1)
    assert targets["wave"] is stems


def test_bad_block_hop():
    with pytest.raises(ModelError, match="block_hop"):
        build_model("chandna", block_hop=30)
