"""Lightning callbacks of a run: budget accounting, metrics.csv, best/last model folders, atomic checkpoints.

Their state goes into Lightning checkpoints as plain numbers, strings and lists, so ``--resume``
continues the accounting and the checkpoints load with ``torch.load(..., weights_only=True)``.
"""

from __future__ import annotations

import copy
import csv
import io
import os
import resource
import tempfile
import time
from pathlib import Path

import lightning.pytorch as pl
import torch
from lightning.fabric.plugins.io.torch_io import TorchCheckpointIO

from ..models.weights import save_model_dir


def atomic_write_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as f:
            f.write(text)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class AtomicCheckpointIO(TorchCheckpointIO):
    """Write each checkpoint to a temporary file and rename it, so a killed run never leaves half a file."""

    def save_checkpoint(self, checkpoint, path, storage_options=None):
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
        os.close(fd)
        try:
            torch.save(checkpoint, tmp)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def cpu_seconds() -> float:
    """CPU time of this process and its finished children (DataLoader workers), user + system."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + kids.ru_utime + kids.ru_stime


class Budget(pl.Callback):
    """Wall-clock and CPU seconds spent training, summed over stages and resumed attempts.

    With ``max_cpu_s`` it also stops training at the first step after that many CPU seconds in all
    (stages and resumes included): equal-budget comparisons on a shared machine, where wall time
    depends on the load and CPU time does not.
    """

    def __init__(self, wall_s: float = 0.0, cpu_s: float = 0.0, max_cpu_s: float | None = None):
        self.wall_s, self.cpu_s, self.max_cpu_s = wall_s, cpu_s, max_cpu_s
        self._wall0 = self._cpu0 = None

    @property
    def exhausted(self) -> bool:
        return self.max_cpu_s is not None and self.cpu_s >= self.max_cpu_s

    def _start(self) -> None:
        self._wall0, self._cpu0 = time.monotonic(), cpu_seconds()

    def _flush(self) -> None:
        if self._wall0 is not None:
            now_wall, now_cpu = time.monotonic(), cpu_seconds()
            self.wall_s += now_wall - self._wall0
            self.cpu_s += now_cpu - self._cpu0
            self._wall0, self._cpu0 = now_wall, now_cpu

    def on_train_start(self, trainer, pl_module):
        self._start()

    def on_train_end(self, trainer, pl_module):
        self._flush()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if self.max_cpu_s is not None:
            self._flush()
            if self.exhausted:
                trainer.should_stop = True

    def totals(self) -> dict:
        self._flush()
        return {"wall_s": round(self.wall_s, 3), "cpu_s": round(self.cpu_s, 3)}

    def state_dict(self):
        return self.totals()

    def load_state_dict(self, state):
        self.wall_s, self.cpu_s = float(state["wall_s"]), float(state["cpu_s"])
        if self._wall0 is not None:
            self._start()


class MetricsTable(pl.Callback):
    """``runs/NAME/metrics.csv``: one row per logged training step and per validation, rewritten atomically."""

    def __init__(self, path: Path, *, stage: str, log_every: int, rows: list[dict] | None = None):
        self.path, self.stage, self.log_every = Path(path), stage, log_every
        self.rows: list[dict] = list(rows or [])

    def _add(self, trainer, metrics: dict) -> None:
        row = {"stage": self.stage, "step": trainer.global_step}
        row.update({k: round(float(v), 6) for k, v in metrics.items()})
        self.rows.append(row)
        if trainer.is_global_zero:
            self.write()

    def on_train_batch_end(self, trainer, pl_module, outputs, batch, batch_idx):
        if trainer.global_step % self.log_every == 0:
            metrics = {k: v for k, v in trainer.callback_metrics.items() if k.startswith("train/")}
            metrics["lr"] = trainer.optimizers[0].param_groups[0]["lr"]
            self._add(trainer, metrics)

    def on_validation_end(self, trainer, pl_module):
        if trainer.sanity_checking:
            return
        self._add(trainer, {k: v for k, v in trainer.callback_metrics.items() if k.startswith("val/")})

    def write(self) -> None:
        columns = ["stage", "step"]
        for row in self.rows:
            columns += [k for k in row if k not in columns]
        out = io.StringIO()
        writer = csv.DictWriter(out, fieldnames=columns)
        writer.writeheader()
        writer.writerows(self.rows)
        atomic_write_text(self.path, out.getvalue())

    def state_dict(self):
        return {"rows": copy.deepcopy(self.rows)}

    def load_state_dict(self, state):
        self.rows = list(state["rows"])


class ModelFolders(pl.Callback):
    """Keep ``best/`` (highest val/sdr, or lowest val/loss) and ``last/`` model folders up to date.

    ``describe()`` returns the sidecar fields (data, training, metrics) for a folder; the best
    weights are also kept in memory so early stopping can restore them.
    """

    def __init__(self, run_dir: Path, *, monitor: str, describe, best_score: float | None = None):
        self.run_dir, self.monitor, self.describe = Path(run_dir), monitor, describe
        self.mode = "max" if monitor.endswith("sdr") else "min"
        self.best_score, self.best_step, self.best_metrics = best_score, None, {}
        self.best_state: dict | None = None

    def improved(self, score: float) -> bool:
        if self.best_score is None:
            return True
        return score > self.best_score if self.mode == "max" else score < self.best_score

    def on_validation_end(self, trainer, pl_module):
        if trainer.sanity_checking or self.monitor not in trainer.callback_metrics:
            return
        metrics = {k: round(float(v), 4) for k, v in trainer.callback_metrics.items() if k.startswith("val/")}
        score = metrics[self.monitor]
        model = pl_module.model
        if self.improved(score):
            self.best_score, self.best_step = score, trainer.global_step
            self.best_metrics = {**metrics, "step": trainer.global_step}
            self.best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            if trainer.is_global_zero:
                self.save(model, "best", self.best_metrics)
        if trainer.is_global_zero:
            self.save(model, "last", {**metrics, "step": trainer.global_step})

    def save(self, model, which: str, metrics: dict) -> None:
        fields = self.describe(which)
        save_model_dir(model, self.run_dir / which, data=fields["data"], training=fields["training"],
                       metrics=metrics, description=fields["description"])

    def restore_best(self, model) -> bool:
        """Load the best weights seen into ``model``; False when there were none."""
        state = self.best_state
        if state is None and (self.run_dir / "best" / "model.safetensors").is_file():
            from safetensors.torch import load_file

            state = load_file(str(self.run_dir / "best" / "model.safetensors"))
        if state is None:
            return False
        model.load_state_dict(state)
        return True

    def state_dict(self):
        return {"best_score": self.best_score, "best_step": self.best_step, "best_metrics": dict(self.best_metrics)}

    def load_state_dict(self, state):
        self.best_score, self.best_step = state["best_score"], state["best_step"]
        self.best_metrics = dict(state["best_metrics"])
