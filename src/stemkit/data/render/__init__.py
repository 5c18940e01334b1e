"""MIDI -> per-instrument stereo stems at 44.1 kHz (sample-exact note timing).

``render_tracks`` renders each track dry, ``fine_stems``/``group_stems`` sum them by instrument class
and stem group, ``render_midi_stems`` does both. SoundFont discovery lives in ``soundfonts``.
"""

from .instruments import FINE_CLASSES, STEM_GROUPS, fine_class, stem_group
from .soundfonts import bundled_soundfont, discover_soundfonts
from .stems import exact_sum, fine_stems, group_stems, mixture_of, render_midi_stems
from .tracks import TrackAudio, render_instrument, render_tracks

__all__ = [
    "FINE_CLASSES", "STEM_GROUPS", "TrackAudio", "bundled_soundfont", "discover_soundfonts",
    "exact_sum", "fine_class", "fine_stems", "group_stems", "mixture_of", "render_instrument",
    "render_midi_stems", "render_tracks", "stem_group",
]
