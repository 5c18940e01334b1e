"""``chandna``: Chandna et al. 2017 convolutional encoder / per-source decoders (seed 004).

STFT 1024 / hop 256 (Hann, 75 % overlap). The network sees blocks of ``T = 25`` frames of the
mixture magnitude, laid out as images ``(time 25, frequency 513)``:

- encoder: a *vertical* convolution ``(t1 x f1) = (1 x 513)`` with 50 filters (timbre, one
  frame at a time; ``f1=None`` means all bins), a *horizontal* convolution ``(12 x 1)`` with 30
  filters (temporal evolution), then a dense layer of 128 units with ReLU; the convolutions
  have no activation;
- one decoder per source: dense (ReLU) back to ``14 x 30``, reshape, the two convolutions
  transposed, then the absolute value;
- the S non-negative outputs become ratio masks (normalised by their sum), applied to the
  mixture magnitude with the mixture phase, then iSTFT.

With the report's sizes the mono model has exactly 489,142 parameters, as its Keras summary.
``stereo=False`` (the report's main experiment) runs each channel through the mono network;
``stereo=True`` (experiment 2) feeds both channels as two input channels and decodes two.

Whole chunks: the chunk's STFT is cut into 25-frame blocks every ``block_hop`` frames. The
default ``block_hop=25`` gives non-overlapping blocks, as the report's inference does; a smaller
hop overlaps blocks and averages their masks (still summing to one). The last block is
zero-padded, so any chunk length works.

Training contract (read by ``stemkit.losses``; ``F = 513``, ``N = T // 256 + 1``):

- ``training_outputs(mix (B, C, T))`` -> ``{"spec": (B, S, C, F, N)`` masked magnitudes,
  ``"mask": (B, S, C, F, N)`` ratio masks, ``"mix_spec": (B, C, F, N)``,
  ``"wave": (B, S, C, T)`` iSTFT of ``spec`` with the mixture phase}``;
- ``training_targets(stems (B, S, C, T))`` -> ``{"spec": (B, S, C, F, N)`` source magnitudes,
  ``"wave": stems}``.

The report's loss ``L = L_m + L_o`` (alpha 0.001, beta 0.01, gamma 0.03; squared distances
summed, divided by the batch size) compares the *waveforms* (its targets are time-domain
tracks); the original paper compares magnitude spectrograms. Both are available.
"""

from __future__ import annotations

from typing import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from ..dsp.stft import Stft
from ._spec_masking import ratio_masks, with_mixture_phase
from .base import SOURCES_4, SeparationModel
from .registry import register


class ChandnaEncoder(nn.Sequential):
    """``(B, C, T, F)`` -> ``(B, N)``: vertical conv, horizontal conv, dense + ReLU."""

    def __init__(self, in_ch, frames, bins, t1, f1, n1, t2, f2, n2, bottleneck):
        out_t, out_f = frames - t1 + 1 - t2 + 1, bins - f1 + 1 - f2 + 1
        super().__init__(
            nn.Conv2d(in_ch, n1, kernel_size=(t1, f1)),
            nn.Conv2d(n1, n2, kernel_size=(t2, f2)),
            nn.Flatten(),
            nn.Linear(n2 * out_t * out_f, bottleneck),
            nn.ReLU(),
        )


class ChandnaDecoder(nn.Module):
    """``(B, N)`` -> ``(B, C, T, F)`` non-negative: dense + ReLU, reshape, two deconvs, abs."""

    def __init__(self, out_ch, frames, bins, t1, f1, n1, t2, f2, n2, bottleneck):
        super().__init__()
        self.shape = (n2, frames - t1 + 1 - t2 + 1, bins - f1 + 1 - f2 + 1)
        self.dense = nn.Sequential(nn.Linear(bottleneck, n2 * self.shape[1] * self.shape[2]), nn.ReLU())
        self.deconv_h = nn.ConvTranspose2d(n2, n1, kernel_size=(t2, f2))
        self.deconv_v = nn.ConvTranspose2d(n1, out_ch, kernel_size=(t1, f1))

    def forward(self, code: torch.Tensor) -> torch.Tensor:
        x = self.dense(code).reshape(code.shape[0], *self.shape)
        return self.deconv_v(self.deconv_h(x)).abs()


@register(
    "chandna",
    description="Chandna et al. 2017 conv encoder, one decoder per source, ratio masks (seed 004)",
)
class Chandna(SeparationModel):
    """Chandna et al. 2017 network: ``mix (B, C, T) -> stems (B, S, C, T)``."""

    def __init__(
        self,
        *,
        sources: Sequence[str] = SOURCES_4,
        sample_rate: int = 44100,
        channels: int = 2,
        segment: int = 6 * 44100,
        stereo: bool = False,
        n_fft: int = 1024,
        hop: int = 256,
        frames: int = 25,
        block_hop: int | None = None,
        t1: int = 1,
        f1: int | None = None,
        n1: int = 50,
        t2: int = 12,
        f2: int = 1,
        n2: int = 30,
        bottleneck: int = 128,
    ):
        super().__init__(sources=sources, sample_rate=sample_rate, channels=channels, segment=segment)
        if stereo and channels != 2:
            raise ValueError("stereo=True needs channels=2")
        self.stereo = bool(stereo)
        self.stft = Stft(n_fft=n_fft, hop=hop, window="hann")
        self.frames = int(frames)
        self.block_hop = int(block_hop or frames)
        if not 1 <= self.block_hop <= self.frames:
            raise ValueError(f"block_hop must be in 1..{frames}, got {block_hop}")
        net_ch = 2 if stereo else 1
        f1 = self.stft.bins if f1 is None else int(f1)  # the report's 513: every bin
        dims = (self.frames, self.stft.bins, t1, f1, n1, t2, f2, n2, bottleneck)
        self.encoder = ChandnaEncoder(net_ch, *dims)
        self.decoders = nn.ModuleList(ChandnaDecoder(net_ch, *dims) for _ in self.sources)

    def block_masks(self, blocks: torch.Tensor) -> torch.Tensor:
        """Magnitude blocks ``(B, c, T, F)`` -> ratio masks ``(B, S, c, T, F)``."""
        code = self.encoder(blocks)
        raw = torch.stack([decoder(code) for decoder in self.decoders], dim=1)
        return ratio_masks(raw, dim=1)

    def masks(self, mix_mag: torch.Tensor) -> torch.Tensor:
        """Mixture magnitude ``(B, C, F, N)`` -> masks ``(B, S, C, F, N)`` over all N frames."""
        batch, channels, bins, frames = mix_mag.shape
        if self.stereo and channels != 2:
            raise ValueError(f"the stereo network needs 2 channels, got {channels}")
        net_ch = channels if self.stereo else 1
        images = mix_mag.reshape(-1, net_ch, bins, frames)  # mono: channels folded into batch
        n_blocks = max(1, -(-(frames - self.frames) // self.block_hop) + 1)
        padded_len = (n_blocks - 1) * self.block_hop + self.frames
        images = F.pad(images, (0, padded_len - frames))
        # (b, c, F, n_blocks, 25) -> (b * n_blocks, c, 25, F): each block is one network input.
        blocks = images.unfold(-1, self.frames, self.block_hop)
        b = images.shape[0]
        blocks = blocks.permute(0, 3, 1, 4, 2).reshape(b * n_blocks, net_ch, self.frames, bins)
        masks = self.block_masks(blocks)  # (b * n_blocks, S, c, 25, F)
        masks = masks.reshape(b, n_blocks, len(self.sources), net_ch, self.frames, bins)
        masks = self._overlap_average(masks, padded_len)  # (b, S, c, F, padded_len)
        masks = masks[..., :frames]
        # (batch * groups, S, c, F, N) with groups * c == channels -> (batch, S, channels, F, N)
        masks = masks.reshape(batch, -1, len(self.sources), net_ch, bins, frames).transpose(1, 2)
        return masks.reshape(batch, len(self.sources), channels, bins, frames)

    def _overlap_average(self, masks: torch.Tensor, length: int) -> torch.Tensor:
        """Block masks ``(b, n_blocks, S, c, 25, F)`` -> frame masks ``(b, S, c, F, length)``.

        Overlapping blocks are averaged with equal weights, so the average still sums to one.
        """
        b, n_blocks, sources, net_ch, frames, bins = masks.shape
        if self.block_hop == self.frames:
            return masks.permute(0, 2, 3, 5, 1, 4).reshape(b, sources, net_ch, bins, length)
        cols = masks.permute(0, 2, 3, 5, 4, 1).reshape(b, sources * net_ch * bins * frames, n_blocks)
        fold = dict(output_size=(1, length), kernel_size=(1, frames), stride=(1, self.block_hop))
        summed = F.fold(cols, **fold)
        counts = F.fold(torch.ones_like(cols[:1, : frames]), **fold)
        out = summed / counts
        return out.reshape(b, sources, net_ch, bins, length)

    def training_outputs(self, mix: torch.Tensor) -> dict[str, torch.Tensor]:
        """``mix (B, C, T)`` -> native outputs (see the module docstring)."""
        mix_spec = self.stft(mix)
        mix_mag = mix_spec.abs()
        masks = self.masks(mix_mag)
        spec = masks * mix_mag.unsqueeze(1)
        wave = self.stft.inverse(with_mixture_phase(spec, mix_spec.unsqueeze(1)), mix.shape[-1])
        return {"spec": spec, "mask": masks, "mix_spec": mix_mag, "wave": wave}

    def training_targets(self, stems: torch.Tensor) -> dict[str, torch.Tensor]:
        """``stems (B, S, C, T)`` -> ``{"spec": (B, S, C, F, N), "wave": (B, S, C, T)}``."""
        return {"spec": self.stft(stems).abs(), "wave": stems}

    def forward(self, mix: torch.Tensor) -> torch.Tensor:
        """``mix (B, C, T)`` -> ``stems (B, S, C, T)``."""
        mix_spec = self.stft(mix)
        mix_mag = mix_spec.abs()
        spec = self.masks(mix_mag) * mix_mag.unsqueeze(1)
        return self.stft.inverse(with_mixture_phase(spec, mix_spec.unsqueeze(1)), mix.shape[-1])
