"""Summing rendered tracks into fine-class stems, stem groups and the mixture (exactly)."""

from __future__ import annotations

import numpy as np

from .instruments import STEM_GROUPS, stem_group


def exact_sum(signals: list[np.ndarray], like_shape: tuple[int, int]) -> np.ndarray:
    """``np.sum`` in float32 of ``signals`` (each ``(C, T)``), zeros when the list is empty.

    Every sum in stemkit's data path goes through here, so "mixture == sum of written stems" is
    bit-exact when a reader repeats ``np.sum(np.stack(stems), axis=0, dtype=np.float32)``.
    """
    if not signals:
        return np.zeros(like_shape, dtype=np.float32)
    if len(signals) == 1:  # the sum of one signal is itself: skip the copy
        return np.asarray(signals[0], dtype=np.float32)
    # np.sum over axis 0 of a stack adds the rows one after the other (pairwise summation only
    # applies along the contiguous axis), so in-place sequential adds give the same bits without
    # the stacked copy (tested against np.sum(np.stack(...))).
    acc = np.add(signals[0], signals[1], dtype=np.float32)
    for s in signals[2:]:
        np.add(acc, s, out=acc, dtype=np.float32)
    return acc


def fine_stems(tracks) -> dict[str, np.ndarray]:
    """Fine class -> ``(2, T)``: the sum of the tracks of that class."""
    shape = tracks[0].audio.shape
    classes = sorted({t.fine_class for t in tracks})
    return {c: exact_sum([t.audio for t in tracks if t.fine_class == c], shape) for c in classes}


def group_stems(fine: dict[str, np.ndarray], shape: tuple[int, int],
                groups: tuple[str, ...] = STEM_GROUPS) -> dict[str, np.ndarray]:
    """Stem group -> ``(2, T)``: the sum of its fine-class stems (zeros when absent)."""
    return {g: exact_sum([a for c, a in sorted(fine.items()) if stem_group(c) == g], shape)
            for g in groups}


def mixture_of(stems: dict[str, np.ndarray]) -> np.ndarray:
    """The mixture: exact float32 sum of ``stems`` in their dict order."""
    first = next(iter(stems.values()))
    return exact_sum(list(stems.values()), first.shape)


def render_midi_stems(midi, **kwargs) -> dict[str, np.ndarray]:
    """Convenience: MIDI -> ``{"drums","bass","other","vocals"}`` dry ``(2, T)`` stems.

    ``kwargs`` go to :func:`~stemkit.data.render.tracks.render_tracks`. No mixing effects; see
    :func:`stemkit.data.corpus.make_song` for realistic stems.
    """
    from .tracks import render_tracks

    tracks = render_tracks(midi, **kwargs)
    if not tracks:
        raise ValueError("the MIDI has no notes")
    return group_stems(fine_stems(tracks), tracks[0].audio.shape)
