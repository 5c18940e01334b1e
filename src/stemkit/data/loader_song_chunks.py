"""Cutting a rendered song into training chunks (seed 001), and the song seeds of the chunk pool."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from stemkit.audio import adapt_channels
from stemkit.data.loader_silence import keep_chunk

Chunk = tuple  # (mix (C, T) float32, stems (S, C, T) float32)


def song_seed(seed: int, epoch: int, song_index: int) -> int:
    """Seed of the ``song_index``-th song of an epoch: a 63-bit hash of ``(seed, epoch, index)``.

    Hashing (rather than ``seed + index``) keeps pool songs away from the small seeds people use
    for fixed validation songs, and different ``seed`` values from overlapping.
    """
    words = np.random.SeedSequence([int(seed), int(epoch), int(song_index)]).generate_state(2)
    return int((int(words[0]) << 32 | int(words[1])) & (2**63 - 1))


def song_arrays(song: dict, sources: Sequence[str], channels: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """``make_song`` output -> ``mix (C, T)``, ``stems (S, C, T)`` float32.

    The mixture is ``song["mixture"]`` when given, else the sum of *all* the song's stems (also
    those that are not targets); a target the song lacks is silence. Stems are padded to the
    longest one; mono is duplicated to ``channels``.
    """
    arrays = {k: adapt_channels(np.atleast_2d(np.asarray(v, dtype=np.float32)), channels)
              for k, v in song.items()}
    if not arrays:
        raise ValueError("make_song returned no stems")
    length = max(a.shape[-1] for a in arrays.values())
    arrays = {k: np.pad(a, [(0, 0), (0, length - a.shape[-1])]) for k, a in arrays.items()}
    silence = np.zeros((channels, length), np.float32)
    stems = np.stack([arrays.get(name, silence) for name in sources])
    if "mixture" in arrays:
        mix = arrays["mixture"]
    else:
        mix = np.sum(list(arrays.values()), axis=0).astype(np.float32)
    return mix, stems


def cut_song(mix: np.ndarray, stems: np.ndarray, segment: int, max_chunks: int | None,
             rng: np.random.Generator, *, skip_silent: bool = True, silence_db: float = -60.0,
             min_difference_db: float | None = -20.0) -> list[Chunk]:
    """Up to ``max_chunks`` non-overlapping chunks at a random phase, in random order.

    Chunks failing the silence filter are dropped. A song shorter than ``segment`` gives one
    zero-padded chunk.
    """
    length = mix.shape[-1]
    if length < segment:
        pad = segment - length
        mix = np.pad(mix, [(0, 0), (0, pad)])
        stems = np.pad(stems, [(0, 0), (0, 0), (0, pad)])
        starts = [0]
    else:
        phase = int(rng.integers(0, min(segment, length - segment + 1)))
        starts = list(range(phase, length - segment + 1, segment))
    rng.shuffle(starts)
    chunks: list[Chunk] = []
    for start in starts:
        if max_chunks is not None and len(chunks) >= max_chunks:
            break
        m = np.ascontiguousarray(mix[:, start:start + segment])
        s = np.ascontiguousarray(stems[:, :, start:start + segment])
        if not skip_silent or keep_chunk(m, s, silence_db=silence_db,
                                         min_difference_db=min_difference_db):
            chunks.append((m, s))
    return chunks

