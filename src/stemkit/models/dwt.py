"""DWT sub-band audio: a waveform split into wavelet levels, each reconstructed to the time domain.

Lanternfish (seed 000) feeds Wave-U-Net the mixture as *sub-band audio*: the discrete wavelet
transform (DWT) of the signal is computed, then every level's coefficients are inverted on their
own (the other levels set to zero), giving ``levels + 1`` signals of the input's length that sum
back to the input. Two levels give the report's three sub-bands.

The filters come from PyWavelets; the transform itself runs as PyTorch convolutions so it works
inside ``forward`` (batched, on any device, differentiable). Boundaries are periodic
(PyWavelets' ``mode="periodization"``), which makes the DWT of an orthogonal wavelet an orthogonal
matrix ``A``; synthesis is its transpose, so the sub-bands sum to the input exactly (up to float
rounding). Signals whose length is not a multiple of ``2 ** levels`` are zero-padded and the
sub-bands cropped back, which keeps that sum exact.
"""

from __future__ import annotations

import pywt
import torch
import torch.nn.functional as F
from torch import nn

from ..errors import ConfigError


class DWTSubbands(nn.Module):
    """``x (B, C, T) -> sub-bands (B, C, levels + 1, T)`` with ``sub-bands.sum(2) == x``.

    Band order follows ``pywt.wavedec``: ``[approximation_L, detail_L, ..., detail_1]``, i.e.
    lowest frequencies first. ``wavelet`` must be orthogonal (``haar``, ``dbN``, ``symN``,
    ``coifN``); biorthogonal wavelets would need separate synthesis filters.
    """

    def __init__(self, wavelet: str = "db4", levels: int = 2):
        super().__init__()
        try:
            w = pywt.Wavelet(wavelet)
        except ValueError:
            raise ConfigError(f"unknown wavelet {wavelet!r}; try one of haar, db4, sym8, coif3") from None
        if not w.orthogonal:
            raise ConfigError(f"wavelet {wavelet!r} is not orthogonal; use haar, dbN, symN or coifN")
        if int(levels) < 1:
            raise ConfigError(f"DWT levels must be >= 1, got {levels}")
        self.wavelet = wavelet
        self.levels = int(levels)
        self.filter_length = w.dec_len
        # conv1d correlates, pywt convolves: flip the decomposition filters.
        bank = torch.tensor([w.dec_lo[::-1], w.dec_hi[::-1]], dtype=torch.float32)
        # Not persistent: the filters are fixed by the wavelet, so model files stay lean.
        self.register_buffer("bank", bank.unsqueeze(1), persistent=False)  # (2, 1, F)

    @property
    def num_bands(self) -> int:
        return self.levels + 1

    def _wrap_index(self, n: int, device) -> torch.Tensor:
        """Indices of the periodic extension that aligns this transform with pywt's."""
        f = self.filter_length
        return (torch.arange(n + f - 2, device=device) - (f // 2 - 1)) % n

    def analysis(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """One level: ``x (N, L) -> (approx (N, L/2), detail (N, L/2))``; ``L`` even."""
        idx = self._wrap_index(x.shape[-1], x.device)
        coeffs = F.conv1d(x[:, idx].unsqueeze(1), self.bank.to(x.dtype), stride=2)
        return coeffs[:, 0], coeffs[:, 1]

    def synthesis(self, approx: torch.Tensor, detail: torch.Tensor) -> torch.Tensor:
        """The transpose of :meth:`analysis`: ``(N, L/2) x 2 -> (N, L)``."""
        n = approx.shape[-1] * 2
        coeffs = torch.stack([approx, detail], dim=1)  # (N, 2, L/2)
        extended = F.conv_transpose1d(coeffs, self.bank.to(approx.dtype), stride=2)[:, 0]
        idx = self._wrap_index(n, approx.device)
        out = torch.zeros(approx.shape[0], n, dtype=approx.dtype, device=approx.device)
        return out.index_add(1, idx, extended)

    def coefficients(self, x: torch.Tensor) -> list[torch.Tensor]:
        """``wavedec``: ``x (N, L)`` with ``L % 2**levels == 0`` -> ``[cA_L, cD_L, ..., cD_1]``."""
        details = []
        approx = x
        for _ in range(self.levels):
            approx, detail = self.analysis(approx)
            details.append(detail)
        return [approx, *reversed(details)]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x (B, C, T) -> sub-band audio (B, C, levels + 1, T)``."""
        b, c, t = x.shape
        if t == 0:
            return x.new_zeros(b, c, self.num_bands, 0)
        block = 2**self.levels
        pad = (-t) % block
        flat = F.pad(x, (0, pad)).reshape(b * c, t + pad)
        coeffs = self.coefficients(flat)
        bands = []
        for k, band_coeffs in enumerate(coeffs):
            # Coefficient k sits at depth L - k + 1 (k = 0, 1 are both at depth L).
            depth = self.levels if k == 0 else self.levels - k + 1
            approx = band_coeffs if k == 0 else torch.zeros_like(band_coeffs)
            detail = torch.zeros_like(band_coeffs) if k == 0 else band_coeffs
            signal = self.synthesis(approx, detail)
            for _ in range(depth - 1):
                signal = self.synthesis(signal, torch.zeros_like(signal))
            bands.append(signal)
        out = torch.stack(bands, dim=1)[..., :t]  # (B*C, bands, T)
        return out.reshape(b, c, self.num_bands, t)

    def extra_repr(self) -> str:
        return f"wavelet={self.wavelet!r}, levels={self.levels}"
