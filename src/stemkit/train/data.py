"""Training and validation data from the config: dataset folders or seed 001's chunk pool.

- Dataset folders (``musdb_hq``, ``musdb``, ``dsd100``, ``medleydb``, ``folder``, ``auto``) are found
  with :func:`stemkit.data.tracks.find_tracks` and cut into random chunks by
  :class:`stemkit.data.datasets.ChunkDataset` at the model's sample rate.
- ``synth`` renders songs on the fly with :func:`stemkit.data.corpus.make_song` into a
  :class:`stemkit.data.chunk_pool.ChunkPool` (its own worker processes; 44.1 kHz).
- Validation uses whole tracks (:class:`stemkit.data.datasets.TrackDataset`), one per batch.
"""

from __future__ import annotations

import functools

import lightning.pytorch as pl
import numpy as np
import torch
from torch.utils.data import DataLoader, Dataset, IterableDataset, Sampler

from ..errors import ConfigError
from .config import DataSourceConfig, TrainConfig

SYNTH_RATE = 44100


def select_tracks(src: DataSourceConfig, sources, where: str) -> list:
    """Tracks of one dataset source, filtered by ``tracks`` names and ``max_tracks``."""
    from ..data.tracks import find_tracks

    tracks = find_tracks(src.root, layout=src.type, split=src.split, sources=tuple(sources), names=src.names)
    if src.tracks is not None:
        wanted = set(src.tracks)
        missing = wanted - {t.name for t in tracks}
        if missing:
            raise ConfigError(f"{where}.tracks: not found in {src.root}: {', '.join(sorted(missing))}")
        tracks = [t for t in tracks if t.name in wanted]
    if src.exclude_tracks is not None:
        tracks = [t for t in tracks if t.name not in set(src.exclude_tracks)]
    if src.real_split is not None:
        from ..data.real_split import real_split

        part = set(real_split()[src.real_split])
        tracks = [t for t in tracks if t.name in part]
        if not tracks:
            raise ConfigError(f"{where}.real_split: none of the {src.real_split!r} excerpts are in {src.root}")
    if not tracks:
        raise ConfigError(f"{where}: no tracks left after tracks/exclude_tracks filtering")
    if src.max_tracks is not None:
        tracks = tracks[: src.max_tracks]
    return tracks


def build_unlabelled(cfg: TrainConfig, model, segment: int, *, seed: int, quiet: bool = False):
    """``data.unlabelled``'s recordings, decoded (or read from the cache) at the model's rate and channels."""
    from ..data.loader_unlabelled import UnlabelledChunks

    u = cfg.data.unlabelled
    if cfg.mixture_minus:
        raise ConfigError("data.unlabelled: not with mixture_minus (unlabelled mixtures cannot have stems taken off)")
    if len(cfg.sources) < 2:
        raise ConfigError(f"data.unlabelled: mixture invariant training needs a model with 2 or more outputs, "
                          f"sources has {len(cfg.sources)}")
    chunks = UnlabelledChunks(u.root, sample_rate=model.sample_rate, channels=model.channels, segment=segment,
                              seed=seed, silence_db=u.silence_db, cache_dir=u.cache_dir, quiet=quiet,
                              where="data.unlabelled.root")
    return chunks.prepare()


class _Resampled(IterableDataset):
    """Resample a 44.1 kHz ``(mix (C, T), stems (S, C, T))`` stream to the model's rate."""

    def __init__(self, inner, sr_in: int, sr_out: int):
        self.inner, self.sr_in, self.sr_out = inner, sr_in, sr_out

    def __iter__(self):
        from ..audio import resample

        for mix, stems in self.inner:
            S, C, T = stems.shape
            both = np.concatenate([np.asarray(mix), np.asarray(stems).reshape(S * C, T)], axis=0)
            out = torch.from_numpy(np.ascontiguousarray(resample(both, self.sr_in, self.sr_out), dtype=np.float32))
            yield out[:C], out[C:].reshape(S, C, -1)


class StepSampler(Sampler):
    """Sample positions for optimizer steps ``start .. stop - 1`` of one rank, in order.

    Step ``k`` of rank ``r`` (of ``world``) reads positions ``((k * world + r) * B + j)``, j < B, so
    the data is a function of the step alone: a run resumed at step ``k`` reads what the
    uninterrupted run read at step ``k``, whatever Lightning thinks about epochs. Lightning sees one
    epoch of ``stop`` batches, restored at ``start``.
    """

    def __init__(self, start: int, stop: int, batch_size: int, rank: int = 0, world: int = 1):
        self.start, self.stop, self.batch_size, self.rank, self.world = start, stop, batch_size, rank, world

    def __len__(self) -> int:
        return self.stop * self.batch_size

    def __iter__(self):
        for step in range(self.start, self.stop):
            first = (step * self.world + self.rank) * self.batch_size
            yield from range(first, first + self.batch_size)


class StepIndexed(Dataset):
    """Position ``p`` of a :class:`StepSampler` -> item of a ChunkDataset, at epoch ``p // epoch_size``.

    ChunkDataset item ``i`` of epoch ``e`` depends only on (seed, e, i); an epoch uses its first
    ``(samples_per_epoch // B) * B`` items (whole batches).
    """

    def __init__(self, dataset, batch_size: int):
        self.dataset = dataset
        self.epoch_size = max(1, len(dataset) // batch_size) * batch_size

    def __len__(self) -> int:
        return len(self.dataset)

    def __getitem__(self, position: int):
        epoch, index = divmod(position, self.epoch_size)
        self.dataset.epoch = epoch
        return self.dataset[index]


class TrainData(pl.LightningDataModule):
    """Data for one training stage; ``batch_size`` differs between the main and refine stages."""

    def __init__(
        self,
        cfg: TrainConfig,
        *,
        sample_rate: int,
        channels: int,
        segment: int,
        batch_size: int,
        seed: int,
        resume_step: int = 0,
        max_steps: int,
    ):
        super().__init__()
        self.resume_step, self.max_steps = resume_step, max_steps
        self.cfg, self.sample_rate, self.channels, self.segment = cfg, sample_rate, channels, segment
        self.batch_size, self.seed = batch_size, seed
        self._train = None
        self._valid_tracks = None

    # -- building -----------------------------------------------------------------------------
    def train_dataset(self, rank: int = 0):
        src, sources = self.cfg.data.train, tuple(self.cfg.loaded_sources)
        if src.type == "synth":
            return self._chunk_pool(src, sources, rank)
        from ..data.datasets import ChunkDataset

        tracks = select_tracks(src, sources, "data.train")
        return ChunkDataset(
            tracks,
            sources,
            self.segment,
            samples_per_epoch=src.samples_per_epoch,
            seed=self.seed,
            sample_rate=self.sample_rate,
            skip_silent=src.skip_silent,
            channels=self.channels,
            speed_semitones=src.speed_semitones,
        )

    def _chunk_pool(self, src: DataSourceConfig, sources, rank: int):
        from ..data.chunk_pool import ChunkPool
        from ..data.corpus import make_song

        # The pool cuts 44.1 kHz songs; ask for the chunk length that resamples to `segment`.
        length = int(round(self.segment * SYNTH_RATE / self.sample_rate))
        pool = ChunkPool(
            functools.partial(make_song, config=src.corpus),
            segment=length,
            workers=src.workers,
            pool_size=src.pool_size,
            reuse_factor=src.reuse_factor,
            max_chunks_per_song=src.max_chunks_per_song,
            seed=self.seed + 1_000_003 * rank,  # each DDP rank renders different songs
            sources=sources,
        )
        if self.sample_rate != SYNTH_RATE:
            return _Resampled(pool, SYNTH_RATE, self.sample_rate)
        return pool

    def valid_tracks(self) -> list:
        if self._valid_tracks is None:
            src = self.cfg.data.valid
            self._valid_tracks = [] if src is None else select_tracks(src, self.cfg.loaded_sources, "data.valid")
        return self._valid_tracks

    # -- Lightning hooks ----------------------------------------------------------------------
    def setup(self, stage: str | None = None) -> None:
        if self._train is None:
            rank = self.trainer.global_rank if self.trainer is not None else 0
            self._train = self.train_dataset(rank)

    def train_dataloader(self) -> DataLoader:
        trainer = self.trainer
        rank, world = (trainer.global_rank, trainer.world_size) if trainer is not None else (0, 1)
        if isinstance(self._train, IterableDataset):  # the chunk pool: its own workers, per-rank seeds
            return DataLoader(self._train, batch_size=self.batch_size, num_workers=0, drop_last=True)
        sampler = StepSampler(self.resume_step, self.max_steps, self.batch_size, rank, world)
        return DataLoader(
            StepIndexed(self._train, self.batch_size),
            batch_size=self.batch_size,
            sampler=sampler,
            num_workers=self.cfg.num_workers,
            drop_last=True,
        )

    def val_dataloader(self):
        tracks = self.valid_tracks()
        if not tracks:
            return []
        from ..data.datasets import TrackDataset

        # batch_size=None: one whole track per step, not collated.
        dataset = TrackDataset(tracks, tuple(self.cfg.loaded_sources), sample_rate=self.sample_rate, channels=self.channels)
        return DataLoader(dataset, batch_size=None, num_workers=0)
