"""Fuzz stemkit's audio input path with mutated WAV / FLAC / MP3 / OGG bytes.

Each input is written to a file with the extension its first byte selects, then read with
``stemkit.audio.read_audio`` and separated with ``Separator.separate_file`` (a tiny registered model,
so the whole pipeline runs: headers, block reads, NaN checks, channel adaptation, resampling, overlap-add).
A :class:`stemkit.errors.StemkitError` is the expected outcome for bad bytes; any other exception, a
non-finite stem, a stem of the wrong shape or an input that takes longer than ``--slow`` seconds is a
finding, saved under ``--findings`` with its traceback.

Engines: ``atheris`` (coverage-guided libFuzzer on stemkit's Python code; ``pip install atheris``) or
``hypothesis`` (always available: random byte mutations of the seed files: bit flips, byte runs,
truncation, splices, and header fields overwritten with extreme integers).

    python benchmarks/fuzz_audio.py --seconds 300                      # atheris when installed
    python benchmarks/fuzz_audio.py --engine hypothesis --seconds 300 --seed 1
"""

from __future__ import annotations

import argparse
import hashlib
import io
import struct
import sys
import tempfile
import time
import traceback
import warnings
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

EXTENSIONS = (".wav", ".flac", ".mp3", ".ogg")
FUZZ_MODEL = "fuzz_smooth"
Separator = read_audio = StemkitError = None  # bound by load_stemkit()


def load_stemkit(instrument: bool = False) -> None:
    """Import stemkit (under atheris' coverage instrumentation when fuzzing with it) and register
    the fuzzing model: ``(B, C, T) -> (B, 2, C, T)``, a 3-tap smoother and the rest, cheap and exact."""
    global Separator, read_audio, StemkitError
    if instrument:
        import atheris

        with atheris.instrument_imports(include=["stemkit"]):
            import stemkit.audio  # noqa: F401
            import stemkit.engine  # noqa: F401
            import stemkit.separator  # noqa: F401
    from stemkit import Separator
    from stemkit.audio import read_audio
    from stemkit.errors import StemkitError
    from stemkit.models.base import SeparationModel
    from stemkit.models.registry import architectures, register

    class FuzzSmooth(SeparationModel):
        family = "classical"

        def __init__(self):
            super().__init__(sources=("low", "high"), sample_rate=8000, channels=2, segment=4000)

        def forward(self, mix: torch.Tensor) -> torch.Tensor:
            b, c, t = mix.shape
            kernel = torch.full((1, 1, 3), 1 / 3)
            low = torch.nn.functional.conv1d(mix.reshape(b * c, 1, t), kernel, padding=1).reshape(b, c, t)
            return torch.stack([low, mix - low], dim=1)

    if FUZZ_MODEL not in architectures():
        register(FUZZ_MODEL, description="fuzzing: 3-tap smoother")(FuzzSmooth)


def seed_files() -> list[bytes]:
    """Small valid files of each format (1 byte prefix = the extension index the target will use)."""
    rng = np.random.default_rng(0)
    audio = (0.3 * rng.standard_normal((1500, 2))).astype(np.float32)
    seeds = []
    for k, (fmt, subtype) in enumerate([("WAV", "PCM_16"), ("WAV", "FLOAT"), ("WAV", "PCM_24"),
                                        ("FLAC", "PCM_16"), ("MP3", "MPEG_LAYER_III"), ("OGG", "VORBIS")]):
        buf = io.BytesIO()
        rate = 8000 if fmt != "MP3" else 16000
        sf.write(buf, audio, rate, format=fmt, subtype=subtype)
        ext = {"WAV": 0, "FLAC": 1, "MP3": 2, "OGG": 3}[fmt]
        seeds.append(bytes([ext]) + buf.getvalue())
    return seeds


class Finding(Exception):
    """A bug: what went wrong on one input."""


class Target:
    """Runs one input through the audio path; raises :class:`Finding` on anything but a clean result."""

    def __init__(self, workdir: Path, slow: float):
        self.workdir, self.slow = workdir, slow
        self.separator = Separator(FUZZ_MODEL, progress=False)
        self.runs = self.refused = self.accepted = 0

    def __call__(self, data: bytes) -> None:
        if not data:
            return
        path = self.workdir / f"input{EXTENSIONS[data[0] % len(EXTENSIONS)]}"
        path.write_bytes(data[1:])
        self.runs += 1
        started = time.perf_counter()
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                audio, rate = read_audio(path)
                stems = self.separator.separate_file(path)
        except StemkitError:
            self.refused += 1
            return
        except Exception as exc:  # noqa: BLE001 - that is the point
            raise Finding(f"{exc.__class__.__name__}: {exc}") from exc
        finally:
            elapsed = time.perf_counter() - started
        if elapsed > self.slow:
            raise Finding(f"slow: {elapsed:.1f} s for {len(data)} bytes")
        self.accepted += 1
        want = (1 if audio.shape[0] == 1 else 2, audio.shape[1])
        for name, stem in stems.items():
            if stem.shape != want:
                raise Finding(f"stem {name} shaped {stem.shape}, input {audio.shape}")
            if not np.isfinite(stem).all():
                raise Finding(f"stem {name} has NaN/Inf from finite input")


def save_finding(folder: Path, data: bytes, finding: Finding) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha1(data).hexdigest()[:12]
    case = folder / f"{digest}{EXTENSIONS[data[0] % len(EXTENSIONS)]}"
    case.write_bytes(data[1:])
    cause = finding.__cause__ or finding
    case.with_suffix(case.suffix + ".txt").write_text(
        f"{finding}\n\n" + "".join(traceback.format_exception(type(cause), cause, cause.__traceback__)))
    return case


# -- hypothesis engine ----------------------------------------------------------------------------------

def mutate(data: bytes, rng: np.random.Generator) -> bytes:
    """One to four random mutations of ``data`` (the first byte, the format choice, is kept mostly)."""
    buf = bytearray(data)
    for _ in range(int(rng.integers(1, 5))):
        kind = int(rng.integers(7))
        n = len(buf)
        if n < 2:
            break
        i = int(rng.integers(1, n))
        if kind == 0:  # bit flip
            buf[i] ^= 1 << int(rng.integers(8))
        elif kind == 1:  # random byte run
            k = int(rng.integers(1, 64))
            buf[i:i + k] = rng.bytes(min(k, n - i))
        elif kind == 2:  # truncate
            del buf[i:]
        elif kind == 3:  # header field: an extreme 16/32-bit integer early in the file
            j = int(rng.integers(1, min(n, 80)))
            value = int(rng.choice([0, 1, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF, 0x80000000, 192001, 7999]))
            width = int(rng.choice([2, 4]))
            buf[j:j + width] = struct.pack("<I", value)[:width] if width == 4 else struct.pack("<H", value & 0xFFFF)
        elif kind == 4:  # duplicate a chunk (splice)
            a, b = sorted(int(x) for x in rng.integers(1, n, size=2))
            buf[i:i] = buf[a:b][:4096]
        elif kind == 5:  # delete a chunk
            k = int(rng.integers(1, 256))
            del buf[i:i + k]
        else:  # another extension for the same bytes
            buf[0] = int(rng.integers(len(EXTENSIONS)))
    return bytes(buf)


def run_hypothesis(target: Target, seconds: float, seed: int, findings: Path) -> int:
    """Random mutations of the seeds (and of inputs that were accepted), for ``seconds``."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    pool = seed_files()
    deadline = time.monotonic() + seconds
    found = 0

    @settings(max_examples=10**9, deadline=None, database=None, derandomize=False,
              suppress_health_check=list(HealthCheck), phases=["generate"])
    @given(pick=st.integers(0, 10**6), mutation_seed=st.integers(0, 2**32 - 1))
    def one(pick, mutation_seed):
        nonlocal found
        if time.monotonic() > deadline:
            raise _TimeUp
        data = mutate(pool[pick % len(pool)], np.random.default_rng([seed, mutation_seed]))
        accepted = target.accepted
        try:
            target(data)
        except Finding as finding:
            found += 1
            print(f"FINDING {save_finding(findings, data, finding)}: {finding}", flush=True)
            return
        if target.accepted > accepted and len(pool) < 200:
            pool.append(data)  # mutate what still decodes: deeper into the format

    try:
        one()
    except _TimeUp:
        pass
    return found


class _TimeUp(Exception):
    pass


# -- atheris engine ---------------------------------------------------------------------------------------

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

    atheris.Setup([sys.argv[0], f"-max_total_time={int(seconds)}", "-rss_limit_mb=4096", "-max_len=200000",
                   f"-artifact_prefix={findings}/", f"-report_slow_units={int(target.slow)}", str(corpus)],
                  one_input)
    try:
        atheris.Fuzz()
    except SystemExit:
        pass
    return found["n"]


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--engine", choices=("auto", "atheris", "hypothesis"), default="auto")
    p.add_argument("--seconds", type=float, default=180.0, help="how long to fuzz (default 180)")
    p.add_argument("--seed", type=int, default=0, help="seed of the hypothesis engine's mutations")
    p.add_argument("--slow", type=float, default=10.0, help="seconds after which one input is a finding")
    p.add_argument("--findings", default="fuzz-findings/audio", help="where failing inputs are saved")
    p.add_argument("--corpus", default=None, help="atheris corpus folder (default: a temp folder)")
    args = p.parse_args(argv)
    torch.set_num_threads(1)
    engine = args.engine
    if engine == "auto":
        try:
            import atheris  # noqa: F401
            engine = "atheris"
        except ImportError:
            engine = "hypothesis"
    load_stemkit(instrument=engine == "atheris")
    started = time.monotonic()
    with tempfile.TemporaryDirectory(prefix="stemkit-fuzz-") as tmp:
        target = Target(Path(tmp), args.slow)
        slow, target.slow = target.slow, float("inf")  # first use loads libraries and soundfonts:
        target(seed_files()[0])  # warm up on a seed, so that cost is never blamed on an input
        target.slow = slow
        if engine == "atheris":
            found = run_atheris(target, args.seconds, Path(args.findings),
                                Path(args.corpus) if args.corpus else Path(tmp) / "corpus")
        else:
            found = run_hypothesis(target, args.seconds, args.seed, Path(args.findings))
    print(f"engine {engine}: {target.runs} inputs in {time.monotonic() - started:.0f} s: "
          f"{target.refused} refused with a StemkitError, {target.accepted} separated, {found} findings")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
