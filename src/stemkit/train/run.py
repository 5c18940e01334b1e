"""One training run: its folder, its stages (main, then optional refine), resume, model folders.

``runs/NAME/``::

    config.yaml              the resolved config (every default written out)
    state.json               which stages finished, and the budget spent
    metrics.csv              training loss / lr every log_every steps, val/* every validation
    logs/csv/, logs/tensorboard/    Lightning's CSV and TensorBoard loggers, one version per attempt
    checkpoints/last.ckpt    Lightning checkpoint of the main stage (atomic; --resume reads it)
    checkpoints/refine/last.ckpt   the refine stage's
    best/, last/             model folders (safetensors + model.json) that `stemkit separate -n` loads
"""

from __future__ import annotations

import inspect
import json
import logging
import os
import sys
import warnings
from dataclasses import dataclass
from pathlib import Path

from .. import __version__
from ..errors import ConfigError
from ..models.base import SeparationModel
from .callbacks import AtomicCheckpointIO, Budget, MetricsTable, ModelFolders, atomic_write_text
from .config import TrainConfig, dump_yaml, load_config, parse_duration, read_yaml, to_dict

STATE_FILE = "state.json"


@dataclass
class RunOptions:
    name: str
    runs_dir: Path = Path("runs")
    resume: bool = False
    devices: int = 1
    num_nodes: int = 1
    accelerator: str = "auto"
    quiet: bool = False


@dataclass
class Stage:
    name: str  # "main" or "refine"
    batch_size: int
    lr: float
    max_steps: int
    seed: int

    @property
    def checkpoint_dir(self) -> Path:
        return Path("checkpoints") if self.name == "main" else Path("checkpoints") / self.name


def stages_of(cfg: TrainConfig) -> list[Stage]:
    out = [Stage("main", cfg.batch_size, cfg.optimizer.lr, cfg.max_steps, cfg.seed)]
    if cfg.refine is not None:
        r = cfg.refine
        out.append(Stage("refine", r.batch_size, r.lr, r.max_steps, cfg.seed + 1))
    return out


# -- building pieces ------------------------------------------------------------------------------
def build_training_model(cfg: TrainConfig) -> SeparationModel:
    """The config's architecture with random weights, checked against ``sources``."""
    from ..models.registry import build_model, get_architecture

    arch = get_architecture(cfg.model.name)
    args = dict(cfg.model.args)
    if "sources" not in args and "sources" in inspect.signature(arch.cls).parameters:
        args["sources"] = list(cfg.sources)
    model = build_model(cfg.model.name, **args)
    if list(model.sources) != list(cfg.sources):
        raise ConfigError(f"sources: model {cfg.model.name!r} separates {list(model.sources)}, config says {cfg.sources}")
    if model.family != "neural" or not any(p.requires_grad for p in model.parameters()):
        raise ConfigError(f"model.name: {cfg.model.name!r} has no trainable parameters")
    if cfg.model.init_from:
        init_weights(model, cfg.model.init_from)
    return model


def init_weights(model: SeparationModel, source: str) -> None:
    """Copy the weights of the trained model ``source`` into ``model`` (same architecture and sizes).

    Only the parameters move: constructor arguments that act at inference (a mask temperature,
    Wiener iterations) stay as the training config says.
    """
    from ..errors import ModelError
    from ..models.registry import load_model

    try:
        trained = load_model(source)
    except ModelError as exc:
        raise ConfigError(f"model.init_from: {exc}") from None
    if type(trained) is not type(model):
        raise ConfigError(f"model.init_from: {source!r} is a {type(trained).__name__}, the config trains "
                          f"a {type(model).__name__}")
    try:
        model.load_state_dict(trained.state_dict(), strict=True)
    except RuntimeError as exc:
        detail = " ".join(str(exc).strip().splitlines()[:2])[:300]
        raise ConfigError(f"model.init_from: weights of {source!r} do not fit the configured model: {detail}") from None


def segment_samples(cfg: TrainConfig, model: SeparationModel) -> int:
    if cfg.segment is None:
        return model.segment
    samples = int(round(cfg.segment * model.sample_rate))
    if model.fixed_segment and samples != model.segment:
        raise ConfigError(
            f"segment: model {cfg.model.name!r} only takes chunks of {model.segment} samples "
            f"({model.segment / model.sample_rate:g} s at {model.sample_rate} Hz); got {samples}"
        )
    return samples


class _NoAdverts(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return "Tip:" not in str(record.msg)


def _quiet_lightning(quiet: bool) -> None:
    level = logging.WARNING if quiet else logging.INFO
    for name in ("lightning.pytorch", "lightning.fabric", "lightning"):
        logging.getLogger(name).setLevel(level)
    for name in ("lightning.pytorch.utilities.rank_zero", "lightning.fabric.utilities.rank_zero"):
        logger = logging.getLogger(name)
        if not any(isinstance(f, _NoAdverts) for f in logger.filters):
            logger.addFilter(_NoAdverts())
    # Advice aimed at GPU clusters (worker counts, log intervals) is noise for a CPU run.
    warnings.filterwarnings("ignore", message=r".*does not have many workers.*")
    warnings.filterwarnings("ignore", message=r".*number of training batches.*smaller than the logging interval.*")
    warnings.filterwarnings("ignore", message=r".*`isinstance\(treespec, LeafSpec\)` is deprecated.*")
    # Resuming mid-epoch is exact here: TrainData's StepSampler makes the data a function of the step.
    warnings.filterwarnings("ignore", message=r".*resuming from a checkpoint that ended before the epoch ended.*")


# -- the run --------------------------------------------------------------------------------------
class TrainingRun:
    def __init__(self, cfg: TrainConfig, opts: RunOptions):
        self.cfg, self.opts = cfg, opts
        self.dir = Path(opts.runs_dir) / opts.name
        self.state = self._read_state()

    # state.json: {"stages": {"main": {"finished": bool, "reason": str, "steps": int, "max_steps": int}},
    #              "budget": {"wall_s", "cpu_s"}}
    def _read_state(self) -> dict:
        path = self.dir / STATE_FILE
        if path.is_file():
            return json.loads(path.read_text())
        return {"stages": {}, "budget": {"wall_s": 0.0, "cpu_s": 0.0}}

    def _write_state(self) -> None:
        atomic_write_text(self.dir / STATE_FILE, json.dumps(self.state, indent=2) + "\n")

    def say(self, text: str) -> None:
        if not self.opts.quiet and launch_rank(self.opts.devices) == 0:
            print(text, file=sys.stderr, flush=True)

    def run(self) -> dict:
        import lightning.pytorch as pl

        from ..losses import build_loss

        from .data import build_unlabelled, select_tracks
        from .module import SeparationTask

        _quiet_lightning(self.opts.quiet)
        cfg = self.cfg
        pl.seed_everything(cfg.seed, workers=True, verbose=False)
        # Everything a config can get wrong is checked before the run folder exists.
        self.model = build_training_model(cfg)
        self.loss = build_loss(cfg.loss.name, sources=cfg.sources, **cfg.loss.args)
        self.segment = segment_samples(cfg, self.model)
        if cfg.early_stopping and cfg.early_stopping.monitor == "val/loss" and (cfg.loss.inputs or self.loss.inputs) != "waveform":
            raise ConfigError("early_stopping.monitor: val/loss needs a waveform loss; use val/sdr")
        SeparationTask(self.model, self.loss, cfg, lr=cfg.optimizer.lr, max_steps=cfg.max_steps)
        for where, src in (("data.train", cfg.data.train), ("data.valid", cfg.data.valid)):
            if src is not None and src.type != "synth":
                select_tracks(src, cfg.loaded_sources, where)
        self.unlabelled = None
        if cfg.data.unlabelled is not None:  # decoded (or found in the cache) before the run folder exists
            self.unlabelled = build_unlabelled(cfg, self.model, self.segment, seed=cfg.seed,
                                               quiet=self.opts.quiet)
            self.say(f"unlabelled: {len(self.unlabelled.files)} files, {self.unlabelled.seconds / 60:.1f} min "
                     f"under {cfg.data.unlabelled.root} (MixIT weight {cfg.data.unlabelled.weight:g})")
        self.dir.mkdir(parents=True, exist_ok=True)
        if launch_rank(self.opts.devices) == 0:
            atomic_write_text(self.dir / "config.yaml", dump_yaml(cfg))
        self.say(f"run folder: {self.dir}")
        done_steps = 0
        for stage in stages_of(cfg):
            record = self.state["stages"].get(stage.name, {})
            if self._finished(stage, record):
                self._load_stage_result(stage)
                done_steps += record["steps"]
                continue
            if self._cpu_budget_spent():
                self.say(f"stage {stage.name}: skipped, the CPU budget (max_cpu_s {cfg.max_cpu_s:g}) is spent")
                break
            done_steps += self._run_stage(stage, done_steps)
        self.say(f"done: {done_steps} steps; model folders {self.dir / 'best'} and {self.dir / 'last'}")
        return self.state

    def _cpu_budget_spent(self) -> bool:
        return self.cfg.max_cpu_s is not None and self.state["budget"]["cpu_s"] >= self.cfg.max_cpu_s

    def _finished(self, stage: Stage, record: dict) -> bool:
        if not record.get("finished"):
            return False
        # A resumed run given a larger max_steps (or max_cpu_s) continues a stage stopped at that limit.
        if record.get("reason") == "max_cpu_s":
            return self._cpu_budget_spent()
        return not (record.get("reason") == "max_steps" and stage.max_steps > record.get("max_steps", 0))

    def _load_stage_result(self, stage: Stage) -> None:
        """Put the weights a finished stage handed on (best with early stopping, else last) into the model."""
        from ..models.weights import load_model_dir

        which = self.state["stages"][stage.name].get("handed_on", "last")
        self.model.load_state_dict(load_model_dir(self.dir / which).state_dict())

    def _run_stage(self, stage: Stage, steps_before: int) -> int:
        """Train one stage (or resume it) to its end; returns the steps it reached."""
        from .data import TrainData
        from .module import SeparationTask

        cfg = self.cfg
        ckpt_dir = self.dir / stage.checkpoint_dir
        resume_from = ckpt_dir / "last.ckpt"
        resuming = resume_from.is_file()
        for stale in ckpt_dir.glob(".*.tmp") if launch_rank(self.opts.devices) == 0 else ():
            stale.unlink(missing_ok=True)  # half-written by a killed run; last.ckpt itself is whole
        if resuming and not self.opts.resume:
            raise ConfigError(f"run {self.opts.name!r} has a checkpoint; pass --resume to continue it")
        data = TrainData(cfg, sample_rate=self.model.sample_rate, channels=self.model.channels, segment=self.segment,
                         batch_size=stage.batch_size, seed=stage.seed, max_steps=stage.max_steps,
                         resume_step=_checkpoint_step(resume_from) if resuming else 0)
        self.stage, self.steps_before, self.trainer = stage, steps_before, None
        # A resumed stage gets its budget and metrics rows back from the checkpoint.
        self.budget = Budget(max_cpu_s=cfg.max_cpu_s) if resuming else Budget(**self.state["budget"],
                                                                            max_cpu_s=cfg.max_cpu_s)
        rows = [] if resuming else _read_metrics(self.dir / "metrics.csv")
        self.folders = ModelFolders(self.dir, monitor=self.monitor, describe=self._sidecar,
                                    best_score=self._best_so_far())
        trainer = self.trainer = self._trainer(stage, ckpt_dir, rows)
        unlabelled = self.unlabelled.reseeded(stage.seed) if self.unlabelled is not None else None
        task = SeparationTask(self.model, self.loss, cfg, lr=stage.lr, max_steps=stage.max_steps,
                              use_schedule=stage.name == "main", unlabelled=unlabelled)
        self.say(f"stage {stage.name}: {'resuming from ' + str(resume_from) if resuming else 'starting'} "
                 f"(max_steps {stage.max_steps}, batch {stage.batch_size}, lr {stage.lr:g})")
        trainer.fit(task, datamodule=data, ckpt_path=str(resume_from) if resuming else None)
        if trainer.interrupted:
            raise KeyboardInterrupt
        if cfg.data.valid is not None and trainer.global_step % cfg.val_every:
            # Stopped between validations (max_steps, max_time): score the final weights too.
            trainer.validate(task, datamodule=data, verbose=False)
        trainer.save_checkpoint(resume_from, weights_only=False)  # the exact final step
        return self._finish_stage(stage, trainer)

    @property
    def monitor(self) -> str:
        return self.cfg.early_stopping.monitor if self.cfg.early_stopping else "val/sdr"

    def _best_so_far(self) -> float | None:
        """best/ holds the best weights of the whole run: a refine stage must beat the main stage's best."""
        earlier = [r["best"][self.monitor] for r in self.state["stages"].values() if self.monitor in r.get("best", {})]
        if not earlier:
            return None
        return max(earlier) if self.monitor.endswith("sdr") else min(earlier)

    def _trainer(self, stage: Stage, ckpt_dir: Path, rows: list[dict]):
        import lightning.pytorch as pl
        from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint, TQDMProgressBar

        cfg, opts = self.cfg, self.opts
        has_valid = cfg.data.valid is not None
        callbacks = [
            self.budget,
            MetricsTable(self.dir / "metrics.csv", stage=stage.name, log_every=cfg.log_every, rows=rows),
            self.folders,
            ModelCheckpoint(dirpath=ckpt_dir, filename="step-{step}", every_n_train_steps=cfg.every_checkpoint,
                            save_top_k=0, save_last=True, enable_version_counter=False),
        ]
        if cfg.early_stopping is not None:
            es = cfg.early_stopping
            callbacks.append(EarlyStopping(monitor=es.monitor, mode=self.folders.mode, patience=es.patience,
                                           min_delta=es.min_delta, check_on_train_epoch_end=False))
        progress = not opts.quiet and sys.stderr.isatty()
        if progress:
            callbacks.append(TQDMProgressBar(refresh_rate=max(1, cfg.log_every // 2)))
        world = opts.devices * opts.num_nodes
        return pl.Trainer(
            accelerator=opts.accelerator,
            devices=opts.devices,
            num_nodes=opts.num_nodes,
            strategy="ddp" if world > 1 else "auto",
            max_steps=stage.max_steps,
            max_epochs=-1,
            max_time=parse_duration(cfg.max_time) if cfg.max_time else None,
            val_check_interval=cfg.val_every if has_valid else None,
            check_val_every_n_epoch=None,
            num_sanity_val_steps=0,
            **({} if has_valid else {"limit_val_batches": 0}),
            gradient_clip_val=cfg.grad_clip,
            precision=cfg.precision,
            log_every_n_steps=cfg.log_every,
            logger=self._loggers(stage),
            callbacks=callbacks,
            enable_progress_bar=progress,
            enable_model_summary=not opts.quiet,
            default_root_dir=self.dir,
            plugins=[AtomicCheckpointIO()],
            use_distributed_sampler=False,  # TrainData shards by rank itself (StepSampler, per-rank pool seeds)
        )

    def _loggers(self, stage: Stage) -> list:
        """CSV and TensorBoard loggers under logs/, one version per attempt (main-0, main-1 after a resume)."""
        from lightning.pytorch.loggers import CSVLogger, TensorBoardLogger

        csv_dir = self.dir / "logs" / "csv"
        attempt = len(list(csv_dir.glob(f"{stage.name}-*"))) if csv_dir.is_dir() else 0
        version = f"{stage.name}-{attempt}"
        loggers = [CSVLogger(self.dir / "logs", name="csv", version=version)]
        try:
            loggers.append(TensorBoardLogger(self.dir / "logs", name="tensorboard", version=version))
        except ModuleNotFoundError:  # tensorboard is a declared dependency; stay usable without it
            warnings.warn("tensorboard is not installed; logging to CSV only")
        return loggers

    def _finish_stage(self, stage: Stage, trainer) -> int:
        """Write last/ (and best/ without validation), go back to the best weights, record the stage."""
        from lightning.pytorch.callbacks import EarlyStopping

        steps, folders = trainer.global_step, self.folders
        stopper = next((c for c in trainer.callbacks if isinstance(c, EarlyStopping)), None)
        if steps >= stage.max_steps:
            reason = "max_steps"
        elif stopper is not None and stopper.wait_count >= stopper.patience:
            reason = "early_stopping"
        elif self.budget.exhausted:
            reason = "max_cpu_s"
        else:
            reason = "max_time"
        metrics = {k: round(float(v), 4) for k, v in trainer.callback_metrics.items() if k.startswith("val/")}
        if trainer.is_global_zero:
            folders.save(self.model, "last", {**metrics, "step": steps})
            if self.cfg.data.valid is None:
                folders.save(self.model, "best", {"step": steps})
        handed_on = "last"
        if self.cfg.early_stopping is not None and folders.restore_best(self.model):
            handed_on = "best"  # seed 000: reset to the best weights before going on
        self.state["budget"] = self.budget.totals()
        self.state["stages"][stage.name] = {"finished": True, "reason": reason, "steps": steps,
                                            "max_steps": stage.max_steps, "handed_on": handed_on,
                                            "best": folders.best_metrics}
        if trainer.is_global_zero:
            self._write_state()
        best = f"best {self.monitor} {folders.best_score}" if folders.best_score is not None else "no validation"
        self.say(f"stage {stage.name}: stopped at step {steps} ({reason}); {best}")
        return steps

    def _sidecar(self, which: str) -> dict:
        """Sidecar fields of a model folder: training data, budget, config."""
        cfg = self.cfg
        trainer = self.trainer
        stage_steps = trainer.global_step if trainer is not None else 0
        budget = self.budget.totals() if getattr(self, "budget", None) else self.state["budget"]
        return {
            "description": f"{cfg.model.name} trained by `stemkit train` (run {self.opts.name}, {which} weights)",
            "data": {
                "train": _describe_data(cfg.data.train),
                "valid": _describe_data(cfg.data.valid) if cfg.data.valid else None,
                **({"unlabelled": _describe_unlabelled(cfg.data.unlabelled)} if cfg.data.unlabelled else {}),
                "sources": list(cfg.sources),
                "mixture_minus": list(cfg.mixture_minus),
                "segment_samples": self.segment,
            },
            "training": {
                "run": self.opts.name,
                "stage": self.stage.name,
                "stemkit": __version__,
                "loss": {"name": cfg.loss.name, "args": cfg.loss.args},
                "budget": {**budget, "steps": self.steps_before + stage_steps},
                "config": to_dict(cfg),
            },
        }


def _checkpoint_step(path: Path) -> int:
    import torch

    try:
        return int(torch.load(path, map_location="cpu", weights_only=True)["global_step"])
    except Exception as exc:  # truncated or foreign file
        raise ConfigError(f"unreadable checkpoint ({exc.__class__.__name__}); remove it to start the stage over",
                          path=str(path)) from None


def _describe_data(src) -> dict:
    out = {"type": src.type, "root": src.root, "split": src.split}
    if src.tracks is not None:
        out["tracks"] = list(src.tracks)
    if src.real_split is not None:
        out["real_split"] = src.real_split
    if src.max_tracks is not None:
        out["max_tracks"] = src.max_tracks
    if src.type == "synth":
        out["corpus"] = src.corpus
    return out


def _describe_unlabelled(u) -> dict:
    return {"root": u.root, "loss": "mixit", "weight": u.weight, "batch_size": u.batch_size, "tau_db": u.tau_db}


def _read_metrics(path: Path) -> list[dict]:
    import csv

    if not path.is_file():
        return []
    with open(path, newline="") as f:
        rows = []
        for row in csv.DictReader(f):
            clean = {}
            for k, v in row.items():
                if v in ("", None):
                    continue
                clean[k] = v if k == "stage" else (int(v) if k == "step" else float(v))
            rows.append(clean)
        return rows


# -- entry point ----------------------------------------------------------------------------------
def _check_resume_overrides(overrides: list[str]) -> None:
    """A resumed run keeps its model; its optimizer and schedule state come back from the checkpoint."""
    keys = [item.partition("=")[0] for item in overrides]
    fixed = [k for k in keys if k.split(".")[0] in ("model", "sources", "mixture_minus")]
    if fixed:
        raise ConfigError(f"{fixed[0]}: cannot change on --resume (the checkpoint holds that model); start a new run")
    restored = [k for k in keys if k.split(".")[0] in ("optimizer", "schedule")]
    if restored:
        warnings.warn(f"{restored[0]}: a resumed stage restores its optimizer and schedule from the checkpoint; "
                      "this override only affects stages that have not started")


def launch_rank(devices: int) -> int:
    """Global rank of this process when a DDP launcher started it (0 otherwise).

    Lightning re-runs the command for ranks 1.. with LOCAL_RANK/NODE_RANK set; torchrun sets RANK;
    SLURM's srun sets SLURM_PROCID. Those ranks join the run rank 0 creates.
    """
    env = os.environ
    if "RANK" in env:
        return int(env["RANK"])
    if "SLURM_PROCID" in env and int(env.get("SLURM_NTASKS", "1")) > 1:
        return int(env["SLURM_PROCID"])
    return int(env.get("NODE_RANK", 0)) * devices + int(env.get("LOCAL_RANK", 0))



def train(config: str | Path | None, overrides: list[str], opts: RunOptions) -> TrainingRun:
    """Start (or with ``opts.resume`` continue) run ``opts.name`` under ``opts.runs_dir``."""
    run_dir = Path(opts.runs_dir) / opts.name
    saved = run_dir / "config.yaml"  # a folder with only this (a run that failed at once) may be reused
    if opts.resume:
        if not saved.is_file():
            raise ConfigError(f"nothing to resume: {saved} does not exist")
        _check_resume_overrides(overrides)
        cfg = load_config(raw=read_yaml(saved), overrides=overrides)
    else:
        if config is None:
            raise ConfigError("--config is required (or --resume an existing run)")
        started = (run_dir / "checkpoints").exists() or (run_dir / STATE_FILE).exists()
        if started and launch_rank(opts.devices) == 0:
            raise ConfigError(f"run folder {run_dir} already exists; pass --resume or choose another --name")
        cfg = load_config(config, overrides)
    run = TrainingRun(cfg, opts)
    run.run()
    return run
