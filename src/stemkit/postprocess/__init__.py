"""Post-processing of separated stems (numpy ``(C, T)`` or ``(T,)`` arrays).

- :mod:`.denoise`: seed 002's Hilbert-envelope windowed gate, muting noise between phrases;
- :mod:`.filters`: zero-phase Butterworth low-pass / high-pass.
"""

from .denoise import DenoiseGate, denoise_gate, gate_gain, hilbert_envelope
from .filters import band_limit, highpass, lowpass

__all__ = [
    "DenoiseGate",
    "band_limit",
    "denoise_gate",
    "gate_gain",
    "highpass",
    "hilbert_envelope",
    "lowpass",
]
