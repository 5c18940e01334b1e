"""Turn a run folder into a shippable model folder (safetensors + model.json) for ``stemkit separate -n``.

The run's ``best/`` or ``last/`` model folder is read back (so a broken one is caught here, not by a
user) and written again; when it is missing (a run killed before its first validation), the
Lightning checkpoint is converted, loaded with ``torch.load(..., weights_only=True)``.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import ConfigError, ModelError
from ..models.weights import SIDECAR_FILE, WEIGHTS_FILE, load_model_dir, read_sidecar, save_model_dir


def export_run(run_dir: str | Path, out_dir: str | Path, *, which: str = "best") -> Path:
    run_dir, out_dir = Path(run_dir), Path(out_dir)
    if which not in ("best", "last"):
        raise ConfigError(f"--which must be best or last, got {which!r}")
    if not (run_dir / "config.yaml").is_file():
        raise ConfigError("not a run folder (no config.yaml)", path=str(run_dir))
    _check_target(run_dir, out_dir)
    folder = run_dir / which
    if (folder / WEIGHTS_FILE).is_file() and (folder / SIDECAR_FILE).is_file():
        model = load_model_dir(folder)
        meta = read_sidecar(folder)
        return save_model_dir(model, out_dir, data=meta.get("data"), training=meta.get("training"),
                              metrics=meta.get("metrics"), description=meta.get("description", ""))
    if which == "best" and (run_dir / "last" / WEIGHTS_FILE).is_file():
        raise ModelError("run has no best/ model yet (no validation has run); use --which last", path=str(run_dir))
    return export_checkpoint(run_dir, out_dir)


def _check_target(run_dir: Path, out_dir: Path) -> None:
    if out_dir.resolve().is_relative_to(run_dir.resolve()):
        raise ConfigError("export into a folder outside the run (the run's files are never overwritten)",
                          path=str(out_dir))
    if out_dir.exists():
        foreign = [p.name for p in out_dir.iterdir() if p.name not in (WEIGHTS_FILE, SIDECAR_FILE)]
        if not out_dir.is_dir() or foreign:
            raise ConfigError("output exists and is not a model folder; choose a new folder", path=str(out_dir))


def export_checkpoint(run_dir: Path, out_dir: Path) -> Path:
    """Build the run's model from ``config.yaml`` and fill it from the newest Lightning checkpoint."""
    import torch

    from .config import load_config, read_yaml
    from .run import build_training_model

    ckpt = run_dir / "checkpoints" / "refine" / "last.ckpt"
    if not ckpt.is_file():
        ckpt = run_dir / "checkpoints" / "last.ckpt"
    if not ckpt.is_file():
        raise ModelError("run has no model folder and no checkpoint to export", path=str(run_dir))
    try:
        state = torch.load(ckpt, map_location="cpu", weights_only=True)
    except Exception as exc:  # torch raises several types for truncated or foreign files
        raise ModelError(f"unreadable checkpoint ({exc.__class__.__name__})", path=str(ckpt)) from None
    cfg = load_config(raw=read_yaml(run_dir / "config.yaml"))
    model = build_training_model(cfg)
    if not isinstance(state, dict) or not isinstance(state.get("state_dict"), dict):
        raise ModelError("checkpoint holds no model weights (no state_dict)", path=str(ckpt))
    weights = {k.removeprefix("model."): v for k, v in state["state_dict"].items() if k.startswith("model.")}
    try:
        model.load_state_dict(weights)
    except RuntimeError as exc:
        raise ModelError(f"checkpoint does not fit the run's model: {str(exc).splitlines()[0]}", path=str(ckpt)) from None
    callbacks = state.get("callbacks", {})
    budget = next((v for k, v in callbacks.items() if k.startswith("Budget")), {})
    best = next((v for k, v in callbacks.items() if k.startswith("ModelFolders")), {})
    run_state = json.loads((run_dir / "state.json").read_text()) if (run_dir / "state.json").is_file() else {}
    training = {
        "run": run_dir.name,
        "checkpoint": str(ckpt.relative_to(run_dir)),
        "budget": {**budget, "steps": int(state.get("global_step", 0))},
        "stages": run_state.get("stages", {}),
        "config": read_yaml(run_dir / "config.yaml"),
    }
    data = {"train": training["config"].get("data", {}).get("train"), "sources": list(cfg.sources)}
    metrics = dict(best.get("best_metrics") or {})
    return save_model_dir(model, out_dir, data=data, training=training, metrics=metrics,
                          description=f"{cfg.model.name} exported from checkpoint {ckpt.name} of run {run_dir.name}")
