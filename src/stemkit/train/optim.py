"""Optimisers (Adam, AdamW, Adadelta) and learning-rate schedules, as Lightning expects them.

Schedules: ``step`` (seed 002: 1e-3, then x0.1 at a step), ``cyclic`` (seed 003: triangular cyclic
learning rates, Smith 2015), ``plateau`` (multiply by ``factor`` after ``patience`` validations without
improvement of val/sdr) and ``none``.
"""

from __future__ import annotations

import torch

from .config import OptimizerConfig, ScheduleConfig

_OPTIMIZERS = {"adam": torch.optim.Adam, "adamw": torch.optim.AdamW, "adadelta": torch.optim.Adadelta}


def build_optimizer(params, cfg: OptimizerConfig, lr: float | None = None) -> torch.optim.Optimizer:
    """``lr`` overrides ``cfg.lr`` (the refine stage)."""
    kwargs = {"lr": lr if lr is not None else cfg.lr, "weight_decay": cfg.weight_decay}
    if cfg.betas is not None:
        kwargs["betas"] = tuple(cfg.betas)
    if cfg.eps is not None:
        kwargs["eps"] = cfg.eps
    if cfg.rho is not None:
        kwargs["rho"] = cfg.rho
    return _OPTIMIZERS[cfg.name](params, **kwargs)


def build_schedule(
    optimizer: torch.optim.Optimizer, cfg: ScheduleConfig, *, max_steps: int, val_every: int, monitor: str
) -> dict | None:
    """A Lightning ``lr_scheduler`` config dict, or None for a constant learning rate."""
    lr = optimizer.param_groups[0]["lr"]
    if cfg.name == "none":
        return None
    if cfg.name == "step":
        at = cfg.at if cfg.at is not None else max(1, max_steps // 2)
        sched = torch.optim.lr_scheduler.MultiStepLR(optimizer, milestones=[at], gamma=cfg.factor)
        return {"scheduler": sched, "interval": "step", "frequency": 1}
    if cfg.name == "cyclic":
        sched = torch.optim.lr_scheduler.CyclicLR(
            optimizer,
            base_lr=cfg.base_lr if cfg.base_lr is not None else lr / 10,
            max_lr=cfg.max_lr if cfg.max_lr is not None else lr,
            step_size_up=cfg.step_size,
            mode=cfg.mode,
            cycle_momentum=False,  # Adam and Adadelta have no momentum to cycle
        )
        return {"scheduler": sched, "interval": "step", "frequency": 1}
    # plateau: stepped right after each validation (Lightning checks plateau schedulers then)
    mode = "max" if monitor.endswith("sdr") else "min"
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(
        optimizer, mode=mode, factor=cfg.factor, patience=cfg.patience - 1, min_lr=cfg.min_lr
    )
    return {"scheduler": sched, "interval": "step", "frequency": val_every, "monitor": monitor, "strict": False}
