"""Songs from a folder of the user's MIDI files (e.g. the Lakh MIDI dataset).

As in seed 001, a song is kept only if it contains every requested instrument (fine classes such
as ``piano`` or stem groups such as ``bass``); unreadable files are skipped.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from ...errors import ConfigError
from ..render.instruments import fine_class, stem_group

MIDI_SUFFIXES = (".mid", ".midi", ".kar")


def list_midi_files(folder: str | Path) -> list[Path]:
    """All MIDI files below ``folder``, sorted (a stable order makes seeds reproducible)."""
    root = Path(folder)
    if not root.is_dir():
        raise ConfigError("not a folder of MIDI files", path=str(folder))
    files = sorted(p for p in root.rglob("*") if p.suffix.lower() in MIDI_SUFFIXES and p.is_file())
    if not files:
        raise ConfigError("no .mid/.midi files found", path=str(folder))
    return files


def instrument_classes(pm) -> set[str]:
    """Fine classes and stem groups present in ``pm`` (tracks with notes only)."""
    found = set()
    for inst in pm.instruments:
        if inst.notes:
            fine = fine_class(inst.program, inst.is_drum, inst.name)
            found |= {fine, stem_group(fine)}
    return found


def has_instruments(pm, required: tuple[str, ...]) -> bool:
    return set(required) <= instrument_classes(pm)


class MidiFolder:
    """Picks, per seed, a MIDI file that passes the instrument filter and a window of it."""

    def __init__(self, folder: str | Path, require: tuple[str, ...] = (), max_tries: int = 50):
        self.files = list_midi_files(folder)
        self.require = tuple(require)
        self.max_tries = max_tries

    def song(self, seed: int, duration: float | None):
        """``(PrettyMIDI, info)`` for ``seed``; raises ConfigError if no file passes the filter."""
        import pretty_midi

        from .crop import crop_midi

        rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0x3141]))
        order = rng.permutation(len(self.files))[: self.max_tries]
        for idx in order:
            path = self.files[int(idx)]
            try:
                with warnings.catch_warnings():  # pretty_midi warns about most Lakh files
                    warnings.simplefilter("ignore")
                    pm = pretty_midi.PrettyMIDI(str(path))
            except Exception:  # noqa: BLE001 - real-world MIDI fails in many ways; skip the file
                continue
            if not any(i.notes for i in pm.instruments) or not has_instruments(pm, self.require):
                continue
            end = pm.get_end_time()
            start = 0.0
            if duration and end > duration:
                start = float(rng.uniform(0.0, end - duration))
            window = crop_midi(pm, start, duration or end)
            return window, {"source": "midi", "file": str(path), "start_s": round(start, 3)}
        raise ConfigError(f"no MIDI file among {len(order)} tried has all of: "
                          f"{', '.join(self.require) or 'any notes'}")
