"""``spec_unet``: Spectrogram-Channels U-Net (seed 002, Birkbeck; after Oh, Kim & Yun 2018).

A 2 s mixture chunk is turned into a magnitude spectrogram (n_fft 2048, hop 512: 1025 x 173),
zero-padded to a multiple of ``2**depth`` (1040 x 176), passed through a U-Net whose last
1x1 convolution + ReLU gives one spectrogram per source (k = 2 for vocals / accompaniment, or 4),
cropped back to 1025 x 173, combined with the mixture phase and inverted (iSTFT, ``length=T``).
Stereo input is processed as two mono images (channels folded into the batch).

``output="magnitude"`` uses the k images as the source magnitudes (as the report does);
``output="mask"`` turns them into ratio masks (they sum to one over sources) applied to the
mixture magnitude.

Training contract (read by ``stemkit.losses``; shapes with ``F = n_fft // 2 + 1``,
``N = T // hop + 1``):

- ``training_outputs(mix (B, C, T))`` -> ``{"spec": (B, S, C, F, N)`` estimated magnitudes,
  ``"mix_spec": (B, C, F, N)`` mixture magnitude, and with ``output="mask"`` also
  ``"mask": (B, S, C, F, N)``}``;
- ``training_targets(stems (B, S, C, T))`` -> ``{"spec": (B, S, C, F, N)`` source magnitudes}``.

Seed 002's loss is the alpha-weighted pixel-wise L1 between ``spec`` entries:
``sum_s alpha_s * mean|spec_s - target_s|`` (alpha = 1, 0, 0.5 or 0.707 on vocals, 1 - alpha on
accompaniment).
"""

from __future__ import annotations

from typing import Sequence

import torch

from ..dsp.stft import Stft
from ._spec_masking import ratio_masks, with_mixture_phase
from ._spec_pad import crop_to, pad_to_multiple
from ._spec_unet_blocks import SpectrogramChannelsUNet
from .base import SeparationModel
from .registry import register

OUTPUTS = ("magnitude", "mask")


@register("spec_unet", description="Spectrogram-Channels U-Net, one output channel per source (seed 002)")
class SpecUNet(SeparationModel):
    """Spectrogram-Channels U-Net: ``mix (B, C, T) -> stems (B, S, C, T)`` via mixture phase."""

    fixed_segment = True

    def __init__(
        self,
        *,
        sources: Sequence[str] = ("vocals", "accompaniment"),
        sample_rate: int = 44100,
        channels: int = 2,
        segment: int = 2 * 44100,
        n_fft: int = 2048,
        hop: int = 512,
        base_channels: int = 32,
        depth: int = 4,
        kernel_size: int = 3,
        dropout: float = 0.5,
        output: str = "magnitude",
    ):
        super().__init__(sources=sources, sample_rate=sample_rate, channels=channels, segment=segment)
        if output not in OUTPUTS:
            raise ValueError(f"output must be one of {OUTPUTS}, got {output!r}")
        self.output = output
        self.stft = Stft(n_fft=n_fft, hop=hop, window="hann")
        self.multiple = 2**depth
        self.unet = SpectrogramChannelsUNet(
            len(self.sources),
            base_channels=base_channels,
            depth=depth,
            kernel_size=kernel_size,
            dropout=dropout,
        )

    def estimate(self, mix_mag: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor | None]:
        """Mixture magnitude ``(B, C, F, N)`` -> (source magnitudes ``(B, S, C, F, N)``, masks or None)."""
        batch, channels, bins, frames = mix_mag.shape
        image = mix_mag.reshape(batch * channels, 1, bins, frames)
        padded, size = pad_to_multiple(image, self.multiple)
        raw = crop_to(self.unet(padded), size)  # (B*C, S, F, N)
        raw = raw.reshape(batch, channels, -1, bins, frames).transpose(1, 2)
        if self.output == "magnitude":
            return raw, None
        masks = ratio_masks(raw, dim=1)
        return masks * mix_mag.unsqueeze(1), masks

    def training_outputs(self, mix: torch.Tensor) -> dict[str, torch.Tensor]:
        """``mix (B, C, T)`` -> native outputs (see the module docstring)."""
        mix_mag = self.stft(mix).abs()
        spec, masks = self.estimate(mix_mag)
        out = {"spec": spec, "mix_spec": mix_mag}
        if masks is not None:
            out["mask"] = masks
        return out

    def training_targets(self, stems: torch.Tensor) -> dict[str, torch.Tensor]:
        """``stems (B, S, C, T)`` -> ``{"spec": (B, S, C, F, N)}`` source magnitudes."""
        return {"spec": self.stft(stems).abs()}

    def forward(self, mix: torch.Tensor) -> torch.Tensor:
        """``mix (B, C, T)`` -> ``stems (B, S, C, T)``."""
        mix_spec = self.stft(mix)  # (B, C, F, N) complex
        spec, _ = self.estimate(mix_spec.abs())
        return self.stft.inverse(with_mixture_phase(spec, mix_spec.unsqueeze(1)), mix.shape[-1])
