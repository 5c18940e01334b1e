"""Helpers of the training tests: a tiny MUSDB18-HQ-layout song writer and configs for the test model."""

import sys
from pathlib import Path

import numpy as np
import soundfile as sf
import yaml

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))
import train_tiny_model  # noqa: E402,F401  (registers "tiny_train_net")

RATE = 8000


def write_song(folder: Path, seed: int, seconds: float = 2.0) -> None:
    """Four distinct stereo stems (noise bursts, sine bass, square wave, vibrato tone) and their sum."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(RATE * seconds)) / RATE
    stems = {
        "drums": 0.3 * rng.standard_normal(t.size) * (np.sin(2 * np.pi * 4 * t) > 0.5),
        "bass": 0.4 * np.sin(2 * np.pi * 55 * (seed + 1) * t),
        "other": 0.2 * np.sign(np.sin(2 * np.pi * 330 * t + seed)),
        "vocals": 0.3 * np.sin(2 * np.pi * (440 + 20 * np.sin(2 * np.pi * 5 * t)) * t),
    }
    folder.mkdir(parents=True, exist_ok=True)
    mix = 0
    for name, x in stems.items():
        stereo = np.stack([x, 0.8 * x], axis=1).astype(np.float32)
        sf.write(folder / f"{name}.wav", stereo, RATE, subtype="FLOAT")
        mix = mix + stereo
    sf.write(folder / "mixture.wav", mix, RATE, subtype="FLOAT")


def tiny_config(root: Path, **changes) -> dict:
    cfg = {
        "model": {"name": "tiny_train_net"},
        "data": {
            "train": {"type": "musdb_hq", "root": str(root), "split": "train", "samples_per_epoch": 64},
            "valid": {"type": "musdb_hq", "root": str(root), "split": "valid"},
        },
        "segment": 0.25,
        "batch_size": 4,
        "loss": {"name": "l1"},
        "optimizer": {"name": "adam", "lr": 1e-2},
        "max_steps": 30,
        "val_every": 10,
        "log_every": 1,
        "seed": 0,
    }
    cfg.update(changes)
    return cfg


def write_config(path: Path, cfg: dict) -> Path:
    path.write_text(yaml.safe_dump(cfg))
    return path
