"""``vocal_mask``: Vocal Mask CNN (seed 003), a per-frame binary vocal mask classifier.

Each STFT frame of the mixture (n_fft 1024 -> 513 bins, hop 256) is classified in the context
of a window of ``stft_frames`` (25) frames centred on it: the window's magnitudes get mel
perceptual weighting, are cubed and scaled to 0..1 (:mod:`._vocal_mask_features`), and a small
residual network (or a ResNet-18-sized one, ``model_type="resnet18"``) predicts the centre
frame's 513-bin vocal mask through a sigmoid.

Inference (``forward``): every frame is a window centre (the spectrogram is zero-padded by
``stft_frames // 2`` frames at both ends); windows are classified in batches of ``eval_batch``.
The mask is applied to the *unweighted* mixture STFT, keeping its phase; its complement
gives the accompaniment, so the two stems sum to the mixture.

- ``mask_at_eval="binary"``: vocals where ``p >= eval_mask_threshold``;
- ``mask_at_eval="soft"``: vocals get ``p`` itself, zeroed where ``p <= noise_gate``.

Stereo is handled as two mono signals (channels folded into the batch).

Training contract (read by ``stemkit.losses``; ``F = 513``, ``N = T // hop + 1``, window
centres every ``stft_stride`` frames: ``W = ceil(N / stft_stride)``):

- ``training_outputs(mix (B, C, T))`` -> ``{"logits": (B, C, F, W), "mask": (B, C, F, W)``
  sigmoid of the logits, ``"frames": (W,)`` centre frame indices``}``;
- ``training_targets(stems (B, S, C, T))`` -> ``{"mask": (B, C, F, W)`` binary float target}``:
  with ``target_mask="threshold"`` (the report) the vocal spectrogram, weighted and scaled as
  the input, is ``>= mask_threshold``; with ``"ibm"`` the vocal magnitude is at least the
  accompaniment's. The loss is binary cross-entropy (``BCEWithLogits`` on ``logits``).
"""

from __future__ import annotations

from typing import Sequence

import torch

from ..dsp.stft import Stft
from ._spec_masking import with_mixture_phase
from ._vocal_mask_features import MelPerceptualScaling
from ._vocal_mask_resnet import PRESETS, ResNetMaskNet
from .base import SeparationModel
from .registry import register

MASK_MODES = ("binary", "soft")
TARGET_MASKS = ("threshold", "ibm")


@register(
    "vocal_mask",
    description="Vocal Mask CNN: centre-frame binary vocal mask from mel-weighted windows (seed 003)",
)
class VocalMask(SeparationModel):
    """Vocal Mask CNN: ``mix (B, C, T) -> (vocals, accompaniment) (B, 2, C, T)``."""

    def __init__(
        self,
        *,
        sample_rate: int = 22050,
        channels: int = 2,
        segment: int = 6 * 22050,
        n_fft: int = 1024,
        hop: int = 256,
        stft_frames: int = 25,
        stft_stride: int = 1,
        model_type: str = "small",
        res_dims: Sequence[Sequence[int]] | None = None,
        power: float = 3.0,
        fmin: float = 125.0,
        ref_level_db: float = 20.0,
        min_level_db: float = -100.0,
        target_mask: str = "threshold",
        mask_threshold: float = 0.5,
        mask_at_eval: str = "binary",
        eval_mask_threshold: float = 0.5,
        noise_gate: float = 0.1,
        eval_batch: int = 256,
    ):
        super().__init__(sources=("vocals", "accompaniment"), sample_rate=sample_rate,
                         channels=channels, segment=segment)
        if mask_at_eval not in MASK_MODES:
            raise ValueError(f"mask_at_eval must be one of {MASK_MODES}, got {mask_at_eval!r}")
        if target_mask not in TARGET_MASKS:
            raise ValueError(f"target_mask must be one of {TARGET_MASKS}, got {target_mask!r}")
        if res_dims is None:
            if model_type not in PRESETS:
                raise ValueError(f"model_type must be one of {tuple(PRESETS)}, got {model_type!r}")
            res_dims = PRESETS[model_type]
        if stft_frames < 1 or stft_frames % 2 == 0:
            raise ValueError(f"stft_frames must be odd (a window centred on a frame), got {stft_frames}")
        self.stft = Stft(n_fft=n_fft, hop=hop, window="hann")
        self.stft_frames = int(stft_frames)
        self.stft_stride = int(stft_stride)
        self.target_mask = target_mask
        self.mask_threshold = float(mask_threshold)
        self.mask_at_eval = mask_at_eval
        self.eval_mask_threshold = float(eval_mask_threshold)
        self.noise_gate = float(noise_gate)
        self.eval_batch = int(eval_batch)
        self.features = MelPerceptualScaling(
            self.stft.bins, sample_rate, power=power, fmin=fmin,
            ref_level_db=ref_level_db, min_level_db=min_level_db,
        )
        self.net = ResNetMaskNet(res_dims, self.stft.bins)

    def window_logits(self, features: torch.Tensor, centres: torch.Tensor) -> torch.Tensor:
        """Features ``(b, F, N)`` and centre frames ``(W,)`` -> logits ``(b, F, W)``.

        Windows are cut ``eval_batch`` centres at a time so a long chunk never materialises
        all its (25-times redundant) windows at once.
        """
        half = self.stft_frames // 2
        padded = torch.nn.functional.pad(features, (half, half))
        b, bins, _ = features.shape
        per_call = max(1, self.eval_batch // b)  # centres per network call (b windows each)
        out = []
        for start in range(0, len(centres), per_call):
            idx = centres[start:start + per_call]
            # padded[..., c : c + frames] is the window centred on frame c (offset by the padding).
            cols = idx[:, None] + torch.arange(self.stft_frames, device=idx.device)[None, :]
            windows = padded[:, :, cols]  # (b, F, w, frames)
            windows = windows.permute(0, 2, 1, 3).reshape(-1, 1, bins, self.stft_frames)
            out.append(self.net(windows).reshape(b, len(idx), bins))
        return torch.cat(out, dim=1).transpose(1, 2)

    def _frame_logits(self, mix_mag: torch.Tensor, centres: torch.Tensor) -> torch.Tensor:
        """Mixture magnitude ``(B, C, F, N)`` -> logits ``(B, C, F, W)`` at ``centres``."""
        batch, channels, bins, frames = mix_mag.shape
        feats = self.features(mix_mag).reshape(batch * channels, bins, frames)
        return self.window_logits(feats, centres).reshape(batch, channels, bins, len(centres))

    def _centres(self, frames: int, stride: int, device) -> torch.Tensor:
        return torch.arange(0, frames, stride, device=device)

    def training_outputs(self, mix: torch.Tensor) -> dict[str, torch.Tensor]:
        """``mix (B, C, T)`` -> native outputs (see the module docstring)."""
        mix_mag = self.stft(mix).abs()
        centres = self._centres(mix_mag.shape[-1], self.stft_stride, mix.device)
        logits = self._frame_logits(mix_mag, centres)
        return {"logits": logits, "mask": torch.sigmoid(logits), "frames": centres}

    def training_targets(self, stems: torch.Tensor) -> dict[str, torch.Tensor]:
        """``stems (B, 2, C, T)`` (vocals, accompaniment) -> ``{"mask": (B, C, F, W)}``."""
        mags = self.stft(stems).abs()
        vocals, accompaniment = mags[:, 0], mags[:, 1]
        centres = self._centres(mags.shape[-1], self.stft_stride, stems.device)
        if self.target_mask == "threshold":
            mask = self.features(vocals) >= self.mask_threshold
        else:
            mask = vocals >= accompaniment
        return {"mask": mask[..., centres].float()}

    def vocal_mask(self, probs: torch.Tensor) -> torch.Tensor:
        """Network probabilities -> the vocal mask used at inference (``mask_at_eval``)."""
        if self.mask_at_eval == "binary":
            return (probs >= self.eval_mask_threshold).to(probs.dtype)
        return probs * (probs > self.noise_gate)

    def forward(self, mix: torch.Tensor) -> torch.Tensor:
        """``mix (B, C, T)`` -> ``stems (B, 2, C, T)``: vocals, accompaniment."""
        mix_spec = self.stft(mix)
        mix_mag = mix_spec.abs()
        centres = self._centres(mix_mag.shape[-1], 1, mix.device)
        vocals = self.vocal_mask(torch.sigmoid(self._frame_logits(mix_mag, centres)))
        masks = torch.stack([vocals, 1.0 - vocals], dim=1)  # (B, 2, C, F, N)
        spec = masks * mix_mag.unsqueeze(1)
        return self.stft.inverse(with_mixture_phase(spec, mix_spec.unsqueeze(1)), mix.shape[-1])
