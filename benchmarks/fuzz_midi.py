"""Fuzz the MIDI reading path of the renderer with mutated Standard MIDI Files.

The path under test is what ``stemkit synth --source midi`` and the ``synth`` training data run for
every file of a MIDI folder: ``MidiFolder.song`` (pretty_midi/mido parsing, instrument filter, window
choice, ``crop_midi``) and then ``render_song`` (tinysoundfont rendering, singing synth, mixing).
A :class:`stemkit.errors.StemkitError` is the expected outcome for a bad file; any other exception,
stems of the wrong shape, NaN/Inf, or an input slower than ``--slow`` seconds is a finding, saved under
``--findings`` with its traceback.

    python benchmarks/fuzz_midi.py --seconds 300                       # atheris when installed
    python benchmarks/fuzz_midi.py --engine mutate --seconds 300 --whole   # whole songs, no window
"""

from __future__ import annotations

import argparse
import hashlib
import io
import sys
import tempfile
import time
import traceback
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fuzz_audio import mutate  # noqa: E402  (the same byte mutations)

RATE = 16000


def seed_files() -> list[bytes]:
    """A few small songs: drums, bass, piano, a sung line with lyrics, tempo and time-signature changes,
    pitch bends and a sustain pedal. Byte 0 is the seed handed to ``MidiFolder.song``."""
    import pretty_midi

    seeds = []
    for k, tempo in enumerate((60.0, 100.0, 180.0)):
        pm = pretty_midi.PrettyMIDI(initial_tempo=tempo)
        pm.time_signature_changes.append(pretty_midi.TimeSignature(3 + k % 2, 4, 0.0))
        for program, drum, name in [(33, False, "bass"), (0, True, "drums"), (0, False, "piano"),
                                    (53, False, "voice")][: 2 + k]:
            inst = pretty_midi.Instrument(program, is_drum=drum, name=name)
            for j in range(6 + 2 * k):
                pitch = 36 + j % 3 if drum else 40 + 3 * j + 12 * (name == "voice")
                inst.notes.append(pretty_midi.Note(60 + 5 * j, pitch, 0.3 * j, 0.3 * j + 0.25))
            inst.pitch_bends.append(pretty_midi.PitchBend(1000 * (k + 1), 0.5))
            inst.control_changes.append(pretty_midi.ControlChange(64, 127, 0.1))
            pm.instruments.append(inst)
        pm.lyrics = [pretty_midi.Lyric(word, 0.3 * j) for j, word in enumerate(["la", "lo", "li"])]
        buf = io.BytesIO()
        pm.write(buf)
        seeds.append(bytes([k]) + buf.getvalue())
    return seeds


class Finding(Exception):
    """A bug: what went wrong on one input."""


class Target:
    def __init__(self, workdir: Path, slow: float, duration: float | None):
        from stemkit.data.corpus import render_song, song_source
        from stemkit.data.render.config import RenderConfig
        from stemkit.errors import StemkitError

        self.render_song, self.song_source, self.StemkitError = render_song, song_source, StemkitError
        self.config = RenderConfig.from_dict({"sample_rate": RATE, "duration": duration})
        self.folder = workdir / "midi"
        self.folder.mkdir()
        self.slow = slow
        self.runs = self.refused = self.rendered = 0

    def __call__(self, data: bytes) -> None:
        if len(data) < 2:
            return
        (self.folder / "song.mid").write_bytes(data[1:])
        self.runs += 1
        started = time.perf_counter()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                source = self.song_source("midi", str(self.folder))
                song = self.render_song(int(data[0]), self.config, source)
        except self.StemkitError:
            self.refused += 1
            return
        except Exception as exc:  # noqa: BLE001 - that is the point
            raise Finding(f"{exc.__class__.__name__}: {exc}") from exc
        elapsed = time.perf_counter() - started
        if elapsed > self.slow:
            raise Finding(f"slow: {elapsed:.1f} s")
        self.rendered += 1
        shapes = {a.shape for a in song.stems.values()} | {song.mixture.shape}
        if len(shapes) != 1 or next(iter(shapes))[0] != 2:
            raise Finding(f"stem shapes differ: {shapes}")
        if not all(np.isfinite(a).all() for a in song.stems.values()):
            raise Finding("NaN/Inf in rendered stems")


def save_finding(folder: Path, data: bytes, finding: Finding) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    case = folder / f"{hashlib.sha1(data).hexdigest()[:12]}.mid"
    case.write_bytes(data[1:])
    cause = finding.__cause__ or finding
    case.with_suffix(".mid.txt").write_text(
        f"seed {data[0]}: {finding}\n\n" + "".join(traceback.format_exception(type(cause), cause, cause.__traceback__)))
    return case


def run_mutate(target: Target, seconds: float, seed: int, findings: Path) -> int:
    """Random mutations of the seeds and of the inputs that rendered, for ``seconds``."""
    pool = seed_files()
    rng = np.random.default_rng(seed)
    deadline = time.monotonic() + seconds
    found = 0
    while time.monotonic() < deadline:
        data = mutate(pool[int(rng.integers(len(pool)))], rng)
        rendered = target.rendered
        try:
            target(data)
        except Finding as finding:
            found += 1
            print(f"FINDING {save_finding(findings, data, finding)}: {finding}", flush=True)
            continue
        if target.rendered > rendered and len(pool) < 200:
            pool.append(data)
    return found


def run_atheris(target: Target, seconds: float, findings: Path, corpus: Path) -> int:
    import atheris

    corpus.mkdir(parents=True, exist_ok=True)
    findings.mkdir(parents=True, exist_ok=True)  # libFuzzer's crash/slow-unit files go here too
    for k, data in enumerate(seed_files()):
        (corpus / f"seed{k}").write_bytes(data)
    found = {"n": 0}

    def one_input(data: bytes) -> None:
        try:
            target(data)
        except Finding as finding:
            found["n"] += 1
            print(f"FINDING {save_finding(findings, data, finding)}: {finding}", flush=True)

    atheris.Setup([sys.argv[0], f"-max_total_time={int(seconds)}", "-rss_limit_mb=4096", "-max_len=20000",
                   f"-artifact_prefix={findings}/", f"-report_slow_units={int(target.slow)}",
                   str(corpus)], one_input)
    try:
        atheris.Fuzz()
    except SystemExit:
        pass
    return found["n"]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--engine", choices=("auto", "atheris", "mutate"), default="auto")
    p.add_argument("--seconds", type=float, default=180.0, help="how long to fuzz (default 180)")
    p.add_argument("--seed", type=int, default=0, help="seed of the mutate engine")
    p.add_argument("--slow", type=float, default=20.0, help="seconds after which one input is a finding")
    p.add_argument("--whole", action="store_true", help="render whole files (duration None), not 2 s windows")
    p.add_argument("--findings", default="fuzz-findings/midi", help="where failing inputs are saved")
    p.add_argument("--corpus", default=None, help="atheris corpus folder (default: a temp folder)")
    args = p.parse_args(argv)
    import torch

    torch.set_num_threads(1)
    engine = args.engine
    if engine == "auto":
        try:
            import atheris  # noqa: F401
            engine = "atheris"
        except ImportError:
            engine = "mutate"
    if engine == "atheris":
        import atheris

        with atheris.instrument_imports(include=["stemkit", "pretty_midi", "mido"]):
            import mido  # noqa: F401
            import pretty_midi  # noqa: F401

            import stemkit.data.corpus  # noqa: F401
            import stemkit.data.songgen.crop  # noqa: F401
            import stemkit.data.songgen.midi_folder  # noqa: F401
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="stemkit-fuzz-midi-") as tmp:
        target = Target(Path(tmp), args.slow, None if args.whole else 2.0)
        slow, target.slow = target.slow, float("inf")  # first use loads libraries and soundfonts:
        target(seed_files()[0])  # warm up on a seed, so that cost is never blamed on an input
        target.slow = slow
        if engine == "atheris":
            found = run_atheris(target, args.seconds, Path(args.findings),
                                Path(args.corpus) if args.corpus else Path(tmp) / "corpus")
        else:
            found = run_mutate(target, args.seconds, args.seed, Path(args.findings))
    print(f"engine {engine}: {target.runs} inputs in {time.monotonic() - started:.0f} s: "
          f"{target.refused} refused with a StemkitError, {target.rendered} rendered, {found} findings")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
