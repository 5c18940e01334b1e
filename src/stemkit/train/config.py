"""The training config: dataclasses, YAML loading, dotted ``key=value`` overrides.

Every key is validated (unknown keys, wrong types and bad values raise :class:`ConfigError` naming
the key); docs/training.md and configs/README.md document each one.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Literal

import yaml

from ..errors import ConfigError
from ..models.base import SOURCES_4
from .schema import from_dict

DATA_TYPES = ("musdb_hq", "musdb", "dsd100", "medleydb", "folder", "auto", "synth")


@dataclass
class ModelConfig:
    name: str
    args: dict = field(default_factory=dict)
    #: start from these weights (a model folder or a shipped model's name) instead of random ones:
    #: fine-tuning, e.g. on real stems after pre-training on rendered songs
    init_from: str | None = None


@dataclass
class DataSourceConfig:
    """One data source: a dataset folder read with ``find_tracks`` or ``synth`` (the chunk pool)."""

    type: Literal[DATA_TYPES]  # type: ignore[valid-type]
    root: str | None = None
    split: str | None = None
    names: dict | None = None  # folder layout: stem -> file name patterns
    tracks: list[str] | None = None  # keep only these track names
    exclude_tracks: list[str] | None = None  # drop these (e.g. MUSDB's validation tracks from train)
    real_split: Literal["train", "valid"] | None = None  # keep one part of stemkit's split of musdb18-7s
    max_tracks: int | None = None
    samples_per_epoch: int = 1000
    skip_silent: bool = True
    speed_semitones: float = 0.0  # tape-speed augmentation: +- this many semitones (0 = off)
    # synth: seed 001's run-time chunk pool over rendered songs
    corpus: dict | str | None = None  # make_song config: a mapping, a YAML path, or None (default)
    pool_size: int = 256
    reuse_factor: float = 2.0
    max_chunks_per_song: int = 32
    workers: int = 1

    def validate(self, where: str) -> None:
        if self.type != "synth" and not self.root:
            raise ConfigError(f"{where}.root: required for data type {self.type!r}")
        for key in ("samples_per_epoch", "pool_size", "max_chunks_per_song"):
            if getattr(self, key) < 1:
                raise ConfigError(f"{where}.{key}: must be >= 1")
        if self.workers < 0:
            raise ConfigError(f"{where}.workers: must be >= 0")
        if not 0 <= self.speed_semitones <= 12:
            raise ConfigError(f"{where}.speed_semitones: must be in [0, 12]")
        if self.max_tracks is not None and self.max_tracks < 1:
            raise ConfigError(f"{where}.max_tracks: must be >= 1")


@dataclass
class UnlabelledConfig:
    """Semi-supervised mixture invariant training on recordings without stems (docs/training.md)."""

    root: str  # a folder of audio files (searched recursively)
    weight: float = 0.3  # loss = supervised + weight * MixIT
    batch_size: int = 4  # mixtures of mixtures per step, each the sum of two unlabelled chunks
    tau_db: float = -30.0  # MixIT's SNR threshold: no item counts beyond -tau_db dB
    floor_db: float = -60.0  # power floor that keeps silent chunks finite, as in the sdr loss
    gain_db: float = 0.0  # each chunk of a pair is attenuated by a random 0 .. gain_db dB
    silence_db: float = -40.0  # redraw chunks quieter than this (RMS dBFS)
    cache_dir: str | None = None  # decoded audio (float16 .npy); default ~/.cache/stemkit/unlabelled

    def validate(self, where: str) -> None:
        from ..losses.mixit import check_mixit_args

        if not self.root:
            raise ConfigError(f"{where}.root: a folder of audio files is required")
        if not self.weight > 0:
            raise ConfigError(f"{where}.weight: must be > 0 (leave data.unlabelled out to train without it), "
                              f"got {self.weight}")
        if self.batch_size < 1:
            raise ConfigError(f"{where}.batch_size: must be >= 1, got {self.batch_size}")
        try:
            check_mixit_args(self.tau_db, self.floor_db)
        except ConfigError as exc:
            raise ConfigError(f"{where}.{exc}") from None
        if not 0 <= self.gain_db <= 60:
            raise ConfigError(f"{where}.gain_db: must be in [0, 60] dB, got {self.gain_db}")
        if not -120 <= self.silence_db <= 0:
            raise ConfigError(f"{where}.silence_db: must be in [-120, 0] dBFS, got {self.silence_db}")


@dataclass
class DataConfig:
    train: DataSourceConfig
    valid: DataSourceConfig | None = None
    unlabelled: UnlabelledConfig | None = None  # mixture invariant training on recordings without stems


@dataclass
class LossConfig:
    name: str = "l1"
    args: dict = field(default_factory=dict)
    #: which tensors the loss sees: "waveform" or a key of model.training_outputs (default: the loss's own)
    inputs: str | None = None


@dataclass
class OptimizerConfig:
    name: Literal["adam", "adamw", "adadelta"] = "adam"
    lr: float = 1e-3
    weight_decay: float = 0.0
    betas: list[float] | None = None  # adam, adamw
    eps: float | None = None
    rho: float | None = None  # adadelta

    def validate(self, where: str) -> None:
        if self.lr <= 0:
            raise ConfigError(f"{where}.lr: must be > 0, got {self.lr}")
        if self.weight_decay < 0:
            raise ConfigError(f"{where}.weight_decay: must be >= 0")
        if self.betas is not None and (self.name == "adadelta" or len(self.betas) != 2):
            raise ConfigError(f"{where}.betas: two numbers, for adam/adamw only")
        if self.rho is not None and self.name != "adadelta":
            raise ConfigError(f"{where}.rho: only for adadelta")


@dataclass
class ScheduleConfig:
    name: Literal["none", "step", "cyclic", "plateau"] = "none"
    at: int | None = None  # step: the step where lr is multiplied by factor (default max_steps // 2)
    factor: float = 0.1  # step, plateau
    base_lr: float | None = None  # cyclic: lower bound (default lr / 10)
    max_lr: float | None = None  # cyclic: upper bound (default lr)
    step_size: int = 500  # cyclic: steps of a half cycle
    mode: Literal["triangular", "triangular2", "exp_range"] = "triangular"
    patience: int = 3  # plateau: validations without improvement
    min_lr: float = 0.0

    def validate(self, where: str) -> None:
        if not 0 < self.factor < 1:
            raise ConfigError(f"{where}.factor: must be in (0, 1), got {self.factor}")
        if self.step_size < 1:
            raise ConfigError(f"{where}.step_size: must be >= 1")


@dataclass
class EarlyStoppingConfig:
    patience: int = 20  # validations without improvement (seed 000: 20 epochs)
    monitor: Literal["val/sdr", "val/loss"] = "val/sdr"
    min_delta: float = 0.0

    def validate(self, where: str) -> None:
        if self.patience < 1:
            raise ConfigError(f"{where}.patience: must be >= 1")


@dataclass
class RefineConfig:
    """Second stage (seed 000): fresh optimizer at ``lr``, ``batch_size``, for ``max_steps`` more steps."""

    batch_size: int = 32
    lr: float = 4e-5
    max_steps: int = 1000

    def validate(self, where: str) -> None:
        if self.batch_size < 1 or self.max_steps < 1 or self.lr <= 0:
            raise ConfigError(f"{where}: batch_size and max_steps must be >= 1 and lr > 0")


@dataclass
class PenaltyConfig:
    l1: float = 0.0
    l2: float = 0.0

    def validate(self, where: str) -> None:
        if self.l1 < 0 or self.l2 < 0:
            raise ConfigError(f"{where}: l1 and l2 must be >= 0")


@dataclass
class TrainConfig:
    model: ModelConfig
    data: DataConfig
    sources: list[str] = field(default_factory=lambda: list(SOURCES_4))
    #: the model's input is the mixture minus these stems (a residual cascade stage, seed 000)
    mixture_minus: list[str] = field(default_factory=list)
    segment: float | None = None  # seconds per training chunk (default: the model's segment)
    batch_size: int = 8
    loss: LossConfig = field(default_factory=LossConfig)
    optimizer: OptimizerConfig = field(default_factory=OptimizerConfig)
    schedule: ScheduleConfig = field(default_factory=ScheduleConfig)
    early_stopping: EarlyStoppingConfig | None = None
    refine: RefineConfig | None = None
    penalty: PenaltyConfig = field(default_factory=PenaltyConfig)
    grad_clip: float | None = None
    precision: Literal["32-true", "16-mixed", "bf16-mixed"] = "32-true"  # mixed precision on GPUs
    max_steps: int = 1000
    max_time: str | None = None  # "HH:MM:SS" (or "DD:HH:MM:SS") wall-clock budget per stage
    max_cpu_s: float | None = None  # CPU-seconds budget of the whole run (all stages, resumes included)
    val_every: int = 200
    checkpoint_every: int | None = None  # steps (default: val_every)
    log_every: int = 10
    seed: int = 0
    augment: list[dict] = field(default_factory=list)
    num_workers: int = 0

    def validate(self, where: str) -> None:
        if len(set(self.sources)) != len(self.sources) or not self.sources:
            raise ConfigError(f"sources: must be distinct and non-empty, got {self.sources}")
        overlap = set(self.mixture_minus) & set(self.sources)
        if overlap or len(set(self.mixture_minus)) != len(self.mixture_minus):
            raise ConfigError(f"mixture_minus: distinct stems that are not in sources, got {self.mixture_minus}")
        for key in ("batch_size", "max_steps", "val_every", "log_every"):
            if getattr(self, key) < 1:
                raise ConfigError(f"{key}: must be >= 1, got {getattr(self, key)}")
        if self.checkpoint_every is not None and self.checkpoint_every < 1:
            raise ConfigError("checkpoint_every: must be >= 1")
        if self.segment is not None and self.segment <= 0:
            raise ConfigError("segment: must be > 0 seconds")
        if self.num_workers < 0:
            raise ConfigError("num_workers: must be >= 0")
        if self.grad_clip is not None and self.grad_clip <= 0:
            raise ConfigError("grad_clip: must be > 0")
        if self.max_cpu_s is not None and self.max_cpu_s <= 0:
            raise ConfigError("max_cpu_s: must be > 0 CPU seconds")
        if self.max_time is not None:
            parse_duration(self.max_time, "max_time")
        if self.early_stopping is not None and self.data.valid is None:
            raise ConfigError("early_stopping: needs data.valid (held-out tracks to monitor)")
        if self.schedule.name == "plateau" and self.data.valid is None:
            raise ConfigError("schedule.name: plateau needs data.valid")
        if self.data.valid is not None and self.data.valid.type == "synth":
            raise ConfigError("data.valid.type: validation needs whole tracks, not 'synth'")

    @property
    def loaded_sources(self) -> list[str]:
        """What the data loaders read: the trained sources, then the ones taken off the mixture."""
        return list(self.sources) + list(self.mixture_minus)

    @property
    def every_checkpoint(self) -> int:
        return self.checkpoint_every or self.val_every


def parse_duration(text: str, key: str = "max_time") -> timedelta:
    """``"HH:MM:SS"`` or ``"DD:HH:MM:SS"`` -> timedelta."""
    if not re.fullmatch(r"\d+(:\d{1,2}){2,3}", str(text)):
        raise ConfigError(f"{key}: expected HH:MM:SS or DD:HH:MM:SS, got {text!r}")
    parts = [int(p) for p in str(text).split(":")]
    days = parts[0] if len(parts) == 4 else 0
    hours, minutes, seconds = parts[-3:]
    return timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)


def parse_overrides(items: list[str]) -> list[tuple[str, object]]:
    """``["optimizer.lr=3e-4", ...]`` -> ``[("optimizer.lr", 0.0003), ...]`` (values as YAML scalars)."""
    out = []
    for item in items:
        key, sep, raw = item.partition("=")
        if not sep or not re.fullmatch(r"[A-Za-z_][\w]*(\.[A-Za-z_][\w]*)*", key):
            raise ConfigError(f"override {item!r}: expected dotted.key=value")
        try:
            value = yaml.safe_load(raw) if raw.strip() else None
        except yaml.YAMLError:
            raise ConfigError(f"override {item!r}: value is not valid YAML") from None
        if isinstance(value, str):  # PyYAML reads "3e-4" as a string; numbers win
            try:
                value = int(value) if re.fullmatch(r"[+-]?\d+", value) else float(value)
            except ValueError:
                pass
        out.append((key, value))
    return out


def apply_overrides(raw: dict, overrides: list[tuple[str, object]]) -> dict:
    """Set each dotted key in a copy of ``raw``, creating intermediate mappings."""
    import copy

    raw = copy.deepcopy(raw)
    for key, value in overrides:
        node = raw
        parts = key.split(".")
        for i, part in enumerate(parts[:-1]):
            nxt = node.get(part)
            if nxt is None:
                nxt = node[part] = {}
            elif not isinstance(nxt, dict):
                raise ConfigError(f"override {key}: {'.'.join(parts[: i + 1])} is not a mapping")
            node = nxt
        node[parts[-1]] = value
    return raw


def read_yaml(path: str | Path) -> dict:
    path = Path(path)
    try:
        raw = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise ConfigError("config file not found", path=str(path)) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"unreadable config ({exc.__class__.__name__})", path=str(path)) from None
    except yaml.YAMLError as exc:
        line = getattr(getattr(exc, "problem_mark", None), "line", None)
        where = f" at line {line + 1}" if line is not None else ""
        raise ConfigError(f"invalid YAML{where}", path=str(path)) from None
    if not isinstance(raw, dict):
        raise ConfigError("config must be a YAML mapping", path=str(path))
    return raw


def load_config(path: str | Path | None = None, overrides: list[str] = (), raw: dict | None = None) -> TrainConfig:
    """Read ``path`` (or use ``raw``), apply ``key=value`` overrides, validate."""
    data = read_yaml(path) if path is not None else dict(raw or {})
    data = apply_overrides(data, parse_overrides(list(overrides)))
    return from_dict(TrainConfig, data)


def to_dict(cfg: TrainConfig) -> dict:
    return dataclasses.asdict(cfg)


def dump_yaml(cfg: TrainConfig) -> str:
    return yaml.safe_dump(to_dict(cfg), sort_keys=False)
