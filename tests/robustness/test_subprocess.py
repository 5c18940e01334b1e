"""Real processes, as a user's shell sees them: exit codes and stderr with nothing but stemkit's lines
(no traceback, no decoder chatter from C libraries)."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import soundfile as sf
from conftest import noise

HERE = Path(__file__).resolve().parent
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


def run(*args, runner=True):
    cmd = [sys.executable, str(HERE / "cli_runner.py")] if runner else [sys.executable, "-m", "stemkit"]
    return subprocess.run([*cmd, *map(str, args)], env=ENV, capture_output=True, text=True, timeout=300)


def assert_only_stemkit_lines(stderr: str):
    assert stderr.strip(), "expected messages"
    for line in stderr.splitlines():
        assert line.startswith(("stemkit: ", "  ")), f"foreign stderr line: {line!r}"


def _damaged_mp3(path: Path) -> None:
    buf = io.BytesIO()
    sf.write(buf, noise(16000, seed=4), 16000, format="MP3")
    data = bytearray(buf.getvalue())
    rng = np.random.default_rng(0)
    for i in rng.integers(len(data) // 4, len(data), size=40):  # smash frame headers past the first frames
        data[int(i)] = 0
    path.write_bytes(bytes(data))


def test_bad_and_damaged_files_in_a_real_process(tmp_path):
    bad = tmp_path / "random.mp3"
    bad.write_bytes(np.random.default_rng(2).bytes(6000))
    damaged = tmp_path / "damaged.mp3"
    _damaged_mp3(damaged)
    good = tmp_path / "good.wav"
    sf.write(good, noise(4000), 8000)
    out = tmp_path / "out"
    proc = run("separate", bad, damaged, good, "-n", "robust_smooth", "-o", out, "-q")
    assert proc.returncode == 1
    assert_only_stemkit_lines(proc.stderr)
    assert "random.mp3: not a readable audio file" in proc.stderr
    assert "1 input(s) failed, 2 separated" in proc.stderr  # a damaged MP3 still decodes
    assert (out / "robust_smooth" / "damaged" / "low.wav").is_file()


def test_the_installed_entry_point_reports_user_errors_with_their_codes(tmp_path):
    song = tmp_path / "s.wav"
    sf.write(song, noise(2000), 8000)
    proc = run("separate", song, "-n", "no_such_model", "-o", tmp_path / "out", runner=False)
    assert proc.returncode == 6 and proc.stderr.count("\n") == 1
    assert_only_stemkit_lines(proc.stderr)
    proc = run("separate", tmp_path / "missing.wav", "-n", "hpss", "-o", tmp_path / "out", runner=False)
    assert proc.returncode == 1 and "no such file or folder" in proc.stderr
    assert_only_stemkit_lines(proc.stderr)
