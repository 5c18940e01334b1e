"""Classical (training-free) separators: HPSS, REPET-SIM, stereo centre extraction and the
four-stem ``classical`` default. Each is a parameter-free :class:`SeparationModel` that masks
one STFT of the mixture (see :mod:`.masking`)."""

from .centre import CentreExtraction
from .classical4 import Classical4
from .hpss import HPSS
from .masking import MaskingSeparator
from .repet import RepetSim

__all__ = ["CentreExtraction", "Classical4", "HPSS", "MaskingSeparator", "RepetSim"]
