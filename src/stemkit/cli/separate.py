"""``stemkit separate``: files or folders in, ``OUT/MODEL/TRACK/STEM.EXT`` out (Demucs' layout)."""

from __future__ import annotations

import argparse
import os
import sys
import warnings
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from ..audio.formats import AUDIO_EXTENSIONS
from ..errors import AudioWriteError, StemkitError

COMMAND = "separate"
ORDER = 10
HELP = "Separate songs into stems."
EPILOG = """examples:
  stemkit separate song.mp3                      # default model, 16-bit wav in separated/
  stemkit separate song.flac --two-stems vocals  # karaoke: vocals.wav + no_vocals.wav
  stemkit separate album/ -o stems --mp3 --mp3-bitrate 256 -j 2
  stemkit separate song.wav -n hpss --float32 --shifts 2
  stemkit separate song.wav -n runs/my_run/best   # a trained model folder
"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="audio files or folders (searched recursively)")
    p.add_argument("-n", "--name", dest="model", default=None,
                   help="model name (see `stemkit models`) or model folder; default: the shipped default")
    p.add_argument("-o", "--out", default="separated", help="output root (default: separated)")
    p.add_argument("--filename", default="{track}/{stem}.{ext}",
                   help="output name under OUT/MODEL, with {track}, {stem}, {ext} (default: %(default)s)")
    p.add_argument("--two-stems", metavar="STEM", help="write STEM and no_STEM only")
    p.add_argument("--stems", help="comma-separated stems to write (informed models extract exactly these)")
    fmt = p.add_mutually_exclusive_group()
    fmt.add_argument("--mp3", action="store_true", help="write mp3")
    fmt.add_argument("--flac", action="store_true", help="write 24-bit flac")
    fmt.add_argument("--float32", action="store_true", help="write 32-bit float wav (never clips)")
    fmt.add_argument("--int24", action="store_true", help="write 24-bit wav")
    p.add_argument("--mp3-bitrate", type=int, default=320, metavar="K", help="mp3 bitrate in kbit/s (default 320)")
    p.add_argument("--clip-mode", choices=("rescale", "clamp"), default="rescale",
                   help="integer/mp3 output beyond full scale: rescale the stem (default) or clamp samples")
    p.add_argument("--overlap", type=float, default=None, metavar="F", help="segment overlap fraction (default 0.25)")
    p.add_argument("--segment", type=float, default=None, metavar="SECONDS", help="segment length in seconds")
    p.add_argument("--window", choices=("hann", "triangular", "rectangular"), default="hann",
                   help="overlap blending window (default hann)")
    p.add_argument("--shifts", type=int, default=0, metavar="N", help="random time-shift passes, averaged")
    p.add_argument("--wiener", type=int, default=0, metavar="N", help="multichannel Wiener post-filter iterations")
    p.add_argument("--no-consistency", action="store_true", help="do not force stems to sum to the input")
    p.add_argument("-b", "--batch-size", type=int, default=None,
                   help="segments per forward pass (default 1 on CPU: least memory; 4 on GPU)")
    p.add_argument("-j", "--jobs", type=int, default=1, help="files separated in parallel processes (default 1)")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="segments of a file separated at once on threads (default: one per CPU thread, at most 4; "
                        "1 with -j > 1; 1 = serial)")
    p.add_argument("-d", "--device", default="cpu", help="cpu, cuda or cuda:N (default cpu)")
    p.add_argument("--seed", type=int, default=0, help="seed for --shifts (default 0)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar or per-file lines")


def find_inputs(inputs: list[str]) -> tuple[list[Path], list[tuple[str, str]]]:
    """Expand folders into audio files; returns (files, [(path, problem)])."""
    files, problems = [], []
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            found = sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in AUDIO_EXTENSIONS
                           and not f.name.startswith("."))
            if not found:
                problems.append((item, "folder contains no audio files"))
            files.extend(found)
        elif p.exists():
            files.append(p)
        else:
            problems.append((item, "no such file or folder"))
    return files, problems


def _output_format(args):
    from ..audio.formats import output_format

    kind = "mp3" if args.mp3 else "flac" if args.flac else "float32" if args.float32 else \
        "int24" if args.int24 else "wav16"
    try:
        return output_format(kind, mp3_bitrate=args.mp3_bitrate)
    except ValueError as exc:
        raise StemkitError(str(exc)) from None


def _separator(args):
    from ..separator import Separator

    stems = [s.strip() for s in args.stems.split(",") if s.strip()] if args.stems else None
    return Separator(args.model, device=args.device, segment=args.segment, overlap=args.overlap,
                     shifts=args.shifts, batch_size=args.batch_size, window=args.window,
                     consistency=not args.no_consistency, two_stems=args.two_stems, wiener=args.wiener,
                     stems=stems, progress=False if args.quiet else None, seed=args.seed,
                     workers=args.workers)


def _track_folder(args, sep, path: Path, fmt) -> Path:
    from ..separator import track_name

    rel = args.filename.format(track=track_name(path), stem="__STEM__", ext=fmt.extension.lstrip("."))
    return Path(args.out) / sep.name / Path(rel).parent


def _separate_one(args, sep, path: Path, fmt) -> dict:
    folder = _track_folder(args, sep, path, fmt)
    written = sep.separate_to_files(path, folder, fmt=fmt, clip=args.clip_mode)
    return {k: str(v) for k, v in written.items()}


_WORKER_SEP = None


def _worker_init(args):
    global _WORKER_SEP
    warnings.simplefilter("ignore")
    args.quiet = True
    if args.workers is None:  # -j processes already fill the cores: no threads on top of them
        args.workers = 1
    _WORKER_SEP = _separator(args)


def _internal(exc: Exception) -> str:
    """One line for a bug hit on one file; the batch goes on (STEMKIT_DEBUG=1 re-raises)."""
    if os.environ.get("STEMKIT_DEBUG"):
        raise exc
    return f"internal error: {exc.__class__.__name__}: {exc} (set STEMKIT_DEBUG=1 for a traceback)"


def _worker(args, path: Path, fmt):
    try:
        return str(path), _separate_one(args, _WORKER_SEP, path, fmt), None, False
    except StemkitError as exc:
        return str(path), None, str(exc), False
    except Exception as exc:  # a bug on this file must not lose the others
        return str(path), None, f"{path}: {_internal(exc)}", True


def run(args) -> int:
    if "{track}" not in args.filename or not args.filename.endswith("{stem}.{ext}"):
        raise StemkitError("--filename must contain {track} and end with {stem}.{ext}")
    fmt = _output_format(args)
    files, failures = find_inputs(args.inputs)
    failures = [(p, f"{p}: {m}") for p, m in failures]
    sep = _separator(args)  # model errors end the run before any file is touched
    out_root = Path(args.out)
    try:
        out_root.mkdir(parents=True, exist_ok=True)
        probe = out_root / f".stemkit-write-test-{os.getpid()}"
        probe.touch()
        probe.unlink()
    except OSError as exc:
        raise AudioWriteError(f"cannot write to output folder ({exc.strerror or exc})", path=str(out_root)) from None
    ok = 0
    internal = False
    if args.jobs > 1 and len(files) > 1:
        import multiprocessing as mp

        with ProcessPoolExecutor(max_workers=args.jobs, mp_context=mp.get_context("spawn"),
                                 initializer=_worker_init, initargs=(args,)) as pool:
            futures = [pool.submit(_worker, args, f, fmt) for f in files]
            for fut in as_completed(futures):
                path, written, error, bug = fut.result()
                internal |= bug
                if error:
                    failures.append((path, error))
                    print(f"stemkit: error: {error}", file=sys.stderr)
                else:
                    ok += 1
                    if not args.quiet:
                        print(f"{path} -> {Path(next(iter(written.values()))).parent}")
    else:
        for f in files:
            try:
                written = _separate_one(args, sep, f, fmt)
            except StemkitError as exc:
                failures.append((str(f), str(exc)))
                print(f"stemkit: error: {exc}", file=sys.stderr)
                continue
            except Exception as exc:  # a bug on this file must not lose the others
                internal = True
                failures.append((str(f), f"{f}: {_internal(exc)}"))
                print(f"stemkit: {failures[-1][1]}", file=sys.stderr)
                continue
            ok += 1
            if not args.quiet:
                print(f"{f} -> {Path(next(iter(written.values()))).parent}")
    if failures:
        if len(failures) + ok > 1:  # a batch: repeat what failed at the end, where it is seen
            print(f"stemkit: {len(failures)} input(s) failed, {ok} separated:", file=sys.stderr)
            for path, msg in failures:
                print(f"  {msg}", file=sys.stderr)
        elif not any(f for f in files if str(f) == failures[0][0]):  # a missing input: not said yet
            print(f"stemkit: error: {failures[0][1]}", file=sys.stderr)
        return 70 if internal else 1
    return 0
