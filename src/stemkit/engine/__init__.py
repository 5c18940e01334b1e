"""The separation engine: one implementation of chunking, blending, batching and consistency."""

from .consistency import enforce_consistency
from .overlap_add import OverlapAdd, separate_tensor
from .windows import WINDOWS, blend_window

__all__ = ["OverlapAdd", "WINDOWS", "blend_window", "enforce_consistency", "separate_tensor"]
