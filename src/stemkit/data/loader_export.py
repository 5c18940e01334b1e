"""Writing tracks of any layout as MUSDB18-HQ folders: ``out/<split>/<name>/<stem>.wav``.

Converting MUSDB18 ``.stem.mp4`` (or DSD100, MedleyDB, free-form stems) once gives seekable
wav files, so training reads only the chunks it needs instead of decoding whole AAC streams.
Files are written atomically by :func:`stemkit.audio.write_audio`; a song folder that already
holds every file is skipped, so an interrupted export resumes.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Sequence

from stemkit.audio import write_audio
from stemkit.data.loader_io import source_path
from stemkit.data.tracks import Track
from stemkit.errors import ConfigError
from stemkit.models.base import SOURCES_4

SUBTYPES = ("FLOAT", "PCM_24", "PCM_16")


def export_tracks(tracks: Sequence[Track], out_root, *, sources: Sequence[str] = SOURCES_4,
                  subtype: str = "FLOAT", sample_rate: int | None = None,
                  overwrite: bool = False, quiet: bool = False) -> list[Path]:
    """Write each track's mixture and ``sources`` as ``out_root/<split>/<name>/*.wav``.

    ``subtype``: ``FLOAT`` (default, exact), ``PCM_24`` or ``PCM_16``; PCM samples beyond full
    scale are clamped per sample, never rescaled per file, so the stems keep summing to the
    mixture. Returns the song folders, in the order of ``tracks``.
    """
    from tqdm import tqdm

    if subtype not in SUBTYPES:
        raise ConfigError(f"subtype must be one of {', '.join(SUBTYPES)}, got {subtype!r}")
    out_root = Path(out_root).expanduser()
    names = ["mixture", *sources]
    folders = []
    bar = tqdm(tracks, unit="track", desc="export", leave=False, file=sys.stderr,
               disable=quiet or not sys.stderr.isatty())
    for track in bar:
        split = track.meta.get("split")
        folder = out_root / split / track.name if split else out_root / track.name
        files = [folder / f"{name}.wav" for name in names]
        inputs = {source_path(f).resolve() for f in track.files()}
        if any(f.resolve() in inputs for f in files):
            raise ConfigError(f"export would overwrite the input files of {track.name!r}; "
                              f"choose another output folder", path=str(folder))
        folders.append(folder)
        if not overwrite and all(f.is_file() for f in files):
            continue
        mix, stems, sr = track.load(sources, sample_rate=sample_rate)
        for path, audio in zip(files, [mix, *stems]):
            write_audio(path, audio, sr, subtype=subtype, clip="clamp")
    return folders
