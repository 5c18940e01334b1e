"""``stemkit models``: what ``-n`` accepts."""

from __future__ import annotations

import json

COMMAND = "models"
ORDER = 20
HELP = "List the available models."
EPILOG = """examples:
  stemkit models
  stemkit models --json
"""


def add_arguments(p) -> None:
    p.add_argument("--json", action="store_true", help="machine-readable output")


def _params(n) -> str:
    if n is None:
        return "?"
    return f"{n / 1e6:.1f}M" if n >= 1e5 else str(n)


def run(args) -> int:
    from ..models.registry import model_table
    from ..separator import default_model_name

    rows = model_table()
    default = default_model_name()
    if args.json:
        print(json.dumps({"default": default, "models": rows}, indent=2))
        return 0
    header = f"{'name':<16} {'family':<10} {'sources':<34} {'rate':>6} {'params':>7}  weights"
    print(header)
    print("-" * len(header))
    for r in rows:
        weights = {True: "shipped", False: "not shipped", None: "none needed"}[r["weights"]]
        name = r["name"] + (" *" if r["name"] == default else "")
        print(f"{name:<16} {r['family']:<10} {','.join(r['sources']):<34} {r['sample_rate'] or '?':>6} "
              f"{_params(r['parameters']):>7}  {weights}")
    print(f"\n* default. Neural models without shipped weights need a trained folder: -n runs/NAME/best")
    return 0
