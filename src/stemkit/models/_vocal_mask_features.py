"""Seed 003's network input: mel perceptual weighting, magnitudes cubed, scaled to 0..1.

``librosa.perceptual_weighting`` adds a frequency weighting in dB to a power spectrogram in
dB. Seed 003 evaluates the weighting at *mel-spaced* frequencies from ``fmin`` (one per STFT
bin: its "mel perceptual weighting"), raises magnitudes to ``power`` (3: "cubed"), and maps
the dB range ``[min_level_db, 0]`` above ``ref_level_db`` onto ``[0, 1]``. The mapping is fixed
(no per-window max), so a window scaled alone and the same frames scaled inside a whole chunk
get identical values: training windows and inference agree.
"""

from __future__ import annotations

import librosa
import numpy as np
import torch
from torch import nn


class MelPerceptualScaling(nn.Module):
    """Magnitude ``(..., F, N)`` -> weighted, scaled features ``(..., F, N)`` in ``[0, 1]``."""

    def __init__(self, bins: int, sample_rate: int, *, power: float = 3.0, fmin: float = 125.0,
                 ref_level_db: float = 20.0, min_level_db: float = -100.0, amin: float = 1e-10):
        super().__init__()
        freqs = librosa.mel_frequencies(n_mels=bins, fmin=fmin, fmax=sample_rate / 2)
        weights = librosa.frequency_weighting(freqs, kind="A").astype(np.float32)
        # Not persistent: derived from the constructor arguments, so not part of the weights.
        self.register_buffer("weight_db", torch.from_numpy(weights).unsqueeze(-1), persistent=False)
        self.power = float(power)
        self.ref_level_db = float(ref_level_db)
        self.min_level_db = float(min_level_db)
        self.amin = float(amin)

    def forward(self, magnitude: torch.Tensor) -> torch.Tensor:
        level = 10.0 * torch.log10(torch.clamp(magnitude**self.power, min=self.amin))
        db = level + self.weight_db - self.ref_level_db
        return torch.clamp((db - self.min_level_db) / -self.min_level_db, 0.0, 1.0)
