"""Multitrack songs on disk: :class:`Track` and :func:`find_tracks` for the usual dataset layouts.

A :class:`Track` names where each stem lives; nothing is decoded until :meth:`Track.load` or
:meth:`Track.read_chunk` is called. A stem *source* is a path, a ``(path, stream_index)`` pair for
multi-stream files (``.stem.mp4``), or a list of those that are summed (MedleyDB groups several
instrument stems into one target).

Conventions every loader follows:

- the mixture is the mixture file when the layout has one, else the sum of *all* the track's stems;
- a requested source the track lacks is silence;
- ``no_<stem>`` (and ``accompaniment`` = ``no_vocals``) is the sum of every other stem of the track;
- all sources of a track are padded or cut to one length (the mixture's, else the longest stem).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence, Union

import numpy as np

from stemkit.audio import adapt_channels, resample
from stemkit.data.loader_io import Source, describe, read_source, source_info
from stemkit.errors import AudioReadError, ConfigError
from stemkit.models.base import SOURCES_4

StemSource = Union[Source, list]
LAYOUTS = ("auto", "musdb_hq", "musdb", "dsd100", "medleydb", "folder")
#: Extra samples read on each side of a chunk that is resampled, so filter edges fall outside it.
_RESAMPLE_MARGIN = 64


@dataclass
class Track:
    """One song: ``stems`` maps a stem name to its source(s); ``mixture`` is optional."""

    name: str
    stems: dict[str, StemSource]
    mixture: Source | None = None
    sample_rate: int | None = None
    meta: dict = field(default_factory=dict)
    _info: tuple | None = field(default=None, init=False, repr=False, compare=False)
    _file_rates: dict = field(default_factory=dict, init=False, repr=False, compare=False)

    # ---------------------------------------------------------------- geometry (no decoding)
    def _geometry(self) -> tuple[int, int, int]:
        """``(frames, sample_rate, channels)`` at the track's native rate, from file headers."""
        if self._info is None:
            files = self.files()
            infos = [source_info(s) for s in files]
            if not infos:
                raise AudioReadError(f"track {self.name!r} has no audio files")
            rate = self.sample_rate or infos[0][1]
            if self.mixture is not None:
                frames, sr, _ = infos[0]
                frames = int(round(frames * rate / sr))
            else:
                frames = max(int(round(f * rate / sr)) for f, sr, _ in infos)
            self._file_rates = {describe(f): i[1] for f, i in zip(files, infos)}
            self._info = (frames, int(rate), max(c for _, _, c in infos))
        return self._info

    @property
    def frames(self) -> int:
        """Length in samples at the track's native rate."""
        return self._geometry()[0]

    @property
    def rate(self) -> int:
        """The track's native sample rate (``sample_rate`` if given, else the first file's)."""
        return self._geometry()[1]

    @property
    def channels(self) -> int:
        """Largest channel count among the track's files (chunks have at most 2 unless asked)."""
        return self._geometry()[2]

    @property
    def duration(self) -> float:
        """Length in seconds, read from headers (soundfile.info / ffprobe)."""
        frames, rate, _ = self._geometry()
        return frames / rate

    # ---------------------------------------------------------------- reading
    def load(self, sources: Sequence[str] = SOURCES_4, *, sample_rate: int | None = None,
             channels: int | None = None) -> tuple[np.ndarray, np.ndarray, int]:
        """Whole track: mixture ``(C, T)``, stems ``(S, C, T)`` float32 and the rate they are at.

        ``sample_rate`` resamples (soxr; default: native rate); ``channels`` (1 or 2) down/up-mixes
        (default: the track's largest channel count, at most 2).
        """
        frames, rate, _ = self._geometry()
        out_rate = int(sample_rate or rate)
        length = frames if out_rate == rate else int(math.ceil(frames * out_rate / rate))
        mix, stems = self.read_chunk(0, length, sources, sample_rate=out_rate, channels=channels)
        return mix, stems, out_rate

    def read_chunk(self, start: int, length: int, sources: Sequence[str] = SOURCES_4, *,
                   sample_rate: int | None = None, channels: int | None = None,
                   with_mixture: bool = True) -> tuple[np.ndarray | None, np.ndarray]:
        """Samples ``[start, start + length)``: mixture ``(C, length)``, stems ``(S, C, length)``.

        ``start``/``length`` count samples at ``sample_rate`` (default: native). Only the needed
        part of seekable files is read; past the end is silence. ``with_mixture=False`` skips
        reading the mixture and returns None in its place.
        """
        frames, rate, native_channels = self._geometry()
        out_rate = int(sample_rate or rate)
        out_channels = int(channels or min(native_channels, 2))
        if out_channels not in (1, 2):
            raise ConfigError(f"channels must be 1 or 2, got {channels}")
        if out_rate == rate:
            read_start, read_len, crop = int(start), int(length), 0
        else:
            ratio = rate / out_rate
            first_needed = int(math.floor(start * ratio))
            read_start = max(first_needed - _RESAMPLE_MARGIN, 0)  # the margin may hit time 0
            crop = first_needed - read_start
            read_len = int(math.ceil(length * ratio)) + 2 * _RESAMPLE_MARGIN + 1

        def fetch(src: StemSource) -> np.ndarray:
            parts = src if isinstance(src, list) else [src]
            total = np.zeros((out_channels, read_len), np.float32)
            for part in parts:
                if self._file_rates[describe(part)] == rate:
                    audio, _ = read_source(part, read_start, read_len)
                else:  # a file at another rate than the track: bring it to the track rate whole
                    audio, sr = read_source(part)
                    audio = resample(audio, sr, rate)[:, read_start:read_start + read_len]
                audio = adapt_channels(audio, out_channels)
                n = min(audio.shape[1], read_len)
                total[:, :n] += audio[:, :n]
            # samples past the track's end are silence even if one file is longer
            total[:, max(0, min(read_len, frames - read_start)):] = 0.0
            return total

        cache: dict[str, np.ndarray] = {}

        def stem(name: str) -> np.ndarray:
            if name not in cache:
                cache[name] = fetch(self.stems[name])
            return cache[name]

        silence = np.zeros((out_channels, read_len), np.float32)
        targets = []
        for name in sources:
            complement = _complement_of(name)
            if name in self.stems:
                targets.append(stem(name))
            elif complement is not None:
                others = [stem(n) for n in self.stems if n != complement]
                targets.append(np.sum(others, axis=0) if others else silence)
            else:
                targets.append(silence)
        if not with_mixture:
            mix = None
        elif self.mixture is not None:
            mix = fetch(self.mixture)
        else:
            mix = np.sum([stem(n) for n in self.stems], axis=0) if self.stems else silence
        stems = np.stack(targets) if targets else np.zeros((0, out_channels, read_len), np.float32)
        if out_rate != rate:
            first = int(round(crop * out_rate / rate))

            def convert(x: np.ndarray) -> np.ndarray:
                return _fit_length(resample(x, rate, out_rate)[:, first:], length)

            mix = None if mix is None else convert(mix)
            stems = np.stack([convert(s) for s in stems]) if len(stems) else \
                np.zeros((0, out_channels, length), np.float32)
        if mix is not None:
            mix = np.ascontiguousarray(mix, np.float32)
        return mix, np.ascontiguousarray(stems, np.float32)

    def files(self) -> list[Source]:
        """Every file source of the track: the mixture first (if any), then the stems'."""
        files: list[Source] = [] if self.mixture is None else [self.mixture]
        for src in self.stems.values():
            files.extend(src if isinstance(src, list) else [src])
        return files


def _complement_of(name: str) -> str | None:
    """``no_vocals`` -> ``vocals``; ``accompaniment`` -> ``vocals``; otherwise None."""
    if name == "accompaniment":
        return "vocals"
    if name.startswith("no_") and len(name) > 3:
        return name[3:]
    return None


def _fit_length(x: np.ndarray, length: int) -> np.ndarray:
    """Cut or zero-pad the last axis to ``length``."""
    if x.shape[-1] >= length:
        return x[..., :length]
    pad = [(0, 0)] * (x.ndim - 1) + [(0, length - x.shape[-1])]
    return np.pad(x, pad)


def find_tracks(root, *, layout: str = "auto", split: str | None = None,
                sources: Sequence[str] = SOURCES_4, names: dict | None = None) -> list[Track]:
    """All tracks of a dataset folder, sorted by name.

    ``layout``: ``musdb_hq`` (``root/{train,test,valid}/SONG/<stem>.wav``), ``musdb``
    (``root/{train,test}/*.stem.mp4``), ``dsd100`` (``root/{Mixtures,Sources}/{Dev,Test}/SONG``),
    ``medleydb`` (``root/SONG/SONG_METADATA.yaml`` + ``SONG_STEMS/``), ``folder``
    (``root/SONG/<any name>.<ext>``, matched to ``sources`` with ``names``, e.g.
    ``{"vocals": ["vocals", "vox", "voice*"]}``) or ``auto`` (detected). ``split`` picks one split
    (``train``/``test``/``valid``; DSD100 ``dev``/``test`` with ``train`` meaning ``Dev``);
    None takes all. MUSDB18 without a ``valid`` folder: ``valid`` is the official 14-track
    validation subset of ``train`` (``train`` stays the whole folder). Raises
    :class:`ConfigError` when nothing is found.
    """
    from stemkit.data import loader_layouts as layouts

    root = Path(root).expanduser()
    if not root.is_dir():
        raise ConfigError(f"dataset folder not found: {root}")
    if layout not in LAYOUTS:
        raise ConfigError(f"unknown dataset layout {layout!r}; choose from {', '.join(LAYOUTS)}")
    chosen = layouts.detect_layout(root) if layout == "auto" else layout
    if chosen is None:
        raise ConfigError(f"no dataset found in {root}: expected one of the layouts "
                          f"{', '.join(LAYOUTS[1:])} (see docs/datasets.md)")
    tracks = layouts.FINDERS[chosen](root, split=split, sources=tuple(sources), names=names)
    if not tracks:
        where = f"{root}" + (f" (split {split!r})" if split else "")
        raise ConfigError(f"no tracks found in {where} with layout {chosen!r}")
    return sorted(tracks, key=lambda t: t.name)
