"""The server's private temp root and the janitor thread that empties it after a time to live.

Layout (everything the server writes lives here and nothing else is ever deleted)::

    ROOT/              Gradio's upload and cache folder (GRADIO_TEMP_DIR): ROOT/<hash>/<name>
    ROOT/jobs/<id>/    one folder per separation: stems, pictures, zip
"""

from __future__ import annotations

import os
import shutil
import stat
import tempfile
import threading
import time
import uuid
from pathlib import Path


class TempRoot:
    """A fresh private folder (mode 0700) made with :func:`tempfile.mkdtemp` under ``parent``."""

    def __init__(self, parent: str | os.PathLike | None = None):
        if parent is not None:
            Path(parent).mkdir(parents=True, exist_ok=True)
        self.path = Path(tempfile.mkdtemp(prefix="stemkit-serve-", dir=parent)).resolve()
        self.jobs = self.path / "jobs"
        self.jobs.mkdir()
        self._busy: dict[Path, int] = {}  # entry -> jobs using it (two jobs may share one upload)
        self._lock = threading.Lock()

    def new_job(self) -> tuple[str, Path]:
        """A new, unguessable job id and its (created, busy) folder."""
        job_id = uuid.uuid4().hex
        folder = self.jobs / job_id
        folder.mkdir(mode=0o700)
        self.mark_busy(folder)
        return job_id, folder

    def mark_busy(self, path: Path) -> None:
        """Keep the janitor's hands off ``path``'s top-level entry until :meth:`mark_idle`."""
        entry = self._entry(path)
        with self._lock:
            self._busy[entry] = self._busy.get(entry, 0) + 1

    def mark_idle(self, path: Path) -> None:
        entry = self._entry(path)
        with self._lock:
            left = self._busy.get(entry, 0) - 1
            if left > 0:
                self._busy[entry] = left
            else:
                self._busy.pop(entry, None)

    def _entry(self, path: Path) -> Path:
        """The top-level entry (``ROOT/<x>`` or ``ROOT/jobs/<x>``) that holds ``path``."""
        rel = Path(os.path.abspath(path)).relative_to(self.path)
        parts = rel.parts[:2] if rel.parts[0] == "jobs" else rel.parts[:1]
        return self.path.joinpath(*parts)

    def contains(self, path: str | os.PathLike) -> bool:
        try:
            # resolve(): a symlink inside the root that points outside it is outside.
            Path(path).resolve().relative_to(Path(self.path).resolve())
            return True
        except ValueError:
            return False

    def sweep(self, ttl_seconds: float, now: float | None = None) -> list[Path]:
        """Delete entries untouched for ``ttl_seconds`` (newest mtime of the entry and its files)."""
        now = time.time() if now is None else now
        removed = []
        entries = [p for p in self.path.iterdir() if p.name != "jobs"] + list(self.jobs.iterdir())
        for entry in entries:
            with self._lock:
                if entry in self._busy:
                    continue
            try:
                if now - _newest_mtime(entry) < ttl_seconds:
                    continue
                _remove(entry)
                removed.append(entry)
            except FileNotFoundError:  # removed meanwhile
                continue
        return removed

    def remove(self) -> None:
        """Delete the whole root (at shutdown)."""
        shutil.rmtree(self.path, ignore_errors=True)


def _newest_mtime(entry: Path) -> float:
    info = entry.lstat()
    newest = info.st_mtime
    if stat.S_ISDIR(info.st_mode):
        for child in entry.iterdir():
            newest = max(newest, child.lstat().st_mtime)
    return newest


def _remove(entry: Path) -> None:
    # lstat: a symlink is removed itself, never followed out of the root.
    if stat.S_ISDIR(entry.lstat().st_mode):
        shutil.rmtree(entry)
    else:
        entry.unlink()


class Janitor(threading.Thread):
    """Daemon thread: every ``interval`` seconds, :meth:`TempRoot.sweep` with ``ttl`` seconds."""

    def __init__(self, root: TempRoot, ttl_seconds: float, interval: float | None = None):
        super().__init__(name="stemkit-janitor", daemon=True)
        self.root, self.ttl = root, float(ttl_seconds)
        self.interval = interval if interval is not None else min(60.0, max(1.0, self.ttl / 4))
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.wait(self.interval):
            try:
                self.root.sweep(self.ttl)
            except OSError:  # root vanished or a transient error: try again next round
                continue

    def stop(self) -> None:
        self._stop_event.set()
