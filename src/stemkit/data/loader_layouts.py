"""Finding tracks in the standard dataset layouts (MUSDB18-HQ, MUSDB18 ``.stem.mp4``, DSD100).

Every finder takes ``(root, *, split, sources, names)`` and returns a list of
:class:`~stemkit.data.tracks.Track`; :func:`detect_layout` guesses the layout of a folder.
MedleyDB and free-form folders live in :mod:`loader_medleydb` and :mod:`loader_folder`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Callable

from stemkit.data.loader_folder import AUDIO_EXTS, audio_files, find_folder_tracks, song_dirs, songs_in
from stemkit.data.loader_medleydb import find_medleydb_tracks, medleydb_root
from stemkit.data.tracks import Track
from stemkit.errors import ConfigError

MUSDB_SPLITS = ("train", "test", "valid")
#: Stream order of a MUSDB18 ``.stem.mp4`` file (stream 0 is the mixture).
MUSDB_STREAMS = {"mixture": 0, "drums": 1, "bass": 2, "other": 3, "vocals": 4}
STEM_MP4 = ".stem.mp4"
#: DSD100 split folder for each split name (``train`` is DSD100's ``Dev``).
DSD100_SPLITS = {"dev": "Dev", "train": "Dev", "test": "Test"}


def split_dirs(root: Path, split: str | None, known: tuple[str, ...]) -> list[tuple[str | None, Path]]:
    """``[(split_name, folder)]`` to scan: the named split, every known split present, or root.

    A root without any split folder is itself one split (``split`` name None), so
    ``find_tracks("musdb18hq/train")`` works as well as ``find_tracks("musdb18hq", split="train")``.
    """
    present = [(s, root / s) for s in known if (root / s).is_dir()]
    if split is not None:
        if (root / split).is_dir():
            return [(split, root / split)]
        if present:
            raise ConfigError(f"split {split!r} not found in {root}; it has "
                              f"{', '.join(s for s, _ in present)}")
        raise ConfigError(f"split {split!r} not found in {root}")
    return present or [(None, root)]


#: MUSDB18's official validation tracks, a subset of its train folder (the ``musdb`` package's
#: list). ``split="valid"`` picks them when the dataset has no ``valid`` folder of its own.
#: ``split="train"`` stays the whole train folder (training configs drop these tracks with
#: ``exclude_tracks``; stemkit's real split filters the train folder by name).
MUSDB_VALID_TRACKS = (
    "Actions - One Minute Smile", "Clara Berry And Wooldog - Waltz For My Victims",
    "Johnny Lokke - Promises & Lies", "Patrick Talbot - A Reason To Leave",
    "Triviul - Angelsaint", "Alexander Ross - Goodbye Bolero", "Fergessen - Nos Palpitants",
    "Leaf - Summerghost", "Skelpolu - Human Mistakes", "Young Griffo - Pennies",
    "ANiMAL - Rockshow", "James May - On The Line", "Meaxic - Take A Step",
    "Traffic Experiment - Sirens",
)


def with_musdb_validation(finder: Callable[..., list[Track]]) -> Callable[..., list[Track]]:
    """Wrap a MUSDB finder so ``split="valid"`` gives MUSDB18's official validation tracks of
    the train folder when ``root`` has a ``train`` folder but no ``valid`` folder."""

    def find(root: Path, *, split=None, sources=(), names=None) -> list[Track]:
        if split != "valid" or not (root / "train").is_dir() or (root / "valid").is_dir():
            return finder(root, split=split, sources=sources, names=names)
        valid = set(MUSDB_VALID_TRACKS)
        chosen = [t for t in finder(root, split="train", sources=sources, names=names)
                  if t.name in valid]
        for track in chosen:
            track.meta["split"] = "valid"
        return chosen

    find.__doc__ = finder.__doc__
    return find


def find_musdb_hq_tracks(root: Path, *, split=None, sources=(), names=None) -> list[Track]:
    """``root/{train,test,valid}/SONG/{mixture,drums,bass,other,vocals}.<wav|flac|...>``.

    Every audio file of a song folder is a stem named after the file (extra stems such as
    ``piano.wav`` are kept: they count in the mixture when there is no mixture file).
    """
    tracks = []
    for split_name, folder in split_dirs(root, split, MUSDB_SPLITS):
        for song in songs_in(folder):
            files = {f.stem.lower(): f for f in audio_files(song)}
            mixture = files.pop("mixture", None)
            if not files and mixture is None:
                continue
            tracks.append(Track(song.name, {k: str(v) for k, v in files.items()},
                                str(mixture) if mixture else None, None,
                                {"layout": "musdb_hq", "split": split_name, "path": str(song)}))
    return tracks


def find_musdb_tracks(root: Path, *, split=None, sources=(), names=None) -> list[Track]:
    """``root/{train,test}/*.stem.mp4``: five AAC streams mixture, drums, bass, other, vocals."""
    tracks = []
    for split_name, folder in split_dirs(root, split, MUSDB_SPLITS):
        for path in sorted(folder.glob("*" + STEM_MP4)):
            stems = {k: (str(path), i) for k, i in MUSDB_STREAMS.items() if k != "mixture"}
            tracks.append(Track(path.name[: -len(STEM_MP4)], stems, (str(path), 0), None,
                                {"layout": "musdb", "split": split_name, "path": str(path)}))
    return tracks


def find_dsd100_tracks(root: Path, *, split=None, sources=(), names=None) -> list[Track]:
    """``root/Mixtures/{Dev,Test}/SONG/mixture.wav`` + ``root/Sources/{Dev,Test}/SONG/<stem>.wav``."""
    if split is None:
        folders = [f for f in ("Dev", "Test") if (root / "Sources" / f).is_dir()]
    elif split.lower() in DSD100_SPLITS:
        folders = [DSD100_SPLITS[split.lower()]]
    else:
        raise ConfigError(f"DSD100 has the splits dev (= train) and test, not {split!r}")
    tracks = []
    for folder in folders:
        for song in song_dirs(root / "Sources" / folder):
            stems = {f.stem.lower(): str(f) for f in audio_files(song)}
            mix_dir = root / "Mixtures" / folder / song.name
            mixes = [f for f in audio_files(mix_dir) if f.stem.lower() == "mixture"] \
                if mix_dir.is_dir() else []
            tracks.append(Track(song.name, stems, str(mixes[0]) if mixes else None, None,
                                {"layout": "dsd100", "split": folder.lower(), "path": str(song)}))
    return tracks


FINDERS: dict[str, Callable[..., list[Track]]] = {
    "musdb_hq": with_musdb_validation(find_musdb_hq_tracks),
    "musdb": with_musdb_validation(find_musdb_tracks),
    "dsd100": find_dsd100_tracks,
    "medleydb": find_medleydb_tracks,
    "folder": find_folder_tracks,
}


def detect_layout(root: Path) -> str | None:
    """Guess the layout of ``root`` from its folder names and files, or None when no audio."""
    if (root / "Sources").is_dir() and (root / "Mixtures").is_dir():
        return "dsd100"
    candidates = [root] + [root / s for s in MUSDB_SPLITS if (root / s).is_dir()]
    if any(next(folder.glob("*" + STEM_MP4), None) for folder in candidates):
        return "musdb"
    if medleydb_root(root) is not None:
        return "medleydb"
    canonical = set(MUSDB_STREAMS)
    for folder in candidates:
        for song in songs_in(folder):
            stems = {f.stem.lower() for f in audio_files(song)}
            if "mixture" in stems or len(stems & canonical) >= 2:
                return "musdb_hq"
    if any(songs_in(folder) for folder in candidates):
        return "folder"
    return None


__all__ = ["AUDIO_EXTS", "FINDERS", "detect_layout", "split_dirs"]
