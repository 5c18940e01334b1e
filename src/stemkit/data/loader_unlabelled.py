"""Unlabelled recordings (mixtures without stems) cut into random chunks, for mixture invariant training.

Every audio file under a folder (any format :func:`stemkit.audio.read_audio` reads) is decoded
once, at the model's sample rate and channel count, into a float16 ``.npy`` file of a disk cache
and memory-mapped from there: two hours of stereo 44.1 kHz music are 1.4 GB as float16 (2.7 GB as
float32), too much to hold in every DDP process, while the page cache shares a memory map. float16
keeps about 66 dB of relative precision at every level, ample for a loss thresholded at -30 dB.

Chunks are drawn like :class:`stemkit.data.datasets.ChunkDataset` draws them: a file in proportion
to its length, then a start uniformly, redrawn while the chunk is near-silent
(:func:`stemkit.data.loader_silence.is_silent`), and item ``p`` depends only on ``(seed, p)``. So a
training step's chunks are a function of the step, and a resumed run reads what the uninterrupted
run read: the loader has no state to save.
"""

from __future__ import annotations

import copy
import hashlib
import os
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch

from stemkit.audio import AUDIO_EXTENSIONS, read_audio
from stemkit.data.loader_silence import is_silent
from stemkit.errors import ConfigError

#: Bump when the cached array format changes, so stale caches are not read.
CACHE_VERSION = 1


def default_cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "stemkit" / "unlabelled"


def find_audio_files(root: str | os.PathLike, where: str = "unlabelled.root") -> list[Path]:
    """Audio files under ``root`` (recursive, hidden files and folders skipped), sorted by path."""
    folder = Path(root)
    if not folder.is_dir():
        raise ConfigError(f"{where}: no such folder: {folder}")
    files = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in filenames:
            if not name.startswith(".") and name.lower().endswith(AUDIO_EXTENSIONS):
                files.append(Path(dirpath) / name)
    if not files:
        raise ConfigError(f"{where}: no audio files ({', '.join(e.lstrip('.') for e in AUDIO_EXTENSIONS)}) "
                          f"under {folder}")
    return sorted(files)


def _cache_key(path: Path, sample_rate: int, channels: int) -> str:
    stat = path.stat()
    text = f"{CACHE_VERSION}|{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}|{sample_rate}|{channels}"
    return hashlib.sha1(text.encode()).hexdigest()[:20]


def decode_cached(path: Path, cache_dir: Path, sample_rate: int, channels: int) -> np.ndarray:
    """``path`` as a read-only memory-mapped float16 array ``(C, T)``, decoding it on the first call.

    The cache file is written to a temporary name and renamed, so concurrent processes (DDP ranks)
    and killed runs never leave a partial file under the final name.
    """
    target = cache_dir / f"{path.stem[:40]}-{_cache_key(path, sample_rate, channels)}.npy"
    if not target.is_file():
        audio, _ = read_audio(path, sample_rate=sample_rate, channels=channels)
        cache_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=cache_dir)
        try:
            with os.fdopen(fd, "wb") as f:
                np.save(f, np.clip(audio, -65504.0, 65504.0).astype(np.float16))
            os.replace(tmp, target)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    return np.load(target, mmap_mode="r")


class UnlabelledChunks:
    """Random ``segment``-sample chunks ``(C, T)`` of the recordings under ``root``.

    ``sample_rate``, ``channels``: the model's. ``silence_db``: chunks quieter than this (RMS dBFS)
    are redrawn, up to ``max_tries`` times (the last draw is kept if all fail). ``cache_dir``: where
    decoded files are kept (default ``~/.cache/stemkit/unlabelled``, or under ``$XDG_CACHE_HOME``).
    Decoding happens in :meth:`prepare` (called on first use), with a progress bar on a terminal.
    """

    def __init__(self, root: str | os.PathLike, *, sample_rate: int, channels: int, segment: int,
                 seed: int = 0, silence_db: float = -40.0, cache_dir: str | os.PathLike | None = None,
                 max_tries: int = 20, quiet: bool = False, where: str = "unlabelled.root"):
        if segment <= 0 or sample_rate <= 0 or channels not in (1, 2):
            raise ConfigError("unlabelled chunks: segment and sample_rate must be positive, channels 1 or 2")
        self.root = Path(root)
        self.files = find_audio_files(self.root, where)
        self.sample_rate, self.channels, self.segment = int(sample_rate), int(channels), int(segment)
        self.seed, self.silence_db, self.max_tries = int(seed), float(silence_db), int(max_tries)
        self.cache_dir = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        self.quiet = quiet
        self._audio: list[np.ndarray] | None = None

    # -- decoding -----------------------------------------------------------------------------
    def prepare(self) -> "UnlabelledChunks":
        """Decode every file into the cache (once) and map it; raises AudioReadError on a bad file."""
        if self._audio is None:
            from tqdm import tqdm

            show = not self.quiet and sys.stderr.isatty()
            files = tqdm(self.files, desc="unlabelled audio", unit="file", disable=not show)
            self._audio = [decode_cached(p, self.cache_dir, self.sample_rate, self.channels) for p in files]
            lengths = np.array([a.shape[-1] for a in self._audio], dtype=np.float64)
            if lengths.sum() <= 0:
                raise ConfigError(f"unlabelled.root: every audio file under {self.root} is empty")
            self._weights = lengths / lengths.sum()
        return self

    @property
    def seconds(self) -> float:
        """Total duration of the decoded recordings."""
        self.prepare()
        return float(sum(a.shape[-1] for a in self._audio)) / self.sample_rate

    def reseeded(self, seed: int) -> "UnlabelledChunks":
        """The same recordings (decoded arrays shared) drawn with another seed (a later stage)."""
        twin = copy.copy(self)
        twin.seed = int(seed)
        return twin

    # -- drawing ------------------------------------------------------------------------------
    def _cut(self, k: int, rng: np.random.Generator) -> np.ndarray:
        audio = self._audio[k]
        start = int(rng.integers(0, max(1, audio.shape[-1] - self.segment + 1)))
        chunk = np.asarray(audio[:, start:start + self.segment], dtype=np.float32)
        if chunk.shape[-1] < self.segment:  # a file shorter than a chunk: zero-padded
            chunk = np.pad(chunk, [(0, 0), (0, self.segment - chunk.shape[-1])])
        return chunk

    def draw(self, rng: np.random.Generator, avoid: int | None = None) -> tuple[np.ndarray, int]:
        """One chunk ``(C, segment)`` float32 and its file's index.

        ``avoid``: a file not to draw from (the other half of a pair) while there are others; after
        half of ``max_tries`` silent draws it may be drawn too (the other files may be all quiet).
        """
        self.prepare()
        apart = self._weights
        if avoid is not None and len(self.files) > 1 and self._weights.sum() > self._weights[avoid]:
            apart = self._weights.copy()
            apart[avoid] = 0.0
            apart /= apart.sum()
        for attempt in range(self.max_tries):
            p = apart if attempt < self.max_tries // 2 else self._weights
            k = int(rng.choice(len(self.files), p=p))
            chunk = self._cut(k, rng)
            if not is_silent(chunk, self.silence_db):
                break
        return chunk, k

    def pair(self, position: int, gain_db: float = 0.0) -> np.ndarray:
        """Pair ``position``: two chunks of different files ``(2, C, T)``, each scaled by a gain drawn
        uniformly in ``[-gain_db, 0]`` dB; depends only on ``(seed, position)``."""
        rng = np.random.default_rng([self.seed, int(position), 0x313C])
        first, k = self.draw(rng)
        second, _ = self.draw(rng, avoid=k)
        gains = 10.0 ** (-rng.uniform(0.0, gain_db, size=2) / 20.0) if gain_db > 0 else np.ones(2)
        return np.stack([first * gains[0], second * gains[1]]).astype(np.float32)

    def batch(self, step: int, batch_size: int, *, rank: int = 0, world: int = 1,
              gain_db: float = 0.0) -> torch.Tensor:
        """The pairs of optimizer step ``step`` on rank ``rank`` of ``world``: ``(B, 2, C, T)``.

        Positions ``(step * world + rank) * B + j`` as :class:`stemkit.train.data.StepSampler` uses
        them, so ranks never share a pair and a resumed run reads what the uninterrupted one read.
        """
        first = (int(step) * world + rank) * batch_size
        return torch.from_numpy(np.stack([self.pair(first + j, gain_db) for j in range(batch_size)]))
