"""The note cache: render each distinct note of a track once with TinySoundFont, then add a copy
at every onset (sample-exact).

TinySoundFont sums independent voices, and a voice's audio depends only on its note: key, the
regions it plays, how long it is held, and velocity, which is a plain gain unless the region's
modulation envelope (pitch/filter) has a velocity-scaled attack. Drum grooves, bass lines, comping
and pads repeat the same few notes (a generated 30 s drum track: ~200 notes, ~10 distinct), so
most voice-samples are rendered once and copied. What differs from rendering the events one after
another (measured in ``tests/data_render`` and docs/rendering.md):

- **durations** are held for a multiple of ``grid`` samples (default 64: the block on which
  TinySoundFont itself updates envelopes), so a note-off moves by at most 32 samples (0.7 ms);
- **velocity** is a gain on the class's first note (exact up to float32 rounding); where the
  region's modulation envelope scales its attack with velocity, velocities share a render only
  within a bin of ``velocity_grid`` (8: that attack differs by at most 8/144 of its length);
- **exclusive classes** (hi-hat choke): a choked copy fades out over TinySoundFont's 10 ms fast
  release, following the voice rules replayed in :mod:`.note_plan`;
- **envelope blocks**: TinySoundFont steps envelopes every 64 samples from the start of each render
  call; a cached note's grid starts at its onset, the event path's at the previous event. The
  gain steps move by < 1.5 ms, far below hearing (measured differences: see docs/rendering.md);
- there is no voice limit (the event path steals voices past 256 sounding at once).

Tracks the cache cannot reproduce (controllers or bends after the first note, pedals, notes
mixing exclusive classes), and tracks with fewer than ``MIN_NOTES_PER_CLASS`` notes per distinct
note (where it would not pay), fall back to event-by-event rendering.
"""

from __future__ import annotations

import numpy as np
import torch

from ..mixing.spectral import one_thread
from .events import CONTROL, PITCH_BEND, EventList
from .note_plan import PlannedNote, plan_notes
from .sf2_presets import Region

DURATION_GRID = 64
VELOCITY_GRID = 8
# The cache renders each class once; below this many notes per class the event path is cheaper
# (TinySoundFont costs ~10 ns per voice-sample, not much more than adding a cached copy).
MIN_NOTES_PER_CLASS = 2.0
FAST_RELEASE_SECONDS = 0.01  # TSF_FASTRELEASETIME: the release of a choked voice
_CHUNK = 4096  # release rendered in chunks until one ends below the floor
_MAX_CHUNK = 1 << 13  # release chunks double up to this: finer steps stop closer to the floor
_CHECK = 256  # frames at a chunk's end compared with the floor
#: A cached note ends where it has decayed this far below its peak for good: the tail past that
#: point is inaudible by definition, and long releases (pads: 3-13 s) are much of the rendering.
FLOOR_DB = 60.0
_FLOOR = 10 ** (-FLOOR_DB / 20)


def _hold_samples(note: PlannedNote, grid: int, n_samples: int, n_fade: int) -> int:
    """How long the class's note is held. A choked note only sounds ``n_fade`` samples past its
    choke, so it counts as held at least that long (its fade then starts from the held sound)."""
    end = n_samples if note.release is None else note.release
    if note.choke is not None:
        end = min(end, note.choke + n_fade)
    held = end - note.onset
    return max(1, int(round(held / grid)) * grid) if grid > 1 else max(1, held)


def _needed(note: PlannedNote, n_samples: int, n_fade: int) -> int:
    """Samples of the note's audio that land in the track."""
    end = n_samples if note.choke is None else min(n_samples, note.choke + n_fade)
    return end - note.onset


def _class_key(note: PlannedNote, hold: int, regions: tuple[Region, ...], velocity_grid: int) -> tuple:
    # Velocity scales the gain (applied to each copy) and, for regions whose modulation envelope
    # moves pitch or filter, that envelope's attack time by (145 - v) / 144: velocities within
    # one ``velocity_grid`` bin give attack times within grid / 144 of that attack of each other.
    shaped = any(regions[i].velocity_shapes_sound for i in note.regions)
    return note.key, note.regions, hold, note.velocity // velocity_grid if shaped else None


def _render_note(synth, sf, chan: int, key: int, velocity: int, hold: int, limit: int) -> np.ndarray:
    """One note from silence: ``(L, 2)`` float32, L <= ``limit``, cut where it has decayed for
    good below ``FLOOR_DB`` under its peak (the rest of a long release is inaudible by definition
    and, for pads re-struck every bar, most of the rendering)."""
    synth.noteon(chan, key, velocity)
    held = np.empty((min(hold, limit), 2), np.float32)
    sf.render(memoryview(held.reshape(-1)).cast("B"), False)
    # The floor is set by the held part's peak: a release only falls from the level at the
    # note-off (a note whose peak comes later, in a release after a very short hold, is cut later
    # than 60 dB below that peak, never earlier).
    floor = _peak(held) * _FLOOR
    parts, done = [held], len(held)
    if done < limit:
        synth.noteoff(chan, key)
        size = _CHUNK
        while done < limit:  # the release, in growing chunks, until the voice falls below the floor
            chunk = np.empty((min(size, limit - done), 2), np.float32)
            sf.render(memoryview(chunk.reshape(-1)).cast("B"), False)
            done += len(chunk)
            parts.append(chunk)
            if _peak(chunk[-_CHECK:]) <= floor:  # below the floor at the chunk's end: done
                break
            size = min(2 * size, _MAX_CHUNK)
    audio = parts[0] if len(parts) == 1 else np.concatenate(parts)
    return audio[:_sound_end(audio, floor)]


def _peak(audio: np.ndarray) -> float:
    return float(max(audio.max(), -audio.min())) if audio.size else 0.0


def _sound_end(audio: np.ndarray, floor: float = 0.0) -> int:
    """Frames of ``audio`` (L, 2) up to its last sample louder than ``floor`` (scanned from the
    end, a block at a time, on the flat array: a one-shot drum sample ends long before the note
    is released)."""
    flat = audio.reshape(-1)
    end = len(flat)
    while end > 0:
        start = max(0, end - 2 * _CHUNK)
        loud = np.flatnonzero(np.abs(flat[start:end]) > floor)
        if len(loud):
            return (start + int(loud[-1])) // 2 + 1
        end = start
    return 0


def _add_copy(out: torch.Tensor, audio: torch.Tensor, note: PlannedNote, gain: float,
              fade: torch.Tensor) -> None:
    """Add ``gain`` x the class's ``audio`` (2, L) into ``out`` (2, T) at the note's onset."""
    start = note.onset
    end = min(out.shape[1], start + audio.shape[1])
    if end <= start:
        return
    cut = end if note.choke is None else min(end, note.choke)
    if cut > start:
        # out += gain * audio in one fused pass, no temporary (torch; numpy needs two)
        out[:, start:cut].add_(audio[:, : cut - start], alpha=gain)
    if cut < end:  # choked: TinySoundFont's fast release from the choke on
        k = min(len(fade), end - cut)
        out[:, cut:cut + k].addcmul_(audio[:, cut - start: cut - start + k], fade[:k], value=gain)


def _silence_channel(sf, chan: int) -> None:
    # Between notes: fast-release whatever still sounds (a note cut at the track's end, a voice
    # still in its envelope delay) and render it away. sf.reset() would also drop the channel's
    # program, so it is not used here.
    sf.channel_sounds_off(chan)
    scratch = np.zeros(2 * _CHUNK, np.float32)
    for _ in range(8):
        sf.render(memoryview(scratch).cast("B"), False)
        if not scratch.any():
            return


def render_cached(synth, sf, chan: int, events: EventList, regions: tuple[Region, ...],
                  n_samples: int, sample_rate: int, *, grid: int = DURATION_GRID,
                  velocity_grid: int = VELOCITY_GRID) -> np.ndarray | None:
    """``(2, n_samples)`` float32, or None when the track needs the event path.

    ``synth``/``sf`` are a silent TinySoundFont synth with the program selected on ``chan``.
    """
    planned = plan_notes(events, regions)
    if planned is None:
        return None
    setup, notes = planned
    n_fade = max(1, int(FAST_RELEASE_SECONDS * sample_rate))
    classes: dict[tuple, list[PlannedNote]] = {}
    holds: dict[tuple, int] = {}
    for note in notes:
        if note.onset >= n_samples:
            continue
        hold = _hold_samples(note, grid, n_samples, n_fade)
        key = _class_key(note, hold, regions, velocity_grid)
        classes.setdefault(key, []).append(note)
        holds[key] = hold
    if len(notes) < MIN_NOTES_PER_CLASS * len(classes):
        return None
    for kind, a, b in setup:  # channel set-up before the first note, applied once
        if kind == CONTROL:
            synth.control_change(chan, a, b)
        elif kind == PITCH_BEND:
            synth.pitchbend(chan, a + 8192)
    fade = torch.exp(torch.arange(n_fade, dtype=torch.float32) * (-9.226 / n_fade))  # -80 dB at the end
    out = torch.zeros((2, n_samples), dtype=torch.float32)  # planar: the copies add whole rows
    with one_thread():
        for key, members in classes.items():
            ref = members[0]
            limit = max(_needed(m, n_samples, n_fade) for m in members)
            audio = _render_note(synth, sf, chan, ref.key, ref.velocity, holds[key], limit)
            _silence_channel(sf, chan)
            audio_t = torch.from_numpy(np.ascontiguousarray(audio.T))  # (2, L), once per class
            for m in members:
                _add_copy(out, audio_t, m, m.velocity / ref.velocity, fade)
    return out.numpy()
