"""Signal processing shared by models: STFT helpers and the multichannel Wiener filter."""

from .stft import Stft, istft, make_window, num_frames, stft
from .wiener import wiener, wiener_postfilter

__all__ = ["Stft", "istft", "make_window", "num_frames", "stft", "wiener", "wiener_postfilter"]
