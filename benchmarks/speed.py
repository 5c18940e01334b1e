"""Real-time factor and peak memory of `stemkit separate`, file to file: ours beside Open-Unmix and HT-Demucs.

Each (model, length) runs in a fresh subprocess, so its peak RSS (``ru_maxrss``) is its own; every
child gets the same ``OMP_NUM_THREADS`` (``--threads``). The child does what ``stemkit separate``
does for one file: ``Separator(model)`` then ``separate_to_files`` (read, resample, overlap-add
segments, consistency, 16-bit wav stems written atomically). The input is the demo song tiled to
length (tones and noise when it is absent), 44.1 kHz stereo 16-bit wav, written once per length.

Models: ``auto`` (default) is stemkit's shipped ``default`` when there is one, else ``ref_masker``,
followed by the peers ``openunmix_peer`` and ``htdemucs_peer`` when their packages are installed
(benchmarks/peers/requirements.txt; loaded through ``STEMKIT_PLUGINS=stemkit_peers``). A neural
architecture without shipped weights runs with random weights (seed 0) saved to a temporary model
folder: speed and memory do not depend on the weights' values.

    OMP_NUM_THREADS=2 python benchmarks/speed.py --lengths 30,180,1200 --threads 2
    python benchmarks/speed.py --models ref_masker,classical --lengths 30,180 --limit classical=30

``--rounds N`` runs every (length, model) pair N times, the models alternating within each round
(before/after comparisons on a shared machine: load changes hit both alike); the ratios then use
each pair's lowest CPU/s and RTF.

``--workers N`` sets ``STEMKIT_SEGMENT_WORKERS`` in every child (segments separated at once on
worker threads; by default ``Separator`` picks one per thread on CPU, so ``--threads 2`` runs two);
``--workers 1`` measures the serial engine.

Prints one row per run: seconds of audio, wall seconds of the separation (the model already
loaded), real-time factor (wall / audio), CPU seconds per audio second (the figure that survives
other load on the machine), peak RSS of the whole process, and the model's load seconds; then the
ratios: each peer's RTF and CPU/s over the first model's at each length, and each model's peak RSS
at the longest length over the shortest.
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
PEERS_DIR = REPO / "benchmarks" / "peers"
PEER_PLUGIN = "stemkit_peers"
PEER_MODELS = ("openunmix_peer", "htdemucs_peer")


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


def peers_available() -> bool:
    """True when the peer packages import (checked in a child: the stub must not leak into this process)."""
    code = f"import sys; sys.path.insert(0, {str(PEERS_DIR)!r}); import {PEER_PLUGIN}"
    return subprocess.run([sys.executable, "-c", code], capture_output=True).returncode == 0


def child_env(threads: int | None, plugins: bool, workers: int | None = None) -> dict[str, str]:
    env = dict(os.environ)
    if threads:
        env["OMP_NUM_THREADS"] = env["MKL_NUM_THREADS"] = str(threads)
    if workers:
        env["STEMKIT_SEGMENT_WORKERS"] = str(workers)
    if plugins:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PEERS_DIR), env.get("PYTHONPATH")]))
        env["STEMKIT_PLUGINS"] = ",".join(filter(None, [env.get("STEMKIT_PLUGINS"), PEER_PLUGIN]))
    return env


def prepare_model(name: str, folder: Path, env: dict[str, str]) -> str:
    """The ``-n`` value for ``name``: itself, or a folder of random weights for an untrained architecture."""
    code = (
        "import sys, torch\n"
        "from stemkit.models.registry import architectures, build_model, shipped_models\n"
        "from stemkit.models.weights import save_model_dir\n"
        "name, folder = sys.argv[1], sys.argv[2]\n"
        "arch = architectures().get(name)\n"
        "if name in shipped_models() or arch is None or arch.family != 'neural':\n"
        "    print(name)\n"
        "else:\n"
        "    torch.manual_seed(0)\n"
        "    save_model_dir(build_model(name), folder, training={'note': 'random weights for speed.py'})\n"
        "    print(folder)\n"
    )
    done = subprocess.run([sys.executable, "-c", code, name, str(folder)], env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"cannot prepare model {name!r}: {done.stderr.strip().splitlines()[-1:]}")
    return done.stdout.strip().splitlines()[-1]


def child(model: str, path: str, out: str) -> None:
    """One run, in its own process: load, then separate ``path`` into ``out`` as ``stemkit separate`` does."""
    from stemkit import Separator

    t0 = time.perf_counter()
    sep = Separator(model, progress=False)
    load = time.perf_counter() - t0
    t1 = time.perf_counter()
    r0 = resource.getrusage(resource.RUSAGE_SELF)
    sep.separate_to_files(path, out)
    wall = time.perf_counter() - t1
    r1 = resource.getrusage(resource.RUSAGE_SELF)
    cpu = (r1.ru_utime - r0.ru_utime) + (r1.ru_stime - r0.ru_stime)
    print(json.dumps({"wall": wall, "cpu": cpu, "load": load, "peak_mb": r1.ru_maxrss / 1024,
                      "workers": getattr(sep, "workers", 1)}))


def baseline_rss(model_ref: str, env: dict[str, str]) -> str:
    """Resident memory of the fixed costs, in a fresh process: the interpreter, ``import torch``,
    then ``Separator(model)`` (stemkit, the model's modules and weights); the rest of a run's peak
    is what separating costs."""
    code = (
        "import resource, sys\n"
        "def rss():\n"
        "    return next(int(l.split()[1]) // 1024 for l in open('/proc/self/status') if l.startswith('VmRSS'))\n"
        "a = rss()\n"
        "import torch\n"
        "b = rss()\n"
        "from stemkit import Separator\n"
        "Separator(sys.argv[1], progress=False)\n"
        "print(a, b, rss())\n"
    )
    done = subprocess.run([sys.executable, "-c", code, model_ref], env=env, capture_output=True, text=True)
    if done.returncode != 0 or not Path("/proc/self/status").exists():
        return "# baseline RSS: not measured"
    python, torch_, loaded = done.stdout.split()
    return (f"# RSS before separating ({Path(model_ref).name}): python alone {python} MB, after import torch "
            f"{torch_} MB, after Separator(model) {loaded} MB")


def run_one(model_ref: str, wav: Path, out: Path, env: dict[str, str]) -> dict | str:
    proc = subprocess.run([sys.executable, __file__, "--child", model_ref, str(wav), str(out)],
                          capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        return "failed: " + " ".join(proc.stderr.strip().splitlines()[-1:])
    return json.loads(proc.stdout.strip().splitlines()[-1])


def ratios(results: dict[str, dict[float, dict]], models: list[str]) -> list[str]:
    """Peer / ours for RTF and CPU/s per length; peak RSS longest / shortest per model."""
    lines = []
    ours = models[0]
    for peer in models[1:]:
        for seconds, r in sorted(results.get(peer, {}).items()):
            base = results.get(ours, {}).get(seconds)
            if base:
                lines.append(f"{peer} / {ours} at {seconds:g} s: RTF {r['wall'] / base['wall']:.1f}x, "
                             f"CPU/s {r['cpu'] / base['cpu']:.1f}x")
    for model in models:
        runs = results.get(model, {})
        if len(runs) >= 2:
            lo, hi = min(runs), max(runs)
            lines.append(f"{model}: peak RSS {hi:g} s / {lo:g} s = {runs[hi]['peak_mb'] / runs[lo]['peak_mb']:.2f}x")
    return lines


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--models", default="auto",
                    help="comma-separated model names or folders; the first is the reference of the ratios "
                         "(default auto: default or ref_masker, then the peers when installed)")
    ap.add_argument("--lengths", default="30,180,1200", help="input lengths in seconds (default %(default)s)")
    ap.add_argument("--limit", action="append", default=[], metavar="MODEL=SECONDS",
                    help="skip MODEL's inputs longer than SECONDS (repeatable); HT-Demucs runs near real time")
    ap.add_argument("--threads", type=int, default=None,
                    help="OMP_NUM_THREADS of every run (default: inherited, else torch's default)")
    ap.add_argument("--workers", type=int, default=None,
                    help="STEMKIT_SEGMENT_WORKERS of every run (default: Separator's choice, one per thread on CPU)")
    ap.add_argument("--rounds", type=int, default=1,
                    help="run every (length, model) this many times, models alternating; ratios use the best run")
    ap.add_argument("--json", type=Path, default=None, help="also write every result to this JSON file")
    ap.add_argument("--child", nargs=3, metavar=("MODEL", "INPUT", "OUT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(*args.child)
        return
    lengths = [float(x) for x in args.lengths.split(",")]
    limits = {}
    for item in args.limit:
        model, _, seconds = item.partition("=")
        limits[model.strip()] = float(seconds)
    has_peers = peers_available()
    if args.models == "auto":
        from stemkit.models.registry import shipped_models

        models = ["default" if "default" in shipped_models() else "ref_masker"]
        models += list(PEER_MODELS) if has_peers else []
        if not has_peers:
            print("# peers not installed (pip install --no-deps -r benchmarks/peers/requirements.txt): ours only")
    else:
        models = [m.strip() for m in args.models.split(",") if m.strip()]
    env = child_env(args.threads, plugins=has_peers, workers=args.workers)
    threads = env.get("OMP_NUM_THREADS", "unset")
    print(f"# {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; machine: {platform.machine()}, "
          f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}; OMP_NUM_THREADS={threads}; "
          f"STEMKIT_SEGMENT_WORKERS={env.get('STEMKIT_SEGMENT_WORKERS', 'auto')}; python {platform.python_version()}")
    print(f"{'model':<16} {'audio s':>8} {'wall s':>8} {'RTF':>7} {'CPU/s':>7} {'peak RSS MB':>12} {'load s':>7} "
          f"{'workers':>7}")
    results: dict[str, dict[float, dict]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        refs = {m: prepare_model(m, Path(tmp) / "models" / Path(m).name, env) for m in models}
        print(baseline_rss(refs[models[0]], env), flush=True)
        for seconds in sorted(lengths):
            wav = Path(tmp) / f"in_{int(seconds)}.wav"
            make_input(wav, seconds)
            for model in [m for _ in range(max(1, args.rounds)) for m in models]:
                if seconds > limits.get(model, float("inf")):
                    print(f"{model:<16} {seconds:>8.0f}  skipped (--limit)", flush=True)
                    continue
                r = run_one(refs[model], wav, Path(tmp) / "out", env)
                if isinstance(r, str):
                    print(f"{model:<16} {seconds:>8.0f}  {r}", flush=True)
                    continue
                best = results.setdefault(model, {}).get(seconds)
                runs = (best or {}).get("runs", []) + [r]
                # the best of the rounds: lowest CPU and lowest wall may come from different runs
                results[model][seconds] = {**r, "cpu": min(x["cpu"] for x in runs),
                                           "wall": min(x["wall"] for x in runs),
                                           "peak_mb": max(x["peak_mb"] for x in runs), "runs": runs}
                print(f"{model:<16} {seconds:>8.0f} {r['wall']:>8.1f} {r['wall'] / seconds:>7.3f} "
                      f"{r['cpu'] / seconds:>7.3f} {r['peak_mb']:>12.0f} {r['load']:>7.1f} {r.get('workers', 1):>7}",
                      flush=True)
            wav.unlink()
    print("# ratios")
    for line in ratios(results, models):
        print(line)
    if args.json:
        args.json.write_text(json.dumps({"threads": threads, "workers": env.get("STEMKIT_SEGMENT_WORKERS", "auto"),
                                         "results": {m: {str(k): v for k, v in r.items()}
                                                                            for m, r in results.items()}}, indent=1))


if __name__ == "__main__":
    main()
