"""SDR of the classical and oracle separators on real multitrack audio, and their speed.

Reads ``../shared/data/real/Music_Delta_-_80s_Rock`` and the first ``--clips`` tracks of
``../shared/data/musdb18-7s/train`` (decoded with ffmpeg through stemkit.audio), separates each
mixture, and scores every stem with museval (BSS Eval v4: SDR per 1 s frame, median over frames).
Two-stem models are scored against the matching sums of references (``no_drums`` = bass + other
+ vocals, ``accompaniment`` = drums + bass + other). Reference stems that are silent in a clip are
left out of its scores. The real-time factor is CPU seconds (one thread) per second of audio.

    OMP_NUM_THREADS=1 python benchmarks/classical_real.py                  # all models, 10 clips
    OMP_NUM_THREADS=1 python benchmarks/classical_real.py -m classical --clips 3 --json out.json
    OMP_NUM_THREADS=1 python benchmarks/classical_real.py -m classical --set wiener_iterations=1
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

import museval
import numpy as np
import torch

from stemkit.audio import read_audio
from stemkit.engine import separate_tensor
from stemkit.models import SOURCES_4, load_model

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"
REAL_TRACK = SHARED / "real" / "Music_Delta_-_80s_Rock"
MUSDB_7S = SHARED / "musdb18-7s" / "train"
SR = 44100
MODELS = ["hpss", "repet", "centre", "classical", "oracle_ibm", "oracle_irm", "oracle_irm2", "oracle_mwf", "mixture"]

#: How a model's stems map onto sums of the four reference stems.
TARGETS = {
    "no_drums": ("bass", "other", "vocals"),
    "accompaniment": ("drums", "bass", "other"),
}


def load_tracks(clips: int) -> list[tuple[str, np.ndarray, dict[str, np.ndarray]]]:
    """``[(name, mix (C, T), {stem: (C, T)})]``: the real track, then ``clips`` MUSDB 7 s clips."""
    tracks = []
    if REAL_TRACK.is_dir():
        mix, _ = read_audio(REAL_TRACK / "mixture.flac", sample_rate=SR, channels=2)
        refs = {s: read_audio(REAL_TRACK / f"{s}.flac", sample_rate=SR, channels=2)[0] for s in SOURCES_4}
        tracks.append((REAL_TRACK.name, mix, refs))
    for path in sorted(MUSDB_7S.glob("*.stem.mp4"))[:clips]:
        streams = [read_audio(path, stream=k, sample_rate=SR, channels=2)[0] for k in range(5)]
        length = min(s.shape[-1] for s in streams)
        streams = [s[:, :length] for s in streams]
        tracks.append((path.name.removesuffix(".stem.mp4"), streams[0], dict(zip(SOURCES_4, streams[1:]))))
    if not tracks:
        sys.exit(f"no audio found under {SHARED}")
    return tracks


def reference_for(stem: str, refs: dict[str, np.ndarray]) -> np.ndarray:
    return sum(refs[s] for s in TARGETS.get(stem, (stem,)))


def score(estimates: dict[str, np.ndarray], refs: dict[str, np.ndarray]) -> dict[str, float]:
    """Median-over-1 s-frames SDR per stem; stems whose reference is silent are skipped."""
    names = [s for s in estimates if np.abs(reference_for(s, refs)).max() > 1e-4]
    if not names:
        return {}
    truth = np.stack([reference_for(s, refs).T for s in names])
    est = np.stack([estimates[s].T for s in names])
    # museval refuses an all-zero estimate; a tiny dither gives it the (very low) score it earns.
    est = est + 1e-9 * np.random.default_rng(0).standard_normal(est.shape)
    sdr, _, _, _ = museval.evaluate(truth, est, win=SR, hop=SR)
    return {s: float(np.nanmedian(v)) for s, v in zip(names, sdr)}


def separate(model, mix: np.ndarray, refs: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    if model.family == "oracle":
        order = list(SOURCES_4)
        est = model.separate_with_references(mix, np.stack([refs[s] for s in order]))
        return dict(zip(order, est))
    with torch.inference_mode():
        est = separate_tensor(model, torch.from_numpy(mix)).numpy()
    return dict(zip(model.sources, est))


def parse_overrides(pairs: list[str]) -> dict:
    out = {}
    for pair in pairs:
        key, _, value = pair.partition("=")
        out[key] = json.loads(value) if value[:1] in "-0123456789[{tf" else value
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-m", "--models", nargs="+", default=MODELS)
    parser.add_argument("--clips", type=int, default=10, help="MUSDB 7 s clips besides the real track")
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE", help="model constructor overrides")
    parser.add_argument("--json", type=Path, help="write all scores here")
    args = parser.parse_args()

    tracks = load_tracks(args.clips)
    seconds = sum(mix.shape[-1] for _, mix, _ in tracks) / SR
    results = {}
    for name in args.models:
        model = load_model(name, **parse_overrides(args.set))
        per_track, cpu = {}, 0.0
        for track, mix, refs in tracks:
            start = time.process_time()
            estimates = separate(model, mix, refs)
            cpu += time.process_time() - start
            per_track[track] = score(estimates, refs)
        stems = list(model.sources) if model.family != "oracle" else list(SOURCES_4)
        first = per_track[tracks[0][0]]
        rest = [per_track[t] for t, _, _ in tracks[1:]]
        mean_rest = {s: float(np.mean([r[s] for r in rest if s in r])) for s in stems if any(s in r for r in rest)}
        results[name] = {"tracks": per_track, "first": first, "mean_clips": mean_rest, "rtf": cpu / seconds}
        cells = " ".join(f"{s}={first.get(s, float('nan')):6.2f}" for s in stems)
        means = " ".join(f"{s}={mean_rest.get(s, float('nan')):6.2f}" for s in stems)
        print(f"{name:12s} {tracks[0][0]}: {cells} | mean of {len(rest)} clips: {means} | rtf {cpu / seconds:.3f}", flush=True)
    if args.json:
        tmp = args.json.with_name(args.json.name + ".tmp")
        tmp.write_text(json.dumps(results, indent=2))
        os.replace(tmp, args.json)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
