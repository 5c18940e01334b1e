"""Training that dies at the worst moment: SIGKILL while a checkpoint is being written, then a
truncated checkpoint. tests/train/test_resume.py covers a kill between checkpoints and exact resumption;
this adds the kill *inside* a write (Lightning's own checkpoint IO is not atomic; stemkit's is)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import torch

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "train"))
from train_helpers import tiny_config, write_config, write_song  # noqa: E402

from stemkit.cli.main import main  # noqa: E402


def checkpoint_step(path: Path) -> int:
    return int(torch.load(path, map_location="cpu", weights_only=True)["global_step"])


@pytest.mark.slow
@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_kill_during_checkpoint_write_then_truncated_checkpoint_then_resume(tmp_path, capsys):
    root = tmp_path / "musdb"
    for k in range(2):
        write_song(root / "train" / f"song{k}", seed=k, seconds=1.0)
    cfg = tiny_config(root, max_steps=100, checkpoint_every=2, val_every=1000)
    del cfg["data"]["valid"]
    cfg["data"]["train"]["samples_per_epoch"] = 16
    config = write_config(tmp_path / "dies.yaml", cfg)
    runs = tmp_path / "runs"
    proc = subprocess.run(
        [sys.executable, str(HERE / "train_kill_runner.py"), "2", "train", "--config", str(config),
         "--name", "dies", "--runs-dir", str(runs), "--quiet"],
        env={**os.environ, "OMP_NUM_THREADS": "1"}, capture_output=True, text=True, timeout=300)
    assert proc.returncode == -signal.SIGKILL, proc.stderr[-2000:]

    ckpt_dir = runs / "dies" / "checkpoints"
    last = ckpt_dir / "last.ckpt"
    # the first checkpoint (step 2) is whole; the half-written second one never replaced it
    assert checkpoint_step(last) == 2
    assert list(ckpt_dir.glob(".*.tmp")), "the half-written temp file should be what the kill left"

    whole = last.read_bytes()
    last.write_bytes(whole[: len(whole) // 3])  # now a truncated last.ckpt, as a non-atomic writer leaves
    code = main(["train", "--name", "dies", "--runs-dir", str(runs), "--resume", "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "unreadable checkpoint" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1

    last.write_bytes(whole)
    code = main(["train", "--name", "dies", "--runs-dir", str(runs), "--resume", "max_steps=6", "--quiet"])
    assert code == 0, capsys.readouterr().err
    assert checkpoint_step(last) == 6
    assert not list(ckpt_dir.glob(".*.tmp"))  # resume cleared what the kill left
    assert (runs / "dies" / "last" / "model.safetensors").is_file()
