"""Decoding through an ffmpeg subprocess, for containers libsndfile cannot open (m4a, .stem.mp4)."""

from __future__ import annotations

import json
import shutil
import subprocess
from typing import Iterator

import numpy as np

from ..errors import AudioReadError, MissingToolError


def require(tool: str, path: str) -> str:
    exe = shutil.which(tool)
    if exe is None:
        raise MissingToolError(
            f"reading this file needs {tool}, which is not installed (Debian/Ubuntu: apt install ffmpeg)",
            path=path,
        )
    return exe


def probe(path: str) -> list[dict]:
    """Audio streams of ``path``: ``[{"sample_rate", "channels", "duration"}]`` in order."""
    exe = require("ffprobe", path)
    cmd = [exe, "-v", "error", "-select_streams", "a", "-show_entries",
           "stream=sample_rate,channels,duration:format=duration", "-of", "json", path]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        msg = (proc.stderr.strip().splitlines() or ["unknown error"])[-1]
        raise AudioReadError(f"ffmpeg cannot read it ({msg})", path=path)
    info = json.loads(proc.stdout or "{}")
    fmt_duration = float(info.get("format", {}).get("duration", 0) or 0)
    streams = []
    for s in info.get("streams", []):
        duration = s.get("duration")
        streams.append(
            {
                "sample_rate": int(s.get("sample_rate", 0) or 0),
                "channels": int(s.get("channels", 0) or 0),
                "duration": float(duration) if duration not in (None, "N/A") else fmt_duration,
            }
        )
    if not streams:
        raise AudioReadError("no audio stream found", path=path)
    return streams


def decode_blocks(
    path: str, stream: int, channels: int, blocksize: int
) -> Iterator[np.ndarray]:
    """Yield float32 blocks ``(C, n)`` of audio stream ``stream`` at its own rate."""
    exe = require("ffmpeg", path)
    cmd = [exe, "-v", "error", "-nostdin", "-i", path, "-map", f"0:a:{stream}",
           "-f", "f32le", "-acodec", "pcm_f32le", "-"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    frame_bytes = 4 * channels
    try:
        while True:
            data = proc.stdout.read(blocksize * frame_bytes)
            if not data:
                break
            usable = len(data) - len(data) % frame_bytes
            yield np.frombuffer(data[:usable], dtype="<f4").reshape(-1, channels).T.copy()
        err = proc.stderr.read().decode(errors="replace").strip()
        if proc.wait() != 0:
            raise AudioReadError(f"ffmpeg failed to decode it ({(err.splitlines() or ['?'])[-1]})", path=path)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        proc.stdout.close()
        proc.stderr.close()
