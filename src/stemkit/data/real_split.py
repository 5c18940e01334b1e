"""The project's fixed split of the 94 real MUSDB18 7-second excerpts into validation and training.

The list itself is committed as ``real_split.json`` (names only, never audio), so every model
and every data change is validated on the same real clips. It was made once by
:func:`choose_split` with seed 8010: excerpts are grouped by artist so no artist is on both
sides; the seven "Music Delta" genre demos are one group that is always held out, because
``Music Delta - 80s Rock`` is also the project's real sanity-check clip
(``../shared/data/real/``) and must never be trained on; the remaining artist groups are
shuffled and added to validation until it holds 30 clips.

The audio is looked up in ``root/train/<name>.stem.mp4``; ``root`` defaults to the environment
variable ``STEMKIT_REAL_DATA``, else ``../shared/data/musdb18-7s`` next to the repository.
"""

from __future__ import annotations

import json
import os
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np

from stemkit.data.tracks import Track
from stemkit.errors import ConfigError

SPLIT_FILE = Path(__file__).with_name("real_split.json")
PARTS = ("valid", "train")
SPLIT_SEED = 8010
VALID_SIZE = 30
HELD_OUT_GROUPS = ("Music Delta",)
ENV_VAR = "STEMKIT_REAL_DATA"


def artist_of(name: str) -> str:
    """``"Artist - Title"`` -> ``"Artist"`` (the grouping key of the split)."""
    return name.split(" - ", 1)[0].strip()


def choose_split(names: Sequence[str], *, valid_size: int = VALID_SIZE, seed: int = SPLIT_SEED,
                 held_out: Sequence[str] = HELD_OUT_GROUPS) -> dict[str, list[str]]:
    """Artist-grouped random split: ``{"valid": [...], "train": [...]}``, names sorted.

    Groups in ``held_out`` go to validation first; then groups in seeded random order are
    added when they fit, until validation has ``valid_size`` names.
    """
    groups: dict[str, list[str]] = {}
    for name in sorted(names):
        groups.setdefault(artist_of(name), []).append(name)
    valid: list[str] = []
    for artist in held_out:
        valid.extend(groups.get(artist, []))
    order = [a for a in sorted(groups) if a not in held_out]
    np.random.default_rng(seed).shuffle(order)
    for artist in order:
        if len(valid) + len(groups[artist]) <= valid_size:
            valid.extend(groups[artist])
    chosen = set(valid)
    return {"valid": sorted(valid), "train": sorted(n for n in names if n not in chosen)}


@lru_cache(maxsize=1)
def real_split() -> dict[str, list[str]]:
    """The committed split: ``{"valid": [30 names], "train": [64 names]}``."""
    data = json.loads(SPLIT_FILE.read_text())
    return {part: list(data[part]) for part in PARTS}


def default_root() -> Path:
    """``$STEMKIT_REAL_DATA`` or ``<repository>/../shared/data/musdb18-7s``."""
    if os.environ.get(ENV_VAR):
        return Path(os.environ[ENV_VAR]).expanduser()
    repository = Path(__file__).resolve().parents[3]
    return repository.parent / "shared" / "data" / "musdb18-7s"


def real_tracks(root=None, part: str = "valid") -> list[Track]:
    """The real excerpts of one part (``"valid"`` or ``"train"``) as MUSDB ``.stem.mp4`` tracks."""
    from stemkit.data.loader_layouts import find_musdb_tracks

    if part not in PARTS:
        raise ConfigError(f"part must be one of {', '.join(PARTS)}, got {part!r}")
    root = Path(root).expanduser() if root is not None else default_root()
    folder = root / "train"
    if not folder.is_dir():
        raise ConfigError(f"real MUSDB18 excerpts not found in {folder}; set {ENV_VAR} to the "
                          f"folder holding train/*.stem.mp4")
    by_name = {t.name: t for t in find_musdb_tracks(folder)}
    wanted = real_split()[part]
    missing = [n for n in wanted if n not in by_name]
    if missing:
        raise ConfigError(f"{len(missing)} of the {len(wanted)} {part} excerpts are missing from "
                          f"{folder} (first: {missing[0]!r})")
    tracks = [by_name[n] for n in wanted]
    for track in tracks:
        track.meta["real_split"] = part
    return tracks
