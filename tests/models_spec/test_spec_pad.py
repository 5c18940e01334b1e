"""Pad-to-multiple and crop: the seed 002 shapes, exactly invertible."""

from __future__ import annotations

import pytest
import torch

from stemkit.models._spec_pad import crop_to, pad_to_multiple, padded_size


def test_seed_002_shapes_round_trip():
    spec = torch.rand(2, 3, 1025, 173)
    padded, size = pad_to_multiple(spec, 16)
    assert padded.shape == (2, 3, 1040, 176)
    assert size == (1025, 173)
    # The padding is zeros and the original sits in the top-left corner.
    assert torch.equal(padded[..., :1025, :173], spec)
    assert padded[..., 1025:, :].abs().sum() == 0 and padded[..., :, 173:].abs().sum() == 0
    assert torch.equal(crop_to(padded, size), spec)


@pytest.mark.parametrize("bins,frames,multiple", [(129, 65, 16), (16, 16, 16), (1, 1, 8), (513, 25, 4)])
def test_other_sizes(bins, frames, multiple):
    spec = torch.randn(1, bins, frames)
    padded, size = pad_to_multiple(spec, multiple)
    assert padded.shape[-2] % multiple == 0 and padded.shape[-1] % multiple == 0
    assert padded.shape[-2] - bins < multiple and padded.shape[-1] - frames < multiple
    assert torch.equal(crop_to(padded, size), spec)


def test_padded_size():
    assert [padded_size(n, 16) for n in (1, 16, 17, 173, 1025)] == [16, 16, 32, 176, 1040]
