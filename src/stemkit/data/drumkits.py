"""Recorded acoustic drum kits (Debian's ``avldrums.lv2-soundfont``) for the drum tracks.

``avldrums.lv2`` depends on ``avldrums.lv2-soundfont``, which installs two multi-sampled recorded
kits as SoundFonts: ``Black_Pearl_4_LV2.sf2`` and ``Red_Zeppelin_4_LV2.sf2`` (into
``/usr/share/sounds/sf2`` and ``/usr/lib/lv2/avldrums.lv2``). Each holds one preset (bank 0,
program 0) covering GM drum keys 36-61 with up to five velocity layers and several round-robin
samples per layer, recorded with room and overhead microphones. They are drum kits only, so general
SoundFont discovery leaves them out (:func:`is_drum_kit`) and they are used through
``RenderConfig.drum_soundfonts`` instead.

A drum track rendered with a kit: notes the kit covers are played by it (GM key 35, acoustic bass
drum, is played as 36, the kick), the rest (congas, timbales, whistles... above key 61) by the
stem's ordinary GM SoundFont, and the two parts are summed.
"""

from __future__ import annotations

import copy
from functools import lru_cache
from pathlib import Path

import numpy as np

KIT_FILES = ("Black_Pearl_4_LV2.sf2", "Red_Zeppelin_4_LV2.sf2")
KIT_DIRS = ("/usr/share/sounds/sf2", "/usr/lib/lv2/avldrums.lv2", "/usr/share/soundfonts")
KEY_ALIASES = {35: 36}  # acoustic bass drum -> bass drum 1: the kits have one kick


def is_drum_kit(path: str | Path) -> bool:
    """True for the avldrums kits (drum-only SoundFonts: no melodic presets)."""
    return Path(path).name in KIT_FILES


def installed_drum_kits() -> list[Path]:
    """The avldrums kits found on this machine (resolved, one entry per file name)."""
    found: dict[str, Path] = {}
    for folder in KIT_DIRS:
        for name in KIT_FILES:
            path = Path(folder) / name
            if name not in found and path.is_file():
                found[name] = path.resolve()
    return [found[n] for n in KIT_FILES if n in found]


@lru_cache(maxsize=8)
def kit_keys(path: str) -> frozenset[int]:
    """MIDI keys the SoundFont's first preset (in TinySoundFont's order) plays."""
    from .render.sf2_presets import preset_regions

    presets = preset_regions(str(path))
    if not presets:
        return frozenset()
    return frozenset(k for r in presets[0] for k in range(r.lokey, r.hikey + 1))


def split_for_kit(instrument, keys: frozenset[int]):
    """``(on_kit, elsewhere)``: copies of a drum ``instrument`` with the notes ``keys`` cover
    (after :data:`KEY_ALIASES`) and the notes they do not."""
    on_kit, elsewhere = copy.deepcopy(instrument), copy.deepcopy(instrument)
    on_kit.notes, elsewhere.notes = [], []
    for note in instrument.notes:
        note = copy.copy(note)
        note.pitch = KEY_ALIASES.get(note.pitch, note.pitch)
        (on_kit if note.pitch in keys else elsewhere).notes.append(note)
    return on_kit, elsewhere


def render_drum_track(instrument, kit: str | Path, fallback_font: str | Path, *, backend: str,
                      sample_rate: int, n_samples: int, note_cache: bool = True) -> np.ndarray:
    """A drum ``pretty_midi.Instrument`` -> ``(2, n_samples)`` float32: the kit plays what it
    covers, ``fallback_font`` the rest."""
    from .render.tracks import render_instrument

    on_kit, elsewhere = split_for_kit(instrument, kit_keys(str(kit)))
    out = np.zeros((2, n_samples), np.float32)
    # the kits' single preset sits at bank 0 program 0: the backend's drum-bank fallback finds it
    for part, font in ((on_kit, kit), (elsewhere, fallback_font)):
        if part.notes:
            part.program = 0 if part is on_kit else part.program
            out += render_instrument(part, soundfont=font, backend=backend, sample_rate=sample_rate,
                                     n_samples=n_samples, note_cache=note_cache)
    return out
