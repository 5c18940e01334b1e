"""A training process killed with SIGKILL resumes from last.ckpt at the step it had reached."""

import csv
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file
from train_helpers import tiny_config, write_config

from stemkit.cli.main import main

RUNNER = Path(__file__).resolve().parent / "cli_runner.py"


def cli(*args: str) -> int:
    """The CLI in a 1-thread subprocess, like the killed run: the same reduction order makes the
    resumed and the uninterrupted weights comparable bit for bit."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    return subprocess.run([sys.executable, str(RUNNER), *args], env=env, stdout=subprocess.DEVNULL,
                          stderr=subprocess.DEVNULL).returncode


def checkpoint_step(path: Path) -> int:
    return int(torch.load(path, map_location="cpu", weights_only=True)["global_step"])


@pytest.mark.skipif(not hasattr(signal, "SIGKILL"), reason="needs POSIX signals")
def test_killed_run_resumes_at_its_step(musdb_root, tmp_path):
    cfg = tiny_config(musdb_root, max_steps=100_000, checkpoint_every=2, val_every=1_000)
    cfg["data"]["train"]["samples_per_epoch"] = 24  # 6 batches an epoch: the resumed run crosses epochs
    config = write_config(tmp_path / "long.yaml", cfg)
    runs = tmp_path / "runs"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(
        [sys.executable, str(RUNNER), "train", "--config", str(config), "--name", "killed",
         "--runs-dir", str(runs), "--quiet"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    ckpt = runs / "killed" / "checkpoints" / "last.ckpt"
    try:
        deadline = time.monotonic() + 300  # a loaded CI machine imports torch and lightning slowly
        while not ckpt.is_file():
            if proc.poll() is not None:
                pytest.fail(f"training exited early: {proc.stderr.read().decode()[-2000:]}")
            if time.monotonic() > deadline:
                pytest.fail("no checkpoint within 300 s")
            time.sleep(0.05)
        time.sleep(0.3)  # let it train past the first checkpoint
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    stopped = checkpoint_step(ckpt)  # atomic writes: the file is whole even after SIGKILL
    assert stopped >= 2 and stopped % 2 == 0
    assert not (runs / "killed" / "state.json").exists()  # the stage never finished

    # Without --resume the run refuses to start over on top of the checkpoint.
    assert main(["train", "--config", str(config), "--name", "killed", "--runs-dir", str(runs), "--quiet"]) == 2

    target = stopped + 8
    code = cli("train", "--name", "killed", "--runs-dir", str(runs), "--resume", f"max_steps={target}", "--quiet")
    assert code == 0
    assert checkpoint_step(ckpt) == target
    state = json.loads((runs / "killed" / "state.json").read_text())
    assert state["stages"]["main"]["steps"] == target
    with open(runs / "killed" / "metrics.csv", newline="") as f:
        steps = [int(r["step"]) for r in csv.DictReader(f) if r["train/loss"]]
    # Rows up to the checkpoint come back from it; training went on at stopped + 1, no step twice.
    assert steps == list(range(1, target + 1))
    resumed_log = runs / "killed" / "logs" / "csv" / "main-1" / "metrics.csv"
    with open(resumed_log, newline="") as f:
        first = min(int(r["step"]) for r in csv.DictReader(f) if r.get("train/loss"))
    assert first == stopped  # Lightning logs step k - 1 for the k-th optimizer step

    # Same data, same order, same optimizer state: the weights equal an uninterrupted run's.
    write_config(config, {**cfg, "max_steps": target})
    assert cli("train", "--config", str(config), "--name", "straight", "--runs-dir", str(runs), "--quiet") == 0
    resumed = load_file(runs / "killed" / "last" / "model.safetensors")
    straight = load_file(runs / "straight" / "last" / "model.safetensors")
    for key in straight:
        torch.testing.assert_close(resumed[key], straight[key], rtol=1e-6, atol=1e-7)
