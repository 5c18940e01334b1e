"""Songs from music21's bundled corpus (multi-part works: chorales, quartets...).

Each part gets an instrument drawn per song: the lowest part may become a bass, the top part a
sung line, the others pianos, strings, organs, winds or brass. music21 is imported lazily (it is a
large optional dependency: ``pip install music21``).
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from ...errors import ConfigError

_INNER = (0, 6, 19, 40, 41, 42, 48, 49, 56, 60, 68, 70, 71, 73, 24)
_BASS = (32, 33, 42, 43, 58, 70)
COMPOSERS = ("bach", "mozart", "haydn", "beethoven", "palestrina", "monteverdi", "schumann")


@lru_cache(maxsize=1)
def corpus_paths() -> tuple[str, ...]:
    try:
        from music21 import corpus
    except ImportError as exc:
        raise ConfigError("the music21 source needs music21: pip install music21") from exc
    paths = []
    for composer in COMPOSERS:
        paths.extend(str(p) for p in corpus.getComposer(composer))
    return tuple(sorted(set(p for p in paths if p.endswith((".mxl", ".xml", ".krn", ".musicxml")))))


class Music21Corpus:
    """Per seed: a multi-part work, instruments chosen per part, an optional time window."""

    def __init__(self, min_parts: int = 2, max_tries: int = 20):
        self.min_parts = min_parts
        self.max_tries = max_tries

    def song(self, seed: int, duration: float | None):
        import pretty_midi
        from music21 import converter

        from .crop import crop_midi

        rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0x2121]))
        paths = corpus_paths()
        for _ in range(self.max_tries):
            path = paths[int(rng.integers(len(paths)))]
            try:
                score = converter.parse(path)
            except Exception:  # noqa: BLE001 - a few corpus files do not parse; try another
                continue
            if len(score.parts) < self.min_parts:
                continue
            tempo = float(rng.uniform(60, 120))
            pm = _score_to_midi(score, tempo, rng, pretty_midi)
            if pm is None:
                continue
            end = pm.get_end_time()
            start = float(rng.uniform(0, end - duration)) if duration and end > duration else 0.0
            info = {"source": "music21", "work": path.split("music21/corpus/")[-1],
                    "tempo": round(tempo, 1), "start_s": round(start, 3),
                    "parts": [(i.name, int(i.program)) for i in pm.instruments]}
            return crop_midi(pm, start, duration or end), info
        raise ConfigError("could not find a parseable multi-part work in the music21 corpus")


def _score_to_midi(score, tempo: float, rng, pretty_midi):
    parts = []
    for part in score.parts:
        notes = []
        flat = part.flatten()
        for el in flat.notes:
            start = float(el.offset) * 60.0 / tempo
            length = max(0.05, float(el.quarterLength) * 60.0 / tempo)
            for p in getattr(el, "pitches", ()):
                notes.append((start, start + length * 0.95, int(p.midi)))
        if notes:
            parts.append(notes)
    if len(parts) < 2:
        return None
    means = [np.mean([n[2] for n in p]) for p in parts]
    lowest, highest = int(np.argmin(means)), int(np.argmax(means))
    pm = pretty_midi.PrettyMIDI(initial_tempo=tempo)
    for k, notes in enumerate(parts):
        if k == lowest and rng.random() < 0.7:
            program, name = int(rng.choice(_BASS)), "bass"
        elif k == highest and rng.random() < 0.6:
            program, name = 52 + int(rng.integers(3)), "vocals"
        else:
            program, name = int(rng.choice(_INNER)), f"part{k + 1}"
        inst = pretty_midi.Instrument(program, name=name)
        for s, e, p in notes:
            inst.notes.append(pretty_midi.Note(int(rng.integers(70, 100)), p, s, e))
        pm.instruments.append(inst)
    return pm
