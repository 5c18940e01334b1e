"""Robustness fixtures: the cheap registered models, a CLI runner that checks the one-line contract,
and a checker for partial files."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # robust_model.py, also for the subprocess runner
import robust_model  # noqa: E402,F401

from stemkit.cli.main import main  # noqa: E402

RATE = 8000


def noise(frames: int, channels: int = 2, seed: int = 0, amplitude: float = 0.3) -> np.ndarray:
    """``(frames, channels)`` float32 noise, soundfile's layout."""
    rng = np.random.default_rng(seed)
    return (amplitude * rng.standard_normal((frames, channels))).astype(np.float32)


@pytest.fixture
def write(tmp_path):
    """``write(name, data (T, C), sr=8000, **sf_kwargs) -> Path`` under ``tmp_path/in``."""

    def make(name: str, data: np.ndarray, sr: int = RATE, **kwargs) -> Path:
        path = tmp_path / "in" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        sf.write(path, data, sr, **kwargs)
        return path

    return make


@pytest.fixture
def cli(capfd):
    """``cli(*args) -> (exit code, stdout, stderr)``, captured at the file-descriptor level so that C
    libraries' output counts too; fails on tracebacks, internal errors and stray stderr lines."""

    def run(*args: str) -> tuple[int, str, str]:
        code = main([str(a) for a in args])
        out, err = capfd.readouterr()
        assert "Traceback" not in err and "Traceback" not in out
        assert "internal error" not in err, err
        for line in err.splitlines():  # every message stands on one line with its own prefix
            assert line.startswith(("stemkit: ", "  ")), f"stray stderr line: {line!r}"
        return code, out, err

    return run


def partial_files(root: Path) -> list[Path]:
    """Temp files an interrupted write could leave behind (``.part``, ``.tmp``, hidden probes)."""
    if not root.exists():
        return []
    return [p for p in root.rglob("*") if ".part" in p.name or p.name.endswith(".tmp")
            or p.name.startswith(".stemkit-write-test")]


def stem_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []
