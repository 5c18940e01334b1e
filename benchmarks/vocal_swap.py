"""Hybrid training tracks: real accompaniment under vocal lines from another corpus.

The speech-voice row of docs/data-realism.md ("Session 7"): each hybrid is one real training
track's drums, bass and other with a vocal stem taken from rendered songs (by default only those
whose vocal track the speech voice sang, as recorded in each song's ``meta.json``), cut to the real
track's length at the vocal line's loudest stretch and scaled to the real vocal's RMS (to 0.7x the
``other`` stem's RMS where the real track has no vocals). Written as a ``musdb_hq`` folder
(``<out>/train/<hybrid>/{drums,bass,other,vocals,mixture}.wav``); link the real tracks beside them
and train with ``data.train.root=<out>``.

    python benchmarks/vocal_swap.py data/realism/train_data/real_only/train \\
        runs_songs/speech_voice_24x15s_seed0/train --count 32 --out data/speech_hybrids
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

ACCOMPANIMENT = ("drums", "bass", "other")
HOP = 4410  # 0.1 s steps when looking for the loudest stretch


def vocal_files(songs: list[Path], renderer: str | None) -> list[Path]:
    """``vocals.wav`` of each song folder, only songs whose vocal track used ``renderer`` if given."""
    found = []
    for song in songs:
        if not (song / "vocals.wav").exists():
            continue
        if renderer:
            meta = song / "meta.json"
            tracks = json.loads(meta.read_text()).get("tracks", []) if meta.exists() else []
            if not any(t.get("stem") == "vocals" and t.get("renderer") == renderer for t in tracks):
                continue
        found.append(song / "vocals.wav")
    return found


def loudest_cut(vocal: np.ndarray, length: int) -> np.ndarray:
    """``length`` samples of ``vocal (T, C)`` where it is loudest (a spoken line has pauses),
    zero-padded when shorter."""
    if len(vocal) <= length:
        return np.pad(vocal, ((0, length - len(vocal)), (0, 0)))
    energy = np.add.reduceat((vocal ** 2).sum(1), np.arange(0, len(vocal), HOP))
    steps = max(1, length // HOP)
    window = np.convolve(energy, np.ones(steps), "valid")[: (len(vocal) - length) // HOP + 1]
    start = int(np.argmax(window)) * HOP
    return vocal[start : start + length]


def rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x ** 2)))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("real", type=Path, help="folder of real track folders (drums/bass/other/vocals.wav)")
    ap.add_argument("songs", type=Path, help="folder of song folders to take vocal stems from")
    ap.add_argument("--renderer", default="speech", help="only songs whose vocals this renderer made ('' = all)")
    ap.add_argument("--count", type=int, default=32)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args(argv)

    real = sorted(p for p in args.real.iterdir() if (p / "drums.wav").exists()) if args.real.is_dir() else []
    vocals = vocal_files(sorted(p for p in args.songs.iterdir() if p.is_dir()), args.renderer) \
        if args.songs.is_dir() else []
    if not real or not vocals:
        print(f"vocal_swap: no {'real tracks' if not real else 'vocal stems'} found", file=sys.stderr)
        return 2
    order = np.random.default_rng(args.seed).permutation(len(real))[: args.count]
    for i, k in enumerate(order):
        track = real[k]
        stems = {s: sf.read(track / f"{s}.wav", dtype="float32", always_2d=True)[0] for s in ACCOMPANIMENT}
        sr = sf.info(str(track / "drums.wav")).samplerate
        length = len(stems["drums"])
        line, _ = sf.read(vocals[i % len(vocals)], dtype="float32", always_2d=True)
        line = loudest_cut(line, length)
        if line.shape[1] != stems["drums"].shape[1]:
            line = np.repeat(line[:, :1], stems["drums"].shape[1], axis=1)
        own = track / "vocals.wav"
        target = rms(sf.read(own, dtype="float32")[0]) if own.exists() else 0.0
        target = target or 0.7 * rms(stems["other"])
        stems["vocals"] = (line * (target / (rms(line) + 1e-9))).astype(np.float32)
        folder = args.out / "train" / f"hybrid_{i:03d}_{track.name}"
        folder.mkdir(parents=True, exist_ok=True)
        for name, audio in stems.items():
            sf.write(folder / f"{name}.wav", audio, sr, subtype="FLOAT")
        sf.write(folder / "mixture.wav", np.sum(list(stems.values()), axis=0), sr, subtype="FLOAT")
    print(f"{len(order)} hybrid tracks ({len(vocals)} vocal lines) in {args.out / 'train'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
