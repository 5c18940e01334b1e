"""``stemkit compare``: several evaluation folders side by side (table + grouped box plot)."""

from __future__ import annotations

import argparse

COMMAND = "compare"
ORDER = 41
HELP = "Compare evaluations side by side: median SDR table, paired differences to the first, a box plot."
EPILOG = """examples:
  stemkit compare evaluations/oracle_irm evaluations/classical evaluations/mixture
  stemkit compare evaluations/* --out reports/baselines
  stemkit compare my_museval_results/        # any museval output folder (<split>/<track>.json)
  stemkit compare evaluations/default evaluations/hq   # hq minus default, track by track (mean +- SE)
"""


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("results", nargs="+", metavar="RESULT_DIR",
                   help="folders written by `stemkit evaluate` (or museval: <split>/<track>.json)")
    p.add_argument("-o", "--out", default="evaluations/compare", metavar="DIR",
                   help="where compare.md, compare.json and compare_boxplot.png go (default %(default)s)")
    p.add_argument("--metric", default="SDR", choices=("SDR", "SIR", "SAR", "ISR"),
                   help="BSS Eval metric to compare (default SDR)")
    p.add_argument("-q", "--quiet", action="store_true", help="do not print the table")


def run(args: argparse.Namespace) -> int:
    from ..evaluate.compare import compare_results

    comparison = compare_results(args.results, args.out, metric=args.metric)
    if not args.quiet:
        print(comparison.markdown)
        print(f"wrote {comparison.out}/compare.md and compare_boxplot.png")
    return 0
