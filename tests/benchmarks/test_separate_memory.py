"""Memory levers of `stemkit separate` (issue 8): one segment per forward on CPU, glibc thresholds."""

import platform

import numpy as np
import pytest
import torch

from stemkit import Separator
from stemkit.engine import allocator
from stemkit.errors import StemkitError
from stemkit.models.base import SeparationModel


class RecordingFilter(SeparationModel):
    """Two stems: a fixed FIR low-pass and its complement; records every batch size it sees."""

    def __init__(self):
        super().__init__(sources=("low", "high"), sample_rate=8000, channels=2, segment=800)
        self.batches = []

    def forward(self, mix):
        self.batches.append(mix.shape[0])
        kernel = torch.ones(1, 1, 9) / 9
        low = torch.nn.functional.conv1d(mix.reshape(-1, 1, mix.shape[-1]), kernel, padding=4).reshape(mix.shape)
        return torch.stack([low, mix - low], dim=1)


def test_cpu_runs_one_segment_per_forward_by_default_and_outputs_do_not_change():
    audio = np.random.default_rng(0).standard_normal((2, 8000 * 3)).astype(np.float32) * 0.1
    single = RecordingFilter()
    out_single = Separator(single, shifts=2).separate(audio, 8000)  # shifts: several segments ready at once
    assert set(single.batches) == {1}
    batched = RecordingFilter()
    out_batched = Separator(batched, shifts=2, batch_size=4).separate(audio, 8000)
    assert max(batched.batches) > 1
    for stem in out_single:
        np.testing.assert_allclose(out_single[stem], out_batched[stem], atol=1e-6)


def test_batch_size_below_one_is_a_user_error():
    with pytest.raises(StemkitError, match="batch-size"):
        Separator(RecordingFilter(), batch_size=0)


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="glibc only")
def test_allocator_tuning_is_applied_once_on_glibc(monkeypatch):
    monkeypatch.setattr(allocator, "_applied", None)
    assert allocator.tune_allocator() is True
    assert allocator.tune_allocator() is True  # idempotent
    monkeypatch.setattr(allocator, "_applied", None)
    monkeypatch.setenv("STEMKIT_MALLOC_TUNING", "0")
    assert allocator.tune_allocator() is False
