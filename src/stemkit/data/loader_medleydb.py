"""MedleyDB: ``root/SONG/SONG_METADATA.yaml`` + ``root/SONG/SONG_STEMS/*.wav``.

Each stem's ``instrument`` label (MedleyDB taxonomy) is mapped to one of drums / bass / other /
vocals with :data:`INSTRUMENT_TO_SOURCE`; labels not in the table go to ``other``. Stems of the
same target are summed. The mixture is the sum of the stems, not ``SONG_MIX.wav``: MedleyDB
mixes apply per-stem mixing coefficients, so the MIX file is not the sum of the stem files and
would not equal the sum of the targets. The MIX file name is kept in ``meta["mix_file"]``.
The official download nests songs in ``Audio/``; pointing at either folder works.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from stemkit.errors import ConfigError

_VOCALS = ("male singer", "female singer", "male speaker", "female speaker", "male rapper",
           "female rapper", "beatboxing", "vocalists", "choir", "vocal")
_DRUMS = ("drum set", "drum machine", "kick drum", "snare drum", "bass drum", "toms", "cymbal",
          "high hat", "hi-hat", "auxiliary percussion", "tambourine", "bongo", "conga", "darbuka",
          "doumbek", "tabla", "timpani", "triangle", "sleigh bells", "cowbell", "cabasa", "gong",
          "guiro", "gu", "castanet", "claps", "rattle", "shaker", "maracas", "drums",
          "percussion")
_BASS = ("electric bass", "double bass", "bass guitar", "bass synthesizer", "acoustic bass")

#: MedleyDB instrument label -> target source. Unpitched percussion is drums (as in MUSDB18);
#: pitched percussion (vibraphone, marimba, xylophone, glockenspiel, chimes), synthesizers,
#: crowd noise, fx and everything else is other.
INSTRUMENT_TO_SOURCE: dict[str, str] = {
    **{name: "vocals" for name in _VOCALS},
    **{name: "drums" for name in _DRUMS},
    **{name: "bass" for name in _BASS},
}


def instrument_source(instrument) -> str:
    """Target for a stem's ``instrument`` field (a label, or a list of labels: the first wins)."""
    if isinstance(instrument, (list, tuple)):
        instrument = instrument[0] if instrument else ""
    return INSTRUMENT_TO_SOURCE.get(str(instrument or "").strip().lower(), "other")


def medleydb_root(root: Path) -> Path | None:
    """The folder whose sub-folders hold ``*_METADATA.yaml`` (``root`` or ``root/Audio``)."""
    for folder in (root, root / "Audio"):
        if folder.is_dir() and any(folder.glob("*/*_METADATA.yaml")):
            return folder
    return None


def find_medleydb_tracks(root: Path, *, split=None, sources=(), names=None) -> list:
    """One :class:`Track` per song folder with a ``*_METADATA.yaml`` file."""
    from stemkit.data.tracks import Track

    if split is not None:
        raise ConfigError("MedleyDB has no splits; make one with a list of track names")
    base = medleydb_root(root)
    if base is None:
        return []
    tracks = []
    for meta_path in sorted(base.glob("*/*_METADATA.yaml")):
        song = meta_path.parent
        try:
            meta = yaml.safe_load(meta_path.read_text()) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"cannot read MedleyDB metadata: {exc}", path=str(meta_path)) from None
        stem_dir = song / str(meta.get("stem_dir") or f"{song.name}_STEMS")
        stems: dict[str, list[str]] = {}
        labels = {}
        for key, entry in sorted((meta.get("stems") or {}).items()):
            entry = entry or {}
            path = stem_dir / str(entry.get("filename", ""))
            if not path.is_file():
                continue  # some releases omit stems listed in the metadata
            source = instrument_source(entry.get("instrument"))
            stems.setdefault(source, []).append(str(path))
            labels[key] = entry.get("instrument")
        if not stems:
            continue
        tracks.append(Track(song.name, {k: v[0] if len(v) == 1 else v for k, v in stems.items()},
                            None, None,
                            {"layout": "medleydb", "split": None, "path": str(song),
                             "artist": meta.get("artist"), "genre": meta.get("genre"),
                             "has_bleed": meta.get("has_bleed"), "instruments": labels,
                             "mix_file": meta.get("mix_filename")}))
    return tracks
