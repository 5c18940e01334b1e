"""The procedural song generator: seed -> multitrack MIDI (drums, bass, chords, vocal melody)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from ..voice.characters import CHARACTERS
from .accompaniment import arpeggio_bar, comp_bar, pad_bar
from .bass import bass_bar
from .form import plan_form
from .grooves import STYLES, drum_bar
from .humanize import to_seconds
from .melody import melody_phrase
from .meter import METERS
from .theory import MODES, Key

_TEMPO = {"rock": (100, 160), "pop": (88, 130), "funk": (90, 120), "hiphop": (78, 100),
          "electronic": (118, 135), "swing": (100, 180), "ballad": (60, 80)}
_SWING = {"swing": 0.5, "hiphop": 0.25, "funk": 0.1}
_BASS_PROGRAMS = {"swing": (32,), "ballad": (32, 33), "electronic": (38, 39, 35),
                  "funk": (33, 36, 37), "default": (33, 34, 35, 32, 38)}
_PART_PROGRAMS = {
    "comp": (0, 1, 2, 4, 5, 16, 17, 24, 25, 26, 27, 29, 30, 61),
    "arpeggio": (0, 4, 6, 8, 10, 11, 12, 24, 46, 80, 81, 82, 105),
    "pad": (48, 49, 50, 51, 16, 19, 88, 89, 90, 91, 92, 94, 95, 68, 71),
}


@dataclass
class GeneratorConfig:
    """Knobs of the song generator (all choices are drawn per song from the seed)."""

    styles: tuple[str, ...] = STYLES
    meters: dict = field(default_factory=lambda: {"4/4": 0.7, "3/4": 0.1, "6/8": 0.1,
                                                  "12/8": 0.05, "2/4": 0.03, "5/4": 0.02})
    modes: tuple[str, ...] = tuple(MODES)
    tempo_range: tuple[float, float] = (60.0, 180.0)
    accompaniment_parts: tuple[int, int] = (1, 3)
    intro_probability: float = 0.5
    timing_ms: float = 8.0
    velocity_sd: float = 6.0
    voices: tuple[str, ...] = tuple(CHARACTERS)
    vocal_programs: tuple[int, ...] = (52, 53, 54)


@dataclass
class GeneratedSong:
    midi: object  # pretty_midi.PrettyMIDI
    plan: dict  # style, tempo, meter, key, sections, voice, parts (JSON-able)


def _choose(rng, options):
    return options[int(rng.integers(len(options)))]


def generate_song(seed: int, duration: float | None = 30.0,
                  config: GeneratorConfig | None = None) -> GeneratedSong:
    """A song of at least ``duration`` seconds (whole form when None). Same seed -> same MIDI."""
    import pretty_midi

    cfg = config or GeneratorConfig()
    rng = np.random.default_rng(np.random.SeedSequence([int(seed), 0x50A6]))
    style = _choose(rng, tuple(cfg.styles))
    names = list(cfg.meters)
    probs = np.array([cfg.meters[m] for m in names], float)
    meter = METERS[names[int(rng.choice(len(names), p=probs / probs.sum()))]]
    lo, hi = _TEMPO[style]
    lo, hi = max(lo, cfg.tempo_range[0]), min(hi, cfg.tempo_range[1])
    tempo = float(round(rng.uniform(lo, hi) if hi > lo else cfg.tempo_range[0]))
    key = Key(int(rng.integers(12)), _choose(rng, tuple(cfg.modes)))
    voice = CHARACTERS[_choose(rng, tuple(cfg.voices))]
    step_s = 60.0 / tempo / 4.0
    bar_s = step_s * meter.steps
    min_bars = int(np.ceil(duration / bar_s)) + 1 if duration else 0
    intro = bool(rng.random() < cfg.intro_probability) and (duration is None or duration > 20)
    sections = plan_form(key.mode, min_bars, rng, intro=intro)
    chords = [key.chord(s.progression[b % len(s.progression)], sevenths=style in ("swing", "funk"))
              for s in sections for b in range(s.bars)]
    n_bars = len(chords)

    n_parts = int(rng.integers(cfg.accompaniment_parts[0], cfg.accompaniment_parts[1] + 1))
    roles = [str(r) for r in rng.permutation(["comp", "arpeggio", "pad"])[:n_parts]]
    parts = {"drums": [], "bass": [], "vocals": [], **{r: [] for r in roles}}
    voicings = {r: None for r in roles}
    bass_prev, mel_prev, variant = 40, None, int(rng.integers(4))
    mel_low = voice.low + 2
    mel_high = min(voice.high - 2, mel_low + 14)
    for sec in sections:
        for b in range(sec.bars):
            bar = sec.first_bar + b
            start = bar * meter.steps
            chord, nxt = chords[bar], chords[min(bar + 1, n_bars - 1)]
            last = b == sec.bars - 1
            parts["drums"] += drum_bar(style, meter, start, rng, fill=last and rng.random() < 0.7,
                                       crash=b == 0 and sec.name in ("chorus", "bridge"),
                                       intensity=sec.intensity)
            notes, bass_prev = bass_bar(style, key, chord, nxt, meter, start, bass_prev, rng, variant)
            parts["bass"] += notes
            for role in roles:
                if role == "comp" and sec.name != "intro":
                    notes, voicings[role] = comp_bar(style, chord, meter, start, voicings[role], rng,
                                                     variant, sec.intensity)
                elif role == "arpeggio":
                    rate = 2 if tempo < 140 else 4
                    notes, voicings[role] = arpeggio_bar(chord, meter, start, voicings[role], rng,
                                                         rate, sec.intensity)
                elif role == "pad":
                    notes, voicings[role] = pad_bar(chord, meter, start, voicings[role], rng,
                                                    sec.intensity)
                else:
                    notes = []
                parts[role] += notes
        if sec.sung:  # two-bar phrases; every other phrase rests a bar to breathe
            for p in range(0, sec.bars - 1, 2):
                first = sec.first_bar + p
                notes, mel_prev = melody_phrase(key, chords[first:first + 2], meter,
                                                first * meter.steps, mel_low, mel_high, style,
                                                mel_prev, rng)
                parts["vocals"] += notes

    pm = pretty_midi.PrettyMIDI(initial_tempo=tempo)
    pm.time_signature_changes.append(pretty_midi.TimeSignature(meter.numerator, meter.denominator, 0))
    pm.key_signature_changes.append(pretty_midi.KeySignature(
        key.tonic + (12 if key.mode in ("minor", "dorian", "harmonic_minor") else 0), 0))
    swing = _SWING.get(style, 0.0) if not meter.compound else 0.0
    programs = {
        "drums": 0,
        "bass": _choose(rng, _BASS_PROGRAMS.get(style, _BASS_PROGRAMS["default"])),
        "vocals": _choose(rng, tuple(cfg.vocal_programs)),
        **{r: _choose(rng, _PART_PROGRAMS[r]) for r in roles},
    }
    for role, notes in parts.items():
        inst = pretty_midi.Instrument(programs[role], is_drum=role == "drums", name=role)
        timed = to_seconds(notes, step_s, rng, swing=swing,
                           timing_ms=cfg.timing_ms * (0.5 if role == "drums" else 1.0),
                           velocity_sd=cfg.velocity_sd, beat_steps=meter.beat_steps)
        for (t0, t1, pitch, vel), note in zip(timed, notes):
            inst.notes.append(pretty_midi.Note(vel, pitch, t0, t1))
            if role == "vocals":
                pm.lyrics.append(pretty_midi.Lyric(note.syllable, t0))
        pm.instruments.append(inst)
    plan = {
        "seed": int(seed), "style": style, "tempo": tempo, "meter": str(meter), "key": key.name,
        "voice": voice.name, "swing": swing, "parts": {r: int(p) for r, p in programs.items()},
        "sections": [{"name": s.name, "bars": s.bars, "start_s": round(s.first_bar * bar_s, 4)}
                     for s in sections],
        "config": asdict(cfg),
    }
    return GeneratedSong(pm, plan)
