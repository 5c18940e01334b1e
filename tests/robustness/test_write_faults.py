"""Outputs that cannot be written (read-only folder, full disk), interruptions and stemkit's own bugs:
one clear line each, no partial stems or temp files, and the other files of the batch still separated.

We run as root, so permissions cannot be taken away: the failures are simulated by making the writer's
system calls raise what a read-only or full file system raises.
"""

from __future__ import annotations

import errno
import os

import numpy as np
import pytest
import soundfile as sf
from conftest import noise, partial_files, stem_files

from stemkit import Separator
from stemkit.errors import AudioWriteError

MODEL = "robust_smooth"


@pytest.fixture
def songs(write):
    # 70 000 frames = two read blocks, so a failure can land after stems were partly written
    return [write(f"song{k}.wav", noise(70_000, seed=k), subtype="FLOAT") for k in range(2)]


def test_output_under_a_regular_file(cli, songs, tmp_path):
    blocker = tmp_path / "not_a_folder"
    blocker.write_text("x")
    code, _, err = cli("separate", *songs, "-n", MODEL, "-o", blocker / "out", "-q")
    assert code == 4  # AudioWriteError's code: nothing could be written at all
    assert err.count("\n") == 1 and "cannot write to output folder" in err
    assert blocker.read_text() == "x"


def test_read_only_output_folder(cli, songs, tmp_path, monkeypatch):
    real_replace = os.replace

    def refuse(src, dst, *a, **k):
        if str(dst).endswith(".wav") and "/out/" in str(dst):
            raise PermissionError(errno.EACCES, "Permission denied", str(dst))
        return real_replace(src, dst, *a, **k)

    monkeypatch.setattr(os, "replace", refuse)
    out = tmp_path / "out"
    code, _, err = cli("separate", *songs, "-n", MODEL, "-o", out, "-q")
    assert code == 1
    errors = [line for line in err.splitlines() if line.startswith("stemkit: error")]
    assert len(errors) == 2  # each file of the batch is tried and reported once
    assert all("permission denied or read-only" in line for line in errors)
    assert "2 input(s) failed, 0 separated" in err
    assert not [p for p in stem_files(out) if p.suffix == ".wav"] and not partial_files(out)


@pytest.mark.parametrize("fail_on_call", [1, 3, 6])
def test_disk_full_mid_write(cli, songs, tmp_path, monkeypatch, fail_on_call):
    """ENOSPC on the n-th block written (temp float pass or final encode): nothing is left behind."""
    real_write = sf.SoundFile.write
    calls = {"n": 0}

    def write(self, data):
        if "/out/" in self.name:
            calls["n"] += 1
            if calls["n"] == fail_on_call:
                real_write(self, data[: len(data) // 2])  # half a block reached the disk
                raise OSError(errno.ENOSPC, "No space left on device")
        return real_write(self, data)

    monkeypatch.setattr(sf.SoundFile, "write", write)
    out = tmp_path / "out"
    code, _, err = cli("separate", *songs, "-n", MODEL, "-o", out, "-q")
    assert code == 1
    assert err.count("no space left on device") == 2  # the failing file: its line and the summary
    assert "1 input(s) failed, 1 separated" in err
    assert not partial_files(out)
    written = sorted(p.relative_to(out).as_posix() for p in stem_files(out))
    survivor = [f"{MODEL}/{s}/{n}.wav" for s in ("song0", "song1") for n in ("high", "low")]
    assert written in (survivor[:2], survivor[2:])  # one whole track, never part of the other


def test_api_write_failure_raises_write_error_and_leaves_nothing(songs, tmp_path, monkeypatch):
    def full(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("stemkit.audio.writer.os.replace", full)
    with pytest.raises(AudioWriteError, match="no space left"):
        Separator(MODEL).separate_to_files(songs[0], tmp_path / "stems")
    assert not stem_files(tmp_path / "stems")


def test_ctrl_c_mid_separation_leaves_nothing(cli, songs, tmp_path, monkeypatch):
    from robust_model import _Smooth

    real_forward = _Smooth.forward
    calls = {"n": 0}

    def forward(self, mix):
        calls["n"] += 1
        if calls["n"] == 5:
            raise KeyboardInterrupt
        return real_forward(self, mix)

    monkeypatch.setattr(_Smooth, "forward", forward)
    out = tmp_path / "out"
    code, _, err = cli("separate", *songs, "-n", MODEL, "-o", out, "-q")
    assert code == 130 and err.strip() == "stemkit: interrupted"
    assert not [p for p in stem_files(out) if p.suffix == ".wav"] and not partial_files(out)


def test_a_bug_on_one_file_does_not_stop_the_batch(cli, songs, tmp_path, monkeypatch):
    """An unexpected exception is reported as an internal error for that file; the others go on."""
    real = Separator.separate_to_files

    def flaky(self, path, *a, **k):
        if path.name == "song0.wav":
            raise ValueError("something stemkit did not foresee")
        return real(self, path, *a, **k)

    monkeypatch.setattr(Separator, "separate_to_files", flaky)
    out = tmp_path / "out"
    from stemkit.cli.main import main

    code = main(["separate", *map(str, songs), "-n", MODEL, "-o", str(out), "-q"])
    assert code == 70  # internal errors outrank input errors in the exit code
    assert (out / MODEL / "song1" / "low.wav").is_file()
    assert not (out / MODEL / "song0").exists()


def test_existing_stems_survive_a_failed_rerun(cli, songs, tmp_path, monkeypatch):
    out = tmp_path / "out"
    assert cli("separate", songs[0], "-n", MODEL, "-o", out, "-q")[0] == 0
    low = out / MODEL / "song0" / "low.wav"
    before = low.read_bytes()
    bad = np.array(noise(70_000))
    bad[-1, 0] = np.nan  # fails after every block but the last was written
    sf.write(songs[0], bad, 8000, subtype="FLOAT")
    code, _, err = cli("separate", songs[0], "-n", MODEL, "-o", out, "-q")
    assert code == 1 and "NaN or Inf" in err
    assert low.read_bytes() == before and not partial_files(out)
