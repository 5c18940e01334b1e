"""The private temp root and its janitor: old entries go, busy and fresh ones stay, nothing outside."""

from __future__ import annotations

import os
import time

import pytest

from stemkit.web.janitor import Janitor, TempRoot


def age(path, seconds):
    """Set ``path``'s (and its files') modification time ``seconds`` into the past."""
    then = time.time() - seconds
    for p in [path, *path.rglob("*")] if path.is_dir() else [path]:
        os.utime(p, (then, then), follow_symlinks=False)


def test_root_is_private_and_removed(tmp_path):
    root = TempRoot(tmp_path)
    assert root.path.parent == tmp_path and (root.path.stat().st_mode & 0o777) == 0o700
    job_id, folder = root.new_job()
    assert folder == root.jobs / job_id and len(job_id) == 32
    root.remove()
    assert not root.path.exists() and tmp_path.exists()


def test_sweep_removes_only_old_idle_entries(tmp_path):
    root = TempRoot(tmp_path)
    upload = root.path / "abc123"
    upload.mkdir()
    (upload / "song.wav").write_bytes(b"x")
    _, old_job = root.new_job()
    (old_job / "vocals.wav").write_bytes(b"x")
    root.mark_idle(old_job)
    _, busy_job = root.new_job()
    _, fresh_job = root.new_job()
    root.mark_idle(fresh_job)
    for p in (upload, old_job, busy_job):
        age(p, 3600)
    removed = root.sweep(ttl_seconds=600)
    assert sorted(removed) == sorted([upload, old_job])
    assert busy_job.exists() and fresh_job.exists() and root.jobs.exists()
    root.mark_idle(busy_job)
    assert root.sweep(ttl_seconds=600) == [busy_job]


def test_an_upload_shared_by_two_jobs_stays_until_both_finish(tmp_path):
    root = TempRoot(tmp_path)
    upload = root.path / "samehash"
    upload.mkdir()
    (upload / "song.wav").write_bytes(b"x")
    root.mark_busy(upload / "song.wav")
    root.mark_busy(upload / "song.wav")
    age(upload, 3600)
    root.mark_idle(upload / "song.wav")
    assert root.sweep(ttl_seconds=600) == []
    root.mark_idle(upload / "song.wav")
    assert root.sweep(ttl_seconds=600) == [upload]


def test_a_recently_written_file_keeps_its_folder(tmp_path):
    root = TempRoot(tmp_path)
    _, job = root.new_job()
    root.mark_idle(job)
    age(job, 3600)
    (job / "late.png").write_bytes(b"x")  # a file written now counts as activity
    assert root.sweep(ttl_seconds=600) == []


def test_symlinks_are_removed_never_followed(tmp_path):
    outside = tmp_path / "precious"
    outside.mkdir()
    (outside / "keep.txt").write_text("keep")
    root = TempRoot(tmp_path / "serve")
    link = root.path / "link"
    link.symlink_to(outside, target_is_directory=True)
    age(link, 3600)
    assert root.sweep(ttl_seconds=60) == [link]
    assert (outside / "keep.txt").read_text() == "keep"


def test_janitor_thread_sweeps_on_its_interval(tmp_path):
    root = TempRoot(tmp_path)
    _, job = root.new_job()
    root.mark_idle(job)
    age(job, 100)
    janitor = Janitor(root, ttl_seconds=50, interval=0.05)
    janitor.start()
    try:
        deadline = time.time() + 5
        while job.exists() and time.time() < deadline:
            time.sleep(0.02)
        assert not job.exists()
    finally:
        janitor.stop()
        janitor.join(2)
    assert not janitor.is_alive()


def test_paths_outside_the_root_are_not_its_own(tmp_path):
    root = TempRoot(tmp_path / "serve")
    assert root.contains(root.jobs / "x" / "y.wav")
    assert not root.contains(tmp_path / "other.wav")
    assert not root.contains(root.path / ".." / "escape.wav")
    with pytest.raises(ValueError):
        root.mark_busy(tmp_path / "other.wav")
