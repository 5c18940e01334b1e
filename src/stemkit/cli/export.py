"""``stemkit export``: make a shippable model folder from a training run."""

from __future__ import annotations

COMMAND = "export"
HELP = "export a training run's best or last weights as a model folder for `stemkit separate -n`"
ORDER = 45
EPILOG = """examples:
  stemkit export runs/example_tiny models/tiny              # best validation weights
  stemkit export runs/example_tiny models/tiny-last --which last
  stemkit separate -n models/tiny song.wav
"""


def add_arguments(parser) -> None:
    parser.add_argument("run", metavar="RUN", help="run folder (runs/NAME)")
    parser.add_argument("out", metavar="DIR", help="model folder to write (model.safetensors + model.json)")
    parser.add_argument("--which", choices=("best", "last"), default="best",
                        help="best validation weights (default) or the last step's")
    parser.add_argument("--quiet", "-q", action="store_true")


def run(args) -> int:
    from ..train.export import export_run

    out = export_run(args.run, args.out, which=args.which)
    if not args.quiet:
        print(f"exported {args.which} weights of {args.run} to {out}")
    return 0
