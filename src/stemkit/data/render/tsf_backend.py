"""TinySoundFont backend: sample-exact block rendering between event times.

tinysoundfont's own Sequencer applies events at its callback granularity; instead this backend
generates audio exactly up to each event's sample and applies the event there, so a note-on at
sample ``k`` makes the first non-zero output sample ``k``. Only ``Synth.generate_simple`` and the
MIDI methods are used; ``pyaudio`` (tinysoundfont's declared dependency, only needed for live
playback) is never imported.
"""

from __future__ import annotations

import struct
from functools import lru_cache
from pathlib import Path

import numpy as np

from ...errors import MissingToolError
from .events import CONTROL, NOTE_OFF, NOTE_ON, PITCH_BEND, EventList
from .note_cache import render_cached
from .sf2_presets import preset_regions

DRUM_CHANNEL = 9


@lru_cache(maxsize=4)
def _synth(soundfont: str, sample_rate: int):
    # Loading a large SoundFont takes ~0.4 s; keep a few loaded per process and reuse them.
    try:
        import tinysoundfont
    except ImportError as exc:
        raise MissingToolError("the tinysoundfont backend needs tinysoundfont: "
                               "pip install --no-deps tinysoundfont") from exc

    synth = tinysoundfont.Synth(samplerate=sample_rate)
    sfid = synth.sfload(soundfont, max_voices=256)
    return synth, sfid


def _select_program(synth, sfid: int, chan: int, program: int, is_drum: bool) -> None:
    bank = 128 if is_drum else 0
    for b, p in ((bank, program), (0, program), (bank, 0), (0, 0)):
        try:
            synth.program_select(chan, sfid, b, p, is_drum)
            return
        except RuntimeError:  # preset missing in this SoundFont: fall back to a neighbour
            continue
    raise RuntimeError(f"SoundFont has no usable preset for program {program}")


def _silence(sf) -> None:
    # reset() only starts a quick release on ringing voices (a drum track's cymbals), so render it
    # away into a scratch buffer; a fresh track must start from exact digital silence.
    sf.reset()
    scratch = np.zeros(2 * 2048, dtype=np.float32)
    for _ in range(64):
        sf.render(memoryview(scratch).cast("B"), False)
        if not scratch.any():
            return


def _regions(soundfont: str, sf, chan: int):
    """The selected preset's regions, or None when the file cannot be read for them."""
    try:
        presets = preset_regions(soundfont)
        index = sf.channel_get_preset_index(chan)
        return presets[index] if 0 <= index < len(presets) else None
    except (OSError, ValueError, KeyError, IndexError, AttributeError, struct.error):  # event path
        return None


def render_tsf(events: EventList, *, program: int, is_drum: bool, soundfont: str | Path,
               sample_rate: int, n_samples: int, note_cache: bool = True) -> np.ndarray:
    """Render one track's events to ``(2, n_samples)`` float32 with TinySoundFont.

    ``note_cache``: render each distinct note once and copy it to its onsets
    (:mod:`.note_cache`; several times faster); tracks it cannot reproduce, and ``False``, render
    event by event.
    """
    synth, sfid = _synth(str(soundfont), int(sample_rate))
    sf = synth.soundfonts[sfid]
    _silence(sf)
    chan = DRUM_CHANNEL if is_drum else 0
    _select_program(synth, sfid, chan, int(program), is_drum)
    if note_cache:
        regions = _regions(str(soundfont), sf, chan)
        cached = None if regions is None else render_cached(synth, sf, chan, events, regions,
                                                            n_samples, int(sample_rate))
        if cached is not None:
            return cached
    return _render_events(synth, sf, chan, events, n_samples)


def _render_events(synth, sf, chan: int, events: EventList, n_samples: int) -> np.ndarray:
    """The event path: render up to each event's sample, apply it there."""
    out = np.zeros((n_samples, 2), dtype=np.float32)
    flat = out.reshape(-1)
    pos = 0
    samples, kinds, a, b = events.samples, events.kinds, events.a, events.b
    for i in range(len(samples)):
        at = min(int(samples[i]), n_samples)
        if at > pos:
            sf.render(memoryview(flat[2 * pos: 2 * at]).cast("B"), False)
            pos = at
        if at >= n_samples:
            break
        kind = kinds[i]
        if kind == NOTE_ON:
            synth.noteon(chan, int(a[i]), int(b[i]))
        elif kind == NOTE_OFF:
            synth.noteoff(chan, int(a[i]))
        elif kind == PITCH_BEND:
            synth.pitchbend(chan, int(a[i]) + 8192)
        elif kind == CONTROL:
            synth.control_change(chan, int(a[i]), int(b[i]))
    if pos < n_samples:
        sf.render(memoryview(flat[2 * pos:]).cast("B"), False)
    return np.ascontiguousarray(out.T)
