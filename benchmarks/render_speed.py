"""Rendering speed: real-time factor and x-real-time per core of each stage of ``render_song``.

Measures CPU time of this one process (``time.process_time``), so the figure is per core and is
not inflated by other load on the machine; wall time is printed too. Every SoundFont of the pool
is loaded before timing (a process loads each once and keeps it; MuseScore_General.sf3 takes ~6 s
to decompress), and that one-off cost is printed on its own line.

    OMP_NUM_THREADS=1 python benchmarks/render_speed.py --songs 5 --duration 30
    OMP_NUM_THREADS=1 python benchmarks/render_speed.py --songs 5 --preset dry --no-singer
    OMP_NUM_THREADS=1 python benchmarks/render_speed.py --songs 6 --compare-note-cache
    OMP_NUM_THREADS=1 python benchmarks/render_speed.py --songs 4 --reverb-mode track
    OMP_NUM_THREADS=1 python benchmarks/render_speed.py --songs 6 --compare-reverb-modes
    OMP_NUM_THREADS=1 python benchmarks/render_speed.py --songs 4 --save-stems /tmp/new
    python benchmarks/render_speed.py --compare-stems /tmp/old /tmp/new

``--compare-note-cache`` renders every track of the generated songs with every SoundFont of the
pool both ways (note cache and event by event, alternating track by track) and prints how far
apart they are and the synthesis CPU time of each. ``--save-stems`` keeps the timed songs' stems
(saved after the timing), so that two code versions (e.g. one from ``git archive`` on
``PYTHONPATH``) can be compared with ``--compare-stems``.
"""

from __future__ import annotations

import argparse
import os
import time
from collections import defaultdict
from contextlib import contextmanager

os.environ.setdefault("OMP_NUM_THREADS", "1")

import numpy as np  # noqa: E402

import stemkit.data.corpus as corpus  # noqa: E402
from stemkit.data.render.config import preset  # noqa: E402

CPU: dict[str, float] = defaultdict(float)


@contextmanager
def _stage(name: str):
    t = time.process_time()
    try:
        yield
    finally:
        CPU[name] += time.process_time() - t


def _timed(name: str, fn):
    def wrapper(*a, **kw):
        with _stage(name):
            return fn(*a, **kw)
    return wrapper


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--songs", type=int, default=5)
    p.add_argument("--duration", type=float, default=30.0)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--preset", choices=("realism", "dry"), default="realism")
    p.add_argument("--backend", choices=("tinysoundfont", "fluidsynth"), default="tinysoundfont")
    p.add_argument("--bundled-only", action="store_true", help="only pretty_midi's TimGM6mb.sf2")
    p.add_argument("--no-singer", action="store_true", help="vocal_synth_probability = 0")
    p.add_argument("--compare-note-cache", action="store_true",
                   help="compare the note cache with the event path, track by track, and exit")
    p.add_argument("--no-note-cache", action="store_true",
                   help="note_cache = false: TinySoundFont renders every track event by event")
    p.add_argument("--reverb-mode", choices=("stem", "track"), default=None,
                   help="mixing.reverb_mode: one reverb per stem (default) or per track")
    p.add_argument("--compare-reverb-modes", action="store_true",
                   help="mix the rendered tracks of the songs with one reverb per stem and per track, "
                        "alternating in one process, and exit")
    p.add_argument("--fine-stems", action="store_true",
                   help="render fine-class stems too (as stemkit synth --fine-stems)")
    p.add_argument("--save-stems", metavar="DIR",
                   help="also save each timed song's stems to DIR/seed<S>.npz (to compare code versions)")
    p.add_argument("--compare-stems", nargs=2, metavar=("REF", "NEW"),
                   help="compare the stems saved by two --save-stems runs, print the energy of each "
                        "stem's difference relative to the stem (dB), and exit")
    args = p.parse_args()
    if args.compare_stems:
        compare_stems(*args.compare_stems)
        return

    cfg = preset(args.preset)
    cfg.duration, cfg.backend = args.duration, args.backend
    if args.compare_note_cache:
        compare_note_cache(args, cfg)
        return
    if args.bundled_only:
        from stemkit.data.render.soundfonts import bundled_soundfont

        cfg.soundfonts, cfg.discover_soundfonts = [str(bundled_soundfont())], False
    if args.no_singer:
        cfg.vocal_synth_probability = 0.0
    cfg.note_cache = not args.no_note_cache
    if args.reverb_mode:
        cfg.mixing.reverb_mode = args.reverb_mode
    if args.compare_reverb_modes:
        compare_reverb_modes(args, cfg)
        return
    # Wrap each stage where render_song looks it up, so the per-stage split adds up.
    corpus.render_instrument = _timed("synthesis (SoundFont)", corpus.render_instrument)
    corpus.sing_instrument = _timed("singer", corpus.sing_instrument)
    corpus.mix_stems = _timed("mixing", corpus.mix_stems)
    src = corpus._GeneratorSource(cfg.generator)
    src.song = _timed("song generation", src.song)

    load = time.process_time()
    if cfg.backend == "tinysoundfont":
        from stemkit.data.render.soundfonts import resolve_soundfonts
        from stemkit.data.render.sf2_presets import preset_regions
        from stemkit.data.render.tsf_backend import _synth

        for font in resolve_soundfonts(cfg.soundfonts, discover=cfg.discover_soundfonts):
            _synth(str(font), cfg.sample_rate)
            preset_regions(str(font))  # the note cache's view of the presets, also once per process
    load = time.process_time() - load
    corpus.render_song(10_000 + args.seed, cfg, src, fine_stems=args.fine_stems)  # warm-up
    CPU.clear()
    wall, cpu = time.perf_counter(), time.process_time()
    songs = []
    for k in range(args.songs):
        song = corpus.render_song(args.seed + k, cfg, src, fine_stems=args.fine_stems)
        if args.save_stems:
            songs.append((args.seed + k, song.stems))  # saved after timing
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    if args.save_stems:
        os.makedirs(args.save_stems, exist_ok=True)
        for seed, stems in songs:
            np.savez(os.path.join(args.save_stems, f"seed{seed}.npz"), **stems)
    audio = args.songs * args.duration
    print(f"{args.songs} songs x {args.duration:g} s, preset {args.preset}, backend {args.backend}, "
          f"singer {'off' if args.no_singer else f'p={cfg.vocal_synth_probability}'}, "
          f"note cache {'on' if cfg.note_cache else 'off'}, reverb per {cfg.mixing.reverb_mode}"
          f"{', fine stems' if args.fine_stems else ''}")
    print(f"{'stage':24s} {'cpu s':>8s} {'RTF':>8s} {'x real time/core':>17s}")
    for name, sec in sorted(CPU.items(), key=lambda kv: -kv[1]):
        print(f"{name:24s} {sec:8.2f} {sec / audio:8.4f} {audio / max(sec, 1e-9):17.1f}")
    other = cpu - sum(CPU.values())
    print(f"{'other (sums, metadata)':24s} {other:8.2f} {other / audio:8.4f}")
    print(f"{'TOTAL':24s} {cpu:8.2f} {cpu / audio:8.4f} {audio / cpu:17.1f}   (wall {wall:.2f} s)")
    print(f"SoundFont loading, once per process (not in TOTAL): {load:.2f} cpu s")


def compare_stems(ref_dir: str, new_dir: str) -> None:
    """Energy of the difference of each stem saved in ``new_dir`` from the same song's stem in
    ``ref_dir``, relative to the reference stem (dB), per stem and overall."""
    import glob

    rows = []
    for path in sorted(glob.glob(os.path.join(ref_dir, "seed*.npz"))):
        name = os.path.basename(path)
        ref, new = np.load(path), np.load(os.path.join(new_dir, name))
        for stem in ref.files:
            a, b = ref[stem].astype(np.float64), new[stem].astype(np.float64)
            energy = np.sum(a ** 2)
            if energy == 0:
                continue
            db = 10 * np.log10(np.sum((a - b) ** 2) / energy + 1e-30)
            # how much of it is a plain level change (e.g. through the bus limiter)
            gain = np.sum(a * b) / (np.sum(b * b) + 1e-30)
            rest = 10 * np.log10(np.sum((a - gain * b) ** 2) / energy + 1e-30)
            rows.append((db, rest, 20 * np.log10(abs(gain) + 1e-30)))
            print(f"{name[:-4]:10s} {stem:7s} difference {db:7.1f} dB re the stem; "
                  f"level {rows[-1][2]:+.3f} dB, difference after the level {rest:7.1f} dB")
    r = np.array(rows)
    print(f"{len(r)} stems: difference median {np.median(r[:, 0]):.1f} dB, worst {r[:, 0].max():.1f} dB; "
          f"after a level fit median {np.median(r[:, 1]):.1f} dB, worst {r[:, 1].max():.1f} dB; "
          f"largest level change {np.abs(r[:, 2]).max():.3f} dB")


def _spectrum_db(x: np.ndarray, n_fft: int = 4096) -> np.ndarray:
    mono = x.mean(axis=0)
    k = len(mono) // n_fft
    frames = mono[: k * n_fft].reshape(k, n_fft) * np.hanning(n_fft)
    return 10 * np.log10(np.mean(np.abs(np.fft.rfft(frames, axis=1)) ** 2, axis=0) + 1e-20)


def _envelope_db(x: np.ndarray, frame: int = 441) -> np.ndarray:
    power = np.mean(x ** 2, axis=0)
    k = len(power) // frame
    return 10 * np.log10(power[: k * frame].reshape(k, frame).mean(axis=1) + 1e-12)


def compare_note_cache(args, cfg) -> None:
    """Every track of songs ``seed..seed+songs`` with every SoundFont, both ways."""
    from stemkit.data.render.events import instrument_events
    from stemkit.data.render.sf2_presets import preset_regions
    from stemkit.data.render.soundfonts import resolve_soundfonts
    from stemkit.data.render.tsf_backend import _synth, render_tsf
    from stemkit.data.songgen.generator import generate_song

    fonts = [str(f) for f in resolve_soundfonts(cfg.soundfonts, discover=cfg.discover_soundfonts)]
    for font in fonts:
        _synth(font, cfg.sample_rate)
        preset_regions(font)
    sr, n = cfg.sample_rate, round(args.duration * cfg.sample_rate)
    cpu = {False: 0.0, True: 0.0}
    rows, tracks = [], 0
    for seed in range(args.seed, args.seed + args.songs):
        song = generate_song(seed, args.duration, cfg.generator)
        for font in fonts:
            for inst in (i for i in song.midi.instruments if i.notes):
                events = instrument_events(inst, sr)
                out = {}
                for cache in (False, True):
                    t = time.process_time()
                    out[cache] = render_tsf(events, program=inst.program, is_drum=inst.is_drum,
                                            soundfont=font, sample_rate=sr, n_samples=n, note_cache=cache)
                    cpu[cache] += time.process_time() - t
                tracks += 1
                plain, cached = out[False], out[True]
                if np.array_equal(plain, cached):
                    continue  # the track took the event path
                err = 10 * np.log10(np.sum((plain - cached) ** 2) / (np.sum(plain ** 2) + 1e-20) + 1e-20)
                sp, sc = _spectrum_db(plain), _spectrum_db(cached)
                loud = sp > sp.max() - 60
                ep, ec = _envelope_db(plain), _envelope_db(cached)
                diff = np.abs(ep - ec)[ep > ep.max() - 40]
                rows.append((err, np.abs(sp - sc)[loud].mean(), np.median(diff),
                             np.percentile(diff, 95), np.percentile(diff, 99)))
    r = np.array(rows)
    audio = args.songs * len(fonts) * args.duration
    print(f"{args.songs} songs x {len(fonts)} SoundFonts x {args.duration:g} s: {len(rows)} of "
          f"{tracks} tracks went through the note cache")
    names = ("difference energy (dB re track)", "long-term spectrum mean |dB|",
             "10 ms envelope median |dB|", "10 ms envelope p95 |dB|", "10 ms envelope p99 |dB|")
    for i, name in enumerate(names):
        print(f"{name:34s} median {np.median(r[:, i]):8.3f}   worst {r[:, i].max():8.3f}")
    for cache in (False, True):
        print(f"synthesis cpu, {'note cache' if cache else 'event path'}: {cpu[cache]:.2f} s "
              f"({audio / max(cpu[cache], 1e-9):.1f}x real time per core)")


def compare_reverb_modes(args, cfg, rounds: int = 3) -> None:
    """CPU of ``mix_stems`` per song with ``reverb_mode`` stem and track, alternating in one process:
    on the generated songs as they are, and on "pooled" songs that put every track of three
    consecutive songs into one (a MIDI-file-like song with several tracks per stem)."""
    import dataclasses

    captured = []
    real_mix = corpus.mix_stems

    def capture(*a, **kw):
        captured.append(a)
        return real_mix(*a, **kw)

    corpus.mix_stems = capture
    for k in range(args.songs):
        corpus.render_song(args.seed + k, cfg)
    corpus.mix_stems = real_mix
    pooled = []
    for k in range(0, len(captured) - 2, 3):
        group = captured[k: k + 3]
        tracks = [x for c in group for x in c[0]]
        stems = [s for c in group for s in c[1]]
        pooled.append((tracks, stems, stems, *group[0][3:]))
    for name, songs in (("generated songs", captured), ("pooled songs (3 songs' tracks each)", pooled)):
        if not songs:
            continue
        per_stem = np.mean([len(c[0]) / len(set(c[1])) for c in songs])
        cpu = {"stem": [], "track": []}
        for _ in range(rounds):
            for mode in cpu:
                t = time.process_time()
                for i, (tracks, stems, keys, mix_cfg, sr, _) in enumerate(songs):
                    real_mix(tracks, stems, keys, dataclasses.replace(mix_cfg, reverb_mode=mode), sr,
                             np.random.default_rng(i))
                cpu[mode].append((time.process_time() - t) / len(songs))
        print(f"{name}: {len(songs)} x {args.duration:g} s, {per_stem:.1f} tracks per stem; "
              f"mixing cpu s per song over {rounds} alternating rounds:")
        for mode, v in cpu.items():
            print(f"  reverb per {mode:5s}  median {np.median(v):.3f}  range {min(v):.3f}-{max(v):.3f}")


if __name__ == "__main__":
    np.seterr(all="ignore")
    main()
