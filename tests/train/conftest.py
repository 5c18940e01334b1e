"""Fixtures of the training tests: a tiny MUSDB18-HQ-layout folder; the test-only model is registered."""

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))  # train_helpers.py, train_tiny_model.py (also for subprocesses)
from train_helpers import write_song  # noqa: E402


@pytest.fixture(scope="session")
def musdb_root(tmp_path_factory) -> Path:
    """``root/{train,valid}/SONG/{mixture,drums,bass,other,vocals}.wav``: 2 train songs, 1 valid song."""
    root = tmp_path_factory.mktemp("musdb_hq")
    for k in range(2):
        write_song(root / "train" / f"song{k}", seed=k)
    write_song(root / "valid" / "held_out", seed=7)
    return root
