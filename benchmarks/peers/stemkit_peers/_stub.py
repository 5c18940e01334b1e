"""Make ``import torchaudio`` resolve to the stub in ``benchmarks/peers/stubs`` when the real
package is absent (openunmix imports it at module level; see ``stubs/torchaudio``)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

STUBS = Path(__file__).resolve().parent.parent / "stubs"


def ensure_torchaudio() -> None:
    """Put the stub folder at the end of ``sys.path`` if no torchaudio is importable."""
    if "torchaudio" in sys.modules or importlib.util.find_spec("torchaudio") is not None:
        return
    if str(STUBS) not in sys.path:
        sys.path.append(str(STUBS))
