"""``stemkit synth``: render a synthetic multitrack dataset in the MUSDB18-HQ layout."""

from __future__ import annotations

import argparse
import sys

from ..errors import ConfigError

COMMAND = "synth"
ORDER = 60
HELP = "Render a synthetic dataset of songs with exact stems (MUSDB18-HQ layout)."
EPILOG = """examples:
  stemkit synth data/synth --songs 100                       # generated songs, 30 s each
  stemkit synth data/synth --songs 20 --duration 10 --seed 7 -j 2
  stemkit synth data/lakh --songs 500 --source midi ~/lakh --require drums,bass,piano,strings
  stemkit synth data/chorales --songs 50 --source music21 --fine-stems
  stemkit synth data/dry --songs 10 --preset dry --soundfont /usr/share/sounds/sf2/FluidR3_GM.sf2
  stemkit synth data/custom --songs 10 --config render.yaml   # any RenderConfig knob

writes OUT/{train,valid,test}/SONG/{mixture,drums,bass,other,vocals}.wav (float32), song.mid and
meta.json per song; mixture.wav is the exact float32 sum of the four stems. Same seed, same audio.
"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("out", metavar="OUT", help="output folder")
    p.add_argument("--songs", type=int, required=True, help="number of songs")
    p.add_argument("--seed", type=int, default=0, help="song i uses seed SEED+i (default: 0)")
    p.add_argument("--duration", type=float, default=None,
                   help="seconds per song (default: the config's, 30); 0 = whole songs")
    p.add_argument("--split", default="0.8:0.1:0.1", help="train:valid:test fractions (default: %(default)s)")
    p.add_argument("--soundfont", action="append", default=[], metavar="PATH",
                   help="a .sf2/.sf3 file or folder; repeatable; used instead of discovered ones "
                        "unless --discover is given")
    p.add_argument("--discover", action="store_true",
                   help="with --soundfont: also draw from the SoundFonts found on this machine")
    p.add_argument("--backend", choices=("tinysoundfont", "fluidsynth", "random"),
                   help="synthesizer (default: the config's, tinysoundfont)")
    p.add_argument("--source", nargs="+", default=["generator"], metavar=("KIND", "DIR"),
                   help="generator (default) | midi DIR | music21")
    p.add_argument("--require", default="",
                   help="midi source: keep only songs with all these instrument classes or stems, "
                        "comma-separated (e.g. drums,bass,piano,strings)")
    p.add_argument("--config", metavar="FILE.yaml", help="renderer config (see docs/rendering.md)")
    p.add_argument("--preset", choices=("realism", "dry"), default=None,
                   help="start from a preset config: realism (default) or dry (no effects)")
    p.add_argument("--no-note-cache", action="store_true",
                   help="TinySoundFont renders every note event by event instead of rendering each "
                        "distinct note once (slower; the reference path)")
    p.add_argument("--fine-stems", action="store_true",
                   help="also write SONG/stems/<fine_class>.wav (piano, strings, guitar, ...); each "
                        "carries its own reverb and sums exactly into its group")
    p.add_argument("-j", "--jobs", type=int, default=1, help="parallel worker processes (default: 1)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar or summary")


def _config(args):
    from ..data.render.config import RenderConfig, preset

    if args.config and args.preset:
        raise ConfigError("give either --config or --preset, not both")
    cfg = RenderConfig.from_yaml(args.config) if args.config else preset(args.preset or "realism")
    data = cfg.to_dict()
    if args.duration is not None:
        if args.duration < 0:
            raise ConfigError("--duration must be >= 0")
        data["duration"] = args.duration or None
    if args.soundfont:
        data["soundfonts"] = list(data["soundfonts"]) + list(args.soundfont)
        data["discover_soundfonts"] = bool(args.discover)
    if args.backend:
        data["backend"] = args.backend
    if args.no_note_cache:
        data["note_cache"] = False
    return RenderConfig.from_dict(data)


def _source_spec(args) -> tuple:
    kind, *rest = args.source
    require = tuple(r.strip() for r in args.require.split(",") if r.strip())
    if kind == "midi":
        if len(rest) != 1:
            raise ConfigError("--source midi needs one folder: --source midi DIR")
        from ..data.songgen.midi_folder import list_midi_files

        list_midi_files(rest[0])  # fail early, with the folder in the message
        return ("midi", rest[0], require)
    if rest:
        raise ConfigError(f"--source {kind} takes no argument")
    if kind not in ("generator", "music21"):
        raise ConfigError(f"unknown --source {kind!r} (generator, midi DIR, music21)")
    if require:
        raise ConfigError("--require applies to --source midi only")
    return (kind,)


def run(args: argparse.Namespace) -> int:
    from ..data.corpus import parse_split, write_corpus
    from ..data.render.soundfonts import resolve_soundfonts

    cfg = _config(args)
    resolve_soundfonts(cfg.soundfonts, discover=cfg.discover_soundfonts)  # bad paths fail now
    split = parse_split(args.split)
    if args.seed < 0:
        raise ConfigError("--seed must be >= 0")
    if args.jobs < 1:
        raise ConfigError("-j/--jobs must be at least 1")
    folders = write_corpus(args.out, args.songs, seed=args.seed, split=split, config=cfg,
                           source_spec=_source_spec(args), jobs=args.jobs,
                           fine_stems=args.fine_stems, quiet=args.quiet)
    if not args.quiet:
        print(f"wrote {len(folders)} songs to {args.out}", file=sys.stderr)
    return 0
