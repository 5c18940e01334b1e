"""``openunmix_peer``: Open-Unmix (the ``openunmix`` package's ``OpenUnmix`` class) as a stemkit model.

Built like ``openunmix.umxhq``: one ``OpenUnmix`` per target (drums, bass, other, vocals) with the
package's default sizes (hidden 512, 3 BLSTM layers, STFT 4096 / hop 1024, input bins up to 16 kHz),
each predicting a magnitude spectrogram of its target from the mixture's. At inference the stems
get the mixture phase (``niter = 0``, like ``openunmix.model.Separator(niter=0)``: no Wiener);
``niter > 0`` runs openunmix's own multichannel Wiener EM on windows of ``wiener_win_len`` frames.

The STFT is stemkit's (``torch.stft``, zero-padded centred frames, so any chunk length works).

Training contract (``loss: {name: l2, inputs: spec}``: Open-Unmix's MSE on magnitudes):

- ``training_outputs(mix (B, C, T))`` -> ``{"spec": (B, S, C, F, N)}`` estimated magnitudes and
  ``"mix_spec": (B, C, F, N)``;
- ``training_targets(stems (B, S, C, T))`` -> ``{"spec": (B, S, C, F, N)}`` source magnitudes.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import nn

from stemkit.dsp.stft import Stft
from stemkit.models.base import SOURCES_4, SeparationModel
from stemkit.models.registry import register

from ._stub import ensure_torchaudio

ensure_torchaudio()
from openunmix.filtering import wiener  # noqa: E402  (needs the stub on sys.path first)
from openunmix.model import OpenUnmix  # noqa: E402
from openunmix.utils import bandwidth_to_max_bin  # noqa: E402


@register("openunmix_peer", description="Open-Unmix (openunmix package), umxhq layout: one BLSTM per target")
class OpenUnmixPeer(SeparationModel):
    """Four ``OpenUnmix`` target models: ``mix (B, C, T) -> stems (B, S, C, T)``.

    Args:
        n_fft, hop: STFT size and hop (openunmix: 4096 / 1024).
        hidden_size, nb_layers: each target's bottleneck width and BLSTM depth (512, 3).
        bandwidth: network input covers bins up to this frequency in Hz (16 kHz, as umxhq).
        niter: Wiener EM iterations at inference (0 = mixture phase only, the default here).
        wiener_win_len: frames per Wiener window (openunmix's default 300).
    """

    def __init__(
        self,
        *,
        sources: Sequence[str] = SOURCES_4,
        sample_rate: int = 44100,
        channels: int = 2,
        segment: int = 6 * 44100,
        n_fft: int = 4096,
        hop: int = 1024,
        hidden_size: int = 512,
        nb_layers: int = 3,
        bandwidth: float = 16000.0,
        niter: int = 0,
        wiener_win_len: int = 300,
    ):
        super().__init__(sources=sources, sample_rate=sample_rate, channels=channels, segment=segment)
        if niter < 0:
            raise ValueError(f"niter must be >= 0, got {niter}")
        self.stft = Stft(n_fft=int(n_fft), hop=int(hop), window="hann")
        max_bin = int(bandwidth_to_max_bin(float(sample_rate), int(n_fft), float(bandwidth)))
        self.targets = nn.ModuleDict({
            name: OpenUnmix(nb_bins=self.stft.bins, nb_channels=channels, hidden_size=int(hidden_size),
                            nb_layers=int(nb_layers), max_bin=max_bin)
            for name in self.sources
        })
        self.niter, self.wiener_win_len = int(niter), int(wiener_win_len)

    def magnitudes(self, mag: torch.Tensor) -> torch.Tensor:
        """Mixture magnitudes ``(B, C, F, N)`` -> target magnitudes ``(B, S, C, F, N)``."""
        return torch.stack([self.targets[name](mag) for name in self.sources], dim=1)

    def training_outputs(self, mix: torch.Tensor) -> dict[str, torch.Tensor]:
        """``mix (B, C, T)`` -> estimated and mixture magnitudes (module docstring)."""
        mag = self.stft(mix).abs()
        return {"spec": self.magnitudes(mag), "mix_spec": mag}

    def training_targets(self, stems: torch.Tensor) -> dict[str, torch.Tensor]:
        """``stems (B, S, C, T)`` -> ``{"spec": (B, S, C, F, N)}``."""
        return {"spec": self.stft(stems).abs()}

    def forward(self, mix: torch.Tensor) -> torch.Tensor:
        """``mix (B, C, T)`` -> ``stems (B, S, C, T)``."""
        spec = self.stft(mix)  # (B, C, F, N) complex
        estimates = self.magnitudes(spec.abs())  # (B, S, C, F, N)
        if self.niter == 0:
            stems = estimates * torch.exp(1j * spec.angle()).unsqueeze(1)
        else:
            stems = torch.stack([self._wiener(s, e) for s, e in zip(spec, estimates)])
        return self.stft.inverse(stems, mix.shape[-1])

    def _wiener(self, spec: torch.Tensor, estimates: torch.Tensor) -> torch.Tensor:
        """openunmix's EM on one item: ``spec (C, F, N)``, ``estimates (S, C, F, N)`` -> ``(S, C, F, N)``."""
        mix = torch.view_as_real(spec).permute(2, 1, 0, 3)  # (N, F, C, 2)
        mags = estimates.permute(3, 2, 1, 0)  # (N, F, C, S)
        out = torch.empty(mix.shape + (len(self.sources),))
        for lo in range(0, mix.shape[0], self.wiener_win_len):
            hi = lo + self.wiener_win_len
            # a copy: openunmix's atan2 edits the mixture in place (bins exactly 0 + 0j)
            out[lo:hi] = wiener(mags[lo:hi], mix[lo:hi].clone(), self.niter)
        return torch.view_as_complex(out.permute(4, 2, 1, 0, 3).contiguous())
