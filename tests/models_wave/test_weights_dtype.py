"""save_model_dir(dtype="float16"): half the bytes on disk, float32 again once loaded."""

from __future__ import annotations

import json

import pytest
import torch
from safetensors.torch import load_file

from stemkit.errors import ModelError
from stemkit.models.registry import build_model, load_model
from stemkit.models.weights import save_model_dir


def test_float16_storage_halves_the_file_and_loads_back_as_float32(tmp_path):
    torch.manual_seed(0)
    model = build_model("conv_baseline", kernel_size=9, hidden=6).eval()
    save_model_dir(model, tmp_path / "f32")
    save_model_dir(model, tmp_path / "f16", dtype="float16")
    f32 = (tmp_path / "f32" / "model.safetensors").stat().st_size
    f16 = (tmp_path / "f16" / "model.safetensors").stat().st_size
    assert f16 < 0.6 * f32
    stored = load_file(str(tmp_path / "f16" / "model.safetensors"))
    assert {t.dtype for t in stored.values()} == {torch.float16}
    meta = json.loads((tmp_path / "f16" / "model.json").read_text())
    assert meta["dtype"] == "float16" and "dtype" not in json.loads((tmp_path / "f32" / "model.json").read_text())

    loaded = load_model(str(tmp_path / "f16"))
    assert all(p.dtype == torch.float32 for p in loaded.parameters())
    for name, p in loaded.state_dict().items():  # each weight is its float16 rounding
        torch.testing.assert_close(p, model.state_dict()[name].half().float(), rtol=0, atol=0)
    x = torch.randn(1, 1, 500)
    with torch.no_grad():
        ref, out = model(x), loaded(x)
    assert not torch.equal(ref, out)  # really rounded ...
    torch.testing.assert_close(out, ref, rtol=1e-2, atol=1e-3)  # ... and still the same model


def test_integer_buffers_are_kept_and_unknown_dtypes_refused(tmp_path):
    model = build_model("spec_unet", base_channels=2, depth=2)  # batch norm: int64 num_batches_tracked
    save_model_dir(model, tmp_path / "m", dtype="float16")
    stored = load_file(str(tmp_path / "m" / "model.safetensors"))
    assert any(t.dtype == torch.int64 for t in stored.values())
    load_model(str(tmp_path / "m"))
    with pytest.raises(ModelError, match="dtype"):
        save_model_dir(model, tmp_path / "bad", dtype="int8")
