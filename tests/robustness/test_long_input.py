"""A 60-minute input: memory stays flat (peak RSS no higher than for a 3-minute one), stems are whole."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

HERE = Path(__file__).resolve().parent
RATE = 8000
#: Peak-RSS allowance over the 3-minute run. The 60-minute song is 115 MB as float32 and each stem as
#: much again, so holding any of them whole would exceed this by far.
MAX_GROWTH_KIB = 40 * 1024


def write_long_song(path: Path, minutes: int) -> None:
    """Mono 16-bit noise written one minute at a time (the test never holds the song in memory)."""
    rng = np.random.default_rng(minutes)
    with sf.SoundFile(path, "w", RATE, 1, subtype="PCM_16") as f:
        for _ in range(minutes):
            f.write((0.2 * rng.standard_normal(RATE * 60)).astype(np.float32))


def separate_in_subprocess(song: Path, out: Path) -> int:
    """Peak RSS (KiB) of a fresh ``stemkit separate`` process."""
    report = out.parent / f"{song.stem}.rss"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "STEMKIT_PEAK_RSS_FILE": str(report)}
    proc = subprocess.run([sys.executable, str(HERE / "cli_runner.py"), "separate", str(song), "-n",
                           "robust_smooth_mono", "-o", str(out), "-q"], env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    return int(report.read_text())


@pytest.mark.slow
def test_sixty_minutes_in_flat_memory(tmp_path):
    peaks = {}
    for minutes in (3, 60):
        song = tmp_path / f"song{minutes}.wav"
        write_long_song(song, minutes)
        peaks[minutes] = separate_in_subprocess(song, tmp_path / "out")
        folder = tmp_path / "out" / "robust_smooth_mono" / song.stem
        for stem in ("low", "high"):
            info = sf.info(folder / f"{stem}.wav")
            assert info.frames == minutes * 60 * RATE and info.channels == 1
        # spot-check the sum at the very end of the song (16-bit stems: two roundings)
        tail = slice(info.frames - 4000, info.frames)
        mix = sf.read(song, dtype="float32", start=tail.start, stop=tail.stop)[0]
        total = sum(sf.read(folder / f"{s}.wav", dtype="float32", start=tail.start, stop=tail.stop)[0]
                    for s in ("low", "high"))
        np.testing.assert_allclose(total, mix, atol=1e-4)
        song.unlink()
    growth = peaks[60] - peaks[3]
    assert growth < MAX_GROWTH_KIB, f"peak RSS grew by {growth / 1024:.1f} MiB from 3 to 60 minutes"
