"""``stemkit train``: train a model from a YAML config into a run folder (see docs/training.md)."""

from __future__ import annotations

from pathlib import Path

COMMAND = "train"
HELP = "train a separation model from a YAML config (Lightning; resumable; CPU or GPU, DDP)"
ORDER = 40
EPILOG = """examples:
  stemkit train --config configs/example_tiny.yaml
  stemkit train --config configs/example_tiny.yaml optimizer.lr=3e-4 max_steps=200 --name lr3e-4
  stemkit train --name lr3e-4 --resume                  # continue from runs/lr3e-4/checkpoints/last.ckpt
  stemkit train --config my.yaml --accelerator gpu --devices 4 --name big   # DDP on 4 GPUs
  stemkit export runs/lr3e-4 models/mine && stemkit separate -n models/mine song.wav
"""


def add_arguments(parser) -> None:
    parser.add_argument("overrides", nargs="*", metavar="KEY=VALUE",
                        help="override config keys, dotted (optimizer.lr=3e-4 data.train.root=/data/musdb)")
    parser.add_argument("--config", "-c", help="YAML config (not needed with --resume: the run keeps its own)")
    parser.add_argument("--name", help="run name: the folder under --runs-dir (default: the config file's name)")
    parser.add_argument("--runs-dir", default="runs", help="where run folders go (default: runs)")
    parser.add_argument("--resume", action="store_true",
                        help="continue run NAME from its last checkpoint, at the exact step")
    parser.add_argument("--devices", type=int, default=1, help="devices per node (DDP when more than one)")
    parser.add_argument("--num-nodes", type=int, default=1, help="number of nodes (DDP; see docs/training.md)")
    parser.add_argument("--accelerator", choices=("cpu", "gpu", "auto"), default="auto")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress bar, no info messages")


def run(args) -> int:
    from ..errors import ConfigError
    from ..train.run import RunOptions, train

    if args.devices < 1 or args.num_nodes < 1:
        raise ConfigError("--devices and --num-nodes must be >= 1")
    name = args.name or (Path(args.config).name.split(".")[0] if args.config else None)
    if not name:
        raise ConfigError("--name is required with --resume (the run folder's name)")
    if args.resume and args.config:
        import warnings

        warnings.warn("--resume uses the run's own config.yaml; --config is ignored")
    opts = RunOptions(name=name, runs_dir=Path(args.runs_dir), resume=args.resume, devices=args.devices,
                      num_nodes=args.num_nodes, accelerator=args.accelerator, quiet=args.quiet)
    train(None if args.resume else args.config, list(args.overrides), opts)
    return 0
