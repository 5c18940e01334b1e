"""Training data plumbing: step-indexed chunks (exact resume, disjoint DDP ranks), synth resampling."""

import numpy as np
import torch

from stemkit.train.data import StepIndexed, StepSampler, _Resampled


class Recorder(torch.utils.data.Dataset):
    """Returns (epoch, index) so the test sees what a ChunkDataset would be asked for."""

    epoch = 0

    def __len__(self):
        return 10

    def __getitem__(self, index):
        return self.epoch, index


def positions(sampler):
    return list(iter(sampler))


def test_step_sampler_resumes_where_the_uninterrupted_run_is():
    full = positions(StepSampler(0, 6, batch_size=4))
    resumed = positions(StepSampler(4, 6, batch_size=4))
    assert resumed == full[16:]
    assert len(StepSampler(4, 6, batch_size=4)) == 24  # Lightning counts the resumed epoch from step 4


def test_step_sampler_gives_ranks_disjoint_batches():
    ranks = [set(positions(StepSampler(0, 5, batch_size=2, rank=r, world=3))) for r in range(3)]
    assert all(len(r) == 10 for r in ranks)
    assert not (ranks[0] & ranks[1]) and not (ranks[1] & ranks[2]) and not (ranks[0] & ranks[2])
    assert set.union(*ranks) == set(range(30))


def test_step_indexed_maps_positions_to_epochs_of_whole_batches():
    data = StepIndexed(Recorder(), batch_size=4)  # 10 items -> epochs of 8 (two whole batches)
    assert [data[p] for p in (0, 7, 8, 9, 17)] == [(0, 0), (0, 7), (1, 0), (1, 1), (2, 1)]


def test_synth_chunks_resampled_to_the_model_rate():
    t = np.arange(4410) / 44100
    tone = np.sin(2 * np.pi * 441 * t).astype(np.float32)
    stems = np.stack([np.stack([tone, tone]), np.zeros((2, 4410), np.float32)])
    ((mix, out),) = list(_Resampled([(stems.sum(0), stems)], 44100, 8000))
    assert mix.shape == (2, 800) and out.shape == (2, 2, 800)
    torch.testing.assert_close(mix, out.sum(0))
    # the 441 Hz tone survives: 0.1 s holds 44.1 cycles, so the peak is rfft bin 44
    spectrum = np.abs(np.fft.rfft(out[0, 0].numpy()))
    assert int(np.argmax(spectrum)) == 44
