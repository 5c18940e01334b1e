"""Finding SoundFonts on this machine and choosing one per song.

The default is the small GM SoundFont that ships inside pretty_midi's wheel (TimGM6mb.sf2), so
rendering works with no system package. Debian's ``fluid-soundfont-gm`` (FluidR3_GM.sf2) and
``musescore-general-soundfont`` (MuseScore_General.sf2/.sf3) are picked up when installed, as is
anything listed in ``$STEMKIT_SOUNDFONTS`` (paths separated by ``os.pathsep``; files or folders).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ...errors import ConfigError

SYSTEM_DIRS = ("/usr/share/sounds/sf2", "/usr/share/sounds/sf3", "/usr/share/soundfonts")
_SUFFIXES = (".sf2", ".sf3")


def bundled_soundfont() -> Path:
    """Path of the GM SoundFont bundled with pretty_midi (always present)."""
    import pretty_midi

    return Path(pretty_midi.__file__).with_name("TimGM6mb.sf2")


def _files_in(entry: Path) -> list[Path]:
    if entry.is_dir():
        return sorted(p for p in entry.iterdir() if p.suffix.lower() in _SUFFIXES and p.is_file())
    return [entry] if entry.is_file() and entry.suffix.lower() in _SUFFIXES else []


def discover_soundfonts(extra_dirs: tuple[str, ...] = ()) -> list[Path]:
    """All distinct SoundFont files found: bundled, system folders, ``$STEMKIT_SOUNDFONTS``.

    Symlinks (``default-GM.sf2``) are resolved so one file is never listed twice.
    """
    found: list[Path] = [bundled_soundfont()]
    env = [p for p in os.environ.get("STEMKIT_SOUNDFONTS", "").split(os.pathsep) if p]
    for entry in (*SYSTEM_DIRS, *env, *extra_dirs):
        found.extend(_files_in(Path(entry)))
    unique: dict[Path, Path] = {}
    for path in found:
        unique.setdefault(path.resolve(), path.resolve())
    # avldrums' recorded kits share /usr/share/sounds/sf2 but hold no melodic presets: they are
    # drawn for drum tracks only (RenderConfig.drum_soundfonts, stemkit.data.drumkits)
    from ..drumkits import is_drum_kit

    return [p for p in unique.values() if not is_drum_kit(p)]


def resolve_soundfonts(paths: list[str] | tuple[str, ...], *, discover: bool) -> list[Path]:
    """The pool of SoundFonts a run draws from.

    ``paths`` are user-given files/folders: with ``discover`` they join the discovered pool,
    without it they replace it. An empty result raises :class:`ConfigError`.
    """
    given: list[Path] = []
    for p in paths:
        files = _files_in(Path(p))
        if not files:
            raise ConfigError("not a SoundFont file (.sf2/.sf3) or a folder holding one", path=str(p))
        given.extend(f.resolve() for f in files)
    pool = (discover_soundfonts() if discover or not given else []) + given
    unique = list(dict.fromkeys(pool))
    if not unique:
        raise ConfigError("no SoundFont found")
    return unique


def choose_soundfont(pool: list[Path], rng: np.random.Generator) -> Path:
    """One SoundFont drawn uniformly from ``pool``."""
    return pool[int(rng.integers(len(pool)))]
