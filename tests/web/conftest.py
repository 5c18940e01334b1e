"""Web test fixtures: one server per test session (Gradio's upload folder is process-wide)."""

from __future__ import annotations

import socket
import time

import numpy as np
import pytest
import soundfile as sf
import torch

from stemkit.models.base import SOURCES_4, SeparationModel
from stemkit.models.registry import architectures, register

TEST_MODEL = "web_test_bands"


@register(TEST_MODEL, description="Test-only band splitter: bass < 200 Hz < vocals < 3 kHz < drums, rest other")
class BandSplitter(SeparationModel):
    """Stems are frequency bands of the mixture, ``(B, C, T) -> (B, 4, C, T)``; they sum to the input."""

    family = "classical"

    def __init__(self):
        super().__init__(sources=SOURCES_4, sample_rate=44100, channels=2, segment=44100)

    def forward(self, mix: torch.Tensor) -> torch.Tensor:
        spec = torch.fft.rfft(mix, dim=-1)
        freqs = torch.fft.rfftfreq(mix.shape[-1], 1 / self.sample_rate)
        bass = freqs < 200
        vocals = (freqs >= 300) & (freqs < 3000)
        drums = freqs >= 3000
        other = ~(bass | vocals | drums)
        masks = torch.stack([drums, bass, other, vocals]).to(spec.dtype)  # (S, F)
        stems = torch.fft.irfft(spec[:, None] * masks[None, :, None], n=mix.shape[-1], dim=-1)
        return stems


SLOW_MODEL = "web_test_slow_bands"


@register(SLOW_MODEL, description="Test-only band splitter that takes 0.25 s per second of audio")
class SlowBandSplitter(BandSplitter):
    """The band splitter, slowed so that a poll every 20 ms sees each block's progress report."""

    def forward(self, mix: torch.Tensor) -> torch.Tensor:
        time.sleep(0.25)
        return super().forward(mix)


def classical_model() -> str:
    """The classical separator when it is registered, else the test band splitter (both need no weights)."""
    return "classical" if "classical" in architectures() else TEST_MODEL


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_song(path, seconds=1.5, sr=44100, channels=2, seed=0):
    """A short deterministic song-like signal: bass, a tone, noise bursts."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * sr)) / sr
    bass = 0.3 * np.sin(2 * np.pi * 82.4 * t)
    tone = 0.2 * np.sin(2 * np.pi * 440 * t) * (1 + 0.3 * np.sin(2 * np.pi * 5 * t))
    hats = 0.1 * rng.standard_normal(t.size) * (np.sin(2 * np.pi * 4 * t) > 0.9)
    mono = bass + tone + hats
    audio = np.stack([mono * g for g in np.linspace(0.8, 1.0, channels)], axis=1).astype(np.float32)
    sf.write(path, audio, sr, subtype="PCM_16" if str(path).endswith(".wav") else None)
    return path


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    """A running page on a free localhost port: small upload limit, 4 jobs at a time.

    Its default model is the cheap test band splitter; every servable model (classical included)
    is offered too.
    """
    from stemkit.web import ServeConfig, WebServer

    web = WebServer(ServeConfig(port=free_port(), model=TEST_MODEL, max_upload_mb=2.0, concurrency=4,
                                ttl_minutes=30, temp_dir=str(tmp_path_factory.mktemp("serve")), quiet=True))
    web.start()
    yield web
    web.close()


@pytest.fixture(scope="session")
def client(server):
    from gradio_client import Client

    return Client(server.url, verbose=False, download_files=str(server.root.path.parent / "client"))
