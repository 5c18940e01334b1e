"""Stem levels drawn from real mixes: each real training excerpt's measured stem levels.

``levels_real.json`` (committed next to this file) holds, for each of the 64 real training
excerpts of :mod:`stemkit.data.real_split`, the active RMS of every stem relative to its mixture
in dB (:func:`stemkit.data.mixing.levels.stem_levels_db`), measured with
:func:`measure_real_levels`::

    python -m stemkit.data.levels_real            # rewrites levels_real.json (needs ../shared)

With ``RenderConfig.stem_levels: real`` a song takes the whole level vector of one excerpt drawn
at random (plus a small jitter), so the balance between stems, and which stems are nearly silent,
follows real mixes jointly instead of four independent normal draws. A stem silent in the excerpt
(a 7 s clip without vocals) gets :data:`SILENT_DB`, i.e. it is mixed in inaudibly.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
from functools import lru_cache
from pathlib import Path

import numpy as np

LEVELS_FILE = Path(__file__).with_name("levels_real.json")
SOURCES = ("drums", "bass", "other", "vocals")
SILENT_DB = -60.0  # a stem with no active frames (or none at all)
JITTER_DB = 1.5  # sd of the per-stem jitter around the excerpt's levels


def measure_real_levels(part: str = "train") -> dict:
    """Measure the levels of the real ``part`` excerpts -> the JSON document."""
    from .mixing.levels import level_statistics, stem_levels_db
    from .real_split import real_tracks

    rows = []
    for track in real_tracks(part=part):
        mix, stems, sr = track.load(SOURCES)
        levels = stem_levels_db(mix, dict(zip(SOURCES, stems)), sr)
        rows.append({"name": track.name,
                     "levels_db": {s: round(max(v, SILENT_DB), 2) for s, v in levels.items()}})
    stats = level_statistics([r["levels_db"] for r in rows])
    return {"description": "active RMS of each stem relative to its mixture (dB), real training excerpts "
                           "of stemkit.data.real_split; stemkit.data.mixing.levels.stem_levels_db",
            "part": part, "silent_db": SILENT_DB, "summary_mean_sd_db_non_silent": stats, "excerpts": rows}


@lru_cache(maxsize=1)
def real_levels() -> tuple[dict, ...]:
    """The committed per-excerpt levels: ``({"drums": dB, ...}, ...)``."""
    data = json.loads(LEVELS_FILE.read_text())
    return tuple(dict(r["levels_db"]) for r in data["excerpts"])


def draw_real_levels(rng: np.random.Generator, jitter_db: float = JITTER_DB) -> dict[str, float]:
    """One excerpt's stem levels (dB, relative to the mix), each jittered by ``N(0, jitter_db)``;
    silent stems stay at :data:`SILENT_DB`."""
    table = real_levels()
    levels = table[int(rng.integers(len(table)))]
    return {s: (v if v <= SILENT_DB else float(v + rng.normal(0.0, jitter_db))) for s, v in levels.items()}


def main() -> int:
    data = measure_real_levels("train")
    fd, tmp = tempfile.mkstemp(prefix=".levels_real.", suffix=".json", dir=LEVELS_FILE.parent)
    with os.fdopen(fd, "w") as f:
        json.dump(data, f, indent=1)
        f.write("\n")
    os.replace(tmp, LEVELS_FILE)
    print(f"{LEVELS_FILE}: {len(data['excerpts'])} excerpts; mean, sd (dB, non-silent): "
          f"{data['summary_mean_sd_db_non_silent']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
