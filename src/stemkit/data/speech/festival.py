"""Festival (``festival`` + ``festvox-kallpc16k``) as a batch speech synthesizer: text -> waveform
at a given flat pitch and duration stretch. One festival process renders a whole batch."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from ...errors import MissingToolError

VOICE = "kal_diphone"
VOICE_DIRS = ("/usr/share/festival/voices/english/kal_diphone",)
SAMPLE_RATE = 16000  # the kal diphones are recorded at 16 kHz
F0_RANGE = (50.0, 480.0)  # Hz: festival 2.5's kal voice segfaults from about 520 Hz (C5) up


@dataclass(frozen=True)
class Utterance:
    """``text`` spoken at a flat ``f0`` (Hz), each phone ``stretch`` times its natural length."""

    text: str
    f0: float
    stretch: float = 1.0


def festival_available() -> bool:
    """True when the ``festival`` program and the kal diphone voice are installed."""
    return shutil.which("festival") is not None and any(Path(d).is_dir() for d in VOICE_DIRS)


def _require() -> str:
    program = shutil.which("festival")
    if program is None or not any(Path(d).is_dir() for d in VOICE_DIRS):
        raise MissingToolError("the speech voice needs festival and its kal voice: "
                               "apt-get install festival festvox-kallpc16k")
    return program


def clean_text(text: str) -> str:
    """Letters, apostrophes and spaces only (festival's Scheme string stays well formed)."""
    text = " ".join(re.sub(r"[^a-z']+", " ", text.lower()).split())
    return text or "ah"


def _script(items: list[Utterance], folder: Path) -> str:
    lines = [f"(voice_{VOICE})", "(Parameter.set 'Int_Method 'DuffInt)",
             "(Parameter.set 'Int_Target_Method Int_Targets_Default)"]
    for i, u in enumerate(items):
        f0 = float(np.clip(u.f0, *F0_RANGE))
        lines += [f"(set! duffint_params '((start {f0:.2f}) (end {f0:.2f})))",
                  f"(Parameter.set 'Duration_Stretch {max(0.2, float(u.stretch)):.3f})",
                  f'(utt.save.wave (SynthText "{clean_text(u.text)}") "{folder / f"{i}.wav"}" \'riff)']
    return "\n".join(lines) + "\n"


BATCH = 24  # utterances per festival process: long batches can crash festival (SIGSEGV)


def _run_batch(program: str, items: list[Utterance], timeout: float) -> list[np.ndarray | None]:
    import soundfile as sf

    with tempfile.TemporaryDirectory(prefix="stemkit_festival_") as tmp:
        folder = Path(tmp)
        script = folder / "batch.scm"
        script.write_text(_script(items, folder))
        subprocess.run([program, "-b", str(script)], capture_output=True, text=True, timeout=timeout)
        out: list[np.ndarray | None] = []
        for i in range(len(items)):
            path = folder / f"{i}.wav"
            # a crash mid-batch leaves the later files missing (or the one being written short)
            out.append(sf.read(path, dtype="float32", always_2d=True)[0][:, 0] if path.is_file() else None)
    return out


FALLBACK_TEXT = "ah"  # spoken instead of an utterance that crashes festival (e.g. "foh" at 220 Hz)


def synthesize(items: list[Utterance], timeout: float = 120.0) -> list[np.ndarray]:
    """Each utterance as mono float32 at :data:`SAMPLE_RATE`.

    Batches of :data:`BATCH` per festival process. Festival 2.5 segfaults on a few diphone
    sequences at some pitches: the first utterance missing after a crash is that one; it is
    spoken as :data:`FALLBACK_TEXT` instead and the rest of its batch goes to a fresh process.
    """
    program = _require()
    # notes above the voice's range are spoken whole octaves lower, then shifted up (formants too)
    octaves = [max(0, int(np.ceil(np.log2(u.f0 / F0_RANGE[1])))) for u in items]
    items = [Utterance(u.text, u.f0 / 2 ** k, u.stretch) for u, k in zip(items, octaves)]
    out = _synthesize_in_range(program, items, timeout)
    if any(octaves):
        import librosa

        out = [x if k == 0 else librosa.effects.pitch_shift(x, sr=SAMPLE_RATE, n_steps=12 * k).astype(np.float32)
               for x, k in zip(out, octaves)]
    return out


def _synthesize_in_range(program: str, items: list[Utterance], timeout: float) -> list[np.ndarray]:
    out: list[np.ndarray | None] = [None] * len(items)
    todo = list(range(len(items)))
    while todo:
        batch, todo = todo[:BATCH], todo[BATCH:]
        result = _run_batch(program, [items[i] for i in batch], timeout)
        missing = [i for i, x in zip(batch, result) if x is None]
        for i, x in zip(batch, result):
            out[i] = x
        if missing:
            culprit = missing[0]
            u = items[culprit]
            sub = _run_batch(program, [Utterance(FALLBACK_TEXT, u.f0, u.stretch)], timeout)[0]
            if sub is None:
                raise MissingToolError(f"festival produced no audio for {u.text!r} (nor for {FALLBACK_TEXT!r})")
            out[culprit] = sub
            todo = missing[1:] + todo
    return out  # type: ignore[return-value]
