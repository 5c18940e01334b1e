"""``stemkit evaluate``: score a model on a dataset with BSS Eval v4, MDX SDR and signal difference."""

from __future__ import annotations

import argparse
import sys

COMMAND = "evaluate"
ORDER = 40
HELP = "Score a model on a dataset (BSS Eval v4 via museval, MDX SDR); write reports and plots."
EPILOG = """examples:
  stemkit evaluate -n oracle_irm --data musdb18hq            # test split -> evaluations/oracle_irm/
  stemkit evaluate -n mixture --data musdb18-7s/train --tracks 10 -j 2
  stemkit evaluate -n runs/my_run/best --data musdb18hq --out evaluations/my_run --shifts 1
  stemkit evaluate -n classical --data musdb18hq --plot-track "Al James - Schoolboy Facination"
  stemkit evaluate -n spec_unet --data data/heldout --wiener 1 --out evaluations/spec_unet_w1
  stemkit evaluate -n spec_unet --data data/heldout --denoise vocals --highpass vocals=120
  stemkit compare evaluations/oracle_irm evaluations/classical   # side by side

outputs in OUT: summary.md, scores.csv, scores.json, config.json, <split>/<track>.json
(museval format), plots/sdr_boxplot.png, plots/<track>_spectrograms.png, plots/<track>_waveforms.png
"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    from ..postprocess.options import add_postprocess_arguments

    p.add_argument("-n", "--name", dest="model", required=True,
                   help="model name (see `stemkit models`), model folder, or a baseline: "
                        "oracle_irm, oracle_irm2, oracle_ibm, oracle_mwf, classical, mixture")
    p.add_argument("--data", required=True, metavar="DIR",
                   help="dataset folder (MUSDB18-HQ, MUSDB18 .stem.mp4, DSD100, MedleyDB, or SONG/<stem> folders)")
    p.add_argument("--split", default="test",
                   help="split to evaluate (default test; 'all' for every split; a folder without "
                        "split subfolders is taken whole)")
    p.add_argument("--layout", default="auto",
                   help="dataset layout: auto, musdb_hq, musdb, dsd100, medleydb, folder (default auto)")
    p.add_argument("-o", "--out", default=None, metavar="DIR", help="output folder (default evaluations/MODEL)")
    p.add_argument("-j", "--jobs", type=int, default=1, help="tracks evaluated in parallel processes (default 1)")
    p.add_argument("--tracks", type=int, default=None, metavar="N", help="only the first N tracks (sorted by name)")
    p.add_argument("--plot-track", default=None, metavar="NAME",
                   help="track whose spectrograms/waveforms are plotted (default: the first)")
    p.add_argument("--segment", type=float, default=None, metavar="SECONDS", help="separation segment length")
    p.add_argument("--shifts", type=int, default=0, metavar="N", help="random time-shift passes when separating")
    p.add_argument("-d", "--device", default="cpu", help="cpu, cuda or cuda:N for separation (default cpu)")
    p.add_argument("--window", type=float, default=1.0, metavar="SECONDS",
                   help="BSS Eval window and hop in seconds (default 1, as SiSEC 2018)")
    p.add_argument("--block", type=float, default=30.0, metavar="SECONDS",
                   help="memory bound: longer tracks get museval's whole-track filters from "
                        "correlations accumulated in blocks of this many seconds (default 30; "
                        "0 = one museval call per track, GBs for long tracks)")
    p.add_argument("--sdr-only", action="store_true",
                   help="only BSS Eval SDR (museval's value, computed without distortion filters: "
                        "seconds instead of minutes); ISR, SIR and SAR are left out")
    p.add_argument("--wiener", type=int, default=0, metavar="N",
                   help="multichannel Wiener post-filter iterations on the estimates (as stemkit separate)")
    add_postprocess_arguments(p)
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar, no summary on stdout")


def run(args: argparse.Namespace) -> int:
    from ..evaluate.metrics import METRICS
    from ..evaluate.runner import EvalSettings, evaluate_model
    from ..postprocess.options import postprocess_from_args

    settings = EvalSettings(
        model=args.model, split=args.split, layout=args.layout, out=args.out, jobs=args.jobs,
        max_tracks=args.tracks, plot_track=args.plot_track, segment=args.segment, shifts=args.shifts,
        device=args.device, window=args.window, block_seconds=args.block or None, quiet=args.quiet,
        sdr_only=args.sdr_only, wiener=args.wiener, postprocess=postprocess_from_args(args),
    )
    run_ = evaluate_model(args.data, settings)
    if not args.quiet:
        stats = run_.summary["stats"]
        cols = [*run_.summary["sources"], "average"]
        print(f"{run_.config['model']}: {len(run_.results)} track(s), median over frames then tracks (dB)")
        print("metric  " + "".join(f"{c:>10}" for c in cols))
        for metric in (("SDR",) if args.sdr_only else METRICS) + ("MDX_SDR",):
            print(f"{metric:<8}" + "".join(f"{stats[metric][c]['median']:>10.2f}" for c in cols))
        print(f"wrote {run_.out}/summary.md", file=sys.stdout)
    return 0
