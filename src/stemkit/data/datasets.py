"""PyTorch datasets over :class:`~stemkit.data.tracks.Track` lists.

- :class:`ChunkDataset`: random training chunks ``(mix (C, T), stems (S, C, T))``, skipping
  silent / single-source chunks (seed 001's filter); item ``i`` of epoch ``e`` depends only on
  ``(seed, e, i)``, so DataLoader workers and resumed runs see the same data.
- :class:`RemixDataset`: each source drawn from a different track at its own offset (seed 000's
  permutations); the mixture is exactly the sum of the returned stems.
- :class:`TrackDataset`: whole tracks for validation ``(name, mix (C, T), stems (S, C, T))``.

Both chunk datasets can play each chunk at a random tape speed (``speed_semitones``,
:mod:`stemkit.data.speed`): the chunk is read longer or shorter and resampled to ``segment``.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from typing import Sequence

import numpy as np
import torch
from torch.utils.data import Dataset

from stemkit.data.loader_silence import is_silent, keep_chunk
from stemkit.data.speed import change_speed, draw_speed, source_length
from stemkit.data.tracks import Track
from stemkit.errors import ConfigError
from stemkit.models.base import SOURCES_4


def _item_rng(seed: int, epoch: int, index: int) -> np.random.Generator:
    return np.random.default_rng([int(seed), int(epoch), int(index)])


def _torch_generator(rng: np.random.Generator) -> torch.Generator:
    return torch.Generator().manual_seed(int(rng.integers(0, 2**62)))


class _RandomChunks(Dataset):
    """Shared state of the chunk datasets: tracks, lengths at ``sample_rate``, epoch, filter."""

    def __init__(self, tracks: Sequence[Track], sources: Sequence[str] = SOURCES_4,
                 segment: int = 44100 * 6, *, samples_per_epoch: int, seed: int,
                 sample_rate: int = 44100, augment=None, skip_silent: bool = True,
                 silence_db: float = -60.0, min_difference_db: float | None = -20.0,
                 channels: int = 2, max_tries: int = 20, speed_semitones: float = 0.0):
        if not tracks:
            raise ConfigError("no tracks to draw chunks from")
        if segment <= 0 or samples_per_epoch <= 0:
            raise ConfigError("segment and samples_per_epoch must be positive")
        self.tracks = list(tracks)
        self.sources = tuple(sources)
        self.segment = int(segment)
        self.samples_per_epoch = int(samples_per_epoch)
        self.seed = int(seed)
        self.sample_rate = int(sample_rate)
        self.augment = augment
        self.skip_silent = bool(skip_silent)
        self.silence_db = float(silence_db)
        self.min_difference_db = min_difference_db
        self.channels = int(channels)
        self.max_tries = int(max_tries)
        if not 0 <= speed_semitones <= 12:
            raise ConfigError(f"speed_semitones must be in [0, 12], got {speed_semitones}")
        self.speed_semitones = float(speed_semitones)
        self.epoch = 0
        # lengths from headers only (ffprobe for .stem.mp4: threads overlap the subprocesses);
        # tracks are drawn in proportion to their length
        with ThreadPoolExecutor(max_workers=8) as pool:
            geometry = list(pool.map(lambda t: (t.frames, t.rate), self.tracks))
        self.lengths = np.array([int(f * self.sample_rate / r) for f, r in geometry])
        if self.lengths.sum() <= 0:
            raise ConfigError("every track is empty (0 samples)")
        self.weights = self.lengths / self.lengths.sum()

    def __len__(self) -> int:
        return self.samples_per_epoch

    def set_epoch(self, epoch: int) -> None:
        """Draw epoch ``epoch``'s chunks (call before creating the DataLoader iterator)."""
        self.epoch = int(epoch)

    def _start(self, rng: np.random.Generator, track_index: int, length: int | None = None) -> int:
        length = self.segment if length is None else length
        return int(rng.integers(0, max(1, self.lengths[track_index] - length + 1)))

    def _speed(self, rng: np.random.Generator) -> tuple[float, int]:
        """This draw's tape speed and the samples to read for it (no draw when speed is off, so
        the chunks of a run without it stay what they were)."""
        if self.speed_semitones <= 0:
            return 1.0, self.segment
        speed = draw_speed(rng, self.speed_semitones)
        return speed, (self.segment if speed == 1.0 else source_length(self.segment, speed))

    def _keep(self, mix: np.ndarray, stems: np.ndarray) -> bool:
        return not self.skip_silent or keep_chunk(
            mix, stems, silence_db=self.silence_db, min_difference_db=self.min_difference_db)

    def _augmented(self, mix: np.ndarray, stems: np.ndarray, rng: np.random.Generator,
                   ) -> tuple[torch.Tensor, torch.Tensor]:
        mix_t, stems_t = torch.from_numpy(mix), torch.from_numpy(stems)
        if self.augment is None:
            return mix_t, stems_t
        return augment_chunk(self.augment, mix_t, stems_t, _torch_generator(rng))


def augment_chunk(augment, mix: torch.Tensor, stems: torch.Tensor,
                  generator: torch.Generator | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Augment one chunk's stems ``(S, C, T)`` and return the re-summed ``(mix, stems)``.

    The residual ``mix - sum(stems)`` (sources not requested, codec error of ``.stem.mp4``
    mixtures) is augmented like a stem, so the new mixture still holds everything the old one did.
    """
    parts = torch.cat([stems, (mix - stems.sum(0))[None]])
    with torch.no_grad():
        parts = augment(parts[None], generator=generator)[0]
    return parts.sum(0), parts[:-1].contiguous()


class ChunkDataset(_RandomChunks):
    """Random ``segment``-sample chunks: ``(mix (C, T), stems (S, C, T))`` torch float32.

    A track is drawn in proportion to its length, then a start uniformly; chunks failing the
    silence filter are redrawn (up to ``max_tries``; the last draw is used if all fail).
    ``augment`` is a module on ``(B, S, C, T)`` (see :mod:`stemkit.data.augment`).
    """

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        if not 0 <= index < len(self):
            raise IndexError(index)
        rng = _item_rng(self.seed, self.epoch, index)
        for _ in range(self.max_tries):
            k = int(rng.choice(len(self.tracks), p=self.weights))
            speed, read = self._speed(rng)
            mix, stems = self.tracks[k].read_chunk(
                self._start(rng, k, read), read, self.sources,
                sample_rate=self.sample_rate, channels=self.channels)
            if speed != 1.0:  # one speed for the whole chunk: the stems still sum to the mixture
                mix, stems = change_speed(mix, speed, self.segment), change_speed(stems, speed, self.segment)
            if self._keep(mix, stems):
                break
        return self._augmented(mix, stems, rng)


class RemixDataset(_RandomChunks):
    """Chunks whose sources come from different tracks at independent offsets.

    Source ``s`` of item ``i`` is cut from its own randomly drawn track (distinct tracks per item
    while there are enough), redrawn while it is silent; ``mix`` is the sum of the stems.
    """

    def __getitem__(self, index: int) -> tuple[torch.Tensor, torch.Tensor]:
        if not 0 <= index < len(self):
            raise IndexError(index)
        rng = _item_rng(self.seed, self.epoch, index)
        distinct = len(self.tracks) >= len(self.sources)
        for _ in range(self.max_tries):
            order = rng.choice(len(self.tracks), size=len(self.sources), replace=not distinct,
                               p=self.weights)
            stems = np.stack([self._source_chunk(rng, int(k), name)
                              for k, name in zip(order, self.sources)])
            mix = stems.sum(0)
            if self._keep(mix, stems):
                break
        return self._augmented(mix, stems, rng)

    def _source_chunk(self, rng: np.random.Generator, k: int, name: str) -> np.ndarray:
        """One source ``(C, T)`` of track ``k`` (at its own tape speed), redrawing the start while it
        is silent."""
        for _ in range(self.max_tries):
            speed, read = self._speed(rng)
            _, stem = self.tracks[k].read_chunk(self._start(rng, k, read), read, (name,),
                                                sample_rate=self.sample_rate,
                                                channels=self.channels, with_mixture=False)
            stem = change_speed(stem, speed, self.segment)
            if not self.skip_silent or not is_silent(stem[0], self.silence_db):
                break
        return stem[0]


class TrackDataset(Dataset):
    """Whole tracks for validation: ``(name, mix (C, T), stems (S, C, T))``, T varies per track."""

    def __init__(self, tracks: Sequence[Track], sources: Sequence[str] = SOURCES_4, *,
                 sample_rate: int | None = 44100, channels: int | None = 2):
        self.tracks = list(tracks)
        self.sources = tuple(sources)
        self.sample_rate = sample_rate
        self.channels = channels

    def __len__(self) -> int:
        return len(self.tracks)

    def __getitem__(self, index: int) -> tuple[str, torch.Tensor, torch.Tensor]:
        track = self.tracks[index]
        mix, stems, _ = track.load(self.sources, sample_rate=self.sample_rate,
                                   channels=self.channels)
        return track.name, torch.from_numpy(mix), torch.from_numpy(stems)
