"""Free-form stem folders: ``root/SONG/<stem>.<ext>`` with configurable file-name matching.

Each song is a folder of audio files. A file belongs to the first requested source whose
name patterns (``fnmatch``, case-insensitive, on the file name without extension) match it;
every source also matches its own name. ``mixture``/``mix`` files are the mixture. Files that
match no source are added to ``other`` when ``other`` is requested (MUSDB's convention: other is
everything else), and otherwise kept under their own name, so they still count in a summed
mixture but are never a target.
"""

from __future__ import annotations

import fnmatch
from pathlib import Path
from typing import Sequence

from stemkit.audio.formats import SOUNDFILE_EXTENSIONS
from stemkit.errors import ConfigError

#: Audio files a song folder may hold: what libsndfile reads, plus AAC files (through ffmpeg).
AUDIO_EXTS = SOUNDFILE_EXTENSIONS + (".m4a", ".aac")

#: File-name patterns tried for each source (extend with ``names=``).
DEFAULT_NAMES: dict[str, list[str]] = {
    "mixture": ["mixture", "mix", "full", "master"],
    "drums": ["drums", "drum", "drumkit", "drum_kit", "percussion", "perc", "kick*", "snare*",
              "hihat*", "hi_hat*", "toms", "tom_*", "cymbal*", "overhead*", "bass_drum*"],
    "bass": ["bass", "bass_guitar", "bassguitar", "bass_synth", "bassline"],
    "other": ["other", "rest", "instrumental_other"],
    "vocals": ["vocals", "vocal", "vox", "voice*", "lead_vocal*", "backing_vocal*", "singing"],
}


def song_dirs(folder: Path) -> list[Path]:
    """Sub-folders of ``folder`` (hidden ones skipped), sorted."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_dir() and not p.name.startswith("."))


def songs_in(folder: Path) -> list[Path]:
    """Song folders of ``folder``; a folder that holds audio files and no song folders is
    itself the one song (``find_tracks("path/to/one_song")``)."""
    songs = [d for d in song_dirs(folder) if audio_files(d)]
    if not songs and audio_files(folder):
        return [folder]
    return songs


def audio_files(folder: Path) -> list[Path]:
    """Audio files directly in ``folder``, sorted (``.stem.mp4`` containers excluded)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith(".")
                  and p.suffix.lower() in AUDIO_EXTS)


def name_patterns(sources: Sequence[str], names: dict | None) -> dict[str, list[str]]:
    """Patterns per source (mixture first): user ``names`` override the defaults per key."""
    names = dict(names or {})
    for key, value in names.items():
        if isinstance(value, str):
            names[key] = [value]
        elif not isinstance(value, (list, tuple)) or not all(isinstance(v, str) for v in value):
            raise ConfigError(f"names[{key!r}] must be a pattern or a list of patterns")
    table = {}
    for source in ("mixture", *sources):
        patterns = names.get(source, DEFAULT_NAMES.get(source, []))
        table[source] = [p.lower() for p in [source, *patterns]]
    return table


def match_source(file_stem: str, table: dict[str, list[str]]) -> str | None:
    """The first source (mixture first, then in order) with a pattern matching ``file_stem``."""
    stem = file_stem.lower()
    for source, patterns in table.items():
        if any(fnmatch.fnmatchcase(stem, p) for p in patterns):
            return source
    return None


def find_folder_tracks(root: Path, *, split=None, sources=(), names=None) -> list:
    """Every sub-folder of ``root`` (or ``root/split``) holding audio files is one track."""
    from stemkit.data.tracks import Track

    if split is not None:
        if not (root / split).is_dir():
            raise ConfigError(f"split {split!r} not found in {root}")
        root = root / split
    table = name_patterns(sources, names)
    tracks = []
    for song in songs_in(root):
        stems: dict[str, list[str]] = {}
        mixture, unmatched = None, []
        for path in audio_files(song):
            source = match_source(path.stem, table)
            if source == "mixture":
                mixture = str(path)
            elif source is not None:
                stems.setdefault(source, []).append(str(path))
            else:
                unmatched.append(path)
        for path in unmatched:
            key = "other" if "other" in sources else path.stem.lower()
            stems.setdefault(key, []).append(str(path))
        if not stems and mixture is None:
            continue
        tracks.append(Track(song.name, {k: v[0] if len(v) == 1 else v for k, v in stems.items()},
                            mixture, None,
                            {"layout": "folder", "split": split, "path": str(song),
                             "unmatched": [p.name for p in unmatched]}))
    return tracks
