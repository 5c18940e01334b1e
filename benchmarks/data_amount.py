"""How the real score grows with the amount of real training stems: a learning curve (issue 5).

The realism ladder found that the real training excerpts, not rendered songs, carry the real score,
and every lever since leaves the shipped models within a few hundredths of a dB. This script asks
the question those results leave: how much would *more* real stems give? It

1. draws nested subsets of the real training excerpts (``--sizes``; a fixed shuffle by
   ``--subset-seed``, so the 16 excerpts are among the 32, which are among the 64);
2. trains one network per size with the same config, seed and step count (``stemkit train
   --config CONFIG data.train.root=SUBSET``): only the amount of data differs;
3. scores each with ``stemkit evaluate`` on the real validation excerpts (museval SDR, median over
   1 s frames then excerpts) and pairs it with the largest size, excerpt by excerpt;
4. prints one row per size and a least-squares line of the average SDR against log2(minutes of
   stems): the gain per doubling of the data, the one number that says how far a data lever can go.

Everything is cached under ``--out`` (subsets, runs, evaluations); run it again to add sizes or a
second ``--subset-seed``. ``--run SIZE=MODEL_DIR`` scores a model trained elsewhere for a size
(the full set's network usually exists already).

    OMP_NUM_THREADS=1 python benchmarks/data_amount.py --real data/realism/train_data/real_only \\
        --valid data/realism/common/real_valid --sizes 8,16,32,64 --config configs/hq.yaml \\
        --out data/data_amount
"""

from __future__ import annotations

import argparse
import json
import math
import random
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

from realism import read_scores, say, stemkit, write_atomic  # benchmarks/ is on sys.path when run

SOURCES = ("drums", "bass", "other", "vocals")


def tracks_of(root: Path) -> list[Path]:
    """The track folders of a musdb_hq-layout root (``root/train/<track>/``), sorted by name."""
    folder = root / "train"
    if not folder.is_dir():
        raise SystemExit(f"error: {root} has no train/ folder (expected root/train/<track>/<stem>.wav)")
    return sorted(p for p in folder.iterdir() if p.is_dir())


def nested_subset(tracks: list[Path], size: int, seed: int) -> list[Path]:
    """The first ``size`` tracks of one fixed shuffle: every smaller subset is inside every larger one."""
    order = list(tracks)
    random.Random(seed).shuffle(order)
    return sorted(order[:size], key=lambda p: p.name)


def link_subset(dest: Path, tracks: list[Path]) -> Path:
    """``dest/train/<track>`` symlinks (rebuilt when the track list changed)."""
    listing = dest / "tracks.txt"
    wanted = "\n".join(p.name for p in tracks) + "\n"
    if listing.is_file() and listing.read_text() == wanted:
        return dest
    (dest / "train").mkdir(parents=True, exist_ok=True)
    for old in (dest / "train").iterdir():
        old.unlink()
    for track in tracks:
        (dest / "train" / track.name).symlink_to(track.resolve(), target_is_directory=True)
    write_atomic(listing, wanted)
    return dest


def minutes_of(tracks: list[Path]) -> float:
    """Minutes of audio in the tracks (their mixture files, or their first stem)."""
    total = 0.0
    for track in tracks:
        files = sorted(track.glob("mixture.*")) or sorted(p for p in track.iterdir() if p.suffix in (".wav", ".flac"))
        info = sf.info(str(files[0]))
        total += info.frames / info.samplerate
    return total / 60.0


def excerpt_averages(scores: dict) -> dict[str, float]:
    """``read_scores`` output -> {excerpt: mean of its per-stem SDRs (NaN stems left out)}."""
    return {name: float(np.nanmean([stems.get(s, math.nan) for s in SOURCES])) for name, stems in scores["tracks"].items()}


def paired(a: dict[str, float], b: dict[str, float]) -> tuple[float, float]:
    """Mean and standard error over the shared excerpts of ``a - b``."""
    diffs = np.array([a[n] - b[n] for n in a if n in b and np.isfinite(a[n] - b[n])])
    if len(diffs) < 2:
        return math.nan, math.nan
    return float(diffs.mean()), float(diffs.std(ddof=1) / math.sqrt(len(diffs)))


def fit_per_doubling(minutes: list[float], averages: list[float]) -> tuple[float, float]:
    """Least-squares ``average = a + b log2(minutes)``: returns (b, a)."""
    slope, intercept = np.polyfit(np.log2(minutes), averages, 1)
    return float(slope), float(intercept)


def table(rows: list[dict], reference: dict | None) -> str:
    header = ["excerpts", "minutes", *SOURCES, "avg", f"paired vs {rows[-1]['size']}"]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for r in rows:
        mean, se = r["paired"]
        lines.append("| " + " | ".join([
            str(r["size"]), f"{r['minutes']:.1f}", *(f"{r['per_stem'][s]:.2f}" for s in SOURCES),
            f"{r['average']:.2f}", "" if r is rows[-1] else f"{mean:+.2f} +- {se:.2f}",
        ]) + " |")
    if reference:
        lines.append("| " + " | ".join([reference["label"], "", *(f"{reference['per_stem'][s]:.2f}" for s in SOURCES),
                                        f"{reference['average']:.2f}", ""]) + " |")
    return "\n".join(lines)


def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--real", required=True, type=Path, help="real training root (musdb_hq layout: ROOT/train/<track>/)")
    p.add_argument("--valid", required=True, type=Path, help="real validation root (musdb_hq layout)")
    p.add_argument("--sizes", default="16,32,64", help="comma-separated excerpt counts (the largest is the reference)")
    p.add_argument("--subset-seed", type=int, default=0, help="seed of the shuffle the nested subsets come from")
    p.add_argument("--config", type=Path, default=Path("configs/hq.yaml"), help="stemkit train config (same for every size)")
    p.add_argument("--override", action="append", default=[], metavar="KEY=VALUE", help="extra stemkit train override")
    p.add_argument("--run", action="append", default=[], metavar="SIZE=MODEL_DIR",
                   help="use a model trained elsewhere for SIZE instead of training one")
    p.add_argument("--reference", default=None, metavar="LABEL=MODEL",
                   help="a model scored beside the curve, e.g. classical=classical")
    p.add_argument("--jobs", type=int, default=2, help="stemkit evaluate -j")
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("-q", "--quiet", action="store_true")
    return p.parse_args(argv)


def evaluate(model: str, valid: Path, dest: Path, jobs: int, log: Path) -> dict:
    if not (dest / "scores.json").is_file():
        stemkit(["evaluate", "-n", model, "--data", str(valid), "--split", "all", "--layout", "musdb_hq",
                 "--sdr-only", "-o", str(dest), "-q", "-j", str(jobs)], log)
    return read_scores(dest / "scores.json")


def main(argv=None) -> int:
    args = parse_args(argv)
    out = args.out.expanduser().resolve()
    logs = out / "logs"
    tracks = tracks_of(args.real)
    try:
        sizes = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
        given = {int(k): Path(v) for k, v in (spec.split("=", 1) for spec in args.run)}
    except ValueError:
        raise SystemExit("error: --sizes takes whole numbers and --run takes SIZE=MODEL_DIR") from None
    if not sizes or sizes[0] < 1 or sizes[-1] > len(tracks):
        raise SystemExit(f"error: sizes must lie in 1..{len(tracks)} (the tracks under {args.real})")
    rows = []
    for size in sizes:
        subset = nested_subset(tracks, size, args.subset_seed)
        tag = f"n{size}_s{args.subset_seed}"
        model_dir = given.get(size)
        if model_dir is None:
            data = link_subset(out / "subsets" / tag, subset)
            model_dir = out / "runs" / tag / "last"
            if not (model_dir / "model.json").is_file():
                say(f"training on {size} excerpts ({tag})", args.quiet)
                stemkit(["train", "--config", str(args.config), "--runs-dir", str(out / "runs"), "--name", tag,
                         f"data.train.root={data}", *args.override], logs / f"train_{tag}.log")
        say(f"scoring {model_dir}", args.quiet)
        scores = evaluate(str(model_dir), args.valid, out / "eval" / tag, args.jobs, logs / f"eval_{tag}.log")
        sidecar = json.loads((model_dir / "model.json").read_text()) if (model_dir / "model.json").is_file() else {}
        rows.append({"size": size, "minutes": minutes_of(subset), "model": str(model_dir),
                     "per_stem": scores["summary"]["per_stem"], "average": scores["summary"]["average"],
                     "excerpts": excerpt_averages(scores), "training": sidecar.get("training", {})})
    for r in rows:
        r["paired"] = paired(r["excerpts"], rows[-1]["excerpts"])
    reference = None
    if args.reference:
        label, _, model = args.reference.partition("=")
        scores = evaluate(model or label, args.valid, out / "eval" / f"ref_{label}", args.jobs, logs / f"eval_ref_{label}.log")
        reference = {"label": label, **scores["summary"]}
    text = [f"# real SDR against real training minutes ({args.config}, subset seed {args.subset_seed})", "",
            table(rows, reference), ""]
    if len(rows) >= 2:
        slope, intercept = fit_per_doubling([r["minutes"] for r in rows], [r["average"] for r in rows])
        text.append(f"least squares: avg = {intercept:.2f} + {slope:.2f} x log2(minutes) "
                    f"({slope:+.2f} dB per doubling of the real stems)")
    report = "\n".join(text) + "\n"
    write_atomic(out / f"curve_s{args.subset_seed}.md", report)
    write_atomic(out / f"curve_s{args.subset_seed}.json",
                 json.dumps({"rows": [{k: v for k, v in r.items() if k != "excerpts"} for r in rows],
                             "reference": reference}, indent=1))
    print(report, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
