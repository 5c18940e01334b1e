#!/usr/bin/env python3
"""Compose a ``per_stem`` model folder: each stem from the part separator that does it best.

    python scripts/compose_model.py --part net=runs/default/last \
        --part dsp=classical:n_fft=2048,hop=512,vocal_cue=centre \
        --choose drums=net,bass=dsp,other=net,vocals=dsp --out models/combo \
        [--option overlap=0.05 ...] [--metrics scores.json ...] [--description TEXT]

A stem may blend parts: ``vocals=net+dsp`` (the mean of both parts' estimates; for mask models,
the mean of their masks) or ``vocals=net:0.7+dsp:0.3`` (weights, scaled to sum to one).

A part is a model folder, a shipped model name, or ``ARCH:key=value,...`` (an architecture built
with those arguments: classical separators need no weights). The parts' sidecars (training data,
budget) are kept in the new sidecar under ``parts``. ``--option KEY=VALUE`` sets a ``per_stem`` argument
(``overlap``: the engine's default overlap for this model; ``consistent``; ``fused``).
``stemkit separate -n models/combo``.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import yaml


def parse_part(text: str):
    from stemkit.models.registry import build_model, load_model

    name, _, ref = text.partition("=")
    if not name or not ref:
        raise SystemExit(f"--part wants NAME=MODEL, got {text!r}")
    if ":" in ref and not Path(ref).exists():
        arch, _, args = ref.partition(":")
        kwargs = {k: yaml.safe_load(v) for k, v in (kv.split("=", 1) for kv in args.split(",") if kv)}
        return name, build_model(arch, **kwargs)
    return name, load_model(ref)


def parse_choice(text: str):
    """``STEM=PART`` -> ``(stem, part)``; ``STEM=A+B`` or ``STEM=A:0.7+B:0.3`` -> ``(stem, {part: weight})``."""
    stem, sep, pick = text.partition("=")
    if not stem or not sep or not pick:
        raise SystemExit(f"--choose wants STEM=PART[+PART...], got {text!r}")
    if "+" not in pick and ":" not in pick:
        return stem, pick
    weights = {}
    for term in pick.split("+"):
        part, _, weight = term.partition(":")
        try:
            weights[part] = float(weight) if weight else 1.0
        except ValueError:
            raise SystemExit(f"--choose {stem}: weight {weight!r} of part {part!r} is not a number") from None
    return stem, weights


def main(argv=None) -> int:
    from stemkit.errors import StemkitError
    from stemkit.models.per_stem import compose
    from stemkit.models.weights import save_model_dir

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--part", action="append", required=True, help="NAME=MODEL (folder, name, or ARCH:k=v,...)")
    p.add_argument("--choose", required=True,
                   help="STEM=PART,... in output order; STEM=A+B or STEM=A:0.7+B:0.3 blends parts")
    p.add_argument("--out", required=True, type=Path, help="model folder to write")
    p.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                   help="a per_stem argument, e.g. overlap=0.05 (value parsed as YAML)")
    p.add_argument("--description", default="", help="sidecar description")
    p.add_argument("--metrics", type=Path, default=None, help="a JSON file of metrics for the sidecar")
    p.add_argument("--data", type=Path, default=None, help="a JSON file describing the training data")
    p.add_argument("--dtype", default="float32", choices=("float32", "float16", "bfloat16"),
                   help="storage type of the weights (float16 halves the folder; computed in float32 either way)")
    args = p.parse_args(argv)

    parts = dict(parse_part(t) for t in args.part)
    choose = dict(parse_choice(item) for item in args.choose.split(","))
    options = {}
    for text in args.option:
        key, sep, value = text.partition("=")
        if not key or not sep:
            raise SystemExit(f"--option wants KEY=VALUE, got {text!r}")
        options[key] = yaml.safe_load(value)
    try:
        model = compose(parts, choose, **options)
    except StemkitError as e:  # unknown option names or bad values, as build_model words them
        raise SystemExit(f"--option: {e}")
    training = {"parts": {name: {"model": m.architecture, "training": getattr(m, "sidecar", {}).get("training", {}),
                                 "data": getattr(m, "sidecar", {}).get("data", {})}
                          for name, m in parts.items()},
                "choose": choose}
    metrics = json.loads(args.metrics.read_text()) if args.metrics else {}
    data = json.loads(args.data.read_text()) if args.data else {}
    save_model_dir(model, args.out, data=data, training=training, metrics=metrics, description=args.description,
                   dtype=args.dtype)
    print(f"wrote {args.out} ({model.num_parameters} parameters): {choose}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
