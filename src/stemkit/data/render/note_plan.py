"""When each note of a track starts, is released and is choked, as TinySoundFont would play it.

With every event scheduled by us and no controller changing while notes sound, a TinySoundFont
voice's audio depends only on its note (key, velocity), how long it is held, and whether a later
note of the same exclusive class cuts it (an open hi-hat choked by a closed one). This module
replays the track's events through TinySoundFont's voice rules, without rendering:

- a note-off releases the *oldest* still-held voice of that key (``tsf_channel_note_off``);
- a note-on whose regions have an exclusive class ``g`` fast-releases every voice of class ``g``
  (``tsf_voice_endquick``), and a voice so released no longer answers a note-off.

The result is what :mod:`.note_cache` needs to render each distinct note once and copy it.
"""

from __future__ import annotations

from dataclasses import dataclass

from .events import CONTROL, NOTE_OFF, NOTE_ON, PITCH_BEND, EventList
from .sf2_presets import Region

# Controllers that change how already-sounding notes behave (pedals hold or alter note-offs):
# a track using them is rendered event by event.
PEDALS = (64, 66, 67)


@dataclass
class PlannedNote:
    """``onset``/``release``/``choke`` are sample indices; ``release`` None = held to the end,
    ``choke`` None = never cut by its exclusive class."""

    onset: int
    key: int
    velocity: int
    regions: tuple[int, ...]  # indices of the preset's regions that sound
    group: int  # exclusive class of all its regions (0: none)
    release: int | None = None
    choke: int | None = None


def plan_notes(events: EventList, regions: tuple[Region, ...]) -> tuple[list, list[PlannedNote]] | None:
    """``(setup, notes)``: controller/bend events to apply before any note, and every sounding note.

    None when the note cache cannot reproduce the track exactly: controllers or pitch bends after
    the first note (they change sounding notes), pedals, or a note whose regions mix exclusive
    classes (only part of it would be choked).
    """
    setup: list[tuple[int, int, int]] = []
    notes: list[PlannedNote] = []
    held: dict[int, list[int]] = {}  # key -> notes still held (not released), oldest first
    by_group: dict[int, list[int]] = {}  # class -> notes of that class not yet choked
    sounding_of: dict[tuple[int, int], tuple[int, ...]] = {}  # (key, velocity) -> regions
    on_key: dict[int, list[tuple[int, Region]]] = {}
    for s, kind, a, b in zip(events.samples.tolist(), events.kinds.tolist(), events.a.tolist(),
                             events.b.tolist()):
        if kind in (CONTROL, PITCH_BEND):
            if notes or (kind == CONTROL and a in PEDALS):
                return None
            setup.append((kind, a, b))
            continue
        if kind == NOTE_ON and b > 0:
            sounding = sounding_of.get((a, b))
            if sounding is None:
                if a not in on_key:  # the regions of this key, once; then filter by velocity
                    on_key[a] = [(i, r) for i, r in enumerate(regions) if r.lokey <= a <= r.hikey]
                sounding = sounding_of[(a, b)] = tuple(i for i, r in on_key[a] if r.lovel <= b <= r.hivel)
            if not sounding:
                continue  # no region: no voice, so no note-off can match it either
            groups = {regions[i].group for i in sounding}
            if len(groups) > 1:
                return None
            group = groups.pop()
            if group:
                for j in by_group.pop(group, []):  # fast release: no longer answers note-offs
                    notes[j].choke = s
                    if j in held[notes[j].key]:
                        held[notes[j].key].remove(j)
                by_group[group] = []
            index = len(notes)
            notes.append(PlannedNote(s, a, b, sounding, group))
            held.setdefault(a, []).append(index)
            if group:
                by_group[group].append(index)
        elif kind in (NOTE_OFF, NOTE_ON):  # NOTE_ON with velocity 0 is a note-off
            queue = held.get(a)
            if queue:
                notes[queue.pop(0)].release = s
    return setup, notes
