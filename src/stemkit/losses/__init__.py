"""Training losses of the five seeds; each is ``loss(estimate, target, mixture) -> scalar``.

``build_loss(name, **args)`` binds one by name; ``losses()`` lists them. One module per family:
waveform (l1, l2), spectral (spec_l2, spec_l2_mae), difference, weighted (alpha_l1, alpha_spec_l1),
chandna, mask_bce.
"""

from . import chandna, difference, mask_bce, sdr, spectral, waveform, weighted  # noqa: F401  (registers)
from .registry import Loss, LossSpec, build_loss, losses, register_loss

__all__ = ["Loss", "LossSpec", "build_loss", "losses", "register_loss"]
