"""Rendered songs and datasets: seed -> stems (exactly summing to the mixture) -> MUSDB18-HQ layout.

``make_song(seed, config=None)`` is the callable the run-time chunk pool
(:mod:`stemkit.data.chunk_pool`) takes: ``{"drums","bass","other","vocals": (2, T) float32}`` at
44.1 kHz. ``render_song`` returns everything (fine-class stems, MIDI, metadata); ``write_corpus``
writes ``OUT/{train,valid,test}/SONG/{mixture,drums,bass,other,vocals}.wav`` plus ``meta.json``
and ``song.mid`` per song, in parallel.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ..errors import ConfigError, MissingToolError
from .mixing.chain import mix_stems
from .render.config import RenderConfig
from .render.instruments import STEM_GROUPS, fine_class, stem_group
from .render.soundfonts import choose_soundfont, resolve_soundfonts
from .render.stems import exact_sum
from .render.tracks import render_instrument
from .voice.characters import CHARACTERS
from .voice.singer import sing_instrument

SOURCES = ("generator", "midi", "music21")


@dataclass
class RenderedSong:
    """``stems``: group -> (2, T); ``fine``: fine class -> (2, T); ``mixture`` (2, T); ``midi``."""

    stems: dict
    fine: dict
    mixture: np.ndarray
    midi: object
    meta: dict


def _config(config) -> RenderConfig:
    if config is None:
        return RenderConfig()
    if isinstance(config, RenderConfig):
        return config
    if isinstance(config, dict):
        return RenderConfig.from_dict(config)
    if isinstance(config, (str, Path)):
        return RenderConfig.from_yaml(config)
    raise TypeError(f"config must be a RenderConfig, dict, YAML path or None, not {type(config)!r}")


def _rng(seed: int, tag: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([int(seed), tag]))


def song_source(kind: str = "generator", path: str | None = None, require: tuple[str, ...] = ()):
    """A source object with ``.song(seed, duration) -> (PrettyMIDI, info)``."""
    if kind == "generator":
        return _GeneratorSource()
    if kind == "midi":
        from .songgen.midi_folder import MidiFolder

        if not path:
            raise ConfigError("the midi source needs a folder of MIDI files")
        return MidiFolder(path, require)
    if kind == "music21":
        from .songgen.music21_corpus import Music21Corpus

        return Music21Corpus()
    raise ConfigError(f"unknown song source {kind!r} (choose from {', '.join(SOURCES)})")


class _GeneratorSource:
    def __init__(self, config=None):
        self.config = config

    def song(self, seed: int, duration: float | None):
        from .songgen.generator import generate_song

        song = generate_song(seed, duration, self.config)
        return song.midi, {"source": "generator", **song.plan}


def _voice_for(instrument, plan_voice: str | None) -> str:
    if plan_voice in CHARACTERS:
        return plan_voice
    median = float(np.median([n.pitch for n in instrument.notes]))
    return min(CHARACTERS.values(), key=lambda v: abs((v.low + v.high) / 2 - median)).name


def _backend(cfg: RenderConfig, rng: np.random.Generator) -> str:
    from .render.fluidsynth_backend import fluidsynth_available

    if cfg.backend == "random":
        options = ["tinysoundfont"] + (["fluidsynth"] if fluidsynth_available() else [])
        return options[int(rng.integers(len(options)))]
    if cfg.backend == "fluidsynth" and not fluidsynth_available():
        raise MissingToolError("backend fluidsynth needs pyfluidsynth or the fluidsynth program "
                               "(apt-get install fluidsynth)")
    return cfg.backend


#: Longest note rendered: user MIDI files sometimes hold a note on (a lost note-off) for minutes,
#: which would stretch a whole-song render far past the music.
MAX_NOTE_SECONDS = 30.0


def _release_stuck_notes(pm) -> None:
    for instrument in pm.instruments:
        for note in instrument.notes:
            note.end = min(note.end, note.start + MAX_NOTE_SECONDS)


def render_song(seed: int, config=None, source=None, *, fine_stems: bool = False) -> RenderedSong:
    """Render song ``seed`` from ``source`` (default: the generator) with ``config``.

    ``fine_stems``: also return the fine-class stems (``song.fine``), each an exact part of its
    group's stem; the mixer then renders one reverb per fine class instead of one per group
    (slower when a group holds several classes). They are also kept with a codec or
    ``mixing.reverb_mode: track``; otherwise ``song.fine`` is empty.
    """
    cfg = _config(config)
    source = source or _GeneratorSource(cfg.generator)
    if isinstance(source, _GeneratorSource) and source.config is None:
        source = _GeneratorSource(cfg.generator)
    sr = cfg.sample_rate
    pm, info = source.song(seed, cfg.duration)
    _release_stuck_notes(pm)
    n = round(cfg.duration * sr) if cfg.duration else int(np.ceil((pm.get_end_time() + cfg.tail) * sr))
    choice_rng = _rng(seed, 1)
    backend = _backend(cfg, choice_rng)
    pool = resolve_soundfonts(cfg.soundfonts, discover=cfg.discover_soundfonts)
    song_font = choose_soundfont(pool, choice_rng)
    stem_fonts = {g: choose_soundfont(pool, choice_rng) for g in STEM_GROUPS}
    drum_kit = _drum_kit(cfg, seed)
    tracks, track_meta = [], []
    for k, inst in enumerate(i for i in pm.instruments if i.notes):
        fine = fine_class(inst.program, inst.is_drum, inst.name)
        group = stem_group(fine)
        desc = {"name": inst.name, "program": int(inst.program), "is_drum": bool(inst.is_drum),
                "fine_class": fine, "stem": group}
        # one draw per vocal track: [0, speech) speech voice, then the singer, then GM presets
        draw = choice_rng.random() if fine == "voice" else 1.0
        if draw < cfg.speech_voice_probability:
            from .speech import speak_instrument

            audio, info_speech = speak_instrument(inst, n, lyrics=pm.lyrics, sample_rate=sr,
                                                  seed=int(seed) * 1000 + k)
            desc.update(renderer="speech", **info_speech)
        elif drum_kit is not None and inst.is_drum:
            from .drumkits import render_drum_track

            font = stem_fonts[group] if cfg.soundfont_per_stem else song_font
            audio = render_drum_track(inst, drum_kit, font, backend=backend, sample_rate=sr, n_samples=n,
                                      note_cache=cfg.note_cache)
            desc.update(renderer=backend, soundfont=str(drum_kit), fallback_soundfont=str(font))
        elif draw < cfg.speech_voice_probability + cfg.vocal_synth_probability:
            voice = _voice_for(inst, info.get("voice"))
            audio = sing_instrument(inst, n, lyrics=pm.lyrics, sample_rate=sr, voice=voice,
                                    seed=int(seed) * 1000 + k)
            desc.update(renderer="singer", voice=voice)
        else:
            font = stem_fonts[group] if cfg.soundfont_per_stem else song_font
            audio = render_instrument(inst, soundfont=font, backend=backend, sample_rate=sr,
                                      n_samples=n, note_cache=cfg.note_cache)
            desc.update(renderer=backend, soundfont=str(font))
        tracks.append(audio)
        track_meta.append(desc)
    if not tracks:
        raise ConfigError(f"song {seed} has no notes")
    mixing = _real_levels(cfg, seed) if cfg.stem_levels == "real" else cfg.mixing
    classes = sorted({d["fine_class"] for d in track_meta})
    # The unit the mixer renders (and reverberates) at once: the fine-class stem when those are
    # kept (written with --fine-stems, or each sent through a codec), else the stem group.
    per_class = fine_stems or bool(cfg.codec) or mixing.reverb_mode == "track"
    unit = "fine_class" if per_class else "stem"
    mixed, mix_meta = mix_stems(tracks, [d["stem"] for d in track_meta],
                                [d[unit] for d in track_meta], mixing, sr, _rng(seed, 2))
    for d, p in zip(track_meta, mix_meta["tracks"]):
        d["mix"] = p
    codec_meta = None
    if per_class:
        fine = {c: mixed[c] for c in classes}
        if cfg.codec:  # each fine-class stem through an encoder and back; the sums below stay exact
            from .codec import CodecConfig, codec_round_trips

            fine, codec_meta = codec_round_trips(fine, sr, CodecConfig.from_dict(cfg.codec), _rng(seed, 4))
        stems = {g: exact_sum([fine[c] for c in classes if stem_group(c) == g], (2, n)) for g in STEM_GROUPS}
    else:
        fine = {}
        stems = {g: mixed[g] if g in mixed else np.zeros((2, n), np.float32) for g in STEM_GROUPS}
    mixture = exact_sum([stems[g] for g in STEM_GROUPS], (2, n))
    meta = {"seed": int(seed), "sample_rate": sr, "duration_s": n / sr, "source": info,
            "backend": backend, "soundfonts": sorted({d["soundfont"] for d in track_meta if "soundfont" in d}),
            "tracks": track_meta, "fine_classes": {g: [c for c in classes if stem_group(c) == g]
                                                   for g in STEM_GROUPS},
            **({"codec": codec_meta} if codec_meta else {}),
            "mix": {"room": mix_meta["room"], "stem_levels_db": mix_meta["stem_levels_db"],
                    "bus": mix_meta["bus"], "reverb_mode": mixing.reverb_mode, "mixed_per": unit}, "config": cfg.to_dict()}
    return RenderedSong(stems, fine, mixture, pm, meta)


def _drum_kit(cfg: RenderConfig, seed: int):
    """The recorded kit of this song's drum tracks (``cfg.drum_soundfonts``), or None."""
    if not cfg.drum_soundfonts:
        return None
    kits = resolve_soundfonts(cfg.drum_soundfonts, discover=False)
    rng = _rng(seed, 3)  # its own stream: the other draws of a song do not change
    return choose_soundfont(kits, rng) if rng.random() < cfg.drum_kit_probability else None


def _real_levels(cfg: RenderConfig, seed: int):
    """``cfg.mixing`` with this song's stem levels: one real excerpt's measured levels."""
    import dataclasses

    from .levels_real import draw_real_levels

    levels = draw_real_levels(_rng(seed, 5))
    return dataclasses.replace(cfg.mixing, level_db={s: (v, 0.0) for s, v in levels.items()})


def make_song(seed: int, config=None) -> dict[str, np.ndarray]:
    """Stems ``{"drums","bass","other","vocals": (2, T) float32}`` at 44.1 kHz of generated song
    ``seed`` (``config``: RenderConfig, dict, YAML path or None for the default realism config)."""
    return render_song(seed, config).stems


def write_song(song: RenderedSong, folder: str | Path, *, fine_stems: bool = False) -> Path:
    """Write a song folder: stems, mixture, ``song.mid``, ``meta.json`` (all atomically)."""
    from ..audio import write_audio

    if fine_stems and not song.fine:
        raise ValueError("the song was rendered without fine stems: render_song(..., fine_stems=True)")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    sr = song.meta["sample_rate"]
    for name, audio in {**song.stems, "mixture": song.mixture}.items():
        write_audio(folder / f"{name}.wav", audio, sr, subtype="FLOAT")
    if fine_stems:
        (folder / "stems").mkdir(exist_ok=True)
        for name, audio in song.fine.items():
            write_audio(folder / "stems" / f"{name}.wav", audio, sr, subtype="FLOAT")
    tmp = folder / ".song.mid.tmp"
    song.midi.write(str(tmp))
    os.replace(tmp, folder / "song.mid")
    meta = {**song.meta, "files": {"midi": "song.mid", "stems": list(song.stems),
                                   "fine_stems": [f"stems/{c}.wav" for c in song.fine] if fine_stems else []}}
    _write_json(folder / "meta.json", meta)
    return folder


def _write_json(path: Path, data: dict) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(data, indent=1, default=_jsonable))
    os.replace(tmp, path)


def _jsonable(obj):
    if isinstance(obj, (np.integer,)):
        return int(obj)
    if isinstance(obj, (np.floating,)):
        return float(obj)
    if isinstance(obj, (np.ndarray, tuple, set)):
        return list(obj)
    return str(obj)


def parse_split(text: str) -> tuple[float, float, float]:
    """``"0.8:0.1:0.1"`` -> fractions of train, valid, test (normalised to sum to 1)."""
    try:
        parts = [float(p) for p in text.split(":")]
    except ValueError as exc:
        raise ConfigError(f"--split must look like 0.8:0.1:0.1, got {text!r}") from exc
    if len(parts) != 3 or min(parts) < 0 or sum(parts) <= 0:
        raise ConfigError(f"--split must be three non-negative fractions, got {text!r}")
    total = sum(parts)
    return tuple(p / total for p in parts)  # type: ignore[return-value]


def assign_splits(n_songs: int, split: tuple[float, float, float]) -> list[str]:
    """Split name per song index: the first songs train, then valid, then test (largest remainder)."""
    counts = np.floor(np.array(split) * n_songs).astype(int)
    for i in np.argsort(-(np.array(split) * n_songs - counts))[: n_songs - counts.sum()]:
        counts[i] += 1
    return [name for name, c in zip(("train", "valid", "test"), counts) for _ in range(int(c))]


def _job(args) -> str:
    index, seed, split, out, cfg_dict, source_spec, fine_stems = args
    cfg = RenderConfig.from_dict(cfg_dict)
    source = song_source(*source_spec) if source_spec[0] != "generator" else None
    song = render_song(seed, cfg, source, fine_stems=fine_stems)
    folder = Path(out) / split / f"song_{index:05d}_seed{seed}"
    write_song(song, folder, fine_stems=fine_stems)
    return str(folder)


def write_corpus(out: str | Path, n_songs: int, *, seed: int = 0, split=(0.8, 0.1, 0.1),
                 config=None, source_spec: tuple = ("generator",), jobs: int = 1,
                 fine_stems: bool = False, quiet: bool = False) -> list[str]:
    """Render ``n_songs`` songs (song ``i`` uses seed ``seed + i``) into ``out``; returns folders."""
    from tqdm import tqdm

    cfg = _config(config)
    if n_songs < 1:
        raise ConfigError("--songs must be at least 1")
    splits = assign_splits(n_songs, tuple(split))
    cfg_dict = cfg.to_dict()
    work = [(i, seed + i, splits[i], str(out), cfg_dict, tuple(source_spec), fine_stems)
            for i in range(n_songs)]
    Path(out).mkdir(parents=True, exist_ok=True)
    _write_json(Path(out) / "synth_config.json",
                {"songs": n_songs, "seed": seed, "split": list(split), "source": list(source_spec),
                 "config": cfg_dict})
    bar = tqdm(total=n_songs, desc="rendering", unit="song",
               disable=quiet or not sys.stderr.isatty())
    done = []
    try:
        if jobs <= 1:
            for item in work:
                done.append(_job(item))
                bar.update()
        else:
            import multiprocessing as mp

            # fork starts workers in milliseconds; rendering never runs torch ops in this parent,
            # so no thread pool is forked mid-use. Elsewhere (macOS, Windows) spawn.
            method = "fork" if "fork" in mp.get_all_start_methods() else "spawn"
            ctx = mp.get_context(method)
            with ctx.Pool(jobs, initializer=_limit_threads) as pool:
                for folder in pool.imap(_job, work):
                    done.append(folder)
                    bar.update()
    finally:
        bar.close()
    return done


def _limit_threads() -> None:
    os.environ["OMP_NUM_THREADS"] = "1"
    try:
        import torch

        torch.set_num_threads(1)
    except ImportError:
        pass
