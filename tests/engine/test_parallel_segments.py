"""Segments separated on worker threads give exactly the stems of the serial engine."""

import threading

import numpy as np
import pytest
import torch

from stemkit import Separator
from stemkit.engine import overlap_add
from stemkit.engine.overlap_add import OverlapAdd, auto_workers, separate_tensor
from stemkit.errors import StemkitError
from stemkit.models.registry import load_model


def _exact_or_close(a, b):
    # Workers run at one intra-op thread; a serial run at one thread does the same arithmetic.
    atol = 0.0 if torch.get_num_threads() == 1 else 1e-5
    torch.testing.assert_close(torch.as_tensor(a), torch.as_tensor(b), rtol=0.0, atol=atol)


def _music_like(seconds, seed, sr=44100):
    g = torch.Generator().manual_seed(seed)
    n = int(seconds * sr)
    centre, side = torch.randn(n, generator=g), torch.randn(n, generator=g)
    t = torch.arange(n) / sr
    tone = 0.3 * torch.sin(2 * torch.pi * 110 * t) * (1 + torch.sin(2 * torch.pi * 2 * t))
    return 0.1 * torch.stack([centre + 0.5 * side + tone, centre - 0.2 * side + tone])


@pytest.fixture(scope="module")
def default_model():
    return load_model("default").eval()


@pytest.mark.parametrize("workers,shifts", [(2, 0), (3, 0), (2, 1)])
def test_parallel_equals_serial_on_the_shipped_default(default_model, workers, shifts):
    mix = _music_like(7.0, seed=workers)
    kw = dict(segment=2 * 44100, overlap=0.1, shifts=shifts, seed=3)
    serial = separate_tensor(default_model, mix, workers=1, **kw)
    parallel = separate_tensor(default_model, mix, workers=workers, **kw)
    assert serial.shape == (4, 2, mix.shape[-1])
    _exact_or_close(parallel, serial)


def test_separator_streams_the_same_stems_with_workers(default_model):
    # 48 kHz input: resampled in and out, fed in blocks, so emission happens between segments.
    audio = _music_like(9.0, seed=7, sr=48000).numpy()
    serial = Separator(default_model, workers=1, segment=2.5, progress=False).separate(audio, 48000)
    parallel = Separator(default_model, workers=2, segment=2.5, progress=False).separate(audio, 48000)
    assert list(parallel) == list(serial)
    for name in serial:
        assert parallel[name].shape == audio.shape
        _exact_or_close(parallel[name], serial[name])


class _Recorder(torch.nn.Module):
    """Wraps a model: records the thread of each forward and the most forwards running at once."""

    def __init__(self, model, delay_s=0.02):
        super().__init__()
        self.inner, self.delay_s = model, delay_s
        for name in ("sources", "sample_rate", "channels", "segment", "fixed_segment", "default_overlap"):
            setattr(self, name, getattr(model, name))
        self.lock, self.running, self.most, self.threads = threading.Lock(), 0, 0, set()

    def forward(self, x):
        with self.lock:
            self.running += 1
            self.most = max(self.most, self.running)
            self.threads.add(threading.current_thread().name)
        try:
            threading.Event().wait(self.delay_s)  # let the other worker start meanwhile
            return self.inner(x)
        finally:
            with self.lock:
                self.running -= 1


def test_work_runs_on_worker_threads_and_in_flight_is_bounded(default_model):
    rec = _Recorder(default_model)
    ola = OverlapAdd(rec, segment=44100, overlap=0.25, workers=2)
    mix = _music_like(6.0, seed=1)
    got = []
    for i in range(0, mix.shape[-1], 10000):  # streamed in small blocks
        got += list(ola.push(mix[:, i : i + 10000]))
        assert len(ola._inflight) <= 2  # never more batches than workers: memory stays flat
    got += list(ola.finish())
    assert torch.cat(got, dim=-1).shape == (4, 2, mix.shape[-1])
    assert rec.most == 2 and all(name.startswith("stemkit-segment") for name in rec.threads)


def test_a_failing_forward_surfaces_in_the_caller(default_model):
    class Broken(_Recorder):
        def forward(self, x):
            raise RuntimeError("boom in a worker")

    ola = OverlapAdd(Broken(default_model, 0.0), segment=44100, overlap=0.25, workers=2)
    with pytest.raises(RuntimeError, match="boom in a worker"):
        list(ola.push(_music_like(3.0, seed=2))) + list(ola.finish())


def test_auto_workers_follows_threads_device_and_environment(monkeypatch):
    monkeypatch.delenv(overlap_add.WORKERS_ENV, raising=False)
    expected = max(1, min(torch.get_num_threads(), overlap_add.os.cpu_count() or 1, overlap_add.MAX_AUTO_WORKERS))
    assert auto_workers("cpu") == expected
    assert auto_workers("cuda") == 1
    monkeypatch.setenv(overlap_add.WORKERS_ENV, "3")
    assert auto_workers("cpu") == 3
    monkeypatch.setenv(overlap_add.WORKERS_ENV, "0")
    assert auto_workers("cpu") == 1
    monkeypatch.setenv(overlap_add.WORKERS_ENV, "two")
    with pytest.raises(StemkitError, match=overlap_add.WORKERS_ENV):
        Separator("classical", progress=False)
    with pytest.raises(StemkitError, match="workers"):
        Separator("classical", workers=0, progress=False)


def test_workers_run_at_one_intra_op_thread():
    pool = overlap_add.segment_pool(2)
    assert pool.submit(torch.get_num_threads).result() == 1
    assert overlap_add.segment_pool(2) is pool  # one pool per process and size
