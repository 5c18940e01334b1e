"""STFT / iSTFT on waveforms with any leading dimensions, built on ``torch.stft``.

Waveforms are ``(..., T)`` (typically ``(B, C, T)`` or ``(B, S, C, T)``); spectrograms are
``(..., F, N)`` with ``F = n_fft // 2 + 1`` bins and ``N = T // hop + 1`` frames (centred frames).
Every spectrogram model, the classical separators, the oracles and the Wiener filter use these,
so a model never reshapes for ``torch.stft`` itself.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import torch

_WINDOWS = {
    "hann": torch.hann_window,
    "hamming": torch.hamming_window,
    "blackman": torch.blackman_window,
}


def make_window(
    window: str | torch.Tensor, n_fft: int, *, dtype=torch.float32, device=None
) -> torch.Tensor:
    """A periodic analysis window of length ``n_fft`` (``"hann"``, ``"hamming"``, ``"blackman"``)."""
    if isinstance(window, torch.Tensor):
        if window.shape != (n_fft,):
            raise ValueError(f"window must have shape ({n_fft},), got {tuple(window.shape)}")
        return window.to(dtype=dtype, device=device)
    if window not in _WINDOWS:
        raise ValueError(f"unknown window {window!r}; known: {', '.join(_WINDOWS)}")
    return _WINDOWS[window](n_fft, periodic=True, dtype=dtype, device=device)


def num_frames(length: int, hop: int) -> int:
    """Frames ``N`` of a centred STFT of ``length`` samples."""
    return length // hop + 1


def stft(
    x: torch.Tensor,
    n_fft: int = 4096,
    hop: int = 1024,
    window: str | torch.Tensor = "hann",
) -> torch.Tensor:
    """Complex STFT of ``x (..., T)`` -> ``(..., F, N)``, centred frames.

    The signal is zero-padded by ``n_fft // 2`` at both ends (not reflected), so any length works,
    even one shorter than a frame, and :func:`istft` inverts it exactly when ``hop <= n_fft / 4``
    (with 50 % overlap the last few samples fall on the window's near-zero tail).
    """
    if x.is_complex():
        raise TypeError("stft expects a real waveform")
    lead, length = x.shape[:-1], x.shape[-1]
    flat = x.reshape(-1, length)
    win = make_window(window, n_fft, dtype=flat.dtype, device=flat.device)
    spec = torch.stft(
        flat,
        n_fft=n_fft,
        hop_length=hop,
        window=win,
        center=True,
        pad_mode="constant",
        return_complex=True,
    )
    return spec.reshape(*lead, spec.shape[-2], spec.shape[-1])


def istft(
    spec: torch.Tensor,
    length: int,
    n_fft: int = 4096,
    hop: int = 1024,
    window: str | torch.Tensor = "hann",
) -> torch.Tensor:
    """Inverse of :func:`stft`: ``(..., F, N)`` complex -> ``(..., length)`` real.

    When ``hop`` divides ``n_fft`` (every STFT in stemkit) the overlap-add is ``n_fft / hop``
    shifted additions of frame slices and the window envelope is cached: about twice as fast as
    ``torch.istft`` (whose overlap-add and envelope dominate its cost), equal to it within 1e-6.
    """
    if not spec.is_complex():
        raise TypeError("istft expects a complex spectrogram")
    lead, (bins, frames) = spec.shape[:-2], spec.shape[-2:]
    if bins != n_fft // 2 + 1:
        raise ValueError(f"spectrogram has {bins} bins, n_fft={n_fft} needs {n_fft // 2 + 1}")
    flat = spec.reshape(-1, bins, frames)
    if n_fft % hop == 0 and isinstance(window, str):
        envelope = _envelope(n_fft, hop, window, frames, length, flat.real.dtype, flat.device)
        if envelope is not None:
            return _istft_by_slices(flat, length, n_fft, hop, window, envelope).reshape(*lead, length)
    win = make_window(window, n_fft, dtype=flat.real.dtype, device=flat.device)
    wave = torch.istft(
        flat, n_fft=n_fft, hop_length=hop, window=win, center=True, length=length
    )
    return wave.reshape(*lead, length)


@lru_cache(maxsize=16)
def _envelope(n_fft: int, hop: int, window: str, frames: int, length: int, dtype, device) -> torch.Tensor | None:
    """Sum of the squared windows over the ``length`` output samples, ``(length,)``; None where
    the frames do not reach that far or leave a sample (nearly) uncovered (``torch.istft`` then
    pads or raises, as it should)."""
    ratio = n_fft // hop
    start = n_fft // 2
    if start + length > (frames + ratio - 1) * hop:
        return None
    squared = (make_window(window, n_fft, dtype=torch.float64) ** 2).reshape(ratio, hop)
    total = torch.zeros(frames + ratio - 1, hop, dtype=torch.float64)
    for j in range(ratio):
        total[j : j + frames] += squared[j]
    centred = total.reshape(-1)[start : start + length]
    if centred.numel() == 0 or float(centred.min()) < 1e-11:
        return None
    return centred.to(dtype=dtype, device=device)


def _istft_by_slices(flat: torch.Tensor, length: int, n_fft: int, hop: int, window: str,
                     envelope: torch.Tensor) -> torch.Tensor:
    """``flat (B, F, N)`` complex -> ``(B, length)``; ``hop`` divides ``n_fft``."""
    ola = FrameOverlapAdd(flat.shape[:1], flat.shape[-1], length, n_fft, hop, window,
                          dtype=flat.real.dtype, device=flat.device, envelope=envelope)
    ola.add(0, flat)
    return ola.result()


class FrameOverlapAdd:
    """An inverse STFT assembled from blocks of frames, so a model can mask and invert a few
    frames at a time instead of holding a whole segment's estimates: ``add(first_frame, block)``
    for blocks ``(*lead, F, n)`` in any order, then ``result() -> (*lead, length)``, equal to
    :func:`istft` of the whole spectrogram (within float rounding).

    Only for ``hop`` dividing ``n_fft`` and a named window; :meth:`supports` says whether
    ``frames`` frames cover ``length`` samples.
    """

    def __init__(self, lead: tuple[int, ...], frames: int, length: int, n_fft: int, hop: int,
                 window: str = "hann", *, dtype=torch.float32, device=None, envelope: torch.Tensor | None = None):
        if not self.supports(frames, length, n_fft, hop, window):
            raise ValueError(f"FrameOverlapAdd needs hop | n_fft and frames covering the length "
                             f"(n_fft={n_fft}, hop={hop}, frames={frames}, length={length})")
        self.lead, self.length, self.n_fft, self.hop = tuple(lead), int(length), int(n_fft), int(hop)
        self.ratio = n_fft // hop
        self.window = make_window(window, n_fft, dtype=dtype, device=device)
        self.envelope = envelope if envelope is not None else \
            _envelope(n_fft, hop, window, frames, length, dtype, device)
        count = 1
        for size in self.lead:
            count *= size
        # Output block k (hop samples) collects piece j of frame k - j, for j < n_fft / hop.
        self.summed = torch.zeros(count, frames + self.ratio - 1, hop, dtype=dtype, device=device)

    @staticmethod
    def supports(frames: int, length: int, n_fft: int, hop: int, window) -> bool:
        return (isinstance(window, str) and n_fft % hop == 0
                and _envelope(n_fft, hop, window, frames, length, torch.float32, None) is not None)

    def add(self, first: int, block: torch.Tensor) -> None:
        """Add frames ``first .. first + n - 1`` given as ``block (*lead, F, n)`` complex."""
        n = block.shape[-1]
        flat = block.reshape(-1, block.shape[-2], n)
        frames = torch.fft.irfft(flat, n=self.n_fft, dim=-2).transpose(-1, -2)  # (B, n, n_fft)
        for j in range(self.ratio):  # windowed while adding: no windowed copy of the frames
            piece = slice(j * self.hop, (j + 1) * self.hop)
            self.summed[:, first + j : first + j + n].addcmul_(frames[..., piece], self.window[piece])

    def result(self) -> torch.Tensor:
        """The waveform ``(*lead, length)``: the centred samples over the summed squared windows.

        Divided in place and returned as a view of the sum (no second segment-sized buffer); call
        it once, last."""
        start = self.n_fft // 2
        out = self.summed.view(self.summed.shape[0], -1)[:, start : start + self.length]
        return out.div_(self.envelope).view(*self.lead, self.length)


#: Frames masked and inverted at a time by :func:`masked_inverse`: 64 costs the CPU time of 128
#: (32 is slower) with half the per-block temporaries (four stems' complex estimates and frames).
FRAME_BLOCK = 64


def masked_inverse(spec: torch.Tensor, length: int, stft: "Stft", masks_of, count: int,
                   block: int = FRAME_BLOCK) -> torch.Tensor:
    """Stems ``(B, count, C, length)`` from mixture STFT ``spec (B, C, F, N)`` and real masks given
    by blocks of frames: ``masks_of(frames: slice)`` returns ``count`` masks ``(B, C or 1, F, n)``.

    Each block's masked estimates are inverted and overlap-added at once (:class:`FrameOverlapAdd`),
    so per-frame tensors of all stems never exist for the whole spectrogram. The caller checks
    :meth:`FrameOverlapAdd.supports` first.
    """
    batch, channels, bins, frames = spec.shape
    ola = FrameOverlapAdd((batch, count, channels), frames, length, stft.n_fft, stft.hop, stft.window,
                          dtype=spec.real.dtype, device=spec.device)
    for first in range(0, frames, block):
        mix_block = spec[..., first : first + block]
        # Frames-major like the STFT, so the inverse FFT runs along contiguous bins.
        estimates = torch.empty(batch, count, channels, mix_block.shape[-1], bins, dtype=spec.dtype,
                                device=spec.device).transpose(3, 4)
        for s, mask in enumerate(masks_of(slice(first, first + mix_block.shape[-1]))):
            torch.mul(mix_block, mask, out=estimates[:, s])  # complex x real mask
        ola.add(first, estimates)
    return ola.result()


@dataclass(frozen=True)
class Stft:
    """An STFT setting a model keeps as one attribute: ``spec = self.stft(x)``, ``self.stft.inverse``.

    ``x (..., T) -> (..., F, N)`` and back; ``bins`` is ``F``.
    """

    n_fft: int = 4096
    hop: int = 1024
    window: str = "hann"

    @property
    def bins(self) -> int:
        return self.n_fft // 2 + 1

    def __call__(self, x: torch.Tensor) -> torch.Tensor:
        return stft(x, self.n_fft, self.hop, self.window)

    def inverse(self, spec: torch.Tensor, length: int) -> torch.Tensor:
        return istft(spec, length, self.n_fft, self.hop, self.window)

    def frames(self, length: int) -> int:
        return num_frames(length, self.hop)

    def bin_frequencies(self, sample_rate: int) -> torch.Tensor:
        """Centre frequency in Hz of each of the ``F`` bins."""
        return torch.arange(self.bins, dtype=torch.float32) * (sample_rate / self.n_fft)
