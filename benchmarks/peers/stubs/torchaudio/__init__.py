"""A stand-in for ``torchaudio`` so that ``openunmix`` imports without it (issue 8).

openunmix imports torchaudio at module level but its model classes never call it: the STFT the
peers use is ``torch.stft``, and reading, writing and resampling are stemkit's. torchaudio has no
CPU-only build here and would pull CUDA, so the benchmark environment gets this empty module,
put on ``sys.path`` only by :mod:`stemkit_peers`, never installed. Any attribute use fails loudly.
"""

STUB = True


def __getattr__(name: str):
    raise AttributeError(
        f"torchaudio.{name}: this is stemkit's benchmark stub (benchmarks/peers/stubs); "
        "the peer models must not call torchaudio"
    )
