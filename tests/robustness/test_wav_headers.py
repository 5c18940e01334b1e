"""Hand-made WAV headers with hostile fields: zero or 65535 channels, zero, tiny or 4 GHz rates,
odd bit depths, unknown codecs, a data size of 4 GiB, a zero block align, values beyond float32."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from conftest import partial_files

MODEL = "robust_smooth"


def wav(channels=2, rate=8000, bits=16, codec=1, data=b"\x01\x00" * 400, data_size=None, block=None) -> bytes:
    """A RIFF/WAVE file with the given ``fmt `` fields, each taken as is (no consistency fixing)."""
    block = channels * bits // 8 if block is None else block
    fmt = struct.pack("<HHIIHH", codec, channels, rate, (rate * block) & 0xFFFFFFFF, block & 0xFFFF, bits)
    size = len(data) if data_size is None else data_size
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", size) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


REFUSED = {
    "no_channels": (wav(channels=0), "Channel count is zero"),
    "65535_channels": (wav(channels=65535, data=bytes(4000)), "Too many channels"),
    "rate_zero": (wav(rate=0), "invalid header"),
    "rate_4ghz": (wav(rate=0xFFFFFFFF), "invalid header"),
    "rate_1hz": (wav(rate=1), "sample rate 1 Hz is outside"),
    "zero_bits": (wav(bits=0), "decode"),
    "unknown_codec": (wav(codec=0x1234), "decode"),
    "float_codec_16_bits": (wav(codec=3), "decode"),
    "float64_beyond_float32": (wav(codec=3, bits=64, data=np.full(400, 1e300).tobytes()), "NaN or Inf"),
}

ACCEPTED = {
    "data_size_4gib": (wav(data_size=0xFFFFFFFF), 200),  # streaming writers leave it so: read to EOF
    "zero_block_align": (wav(block=0), 200),
    "seven_bits": (wav(bits=7), 400),
    "mu_law": (wav(codec=7, bits=8), 400),
    "denormals": (wav(codec=3, bits=32, data=np.full(400, 1e-42, np.float32).tobytes()), 200),
}


@pytest.mark.parametrize("case", sorted(REFUSED))
def test_hostile_header_is_refused_in_one_line(cli, tmp_path, case):
    data, message = REFUSED[case]
    path = tmp_path / f"{case}.wav"
    path.write_bytes(data)
    out = tmp_path / "out"
    code, _, err = cli("separate", path, "-n", MODEL, "-o", out, "-q")
    assert code == 1 and f"{case}.wav: " in err and message in err, err
    assert err.count(str(path)) == 1 and len(err.strip().splitlines()) == 1  # one line; the path once
    assert not (out / MODEL / case).exists() and not partial_files(out)


@pytest.mark.parametrize("case", sorted(ACCEPTED))
def test_odd_but_decodable_header_is_separated(cli, tmp_path, case):
    import soundfile as sf

    data, frames = ACCEPTED[case]
    path = tmp_path / f"{case}.wav"
    path.write_bytes(data)
    out = tmp_path / "out"
    code, _, err = cli("separate", path, "-n", MODEL, "-o", out, "-q", "--float32")
    assert code == 0, err
    mix = sf.read(path, dtype="float32", always_2d=True)[0].T
    low = sf.read(out / MODEL / case / "low.wav", dtype="float32", always_2d=True)[0].T
    high = sf.read(out / MODEL / case / "high.wav", dtype="float32", always_2d=True)[0].T
    assert low.shape == (2, frames) and mix.shape == (2, frames)
    np.testing.assert_allclose(low + high, mix, atol=1e-6)
