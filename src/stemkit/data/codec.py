"""Lossy-codec round trips of stems: MP3 or AAC encode then decode with ffmpeg.

Real training and test audio has often been through a perceptual codec (MUSDB18 itself stores each
stem as 256 kbit/s AAC): band limits near 16 kHz, pre-echo, quantisation noise that follows the
signal. :func:`codec_round_trips` gives rendered stems the same artefacts. Each stem is encoded on
its own (as MUSDB18's were), and the caller sums the decoded stems into the mixture, so the
mixture stays exactly the sum of the stems.

ffmpeg's ``libmp3lame`` writes the encoder delay into the LAME header and the ``aac`` encoder its
priming into the MP4 edit list, and its decoders remove both, so decoded audio is sample-aligned
with the input (tested); the decoded length is cut or zero-padded to the input's.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from ..errors import ConfigError, MissingToolError

ENCODERS = {"mp3": ("libmp3lame", ".mp3"), "aac": ("aac", ".m4a")}


@dataclass(frozen=True)
class CodecConfig:
    """``probability``: chance that a song's stems go through a codec; ``formats``: drawn from
    uniformly; ``bitrate_kbps``: (low, high) kbit/s, drawn uniformly then rounded to 8 kbit/s;
    ``per_stem``: draw format and bitrate for each stem (default: one per song, like a release)."""

    probability: float = 1.0
    formats: tuple = ("mp3", "aac")
    bitrate_kbps: tuple = (96, 256)
    per_stem: bool = False

    @classmethod
    def from_dict(cls, data: dict | None) -> "CodecConfig":
        data = dict(data or {})
        unknown = sorted(set(data) - set(cls.__dataclass_fields__))
        if unknown:
            raise ConfigError(f"unknown codec key(s): {', '.join(unknown)}")
        for key in ("formats", "bitrate_kbps"):
            if key in data:
                data[key] = tuple(data[key])
        cfg = cls(**data)
        cfg.validate()
        return cfg

    def validate(self) -> None:
        if not 0.0 <= self.probability <= 1.0:
            raise ConfigError("codec.probability must be within [0, 1]")
        bad = [f for f in self.formats if f not in ENCODERS]
        if not self.formats or bad:
            raise ConfigError(f"codec.formats must be a non-empty list of {', '.join(ENCODERS)}")
        if len(self.bitrate_kbps) != 2 or not 32 <= self.bitrate_kbps[0] <= self.bitrate_kbps[1] <= 320:
            raise ConfigError("codec.bitrate_kbps must be [low, high] within 32-320")

    def to_dict(self) -> dict:
        return asdict(self)


def _ffmpeg() -> str:
    exe = shutil.which("ffmpeg")
    if exe is None:
        raise MissingToolError("codec round trips need ffmpeg (Debian/Ubuntu: apt install ffmpeg)")
    return exe


def round_trip(x: np.ndarray, sample_rate: int, fmt: str, kbps: int) -> np.ndarray:
    """``x`` ``(C, T)`` float32 through ``fmt`` (mp3|aac) at ``kbps`` and back: ``(C, T)`` float32."""
    if fmt not in ENCODERS:
        raise ConfigError(f"unknown codec {fmt!r} (choose from {', '.join(ENCODERS)})")
    exe = _ffmpeg()
    codec, suffix = ENCODERS[fmt]
    channels, length = x.shape
    pcm = np.ascontiguousarray(np.asarray(x, np.float32).T).tobytes()
    with tempfile.TemporaryDirectory(prefix="stemkit_codec_") as tmp:
        coded = Path(tmp) / f"stem{suffix}"
        enc = subprocess.run([exe, "-v", "error", "-nostdin", "-f", "f32le", "-ar", str(sample_rate),
                              "-ac", str(channels), "-i", "pipe:0", "-c:a", codec, "-b:a", f"{int(kbps)}k",
                              str(coded)], input=pcm, capture_output=True)
        if enc.returncode != 0:
            raise MissingToolError(f"ffmpeg could not encode {fmt}: {enc.stderr.decode(errors='replace').strip()[-200:]}")
        dec = subprocess.run([exe, "-v", "error", "-nostdin", "-i", str(coded), "-f", "f32le", "-ac", str(channels),
                              "-ar", str(sample_rate), "pipe:1"], capture_output=True)
        if dec.returncode != 0:
            raise MissingToolError(f"ffmpeg could not decode {fmt}: {dec.stderr.decode(errors='replace').strip()[-200:]}")
    y = np.frombuffer(dec.stdout, np.float32).reshape(-1, channels).T[:, :length]
    return np.ascontiguousarray(np.pad(y, ((0, 0), (0, length - y.shape[1]))))


def _draw(rng: np.random.Generator, cfg: CodecConfig) -> tuple[str, int]:
    fmt = cfg.formats[int(rng.integers(len(cfg.formats)))]
    kbps = int(8 * round(rng.uniform(*cfg.bitrate_kbps) / 8))
    return fmt, kbps


def codec_round_trips(stems: dict[str, np.ndarray], sample_rate: int, cfg: CodecConfig,
                      rng: np.random.Generator) -> tuple[dict[str, np.ndarray], dict | None]:
    """Each stem ``(C, T)`` through a codec (with ``cfg.probability`` per song); returns the new
    stems (same keys and order; silent stems unchanged) and what was drawn (None: no codec)."""
    if rng.random() >= cfg.probability:
        return stems, None
    song = _draw(rng, cfg)
    out, drawn = {}, {}
    for name, x in stems.items():
        fmt, kbps = _draw(rng, cfg) if cfg.per_stem else song
        out[name] = round_trip(x, sample_rate, fmt, kbps) if np.any(x) else x
        drawn[name] = {"format": fmt, "bitrate_kbps": kbps}
    return out, {"stems": drawn}
