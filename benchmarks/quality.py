"""Quality side by side: stemkit's default, the peers and the baselines on the same two test sets.

Every model is scored by the real command, ``stemkit evaluate`` (museval BSS Eval v4, 1 s frames,
median over frames then tracks), on

- ``real``: the real validation excerpts of stemkit's musdb18-7s split (none trained on), and
- ``rendered``: the realism ladder's held-out songs (a SoundFont, songs and seeds no training set uses),

both made by ``python benchmarks/realism.py --prepare --out data/realism``. Then ``stemkit compare``
writes a table and a grouped box plot per set, and this script prints one table with both sets and
each model's share of the oracle IRM's average.

    python benchmarks/quality.py \\
        --model default --model classical --model oracle_irm --model mixture \\
        --model umx=runs/umx_equal/last --model htdemucs=runs/htdemucs_equal/last \\
        --out evaluations/quality

``LABEL=PATH`` names a model folder; a bare name is used as its own label. Peer models
(``openunmix_peer``, ``htdemucs_peer``, by name or in a folder's sidecar) load through the benchmark
plugin, which this script enables for their evaluations (``STEMKIT_PLUGINS=stemkit_peers``,
``PYTHONPATH=benchmarks/peers``; the peers' packages: benchmarks/peers/requirements.txt).
Evaluations already in ``--out`` are reused, so adding a model re-scores only that model.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from pathlib import Path

from realism import stemkit as run_stemkit  # benchmarks/ is on sys.path when this script runs

REPO = Path(__file__).resolve().parents[1]
SOURCES = ("drums", "bass", "other", "vocals")
SETS = ("real", "rendered")


def parse_model(spec: str) -> tuple[str, str]:
    """``LABEL=PATH`` or ``NAME`` -> (label, model argument of ``stemkit evaluate``)."""
    label, sep, model = spec.partition("=")
    return (label, model) if sep else (spec, spec)


def is_peer(model: str) -> bool:
    """A peer model (``*_peer``), by name or by a model folder's sidecar: it needs the benchmark plugin."""
    sidecar = Path(model) / "model.json"
    name = json.loads(sidecar.read_text()).get("model", "") if sidecar.is_file() else model
    return name.endswith("_peer")


def peer_env() -> dict:
    env = dict(os.environ)
    peers = str(REPO / "benchmarks" / "peers")
    env["PYTHONPATH"] = peers + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    plugins = [p for p in env.get("STEMKIT_PLUGINS", "").split(",") if p]
    env["STEMKIT_PLUGINS"] = ",".join(dict.fromkeys(plugins + ["stemkit_peers"]))
    return env


def stemkit(args: list[str], log: Path, peers: bool = False) -> None:
    """``python -m stemkit ARGS``, with the peer plugin enabled when ``peers``; output appended to ``log``.

    The plugin imports the peers' packages (benchmarks/peers/requirements.txt), so it is enabled only
    for the peers' own evaluations: the baselines and stemkit's models score without them installed.
    """
    try:
        run_stemkit(args, log, env=peer_env() if peers else None)
    except RuntimeError as failed:
        raise SystemExit(str(failed)) from None


def stem_medians(scores_json: Path) -> dict[str, float]:
    """Per-stem SDR (median over frames, then tracks) from ``stemkit evaluate``'s scores.json."""
    stats = json.loads(scores_json.read_text())["summary"]["stats"]["SDR"]
    return {s: (math.nan if stats[s]["median"] is None else float(stats[s]["median"])) for s in SOURCES if s in stats}


def average(per_stem: dict[str, float]) -> float:
    """Mean of the four per-stem medians, as the issues and the docs report it."""
    values = [per_stem.get(s, math.nan) for s in SOURCES]
    return sum(values) / len(values)


def table(results: dict[str, dict[str, dict[str, float]]], key: str, reference: str | None) -> str:
    """Markdown for one set: a row per model, per-stem SDR, the average, its share of the reference's."""
    head = ["model", *SOURCES, "**avg**"] + ([f"avg / {reference}"] if reference else [])
    lines = [f"{key}:", "", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    base = average(results.get(reference or "", {}).get(key, {})) if reference else math.nan
    for label, per_set in results.items():
        scores = per_set.get(key)
        if not scores:
            continue
        cells = [f"`{label}`", *(f"{scores.get(s, math.nan):.2f}" for s in SOURCES), f"**{average(scores):.2f}**"]
        if reference:
            cells.append(f"{100 * average(scores) / base:.0f} %" if base > 0 else "")
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", action="append", required=True, metavar="[LABEL=]MODEL",
                   help="model name, model folder or baseline (repeat); LABEL=PATH names a folder")
    p.add_argument("--real", type=Path, default=REPO / "data/realism/common/real_valid",
                   help="real validation set (default data/realism/common/real_valid)")
    p.add_argument("--rendered", type=Path, default=REPO / "data/realism/common/heldout_4x15s",
                   help="rendered held-out set (default data/realism/common/heldout_4x15s)")
    p.add_argument("--sets", default="real,rendered", help="which sets to score (default both)")
    p.add_argument("--out", type=Path, default=REPO / "evaluations/quality", help="evaluations and reports")
    p.add_argument("--full-metrics", action="store_true",
                   help="also SIR/SAR/ISR (museval's filters: minutes per model instead of seconds)")
    p.add_argument("--reference", default="oracle_irm",
                   help="label whose average the others are expressed against (default oracle_irm)")
    p.add_argument("-j", "--jobs", type=int, default=1, help="tracks evaluated in parallel")
    return p.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    sets = [s for s in args.sets.split(",") if s]
    unknown = [s for s in sets if s not in SETS]
    if unknown:
        raise SystemExit(f"unknown set(s) {unknown}; known: {', '.join(SETS)}")
    folders = {"real": args.real, "rendered": args.rendered}
    for key in sets:
        if not folders[key].is_dir():
            raise SystemExit(f"{folders[key]}: no such folder; make it with "
                             "`python benchmarks/realism.py --prepare --out data/realism`")
    models = [parse_model(m) for m in args.model]
    results: dict[str, dict[str, dict[str, float]]] = {}
    for label, model in models:
        for key in sets:
            dest = args.out / key / label
            if not (dest / "scores.json").is_file():
                print(f"evaluating {label} on {key}", file=sys.stderr, flush=True)
                metrics = [] if args.full_metrics else ["--sdr-only"]
                stemkit(["evaluate", "-n", model, "--data", str(folders[key]), "--split", "all", "--layout",
                         "musdb_hq", "-o", str(dest), "-j", str(args.jobs), "-q", *metrics],
                        args.out / "logs" / f"{label}.{key}.log", peers=is_peer(model))
            results.setdefault(label, {})[key] = stem_medians(dest / "scores.json")
    for key in sets:  # table + grouped box plot of the per-track SDRs of every model on this set
        stemkit(["compare", "-q", "-o", str(args.out / key / "compare"),
                 *(str(args.out / key / label) for label, _ in models)], args.out / "logs" / f"compare.{key}.log")
    reference = args.reference if args.reference in results else None
    report = "\n\n".join(table(results, key, reference) for key in sets)
    (args.out / "quality.md").write_text(report + "\n")
    print(report)
    for key in sets:
        print(f"box plot ({key}): {args.out / key / 'compare' / 'compare_boxplot.png'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
