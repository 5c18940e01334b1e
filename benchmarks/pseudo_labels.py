"""Pseudo-labelled excerpts of unlabelled music: a teacher model's stems as training targets.

The teacher-student lever of docs/data-realism.md ("Session 7"): excerpts cut from recordings
that have no stems (a folder of audio files, such as Debian's game soundtracks), separated by a
teacher (``-n hq``), written as a ``musdb_hq`` training folder (``<out>/train/<excerpt>/<stem>.wav``
plus ``mixture.wav``, the exact sum of the stems). Link real training tracks beside them and
train with ``data.train.root=<out>``: the ``remix`` augmentation then mixes pseudo-labelled stems
with real ones, as RemixIT does.

    python benchmarks/pseudo_labels.py /usr/share/games/wesnoth/1.16/data/core/music \\
        --teacher hq --excerpts 64 --seconds 7 --out data/pseudo

Excerpts are drawn round-robin over the files (sorted by name), each at a random start (``--seed``),
skipping files shorter than an excerpt and excerpts quieter than ``--silence-db`` (RMS, dBFS).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3", ".aiff", ".aif")


def audio_files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file())


def excerpts(files: list[Path], count: int, seconds: float, seed: int, silence_db: float):
    """Yield ``(name, audio (2, T) float32, sample_rate)`` for ``count`` excerpts (fewer when the
    files run out of usable ones: each file is tried at most ``count`` times)."""
    rng = np.random.default_rng(seed)
    made = tries = 0
    while made < count and tries < count * max(1, len(files)):
        path = files[tries % len(files)]
        tries += 1
        info = sf.info(str(path))
        length = int(seconds * info.samplerate)
        if info.frames < length:
            continue
        start = int(rng.integers(0, info.frames - length + 1))
        audio, sr = sf.read(str(path), start=start, frames=length, dtype="float32", always_2d=True)
        if audio.shape[1] == 1:
            audio = np.repeat(audio, 2, axis=1)
        rms_db = 10 * np.log10(np.mean(audio[:, :2] ** 2) + 1e-12)
        if rms_db < silence_db:
            continue
        made += 1
        yield f"{path.stem}_{start}", np.ascontiguousarray(audio[:, :2].T), sr


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("music", type=Path, help="folder of unlabelled recordings")
    ap.add_argument("--teacher", default="hq", help="model that labels them (name or folder)")
    ap.add_argument("--excerpts", type=int, default=64)
    ap.add_argument("--seconds", type=float, default=7.0)
    ap.add_argument("--silence-db", type=float, default=-40.0)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)

    from stemkit.errors import StemkitError
    from stemkit.separator import Separator

    files = audio_files(args.music)
    if not files:
        print(f"pseudo_labels: no audio files under {args.music}", file=sys.stderr)
        return 2
    try:
        teacher = Separator(args.teacher, progress=False)
    except StemkitError as exc:
        print(f"pseudo_labels: {exc}", file=sys.stderr)
        return 2
    made = 0
    for name, audio, sr in excerpts(files, args.excerpts, args.seconds, args.seed, args.silence_db):
        stems = teacher.separate(audio, sr)
        folder = args.out / "train" / name
        folder.mkdir(parents=True, exist_ok=True)
        for stem, estimate in stems.items():
            sf.write(folder / f"{stem}.wav", estimate.T, sr, subtype="FLOAT")
        sf.write(folder / "mixture.wav", np.sum(list(stems.values()), axis=0).T, sr, subtype="FLOAT")
        made += 1
    print(f"{made} pseudo-labelled excerpts of {args.seconds:g} s by {args.teacher} in {args.out / 'train'}")
    return 0 if made else 1


if __name__ == "__main__":
    sys.exit(main())
