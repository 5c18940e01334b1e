"""Streaming chunked inference: overlapping segments, batched, blended back by overlap-add.

``OverlapAdd`` consumes the mixture block by block at the model's rate and emits finished stems
as soon as no later segment can touch them, so memory depends on the segment length and batch
size, never on the song length. Time-shift augmentation (``shifts``, as in Demucs) runs extra
segment grids offset by random amounts and averages them in the same accumulator.

**Parallel segments** (``workers > 1``): the model forwards of consecutive segments run on worker
threads (torch and numpy release the GIL), each worker at one intra-op thread, while the calling
thread goes on decoding, blending and writing. At most ``workers`` batches are in flight; they are
blended strictly in segment order, so the stems are exactly those of the serial engine at one
thread. Memory grows by one segment's temporaries per worker, not with the song.

The bookkeeping (input buffer, segments, blending accumulator) is numpy: single-threaded, so the
calling thread never starts OpenMP regions whose idle threads would spin on the cores the
workers need (with two workers, torch's 2-thread blending cost a third more CPU time unless
``OMP_WAIT_POLICY=PASSIVE`` was set).
"""

from __future__ import annotations

import heapq
import math
import os
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Callable, Iterator

import numpy as np
import torch

from ..models.base import SeparationModel
from .windows import blend_window

MAX_SHIFT_SECONDS = 0.5
#: Most segment workers chosen automatically (each holds one segment's temporaries: about 40 MB for
#: the shipped default, more for bigger models).
MAX_AUTO_WORKERS = 4
#: Environment override of the automatic choice: a number of workers (1 = serial).
WORKERS_ENV = "STEMKIT_SEGMENT_WORKERS"

_POOLS: dict[tuple[int, int], ThreadPoolExecutor] = {}


def _one_intra_op_thread() -> None:
    # Per worker thread only: two workers at one thread each use two cores without oversubscribing
    # (and torch.set_num_threads(k >= 2) is what breaks batched linalg.solve on some machines).
    torch.set_num_threads(1)


def segment_pool(workers: int) -> ThreadPoolExecutor:
    """A process-wide pool of ``workers`` threads at one intra-op thread each, made on first use
    (per process: a forked child inherits the object but not its threads)."""
    key = (os.getpid(), workers)
    if key not in _POOLS:
        _POOLS[key] = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="stemkit-segment",
                                         initializer=_one_intra_op_thread)
    return _POOLS[key]


def auto_workers(device: str | torch.device = "cpu") -> int:
    """Segment workers for ``device``: on CPU one per intra-op thread torch may use (at most
    ``MAX_AUTO_WORKERS``), so two cores run two segments at once; 1 (serial) elsewhere.
    ``STEMKIT_SEGMENT_WORKERS=N`` overrides it (``1`` turns parallel segments off)."""
    env = os.environ.get(WORKERS_ENV, "").strip()
    if env:
        try:
            return max(1, int(env))
        except ValueError:
            raise ValueError(f"{WORKERS_ENV} must be a whole number, got {env!r}") from None
    if torch.device(device).type != "cpu":
        return 1
    return max(1, min(torch.get_num_threads(), os.cpu_count() or 1, MAX_AUTO_WORKERS))


def _done(value) -> Future:
    future: Future = Future()
    future.set_result(value)
    return future


class OverlapAdd:
    """Feed ``(C, n)`` blocks with :meth:`push`, then :meth:`finish`; both yield ``(S, C, m)`` stems.

    Args:
        model: maps ``(B, C, L)`` to ``(B, S, C, L)``; ``C == model.channels``.
        segment: samples per segment ``L``. overlap: fraction of ``L`` shared by neighbours.
        window: blending window name. batch_size: segments per forward call.
        shifts: 0 = one grid; N >= 1 = N grids at random offsets in [0, 0.5 s], averaged.
        postprocess: optional ``f(mix (B, C, L), stems (B, S, C, L)) -> stems`` per batch.
        workers: batches computed at once on worker threads (1 = in the calling thread); the
            output does not depend on it (module docstring).
    """

    def __init__(
        self,
        model: SeparationModel,
        *,
        segment: int,
        overlap: float = 0.25,
        window: str = "hann",
        batch_size: int = 4,
        shifts: int = 0,
        seed: int = 0,
        device: str | torch.device = "cpu",
        postprocess: Callable[[torch.Tensor, torch.Tensor], torch.Tensor] | None = None,
        workers: int = 1,
    ):
        if not 0.0 <= overlap < 1.0:
            raise ValueError("overlap must be in [0, 1)")
        self.model, self.device, self.postprocess = model, torch.device(device), postprocess
        self.L = int(segment)
        self.hop = max(1, int(round(self.L * (1.0 - overlap))))
        self.window = blend_window(window, self.L).numpy()
        self.batch_size = max(1, int(batch_size))
        self.S, self.C = len(model.sources), model.channels
        if shifts > 0:
            rng = np.random.default_rng(seed)
            max_shift = int(MAX_SHIFT_SECONDS * model.sample_rate)
            offsets = [int(o) for o in rng.integers(0, max_shift + 1, size=shifts)]
        else:
            offsets = [0]
        # Next segment start of each grid: grid k starts at -offset_k and steps by hop.
        self._heap = [(-o, k) for k, o in enumerate(offsets)]
        self._first = [-o for o in offsets]
        heapq.heapify(self._heap)
        self._in = np.zeros((self.C, 0), np.float32)
        self._in_base = 0  # absolute index of self._in[:, 0]
        self._received = 0
        # Blending accumulator, allocated once and reused (a new tensor per segment fragmented the
        # heap: +70 MB of peak RSS for 6 s stereo segments of four stems). Valid: [0, _filled).
        self._acc = np.zeros((self.S, self.C, 0), np.float32)
        self._wsum = np.zeros(0, np.float32)
        self._filled = 0
        self._out_base = 0  # absolute index of self._acc[..., 0]; everything before was emitted
        self._finished = False
        self.workers = max(1, int(workers))
        self._pool = segment_pool(self.workers) if self.workers > 1 else None
        # Batches submitted and not yet blended, oldest first: (starts, future of stems (B, S, C, L)).
        self._inflight: deque[tuple[list[tuple[int, int]], Future]] = deque()

    # -- input -------------------------------------------------------------------------------
    def push(self, block: torch.Tensor) -> Iterator[torch.Tensor]:
        """Add ``block (C, n)``; yield the stems that became final."""
        if block.shape[0] != self.C:
            raise ValueError(f"expected {self.C} channels, got {block.shape[0]}")
        block = block.detach().float().cpu().numpy() if isinstance(block, torch.Tensor) else block
        self._in = np.concatenate([self._in, np.asarray(block, dtype=np.float32)], axis=1)
        self._received += block.shape[1]
        yield from self._run(final=False)

    def finish(self) -> Iterator[torch.Tensor]:
        """No more input: process the remaining segments and yield the rest of the stems."""
        self._finished = True
        yield from self._run(final=True)

    # -- processing ----------------------------------------------------------------------------
    def _ready_starts(self, final: bool) -> list[tuple[int, int]]:
        ready = []
        while self._heap and len(ready) < self.batch_size:
            start, k = self._heap[0]
            if final:
                # A grid is done when its next start is past the end, or when its previous segment
                # already reached the end (another segment would only re-blend the last overlap).
                if start >= self._received or (start != self._first[k] and start - self.hop + self.L >= self._received):
                    heapq.heappop(self._heap)
                    continue
            elif start + self.L > self._received:
                break
            heapq.heappop(self._heap)
            ready.append((start, k))
            heapq.heappush(self._heap, (start + self.hop, k))
        return ready

    def _segment(self, start: int) -> np.ndarray:
        """Input ``[start, start + L)`` with zeros outside the signal, ``(C, L)``."""
        seg = np.zeros((self.C, self.L), np.float32)
        lo, hi = max(start, 0), min(start + self.L, self._received)
        if hi > lo:
            seg[:, lo - start : hi - start] = self._in[:, lo - self._in_base : hi - self._in_base]
        return seg

    @torch.inference_mode()
    def _forward(self, batch: np.ndarray) -> np.ndarray:
        """``batch (B, C, L)`` -> stems ``(B, S, C, L)`` float32 on the CPU (runs on a worker thread
        when ``workers > 1``)."""
        x = torch.from_numpy(batch).to(self.device)
        y = self.model(x)
        expected = (x.shape[0], self.S, self.C, self.L)
        if tuple(y.shape) != expected:
            raise RuntimeError(f"model returned shape {tuple(y.shape)}, expected {expected}")
        if self.postprocess is not None:
            y = self.postprocess(x, y)
        return y.float().cpu().numpy()

    def _run(self, final: bool) -> Iterator[torch.Tensor]:
        while True:
            ready = self._ready_starts(final)
            if ready:
                batch = np.stack([self._segment(s) for s, _ in ready])  # a copy: input may be trimmed
                future = self._pool.submit(self._forward, batch) if self._pool else _done(self._forward(batch))
                self._inflight.append((ready, future))
                self._trim_input()
                if len(self._inflight) < self.workers:
                    continue  # start the next batch before waiting for this one
            elif not self._inflight or (not final and not self._inflight[0][1].done()):
                break  # nothing to start, nothing finished: wait for more input in the caller
            starts, future = self._inflight.popleft()  # blend in segment order: same sums as serial
            for (start, _), est in zip(starts, future.result()):
                self._accumulate(start, est)
            out = self._emit(final)
            if out is not None:
                yield out
        out = self._emit(final)
        if out is not None:
            yield out

    def _accumulate(self, start: int, est: np.ndarray) -> None:
        lo, hi = max(start, 0), start + self.L
        if self._finished:
            hi = min(hi, self._received)
        if hi <= lo:
            return
        need = hi - self._out_base
        if need > self._wsum.shape[0]:  # the first segments (and batches, shifts) set the capacity
            capacity = max(need, self.L + self.hop)
            acc, wsum = np.zeros((self.S, self.C, capacity), np.float32), np.zeros(capacity, np.float32)
            acc[..., : self._filled] = self._acc[..., : self._filled]
            wsum[: self._filled] = self._wsum[: self._filled]
            self._acc, self._wsum = acc, wsum
        self._filled = max(self._filled, need)
        w = self.window[lo - start : hi - start]
        a, b = lo - self._out_base, hi - self._out_base
        self._acc[..., a:b] += est[..., lo - start : hi - start] * w
        self._wsum[a:b] += w

    def _emit(self, final: bool) -> torch.Tensor | None:
        # Samples before the earliest pending segment start have received every contribution.
        # Segments in flight have not been blended yet: nothing from their start on is final.
        if final and not self._heap_has_work() and not self._inflight:
            limit = self._received
        else:
            limit = min(self._heap[0][0] if self._heap else self._received, self._received)
            if self._inflight:
                limit = min(limit, self._inflight[0][0][0][0])
        n = limit - self._out_base
        if n <= 0:
            return None
        out = torch.from_numpy(self._acc[..., :n] / self._wsum[:n])
        rest = max(self._filled - n, 0)
        if rest:  # move the unfinished tail to the front (a copy: the ranges may overlap)
            self._acc[..., :rest] = self._acc[..., n : self._filled].copy()
            self._wsum[:rest] = self._wsum[n : self._filled].copy()
        self._acc[..., rest : self._filled] = 0
        self._wsum[rest : self._filled] = 0
        self._filled = rest
        self._out_base = limit
        return out

    def _heap_has_work(self) -> bool:
        return bool(self._heap) and self._heap[0][0] < self._received

    def _trim_input(self) -> None:
        keep_from = max(min(self._heap[0][0], self._received) if self._heap else self._received, 0)
        drop = keep_from - self._in_base
        if drop > 0:
            self._in = self._in[:, drop:]
            self._in_base = keep_from


def even_segment(total: int, segment: int, overlap: float) -> int:
    """The segment length, at most ``segment``, whose grid tiles ``total`` samples exactly.

    A fixed grid of ``segment``-long chunks usually ends with a chunk that is mostly zero padding
    (6 s segments with 10 % overlap run 36 s of model time for 30 s of audio). With ``n`` chunks
    of equal length ``L' <= segment`` that end exactly at the input's end, the model runs
    ``total + (n - 1) * overlap * L'`` samples, the least a grid with that overlap can.
    """
    if total <= segment:
        return max(1, total)
    step = 1.0 - overlap
    count = math.ceil((total / segment - 1.0) / step) + 1 if step > 0 else 1
    length = max(1, math.ceil(total / ((count - 1) * step + 1.0)))
    hop = lambda n: max(1, int(round(n * step)))  # noqa: E731  (OverlapAdd's own rounding)
    while (count - 1) * hop(length) + length < total:  # rounding: grow until the grid covers the end
        length += 1
    return min(length, segment)


def separate_tensor(
    model: SeparationModel,
    mix: torch.Tensor,
    *,
    overlap: float | None = None,
    segment: int | None = None,
    window: str = "hann",
    batch_size: int = 4,
    shifts: int = 0,
    seed: int = 0,
    device: str | torch.device = "cpu",
    postprocess=None,
    workers: int = 1,
) -> torch.Tensor:
    """Separate a whole mixture ``(C, T)`` already at ``model.sample_rate`` -> ``(S, C, T)``.

    ``workers``: segments computed at once on worker threads (:func:`auto_workers` picks one per
    core); the result does not depend on it."""
    segment = segment or model.segment
    if overlap is None:
        overlap = model.default_overlap if model.default_overlap is not None else 0.25
    if not model.fixed_segment:
        segment = even_segment(mix.shape[-1], segment, overlap)  # no chunk of mostly padding
    ola = OverlapAdd(model, segment=segment, overlap=overlap, window=window, batch_size=batch_size,
                     shifts=shifts, seed=seed, device=device, postprocess=postprocess, workers=workers)
    parts = list(ola.push(mix)) + list(ola.finish())
    return torch.cat(parts, dim=-1)
