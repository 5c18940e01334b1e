"""Real-time factor and peak memory of `stemkit separate`, file to file, per model and input length.

Each (model, length) runs in a fresh subprocess so its peak RSS is its own. The input is a
synthetic song (the demo song tiled, or tones and noise when it is absent) written once per length.

    OMP_NUM_THREADS=2 python benchmarks/speed.py --models classical --lengths 30,180,1200

Prints one row per run: seconds of audio, wall seconds, real-time factor (wall / audio), CPU seconds
per audio second (less sensitive to other load on the machine), and peak RSS.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

REPO = Path(__file__).resolve().parents[1]
DEMO = REPO / "demo" / "demo_song.flac"


def make_input(path: Path, seconds: float, sr: int = 44100) -> None:
    """Write a stereo 16-bit wav of ``seconds`` block by block (memory flat)."""
    if DEMO.exists():
        base, sr = sf.read(DEMO, dtype="float32", always_2d=True)
    else:
        rng = np.random.default_rng(0)
        t = np.arange(sr * 10) / sr
        tone = 0.2 * np.sin(2 * np.pi * 110 * t) + 0.1 * np.sin(2 * np.pi * 440 * t)
        base = np.stack([tone, tone], 1) + 0.05 * rng.standard_normal((len(t), 2))
    total = int(seconds * sr)
    with sf.SoundFile(path, "w", sr, 2, subtype="PCM_16") as f:
        written = 0
        while written < total:
            n = min(len(base), total - written)
            f.write(base[:n])
            written += n


def child(model: str, path: str, out: str) -> None:
    from stemkit import Separator

    t0 = time.perf_counter()
    sep = Separator(model, progress=False, allow_untrained=True)
    load = time.perf_counter() - t0
    t1 = time.perf_counter()
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    sep.separate_to_files(path, out)
    wall = time.perf_counter() - t1
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    print(json.dumps({"wall": wall, "cpu": cpu, "load": load, "peak_mb": r1.ru_maxrss / 1024}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="classical", help="comma-separated model names")
    ap.add_argument("--lengths", default="30,180,1200", help="input lengths in seconds")
    ap.add_argument("--child", nargs=3, metavar=("MODEL", "INPUT", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return
    lengths = [float(x) for x in args.lengths.split(",")]
    models = [m.strip() for m in args.models.split(",")]
    print(f"# machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}, python {platform.python_version()}")
    print(f"{'model':<14} {'audio s':>8} {'wall s':>8} {'RTF':>7} {'CPU/s':>7} {'peak RSS MB':>12}")
    with tempfile.TemporaryDirectory() as tmp:
        for seconds in lengths:
            wav = Path(tmp) / f"in_{int(seconds)}.wav"
            make_input(wav, seconds)
            for model in models:
                proc = subprocess.run(
                    [sys.executable, __file__, "--child", model, str(wav), str(Path(tmp) / "out")],
                    capture_output=True, text=True,
                )
                if proc.returncode != 0:
                    print(f"{model:<14} {seconds:>8.0f}  failed: {proc.stderr.strip().splitlines()[-1:]}")
                    continue
                r = json.loads(proc.stdout.strip().splitlines()[-1])
                print(f"{model:<14} {seconds:>8.0f} {r['wall']:>8.1f} {r['wall'] / seconds:>7.3f} "
                      f"{r['cpu'] / seconds:>7.3f} {r['peak_mb']:>12.0f}", flush=True)
            wav.unlink()


if __name__ == "__main__":
    main()
