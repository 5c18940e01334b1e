"""Peak memory and time of BSS Eval v4 scoring, and what blocking changes in the scores.

Memory (default): a synthetic stereo 4-stem track of ``--minutes`` at 44.1 kHz is scored by
:func:`stemkit.evaluate.metrics.bss_eval_v4` with its filter correlations accumulated in blocks of
``--block`` seconds (0 = one plain museval call on the whole track). Prints the process's resident memory before scoring (the track's
references and estimates, float32) and its peak (``ru_maxrss``) after::

    OMP_NUM_THREADS=1 python benchmarks/eval_memory.py --minutes 10 --block 30
    OMP_NUM_THREADS=1 python benchmarks/eval_memory.py --minutes 1 --block 0   # whole-track museval

Fidelity (``--fidelity DIR``): concatenates real clips (``DIR/*.stem.mp4`` or MUSDB18-HQ songs) into
one long track, separates it with the oracle IRM, scores it whole and in blocks, and prints how
far the per-source frame medians move::

    OMP_NUM_THREADS=1 python benchmarks/eval_memory.py --fidelity ../shared/data/musdb18-7s/train \
        --clips 9 --blocks 30 10
"""

from __future__ import annotations

import argparse
import resource
import time

import numpy as np

from stemkit.evaluate.metrics import bss_eval_v4

SOURCES = ("drums", "bass", "other", "vocals")


def rss_mb() -> float:
    """Current resident set size (MB) from /proc (Linux)."""
    with open("/proc/self/statm") as f:
        pages = int(f.read().split()[1])
    return pages * resource.getpagesize() / 2**20


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KB on Linux


def synthetic_track(minutes: float, sample_rate: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """References ``(4, 2, T)`` (filtered noise, distinct spectra) and estimates that leak 10 %
    of every other source plus noise, both float32, built in place to keep the peak low."""
    rng = np.random.default_rng(seed)
    T = int(minutes * 60 * sample_rate)
    refs = np.empty((4, 2, T), np.float32)
    for s in range(4):
        rng.standard_normal(out=refs[s], dtype=np.float32)
        # a one-pole low-pass of different strength per source gives each its own spectrum
        if s:
            from scipy.signal import lfilter

            a = 1.0 - 0.5**s
            refs[s] = lfilter([1.0 - a], [1.0, -a], refs[s], axis=-1).astype(np.float32)
        refs[s] *= 0.1
    ests = np.empty_like(refs)
    total = refs.sum(axis=0)
    for s in range(4):
        np.multiply(total, 0.1, out=ests[s])
        ests[s] += 0.9 * refs[s]
        ests[s] += 0.01 * rng.standard_normal((2, T), dtype=np.float32)
    del total
    return refs, ests


def memory(args) -> None:
    sr = args.sample_rate
    refs, ests = synthetic_track(args.minutes, sr, args.seed)
    before = rss_mb()
    block = args.block or None
    t0 = time.perf_counter()
    c0 = time.process_time()
    scores = bss_eval_v4(refs, ests, sr, block_seconds=block)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    peak = peak_rss_mb()
    med = scores.medians()
    print(f"track: {args.minutes:g} min stereo, 4 stems, {sr} Hz; block: {block or 'whole track'} s")
    print(f"frames scored: {scores.num_frames}; median SDR per stem: "
          + ", ".join(f"{s} {v:.2f}" for s, v in zip(SOURCES, med["SDR"])))
    print(f"RSS with track loaded: {before:.0f} MB; peak RSS: {peak:.0f} MB "
          f"(scoring added {peak - before:.0f} MB)")
    print(f"time: {wall:.1f} s wall, {cpu:.1f} s CPU")


def _load_clips(folder: str, clips: int):
    from stemkit.data.tracks import find_tracks

    tracks = find_tracks(folder)[:clips]
    mixes, refs, rate = [], [], None
    for t in tracks:
        mix, stems, sr = t.load(SOURCES)
        rate = rate or sr
        mixes.append(mix)
        refs.append(stems)
    return np.concatenate(mixes, axis=-1), np.concatenate(refs, axis=-1), rate, [t.name for t in tracks]


def fidelity(args) -> None:
    from stemkit.models.registry import load_model

    mix, refs, sr, names = _load_clips(args.fidelity, args.clips)
    ests = load_model("oracle_irm").separate_with_references(mix, refs)
    print(f"{len(names)} clips concatenated: {refs.shape[-1] / sr:.1f} s at {sr} Hz, oracle_irm estimates")
    t0 = time.process_time()
    whole = bss_eval_v4(refs, ests, sr, block_seconds=None)
    print(f"whole track: {time.process_time() - t0:.1f} s CPU, peak RSS {peak_rss_mb():.0f} MB; medians: "
          + "; ".join(f"{m} " + " ".join(f"{v:.2f}" for v in vals) for m, vals in whole.medians().items()))
    for block in args.blocks:
        t0 = time.process_time()
        part = bss_eval_v4(refs, ests, sr, block_seconds=block)
        cpu = time.process_time() - t0
        print(f"block {block:g} s: {cpu:.1f} s CPU")
        for metric in ("SDR", "SIR", "SAR", "ISR"):
            a, b = getattr(whole, metric), getattr(part, metric)
            ok = np.isfinite(a) & np.isfinite(b)
            frame_diff = np.abs(a[ok] - b[ok])
            med_diff = np.abs(whole.medians()[metric] - part.medians()[metric])
            print(f"  {metric}: frames |diff| max {frame_diff.max():.2e} dB, mean {frame_diff.mean():.2e} dB; "
                  f"per-stem median |diff| max {np.nanmax(med_diff):.3f} dB")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--minutes", type=float, default=10.0)
    p.add_argument("--block", type=float, default=30.0, help="seconds per block; 0 = whole track")
    p.add_argument("--sample-rate", type=int, default=44100)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--fidelity", metavar="DIR", help="measure score changes from blocking on real clips")
    p.add_argument("--clips", type=int, default=9)
    p.add_argument("--blocks", type=float, nargs="+", default=[30.0, 10.0])
    args = p.parse_args()
    fidelity(args) if args.fidelity else memory(args)


if __name__ == "__main__":
    main()
