"""Model registry: name -> architecture, family, and shipped weights.

Architectures register themselves with :func:`register`. Every module in ``stemkit.models``
(and its sub-packages) is imported on first use, so adding a model is adding a file.

A *model name* given by a user resolves, in order, to:

1. a folder or ``.safetensors`` file on disk (a trained or exported model, see :mod:`.weights`);
2. a folder of shipped weights ``stemkit/weights/<name>/`` (its sidecar names the architecture);
3. a registered architecture that needs no weights (classical, oracle).

Modules named in the environment variable ``STEMKIT_PLUGINS`` (comma-separated, importable from
``sys.path``) are imported after the built-in ones, so models defined outside the package can be
trained, saved and loaded by name like the built-in ones.

A neural architecture without weights is refused unless ``allow_untrained=True`` (speed
benchmarks and tests use random weights).
"""

from __future__ import annotations

import importlib
import os
import pkgutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import torch

from ..errors import ModelError
from .base import SeparationModel

WEIGHTS_DIR = Path(__file__).resolve().parent.parent / "weights"


@dataclass(frozen=True)
class Architecture:
    name: str
    cls: Callable[..., SeparationModel]
    family: str
    description: str
    defaults: dict = field(default_factory=dict)


_ARCHITECTURES: dict[str, Architecture] = {}
_discovered = False


def register(name: str, *, description: str = "", **defaults):
    """Class decorator: ``@register("spec_unet", description=...)``.

    ``defaults`` are constructor arguments used when the model is built by name.
    """

    def wrap(cls):
        if name in _ARCHITECTURES and _ARCHITECTURES[name].cls is not cls:
            raise ValueError(f"model name {name!r} registered twice")
        _ARCHITECTURES[name] = Architecture(
            name=name,
            cls=cls,
            family=getattr(cls, "family", "neural"),
            description=description or (cls.__doc__ or "").strip().splitlines()[0],
            defaults=dict(defaults),
        )
        return cls

    return wrap


#: Comma-separated module names imported after the built-in models: their ``@register``
#: decorators add architectures from outside the package (e.g. ``benchmarks/peers``).
PLUGINS_ENV = "STEMKIT_PLUGINS"
_plugins_loaded: set[str] = set()


def _discover() -> None:
    global _discovered
    if not _discovered:
        _discovered = True
        import stemkit.models as pkg

        for info in pkgutil.walk_packages(pkg.__path__, prefix="stemkit.models."):
            importlib.import_module(info.name)
    for module in (m.strip() for m in os.environ.get(PLUGINS_ENV, "").split(",")):
        if not module or module in _plugins_loaded:
            continue
        try:
            importlib.import_module(module)
        except Exception as exc:  # a user's plugin: any failure is one line, not a traceback
            raise ModelError(f"{PLUGINS_ENV}: cannot import model plugin {module!r} "
                             f"({exc.__class__.__name__}: {exc})") from None
        _plugins_loaded.add(module)


def architectures() -> dict[str, Architecture]:
    _discover()
    return dict(_ARCHITECTURES)


def get_architecture(name: str) -> Architecture:
    archs = architectures()
    if name not in archs:
        raise ModelError(f"unknown model architecture {name!r}; known: {', '.join(sorted(archs))}")
    return archs[name]


def build_model(name: str, **kwargs) -> SeparationModel:
    """Instantiate architecture ``name`` with its defaults updated by ``kwargs`` (random weights)."""
    arch = get_architecture(name)
    args = {**arch.defaults, **kwargs}
    try:
        model = arch.cls(**args)
    except (TypeError, ValueError) as exc:  # wrong names or values, e.g. from a hand-edited model.json
        raise ModelError(f"bad arguments for model {name!r}: {exc}") from None
    model.architecture = name
    model.init_args = args
    return model


def shipped_models() -> dict[str, Path]:
    """Names of weight folders that ship inside the package."""
    if not WEIGHTS_DIR.is_dir():
        return {}
    return {
        p.name: p
        for p in sorted(WEIGHTS_DIR.iterdir())
        if p.is_dir() and (p / "model.json").is_file() and (p / "model.safetensors").is_file()
    }


def load_model(name: str, *, allow_untrained: bool = False, **kwargs) -> SeparationModel:
    """Resolve a user-given model name or path to a ready model in eval mode."""
    from .weights import load_model_dir

    path = Path(name).expanduser()
    if path.exists() or name.endswith((".safetensors", ".json")) or "/" in name:
        return load_model_dir(path)
    shipped = shipped_models()
    if name in shipped:
        return load_model_dir(shipped[name])
    archs = architectures()
    if name in archs:
        arch = archs[name]
        if arch.family == "neural" and not allow_untrained:
            raise ModelError(
                f"model {name!r} has no shipped weights; train one with `stemkit train` "
                f"and pass its folder to -n"
            )
        return build_model(name, **kwargs).eval()
    known = sorted(set(shipped) | {a for a, v in archs.items() if v.family != "neural"})
    raise ModelError(f"unknown model {name!r}; available: {', '.join(known)}")


def model_table() -> list[dict]:
    """One row per name a user can pass to ``-n``: registry facts for ``stemkit models``."""
    from .weights import read_sidecar

    rows = []
    shipped = shipped_models()
    for name, folder in shipped.items():
        meta = read_sidecar(folder)
        rows.append(
            {
                "name": name,
                "family": "neural",
                "architecture": meta.get("model", "?"),
                "sources": meta.get("sources", []),
                "sample_rate": meta.get("sample_rate"),
                "parameters": meta.get("parameters"),
                "weights": True,
                "description": meta.get("description", ""),
            }
        )
    for name, arch in sorted(architectures().items()):
        if name in shipped:
            continue
        try:
            with torch.device("meta"):  # facts without allocating or initialising weights
                facts = build_model(name).describe()
        except Exception:  # an architecture that needs arguments to build
            facts = {"sources": [], "sample_rate": None, "parameters": None}
        rows.append(
            {
                "name": name,
                "family": arch.family,
                "architecture": name,
                "sources": facts["sources"],
                "sample_rate": facts["sample_rate"],
                "parameters": facts["parameters"],
                "weights": None if arch.family != "neural" else False,
                "description": arch.description,
            }
        )
    return rows
