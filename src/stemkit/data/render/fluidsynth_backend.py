"""FluidSynth backend: pyfluidsynth when importable, else the ``fluidsynth`` command line.

FluidSynth's built-in reverb and chorus are switched off: stems must be dry here so the mixing
stage (:mod:`stemkit.data.mixing`) owns every effect. FluidSynth renders in internal blocks of 64
samples, so with pyfluidsynth note onsets land on a 64-sample grid (<= 1.5 ms at 44.1 kHz); through
the ``fluidsynth`` program its MIDI player adds tick latency (onsets 1.5-3.5 ms late). The
TinySoundFont backend is sample exact.
"""

from __future__ import annotations

import ctypes
import os
import shutil
import subprocess
import tempfile
from functools import lru_cache
from pathlib import Path

import numpy as np

from ...errors import MissingToolError
from .events import CONTROL, NOTE_OFF, NOTE_ON, PITCH_BEND, EventList

_BLOCK = 64


def pyfluidsynth_available() -> bool:
    try:
        import fluidsynth  # noqa: F401  (pyfluidsynth; needs libfluidsynth)
    except (ImportError, OSError):
        return False
    return True


def fluidsynth_cli_available() -> bool:
    return shutil.which("fluidsynth") is not None


def fluidsynth_available() -> bool:
    """True when either pyfluidsynth or the ``fluidsynth`` program is usable."""
    return pyfluidsynth_available() or fluidsynth_cli_available()


@lru_cache(maxsize=2)
def _py_synth(soundfont: str, sample_rate: int):
    import fluidsynth

    synth = fluidsynth.Synth(gain=0.5, samplerate=float(sample_rate))
    synth.setting("synth.reverb.active", 0)
    synth.setting("synth.chorus.active", 0)
    sfid = synth.sfload(soundfont)
    write_float = fluidsynth.cfunc(
        "fluid_synth_write_float", ctypes.c_int,
        ("synth", ctypes.c_void_p, 1), ("len", ctypes.c_int, 1),
        ("lout", ctypes.c_void_p, 1), ("loff", ctypes.c_int, 1), ("lincr", ctypes.c_int, 1),
        ("rout", ctypes.c_void_p, 1), ("roff", ctypes.c_int, 1), ("rincr", ctypes.c_int, 1),
    )
    return synth, sfid, write_float


def _silence(synth, write_float) -> None:
    # system_reset() releases ringing voices (a drum track's cymbals) but they still decay for a
    # while: render that away so the next track starts from digital silence.
    synth.system_reset()
    scratch = np.zeros((2048, 2), dtype=np.float32)
    for _ in range(200):
        base = scratch.ctypes.data
        write_float(synth.synth, 2048, base, 0, 2, base, 1, 2)
        if not scratch.any():
            return


def _render_py(events: EventList, program: int, is_drum: bool, soundfont: str,
               sample_rate: int, n_samples: int) -> np.ndarray:
    synth, sfid, write_float = _py_synth(soundfont, sample_rate)
    chan = 9 if is_drum else 0
    _silence(synth, write_float)
    synth.program_select(chan, sfid, 128 if is_drum else 0, program if not is_drum else 0)
    out = np.zeros((n_samples, 2), dtype=np.float32)
    base = out.ctypes.data

    def fill(start: int, stop: int) -> None:
        if stop > start:  # interleaved buffer: left at offset 0, right at 1, stride 2
            write_float(synth.synth, stop - start, base + 8 * start, 0, 2, base + 8 * start, 1, 2)

    pos = 0
    for i in range(len(events.samples)):
        at = min(int(events.samples[i]), n_samples)
        fill(pos, at)
        pos = at
        if at >= n_samples:
            break
        kind, a, b = events.kinds[i], int(events.a[i]), int(events.b[i])
        if kind == NOTE_ON:
            synth.noteon(chan, a, b)
        elif kind == NOTE_OFF:
            synth.noteoff(chan, a)
        elif kind == PITCH_BEND:
            synth.pitch_bend(chan, a)
        elif kind == CONTROL:
            synth.cc(chan, a, b)
    fill(pos, n_samples)
    return np.ascontiguousarray(out.T)


def _render_cli(instrument, soundfont: str, sample_rate: int, n_samples: int) -> np.ndarray:
    import pretty_midi
    import soundfile as sf

    exe = shutil.which("fluidsynth")
    if exe is None:
        raise MissingToolError("FluidSynth is not installed (apt-get install fluidsynth, "
                               "or pip install pyfluidsynth)")
    with tempfile.TemporaryDirectory(prefix="stemkit-fs-") as tmp:
        pm = pretty_midi.PrettyMIDI(resolution=960, initial_tempo=120.0)
        pm.instruments.append(instrument)
        mid, wav = os.path.join(tmp, "t.mid"), os.path.join(tmp, "t.wav")
        pm.write(mid)
        cmd = [exe, "-ni", "-q", "-R", "0", "-C", "0", "-g", "0.5", "-r", str(sample_rate),
               "-T", "wav", "-O", "float", "-F", wav, soundfont, mid]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0 or not Path(wav).exists():
            raise MissingToolError(f"fluidsynth failed: {proc.stderr.strip()[:200]}")
        audio, _ = sf.read(wav, dtype="float32", always_2d=True)
    out = np.zeros((2, n_samples), dtype=np.float32)
    n = min(n_samples, len(audio))
    out[:, :n] = audio[:n, :2].T if audio.shape[1] >= 2 else audio[:n, 0]
    return out


def render_fluidsynth(events: EventList, instrument, *, soundfont: str | Path, sample_rate: int,
                      n_samples: int) -> np.ndarray:
    """Render one ``pretty_midi.Instrument`` to ``(2, n_samples)`` float32 with FluidSynth."""
    if pyfluidsynth_available():
        return _render_py(events, int(instrument.program), bool(instrument.is_drum),
                          str(soundfont), int(sample_rate), n_samples)
    return _render_cli(instrument, str(soundfont), int(sample_rate), n_samples)
