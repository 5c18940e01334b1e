"""One separation job: stream an upload through a Separator into stems, pictures and a zip."""

from __future__ import annotations

import os
import tempfile
import threading
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from ..audio import AudioReader, AudioWriter, output_format
from ..separator import BLOCK, Separator
from .plots import Sketch, StemSketch, render_sketch

#: Output formats offered: label -> ``output_format`` kind.
FORMATS = {"WAV 16-bit": "wav16", "FLAC 24-bit": "flac", "MP3 320 kbit/s": "mp3"}
KARAOKE_STEM = "vocals"

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class JobResult:
    """Everything one separation produced, all inside ``folder``."""

    job_id: str
    folder: Path
    track: str
    model: str
    sample_rate: int
    channels: int
    seconds: float
    elapsed: float
    stems: dict[str, Path]  # stem -> audio file
    archive: Path  # zip of all stems
    sketches: dict[str, Path]  # "mixture" and each stem -> .npz of what its picture shows

    def draw_pictures(self) -> dict[str, Path]:
        """``folder/<name>.png`` for the mixture and each stem (drawn on demand: API callers skip it)."""
        return {name: render_sketch(Sketch.load(p), self.folder / f"{name}.png", title=name)
                for name, p in self.sketches.items()}

    def summary(self) -> dict:
        """JSON-friendly facts (no server paths)."""
        return {"job": self.job_id, "track": self.track, "model": self.model, "stems": list(self.stems),
                "files": {s: p.name for s, p in self.stems.items()}, "archive": self.archive.name,
                "sample_rate": self.sample_rate, "channels": self.channels,
                "seconds": round(self.seconds, 3), "elapsed": round(self.elapsed, 3)}


class SeparatorPool:
    """One :class:`Separator` per (model, mode), built on first use and shared by all jobs.

    Separators hold no per-call state (``stream`` builds its own), so threads may share them.
    """

    def __init__(self, model_paths: dict[str, str], *, device: str = "cpu"):
        self.model_paths, self.device = dict(model_paths), device
        self._cache: dict[tuple[str, str | None], Separator] = {}
        self._lock = threading.Lock()

    def get(self, model: str, two_stems: str | None) -> Separator:
        key = (model, two_stems)
        with self._lock:  # building twice would only waste time, but loading weights is slow
            if key not in self._cache:
                self._cache[key] = Separator(self.model_paths[model], device=self.device,
                                             two_stems=two_stems, progress=False)
            return self._cache[key]


def run_job(separator: Separator, upload: Path, folder: Path, *, job_id: str, track: str, model: str,
            fmt_kind: str = "wav16", progress: Progress | None = None) -> JobResult:
    """Separate ``upload`` into ``folder/<track> - <stem><ext>`` and ``<track> - stems.zip``.

    Stems are written atomically and all or none; ``progress(fraction, message)`` is called per block.
    """
    started = time.perf_counter()
    report = progress or (lambda fraction, message: None)
    reader = AudioReader(upload)
    sr = reader.sample_rate
    expected = reader.info.frames or max(1, int(round(reader.info.duration * sr)))
    channels = 1 if reader.channels == 1 else 2
    fmt = output_format(fmt_kind)
    targets = {s: folder / f"{track} - {s}{fmt.extension}" for s in separator.sources}
    sketches = {name: StemSketch(sr, expected) for name in ["mixture", *separator.sources]}
    writers: dict[str, AudioWriter] = {}
    done: list[Path] = []
    report(0.0, "separating")
    try:
        writers = {s: AudioWriter(t, sr, channels, fmt, clip="rescale") for s, t in targets.items()}
        received = 0
        for mix, stems in separator.stream(reader.blocks(BLOCK), sr, total=expected, label=track):
            sketches["mixture"].push(mix)
            for name, block in stems.items():
                writers[name].write(block)
                sketches[name].push(block)
            received += mix.shape[1]
            report(min(received / expected, 1.0) * 0.9, "separating")
        report(0.9, "encoding")
        for name in list(writers):
            done.append(writers.pop(name).close())
    except BaseException:
        for w in writers.values():
            w.abort()
        for p in done:
            p.unlink(missing_ok=True)
        raise
    saved = {name: sk.freeze().save(folder / f"sketch-{name}.npz") for name, sk in sketches.items()}
    report(0.95, "zipping")
    archive = write_zip(folder / f"{track} - stems.zip",
                        {f"{track}/{s}{fmt.extension}": p for s, p in targets.items()})
    return JobResult(job_id, folder, track, model, sr, channels, sketches["mixture"].length / sr,
                     time.perf_counter() - started, dict(targets), archive, saved)


def write_zip(path: Path, members: dict[str, Path]) -> Path:
    """Store ``{name in zip: file}`` into ``path`` atomically (stored: audio does not deflate)."""
    fd, tmp = tempfile.mkstemp(prefix=".zip.", suffix=".part", dir=path.parent)
    os.close(fd)
    try:
        with zipfile.ZipFile(tmp, "w", compression=zipfile.ZIP_STORED) as z:
            for name, file in members.items():
                z.write(file, arcname=name)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path
