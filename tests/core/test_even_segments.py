"""Equal segments that end at the input's end, and no trailing segment that only re-blends."""

import math

import numpy as np
import pytest
import torch

from stemkit.engine.overlap_add import OverlapAdd, even_segment, separate_tensor
from stemkit.models.base import IdentitySplit


class Counting(IdentitySplit):
    """IdentitySplit that records the length of every segment it is given."""

    def __init__(self, **kw):
        super().__init__(**kw)
        self.calls = []

    def forward(self, mix):
        self.calls.append(mix.shape[-1])
        return super().forward(mix)


@pytest.mark.parametrize("total, segment, overlap", [
    (30 * 44100, 6 * 44100, 0.1), (1200 * 44100, 6 * 44100, 0.1), (10_000, 700, 0.3), (5000, 1000, 0.25),
    (7, 3, 0.0), (100, 99, 0.5), (7 * 44100, 6 * 44100, 0.1), (500, 1000, 0.25)])
def test_even_segment_covers_the_input_with_the_fewest_segments(total, segment, overlap):
    length = even_segment(total, segment, overlap)
    assert 1 <= length <= segment
    hop = max(1, int(round(length * (1 - overlap))))
    count = math.ceil(max(total - length, 0) / hop) + 1
    assert (count - 1) * hop + length >= total  # covers the end
    fixed_hop = max(1, int(round(segment * (1 - overlap))))
    assert count <= math.ceil(max(total - segment, 0) / fixed_hop) + 1  # never more segments than the fixed grid


def test_the_engine_runs_no_segment_that_only_re_blends_the_end():
    model = Counting(segment=1000, sample_rate=8000)
    model.fixed_segment = True  # keep the 1000-sample grid
    mix = torch.randn(2, 2400)
    # Starts 0, 750, 1500: the third reaches 2500, past the end. The old rule also ran one at 2250
    # (every hop start before the end), which only re-blended the last 150 samples.
    out = separate_tensor(model, mix, overlap=0.25, batch_size=1)
    torch.testing.assert_close(out.sum(0), mix, atol=1e-5, rtol=0)
    assert model.calls == [1000, 1000, 1000]


def test_separate_tensor_uses_equal_segments_without_padding():
    model = Counting(segment=6000, sample_rate=8000)
    mix = torch.randn(2, 30_000)
    out = separate_tensor(model, mix, overlap=0.1, batch_size=1)
    torch.testing.assert_close(out.sum(0), mix, atol=1e-5, rtol=0)
    # Fixed 6000-sample segments would run 6 x 6000 = 36 000 samples; equal ones 6 x 5455.
    assert len(model.calls) == 6 and set(model.calls) == {even_segment(30_000, 6000, 0.1)}
    assert sum(model.calls) < 33_000


def test_streaming_with_shifts_still_reconstructs_and_emits_everything():
    model = IdentitySplit(segment=800, sample_rate=8000)
    ola = OverlapAdd(model, segment=800, overlap=0.25, batch_size=3, shifts=2, seed=3)
    mix = torch.randn(2, 5123)
    parts = []
    for i in range(0, mix.shape[1], 400):
        parts += list(ola.push(mix[:, i : i + 400]))
    parts += list(ola.finish())
    out = torch.cat(parts, dim=-1)
    assert out.shape == (4, 2, 5123)
    np.testing.assert_allclose(out.sum(0).numpy(), mix.numpy(), atol=1e-5)
    assert ola._acc.shape[-1] <= 3 * 800  # the accumulator is reused, not grown per segment
