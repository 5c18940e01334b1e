"""The median filters and HPSS masks behind the classical separators equal scipy's and librosa's
bit for bit; the block-wise iSTFT equals torch.istft."""

import numpy as np
import pytest
import torch
from scipy.ndimage import median_filter as scipy_median

from stemkit.dsp.median import edge_indices, median_filter, median_network
from stemkit.dsp.stft import FrameOverlapAdd, istft, make_window, stft
from stemkit.models.classical.hpss import hpss_masks, pool_bins, unpool_bins


@pytest.mark.parametrize("size", [1, 3, 5, 9, 17, 25, 27, 69])
@pytest.mark.parametrize("mode", ["reflect", "nearest"])
def test_median_filter_equals_scipy_for_every_axis_and_memory_order(size, mode):
    rng = np.random.default_rng(size)
    x = rng.standard_normal((21, 40, 3)).astype(np.float32)
    x[3:6, 10] = 0.0  # ties
    for array in (x, np.asfortranarray(x), x.transpose(1, 0, 2)):
        for axis in range(array.ndim):
            if size > 2 * array.shape[axis] + 1:
                continue  # scipy's 1-D rank filter pads signals much shorter than the window its own way
            footprint = [1] * array.ndim
            footprint[axis] = size
            ours = median_filter(array, size, axis=axis, mode=mode)
            assert ours.shape == array.shape and ours.dtype == array.dtype
            np.testing.assert_array_equal(ours, scipy_median(array, size=footprint, mode=mode))


def test_median_filter_keeps_a_frames_major_layout():
    mag = np.asfortranarray(np.random.default_rng(0).random((64, 50), dtype=np.float32))
    for axis in (0, 1):
        assert median_filter(mag, 9, axis=axis).flags.f_contiguous


def test_median_network_is_a_median_on_every_permutation_of_small_inputs():
    from itertools import permutations

    for size in (3, 5, 7):
        ops = median_network(size)
        for perm in permutations(range(size)):
            wires = [float(v) for v in perm] + [None] * (size + 1)
            for a, b, keep_min, keep_max in ops:
                if keep_min is None:
                    wires[a], wires[b] = wires[b], wires[a]
                    continue
                lo, hi = min(wires[a], wires[b]), max(wires[a], wires[b])
                wires[a], wires[b] = (lo if keep_min else None), (hi if keep_max else None)
            assert wires[size // 2] == size // 2


def test_edge_indices_reflect_like_scipy_even_past_a_short_signal():
    assert edge_indices(3, 4, "reflect").tolist() == [2, 2, 1, 0, 0, 1, 2, 2, 1, 0, 0]
    assert edge_indices(3, 2, "nearest").tolist() == [0, 0, 0, 1, 2, 2, 2]
    with pytest.raises(ValueError):
        median_filter(np.zeros(5, np.float32), 4)


@pytest.mark.parametrize("pool, kernels", [(1, (9, 17)), (2, (9, 17)), (1, (69, 17)), (3, (5, 7))])
def test_hpss_masks_equal_librosa_bit_for_bit(pool, kernels):
    librosa = pytest.importorskip("librosa")
    rng = np.random.default_rng(pool)
    mag = np.asfortranarray(rng.gamma(0.5, size=(101, 90)).astype(np.float32))
    mag[:, 40:60] = 0.0  # silent frames: where both medians are 0, librosa splits evenly
    harmonic, percussive = hpss_masks(mag, *kernels, pool=pool)
    pooled, bins = mag, kernels[1]
    if pool > 1:  # what hpss_masks did before: pad, sum groups of bins, repeat the masks back
        padded = np.pad(mag, ((0, (-mag.shape[0]) % pool), (0, 0)))
        pooled = padded.reshape(-1, pool, padded.shape[-1]).sum(axis=1)
        bins = max(3, (bins // pool) | 1)
    ref_h, ref_p = librosa.decompose.hpss(pooled, kernel_size=(kernels[0], bins), power=2.0, mask=True, margin=1.0)
    ref_h, ref_p = np.repeat(ref_h, pool, axis=0)[:101], np.repeat(ref_p, pool, axis=0)[:101]
    np.testing.assert_array_equal(harmonic, ref_h)
    np.testing.assert_array_equal(percussive, ref_p)
    if kernels[0] < 20:
        assert (harmonic[:, 50] == 0.5).all()


def test_pooling_bins_sums_groups_and_unpooling_repeats_them():
    mag = np.arange(10, dtype=np.float32).reshape(5, 2)
    np.testing.assert_array_equal(pool_bins(mag, 2), [[2, 4], [10, 12], [8, 9]])
    np.testing.assert_array_equal(unpool_bins(np.array([[1, 2], [3, 4], [5, 6]], np.float32), 2, 5),
                                  [[1, 2], [1, 2], [3, 4], [3, 4], [5, 6]])


@pytest.mark.parametrize("n_fft, hop, length", [(2048, 512, 44100), (1024, 256, 4000), (512, 256, 3001), (2048, 512, 7)])
def test_istft_equals_torch_istft(n_fft, hop, length):
    x = torch.randn(2, 3, length, generator=torch.Generator().manual_seed(length))
    spec = stft(x, n_fft, hop)
    ours = istft(spec, length, n_fft, hop)
    ref = torch.istft(spec.reshape(-1, *spec.shape[-2:]), n_fft, hop, window=make_window("hann", n_fft),
                      center=True, length=length).reshape(2, 3, length)
    torch.testing.assert_close(ours, ref, atol=1e-5, rtol=0)
    torch.testing.assert_close(ours, x, atol=1e-5, rtol=0)


def test_frame_blocks_in_any_order_invert_like_the_whole():
    x = torch.randn(2, 20000, generator=torch.Generator().manual_seed(3))
    spec = stft(x, 2048, 512)
    frames = spec.shape[-1]
    ola = FrameOverlapAdd((2,), frames, 20000, 2048, 512)
    for first in reversed(range(0, frames, 7)):
        ola.add(first, spec[..., first : first + 7])
    torch.testing.assert_close(ola.result(), istft(spec, 20000, 2048, 512), atol=1e-6, rtol=0)
    assert not FrameOverlapAdd.supports(frames, 20000, 2048, 600, "hann")  # hop must divide n_fft
