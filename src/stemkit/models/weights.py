"""Model folders: ``model.safetensors`` + ``model.json`` sidecar. Loading never unpickles.

Sidecar keys: ``format`` (``stemkit-model/1``), ``model`` (architecture name), ``args``
(constructor arguments), ``sources``, ``sample_rate``, ``channels``, ``segment``,
``parameters``, ``dtype`` (the stored float type, when not float32), and free-form ``data``,
``training``, ``metrics``, ``description``.

Weights may be stored as float16 (``save_model_dir(..., dtype="float16")``) to halve the size of
shipped models; they are always loaded back as float32, so a model computes in float32 either way.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load_file, save_file

from ..errors import ModelError
from .base import SeparationModel

FORMAT = "stemkit-model/1"
WEIGHTS_FILE = "model.safetensors"
SIDECAR_FILE = "model.json"
PICKLE_SUFFIXES = (".pt", ".pth", ".ckpt", ".pkl", ".pickle", ".th", ".bin")
#: Float types a model folder may store its floating-point tensors in.
STORAGE_DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


def _resolve(path: Path) -> tuple[Path, Path]:
    """(weights file, sidecar file) for a folder, a .safetensors file or a .json sidecar."""
    path = Path(path)
    if path.suffix.lower() in PICKLE_SUFFIXES:
        raise ModelError(
            "refusing to load a pickle checkpoint (it could run arbitrary code); "
            "convert it with `stemkit export RUN DIR`",
            path=str(path),
        )
    if path.is_dir():
        return path / WEIGHTS_FILE, path / SIDECAR_FILE
    if path.suffix == ".json":
        return path.with_suffix(".safetensors"), path
    return path, path.with_suffix(".json")


def read_sidecar(path: str | Path) -> dict:
    _, sidecar = _resolve(Path(path))
    if not sidecar.is_file():
        raise ModelError("no model.json sidecar found", path=str(path))
    try:
        meta = json.loads(sidecar.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ModelError(f"unreadable sidecar ({exc.__class__.__name__})", path=str(sidecar)) from None
    if not isinstance(meta, dict) or not isinstance(meta.get("model"), str):
        raise ModelError("sidecar does not name a model architecture", path=str(sidecar))
    if not isinstance(meta.get("args", {}), dict):
        raise ModelError("sidecar 'args' must be a mapping of constructor arguments", path=str(sidecar))
    return meta


def load_model_dir(path: str | Path, *, device: str | torch.device = "cpu") -> SeparationModel:
    """Build the sidecar's architecture and fill it from the safetensors weights."""
    from .registry import build_model

    path = Path(path)
    if not path.exists():
        raise ModelError("no such model file or folder", path=str(path))
    weights, _ = _resolve(path)
    meta = read_sidecar(path)
    model = build_model(meta["model"], **meta.get("args", {}))
    if model.family == "neural" or weights.exists():
        if not weights.is_file():
            raise ModelError("missing model.safetensors", path=str(path))
        _check_not_pickle(weights)
        try:
            state = load_file(str(weights), device=str(device))
        except (SafetensorError, OSError, ValueError) as exc:
            raise ModelError(f"corrupt weights file ({exc})", path=str(weights)) from None
        # float16/bfloat16 storage (see save_model_dir) computes in float32 like any other model.
        state = {k: v.float() if v.is_floating_point() else v for k, v in state.items()}
        try:
            model.load_state_dict(state, strict=True)
        except RuntimeError as exc:
            first = str(exc).strip().splitlines()
            detail = " ".join(first[:2])[:300]
            raise ModelError(
                f"weights do not fit architecture {meta['model']!r}: {detail}", path=str(weights)
            ) from None
    model.sidecar = meta
    return model.to(device).eval()


def _check_not_pickle(weights: Path) -> None:
    """Refuse anything that is not a safetensors file before any decoder sees it.

    safetensors starts with an 8-byte little-endian header length followed by a JSON ``{``;
    ``torch.save`` writes a zip archive (``PK``) or a raw pickle (``0x80`` protocol byte).
    """
    with open(weights, "rb") as f:
        head = f.read(9)
    size = weights.stat().st_size
    header_len = int.from_bytes(head[:8], "little") if len(head) >= 8 else -1
    if len(head) == 9 and head[8:9] == b"{" and 0 < header_len <= size - 8:
        return
    if head[:2] == b"PK" or head[:1] == b"\x80":
        raise ModelError(
            "refusing to load a pickle/zip checkpoint disguised as safetensors", path=str(weights)
        )
    raise ModelError("corrupt weights file (not a safetensors file)", path=str(weights))


def save_model_dir(
    model: SeparationModel,
    directory: str | Path,
    *,
    data: dict | None = None,
    training: dict | None = None,
    metrics: dict | None = None,
    description: str = "",
    dtype: str = "float32",
) -> Path:
    """Write ``directory/model.safetensors`` and ``model.json`` atomically.

    ``dtype``: ``float32`` (default), ``float16`` or ``bfloat16`` storage of the floating-point
    tensors (integer buffers are kept as they are); recorded in the sidecar as ``dtype``.
    """
    if dtype not in STORAGE_DTYPES:
        raise ModelError(f"weights dtype must be one of {', '.join(STORAGE_DTYPES)}, got {dtype!r}")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    meta = {
        "format": FORMAT,
        "model": getattr(model, "architecture", type(model).__name__),
        "args": getattr(model, "init_args", {}),
        **{k: v for k, v in model.describe().items() if k != "family"},
        "description": description,
        **({"dtype": dtype} if dtype != "float32" else {}),
        "data": data or {},
        "training": training or {},
        "metrics": metrics or {},
    }
    store = STORAGE_DTYPES[dtype]
    state = {
        k: (v.detach().cpu().to(store) if v.is_floating_point() else v.detach().cpu()).contiguous()
        for k, v in model.state_dict().items()
    }
    _atomic(directory / WEIGHTS_FILE, lambda tmp: save_file(state, tmp))
    _atomic(
        directory / SIDECAR_FILE,
        lambda tmp: Path(tmp).write_text(json.dumps(meta, indent=2, default=str) + "\n"),
    )
    return directory


def _atomic(target: Path, write) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        write(tmp)
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)  # mkstemp creates 0600; model files are ordinary files
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
