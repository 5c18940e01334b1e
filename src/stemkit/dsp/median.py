"""Running medians along one axis, equal to ``scipy.ndimage.median_filter`` with a 1-D footprint.

HPSS needs two medians per spectrogram (across frames and across bins) and they dominated the
classical masks' cost: scipy's generic ``rank_filter`` sorts every window. A median of a *small*
odd window is instead a fixed network of compare-exchanges (Batcher's odd-even merge sort, pruned
to the comparators the middle output depends on: 40 ``minimum``/``maximum`` calls for 9 values),
run on blocks of rows small enough to stay in the CPU cache. Both pick an input element, so the
result is *identical* to scipy's, not merely close. Longer windows (the kick band's 0.8 s) use
``np.partition`` on a sliding-window view, also exact.

Edge modes as scipy's: ``"reflect"`` (``d c b a | a b c d | d c b a``, librosa's choice) and
``"nearest"`` (the edge sample repeated).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

#: Windows up to this length use the compare-exchange network; longer ones ``np.partition``.
MAX_NETWORK = 25
#: Elements per wire of one block (float32: 64 KiB): the network's working set stays in cache.
_BLOCK_ELEMENTS = 16384

MODES = ("reflect", "nearest")


def _batcher_pairs(n: int) -> list[tuple[int, int]]:
    """Comparators ``(lo, hi)`` of Batcher's odd-even merge sort of ``n`` (a power of two) wires."""
    pairs = []
    p = 1
    while p < n:
        k = p
        while k >= 1:
            for j in range(k % p, n - k, 2 * k):
                for i in range(min(k, n - j - k)):
                    if (i + j) // (2 * p) == (i + j + k) // (2 * p):
                        pairs.append((i + j, i + j + k))
            k //= 2
        p *= 2
    return pairs


@lru_cache(maxsize=None)
def median_network(size: int) -> tuple[tuple[int, int, bool, bool], ...]:
    """Operations ``(a, b, keep_min, keep_max)`` whose wire ``size // 2`` ends as the median of ``size``.

    Each operation puts ``min(w[a], w[b])`` on ``a`` and the max on ``b``; ``keep_*`` says whether
    that output is ever used (about a third are not). A swap of two wire labels (no work) is
    written ``(a, b, None, None)``.
    """
    if size < 1 or size % 2 == 0:
        raise ValueError(f"median size must be odd and positive, got {size}")
    n = 1
    while n < size:
        n *= 2
    # Wires size..n-1 hold +inf: min(x, inf) = x and max(x, inf) = inf need no work.
    infinite = set(range(size, n))
    ops: list[tuple] = []
    for a, b in _batcher_pairs(n):
        if b in infinite:
            continue
        if a in infinite:  # the finite value moves to ``a``, the inf to ``b``: a relabelling
            ops.append((a, b, None, None))
            infinite.discard(a)
            infinite.add(b)
            continue
        ops.append((a, b, True, True))
    # Backwards: keep only operations the median's wire depends on, and only the outputs used.
    needed = {size // 2}
    kept = []
    for a, b, lo, hi in reversed(ops):
        if lo is None:
            if (a in needed) != (b in needed):
                needed ^= {a, b}
            kept.append((a, b, None, None))
            continue
        keep_min, keep_max = a in needed, b in needed
        if keep_min or keep_max:
            kept.append((a, b, keep_min, keep_max))
            needed |= {a, b}
    return tuple(reversed(kept))


def edge_indices(length: int, half: int, mode: str) -> np.ndarray:
    """Indices that pad ``length`` samples by ``half`` on each side in scipy's edge ``mode``."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, got {mode!r}")
    index = np.arange(-half, length + half)
    if mode == "nearest":
        return np.clip(index, 0, length - 1)
    period = 2 * length  # half-sample symmetric, repeated for pads longer than the signal
    index = np.mod(index, period)
    return np.where(index < length, index, period - 1 - index)


def _apply_network(wires: list, size: int) -> np.ndarray:
    """Run :func:`median_network` on ``size`` equally shaped arrays; returns their element-wise median."""
    wires = wires + [None] * (len(wires) + 1)  # a power of two of wire labels, at most 2 * size
    for a, b, keep_min, keep_max in median_network(size):
        if keep_min is None:
            wires[a], wires[b] = wires[b], wires[a]
            continue
        x, y = wires[a], wires[b]
        wires[a] = np.minimum(x, y) if keep_min else None
        wires[b] = np.maximum(x, y) if keep_max else None
    return wires[size // 2]


def _median_along_last(rows: np.ndarray, size: int, mode: str) -> np.ndarray:
    """``rows (R, n)`` -> running medians along ``n``; wires are column-shifted views of row blocks."""
    count, length = rows.shape
    half = size // 2
    padded = np.take(rows, edge_indices(length, half, mode), axis=1)  # (R, n + size - 1)
    if size > MAX_NETWORK:
        return np.partition(sliding_window_view(padded, size, axis=1), half, axis=-1)[..., half]
    out = np.empty_like(rows)
    block = max(1, _BLOCK_ELEMENTS // max(length, 1))
    for r0 in range(0, count, block):
        here = padded[r0 : r0 + block]
        out[r0 : r0 + block] = _apply_network([here[:, j : j + length] for j in range(size)], size)
    return out


def _median_along_first(columns: np.ndarray, size: int, mode: str) -> np.ndarray:
    """``columns (n, R)`` -> running medians along ``n``; wires are contiguous slabs of rows."""
    length, width = columns.shape
    half = size // 2
    padded = np.take(columns, edge_indices(length, half, mode), axis=0)  # (n + size - 1, R)
    if size > MAX_NETWORK:
        return np.partition(sliding_window_view(padded, size, axis=0), half, axis=-1)[..., half]
    out = np.empty_like(columns)
    block = max(1, _BLOCK_ELEMENTS // max(width, 1))
    for r0 in range(0, length, block):
        rows_here = min(block, length - r0)
        out[r0 : r0 + rows_here] = _apply_network(
            [padded[r0 + j : r0 + j + rows_here] for j in range(size)], size)
    return out


def median_filter(x: np.ndarray, size: int, axis: int = -1, mode: str = "reflect") -> np.ndarray:
    """Running median of odd length ``size`` along ``axis`` of ``x``; same shape, dtype and memory
    order (a C-ordered input gives a C-ordered result; a transposed view, a transposed result).

    Equals ``scipy.ndimage.median_filter(x, size=footprint, mode=mode)`` for the footprint that is
    ``size`` along ``axis`` and 1 elsewhere (tested bit for bit) whenever ``size <= 2 * length + 1``;
    for windows many times longer than the signal scipy's 1-D rank filter pads its own way, here
    the edge pattern simply repeats. ``x`` must be real and NaN-free.
    """
    x = np.asarray(x)
    if size % 2 == 0 or size < 1:
        raise ValueError(f"median size must be odd and positive, got {size}")
    if size == 1 or x.size == 0:
        return x.copy()
    first = np.moveaxis(x, axis, 0)
    if first.flags.c_contiguous and x.ndim > 1:
        # ``axis`` is the slowest in memory (e.g. frames of a frames-major spectrogram): no transpose.
        out = _median_along_first(first.reshape(first.shape[0], -1), size, mode)
        return np.moveaxis(out.reshape(first.shape), 0, axis)
    last = np.moveaxis(x, axis, -1)
    out = _median_along_last(np.ascontiguousarray(last).reshape(-1, last.shape[-1]), size, mode)
    return np.moveaxis(out.reshape(last.shape), -1, axis)
