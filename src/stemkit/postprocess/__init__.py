"""Post-processing of separated stems (numpy ``(C, T)`` or ``(T,)`` arrays).

- :mod:`.denoise`: seed 002's Hilbert-envelope windowed gate, muting noise between phrases;
- :mod:`.filters`: zero-phase Butterworth low-pass / high-pass;
- :mod:`.stems`: both applied to chosen stems of a separation, the removed audio going to a
  complement stem so the stems still sum to the mixture (``stemkit evaluate --denoise``).
"""

from .denoise import DenoiseGate, denoise_gate, gate_gain, hilbert_envelope
from .filters import band_limit, highpass, lowpass
from .stems import StemPostprocess, parse_cutoffs

__all__ = [
    "DenoiseGate",
    "StemPostprocess",
    "band_limit",
    "denoise_gate",
    "gate_gain",
    "highpass",
    "hilbert_envelope",
    "lowpass",
    "parse_cutoffs",
]
