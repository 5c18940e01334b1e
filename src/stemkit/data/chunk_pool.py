"""Seed 001's run-time chunk pool: render songs on the fly, never touch the disk.

Rendered audio is too dense to cache, so songs are rendered while training runs: each song
(``make_song(seed) -> {stem: (C, T)}``) is cut into at most ``max_chunks_per_song`` chunks that
pass the silence filter, and the chunks go into a shuffled pool of ``pool_size``. Each chunk is
served ``reuse_factor`` times on average (``floor(r)`` or ``ceil(r)`` times) at random moments,
then leaves the pool, so two batches are never identical and a chunk usually comes back a few
steps later. Raise ``reuse_factor`` when rendering is slower than training.

Who renders:

- in the main process with ``workers=k > 0``: ``k`` renderer processes feed a queue, and the
  iterator only blocks when the pool runs below half full (order then depends on timing);
- with ``workers=0``, or inside ``DataLoader(num_workers=n)`` workers (which may not start
  processes of their own), the iterating process renders itself; this is exactly reproducible.

Errors in ``make_song`` reach the training process: a :class:`StemkitError` as the same type and
message, anything else as a ``RuntimeError`` carrying the renderer's traceback.

Song ``i`` of producer ``p`` (of ``P``) in epoch ``e`` gets seed ``song_seed(seed, e, i*P + p)``,
so DataLoader workers and renderer processes never render the same song.
"""

from __future__ import annotations

import math
import multiprocessing as mp
import queue as queue_module
import time
import traceback
from typing import Callable, Iterator, Sequence

import numpy as np
import torch
from torch.utils.data import IterableDataset, get_worker_info

from stemkit.data.loader_song_chunks import cut_song, song_arrays, song_seed
from stemkit.errors import ConfigError, StemkitError
from stemkit.models.base import SOURCES_4

#: Seconds between liveness checks of the renderer processes while waiting for chunks.
_POLL_S = 1.0
#: Songs in a row without a chunk that passes the silence filter before giving up.
_MAX_EMPTY_SONGS = 100
#: Seconds a renderer gets to exit after being told to stop, before it is terminated.
_JOIN_S = 5.0


class ChunkPool(IterableDataset):
    """Iterable of ``(mix (C, T), stems (S, C, T))`` torch float32 chunks of rendered songs.

    ``samples_per_epoch=None`` iterates forever; otherwise an iteration (all DataLoader workers
    together) yields exactly that many chunks. ``augment`` (a module on ``(B, S, C, T)``) is
    applied each time a chunk is served, so a reused chunk differs between uses.
    """

    def __init__(self, make_song: Callable[[int], dict], *, segment: int, workers: int = 1,
                 pool_size: int = 256, reuse_factor: float = 1.0,
                 max_chunks_per_song: int | None = 16, seed: int = 0,
                 sources: Sequence[str] = SOURCES_4, samples_per_epoch: int | None = None,
                 channels: int = 2, augment=None, skip_silent: bool = True,
                 silence_db: float = -60.0, min_difference_db: float | None = -20.0,
                 queue_chunks: int | None = None, start_method: str | None = None):
        if segment <= 0 or pool_size <= 0 or workers < 0:
            raise ConfigError("segment and pool_size must be positive, workers >= 0")
        if reuse_factor < 1.0:
            raise ConfigError(f"reuse_factor must be >= 1 (each chunk is used at least once), "
                              f"got {reuse_factor}")
        if max_chunks_per_song is not None and max_chunks_per_song <= 0:
            raise ConfigError("max_chunks_per_song must be positive or None")
        self.make_song = make_song
        self.segment = int(segment)
        self.workers = int(workers)
        self.pool_size = int(pool_size)
        self.reuse_factor = float(reuse_factor)
        self.max_chunks_per_song = max_chunks_per_song
        self.seed = int(seed)
        self.sources = tuple(sources)
        self.samples_per_epoch = samples_per_epoch
        self.channels = int(channels)
        self.augment = augment
        self.filter = {"skip_silent": bool(skip_silent), "silence_db": float(silence_db),
                       "min_difference_db": min_difference_db}
        self.queue_chunks = int(queue_chunks or max(self.pool_size, 4 * (max_chunks_per_song or 16)))
        self.start_method = start_method or ("fork" if "fork" in mp.get_all_start_methods()
                                             else "spawn")
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        """Render epoch ``epoch``'s songs on the next iteration."""
        self.epoch = int(epoch)

    def __len__(self) -> int:
        if self.samples_per_epoch is None:
            raise TypeError("an endless ChunkPool (samples_per_epoch=None) has no length")
        return int(self.samples_per_epoch)

    # ------------------------------------------------------------------ iteration
    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        info = get_worker_info()
        worker_id, num_workers = (info.id, info.num_workers) if info is not None else (0, 1)
        budget = None
        if self.samples_per_epoch is not None:  # split the epoch evenly over DataLoader workers
            share, extra = divmod(int(self.samples_per_epoch), num_workers)
            budget = share + (1 if worker_id < extra else 0)
        rng = np.random.default_rng([self.seed, self.epoch, worker_id, 0x9001])
        if self.workers == 0 or info is not None:
            producer = self._songs_inline(worker_id, num_workers)
            return self._serve(producer, rng, budget, blocking_source=None)
        return self._serve_from_processes(rng, budget, worker_id, num_workers)

    def song_chunks(self, song_index: int) -> list[tuple[np.ndarray, np.ndarray]]:
        """Render song ``song_index`` of the current epoch and cut it into filtered chunks."""
        seed = song_seed(self.seed, self.epoch, song_index)
        mix, stems = song_arrays(self.make_song(seed), self.sources, self.channels)
        rng = np.random.default_rng([seed & 0xFFFFFFFF, 0xC47])
        return cut_song(mix, stems, self.segment, self.max_chunks_per_song, rng, **self.filter)

    def _songs_inline(self, producer: int, producers: int) -> Iterator[list]:
        index = producer
        while True:
            yield self.song_chunks(index)
            index += producers

    def _uses(self, rng: np.random.Generator) -> int:
        whole = math.floor(self.reuse_factor)
        return int(whole + (rng.random() < self.reuse_factor - whole))

    def _serve(self, songs: Iterator[list], rng: np.random.Generator, budget: int | None,
               blocking_source) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        """Fill the pool from ``songs`` and serve random chunks until ``budget`` is spent.

        ``blocking_source`` (processes mode) is a callable ``(block) -> list | None`` returning
        the next song's chunks from the queue; inline mode renders whenever the pool is short.
        """
        pool: list[list] = []  # [mix, stems, uses_left]
        served, empty_songs = 0, 0
        low_water = max(1, self.pool_size // 2)
        while budget is None or served < budget:
            while len(pool) < self.pool_size:
                if blocking_source is None:
                    chunks = next(songs)
                else:
                    chunks = blocking_source(len(pool) < low_water)
                    if chunks is None:  # nothing ready and the pool is full enough
                        break
                empty_songs = 0 if chunks else empty_songs + 1
                if empty_songs >= _MAX_EMPTY_SONGS:
                    raise ConfigError(f"{_MAX_EMPTY_SONGS} songs in a row gave no usable chunk "
                                      f"(silent, or one source alone?)")
                pool.extend([m, s, self._uses(rng)] for m, s in chunks)
            k = int(rng.integers(len(pool)))
            mix, stems, uses = pool[k]
            if uses <= 1:
                pool[k] = pool[-1]
                pool.pop()
            else:
                pool[k][2] = uses - 1
            served += 1
            yield self._tensors(mix, stems, rng)

    def _tensors(self, mix: np.ndarray, stems: np.ndarray, rng: np.random.Generator):
        mix_t, stems_t = torch.from_numpy(mix.copy()), torch.from_numpy(stems.copy())
        if self.augment is None:
            return mix_t, stems_t
        from stemkit.data.datasets import augment_chunk

        generator = torch.Generator().manual_seed(int(rng.integers(0, 2**62)))
        return augment_chunk(self.augment, mix_t, stems_t, generator)

    def _serve_from_processes(self, rng, budget, worker_id, num_workers):
        ctx = mp.get_context(self.start_method)
        chunk_queue = ctx.Queue(maxsize=max(1, self.queue_chunks // (self.max_chunks_per_song or 16)))
        stop = ctx.Event()
        producers = self.workers * num_workers
        processes = [
            ctx.Process(target=_render_loop, daemon=True, name=f"stemkit-chunkpool-{r}",
                        args=(self, worker_id * self.workers + r, producers, chunk_queue, stop))
            for r in range(self.workers)
        ]
        for process in processes:
            process.start()

        def next_song(block: bool):
            while True:
                try:
                    kind, payload = chunk_queue.get(timeout=_POLL_S) if block else \
                        chunk_queue.get_nowait()
                except queue_module.Empty:
                    if not block:
                        return None
                    if not any(p.is_alive() for p in processes):
                        raise RuntimeError("every chunk-pool renderer process has exited")
                    continue
                if kind == "stemkit_error":
                    error_type, message = payload
                    raise error_type(message)
                if kind == "error":
                    raise RuntimeError(f"make_song failed in a chunk-pool renderer:\n{payload}")
                return payload

        try:
            yield from self._serve(iter(()), rng, budget, blocking_source=next_song)
        finally:
            _shutdown(processes, chunk_queue, stop)


def _render_loop(pool: ChunkPool, producer: int, producers: int, chunk_queue, stop) -> None:
    """Renderer process: render songs ``producer, producer + producers, ...`` until stopped."""
    torch.set_num_threads(1)  # renderers share the cores with training
    index = producer
    try:
        while not stop.is_set():
            chunks = pool.song_chunks(index)
            index += producers
            while not stop.is_set():
                try:
                    chunk_queue.put(("chunks", chunks), timeout=_POLL_S)
                    break
                except queue_module.Full:
                    continue
    except StemkitError as exc:  # a user-level error (missing soundfont...): same type, one line
        if not stop.is_set():
            chunk_queue.put(("stemkit_error", (type(exc), str(exc))))
    except Exception:  # a bug: reported with the renderer's traceback
        if not stop.is_set():
            chunk_queue.put(("error", traceback.format_exc()))
    if stop.is_set():
        chunk_queue.cancel_join_thread()  # exit now; chunks nobody will read may be dropped


def _shutdown(processes, chunk_queue, stop) -> None:
    """Stop renderers: signal, drain the queue so blocked ``put`` calls return, join, terminate."""
    stop.set()
    deadline = time.monotonic() + _JOIN_S
    while any(p.is_alive() for p in processes) and time.monotonic() < deadline:
        try:
            while True:
                chunk_queue.get_nowait()
        except (queue_module.Empty, OSError, ValueError):
            pass
        for process in processes:
            process.join(timeout=0.05)
    for process in processes:
        if process.is_alive():  # stuck inside make_song: a renderer holds no state worth saving
            process.terminate()
        process.join(timeout=_JOIN_S)
    chunk_queue.close()
