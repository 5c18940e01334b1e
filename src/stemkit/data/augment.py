"""Augmentations on stems ``(B, S, C, T)``; the caller recomputes the mixture as their sum.

Every module draws its randomness from a ``torch.Generator``: the one passed to ``forward``
(datasets pass one seeded per item, so items are reproducible) or else its own, seeded by
``seed``. All keep the shape ``(B, S, C, T)``.

- :class:`RemixAcrossBatch`: permute each source independently across the batch, so each
  mixture is a new combination of stems from different songs (seed 000's permutations).
- :class:`RandomGain`: scale each stem by a gain drawn uniformly in ``[min_db, max_db]``.
- :class:`ChannelSwap`: swap left and right of a stem with probability ``p``.
- :class:`SignFlip`: multiply a stem by -1 with probability ``p``.
- :class:`TimeShift`: circularly shift each stem by up to ``max_samples`` samples.
- :class:`StemEQ`: a random equaliser per stem (shelves and peaks, zero phase), so the same
  recorded stems come with other spectral balances (the realism chain's EQ, on real stems).
- :class:`PitchShift`, :class:`TempoChange` (librosa; slow, off unless configured).
- :class:`Compose` and :func:`build_augment` from config dicts such as
  ``[{"name": "gain", "min_db": -6, "max_db": 6}, {"name": "channel_swap"}]``.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
import torch
from torch import nn

from stemkit.errors import ConfigError


class Augmentation(nn.Module):
    """Base: holds a seeded generator; ``forward(stems (B, S, C, T), generator=None)``."""

    def __init__(self, seed: int | None = None):
        super().__init__()
        self.generator = torch.Generator()
        if seed is None:
            self.generator.seed()
        else:  # hashed: torch's Mersenne Twister gives correlated first draws for seeds 0, 1, 2...
            state = np.random.SeedSequence(int(seed)).generate_state(2)
            self.generator.manual_seed(int(state[0]) << 32 | int(state[1]))

    def _gen(self, generator: torch.Generator | None) -> torch.Generator:
        return generator if generator is not None else self.generator

    @staticmethod
    def _check(stems: torch.Tensor) -> None:
        if stems.dim() != 4:
            raise ValueError(f"augmentations take stems (B, S, C, T), got shape {tuple(stems.shape)}")


class RemixAcrossBatch(Augmentation):
    """Permute each source across the batch: item b gets source s from item ``perm_s[b]``.

    With ``p < 1`` only that fraction of the batch is remixed (the rest keep their own stems).
    """

    def __init__(self, p: float = 1.0, seed: int | None = None):
        super().__init__(seed)
        self.p = float(p)

    def forward(self, stems: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        self._check(stems)
        batch, sources = stems.shape[:2]
        if batch < 2:
            return stems
        gen = self._gen(generator)
        chosen = torch.rand(batch, generator=gen) < self.p
        out = stems.clone()
        for s in range(sources):
            perm = torch.arange(batch)
            idx = chosen.nonzero().flatten()
            perm[idx] = idx[torch.randperm(len(idx), generator=gen)]
            out[:, s] = stems[perm, s]
        return out


class RandomGain(Augmentation):
    """Scale each stem of each item by a gain uniform in ``[min_db, max_db]`` dB."""

    def __init__(self, min_db: float = -6.0, max_db: float = 6.0, seed: int | None = None):
        super().__init__(seed)
        if min_db > max_db:
            raise ConfigError(f"RandomGain: min_db {min_db} > max_db {max_db}")
        self.min_db, self.max_db = float(min_db), float(max_db)

    def forward(self, stems: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        self._check(stems)
        batch, sources = stems.shape[:2]
        db = torch.rand(batch, sources, 1, 1, generator=self._gen(generator))
        db = self.min_db + (self.max_db - self.min_db) * db
        return stems * (10.0 ** (db / 20.0)).to(stems.dtype)


class ChannelSwap(Augmentation):
    """Swap the two channels of a stem with probability ``p`` (mono stems pass unchanged)."""

    def __init__(self, p: float = 0.5, seed: int | None = None):
        super().__init__(seed)
        self.p = float(p)

    def forward(self, stems: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        self._check(stems)
        batch, sources, channels = stems.shape[:3]
        swap = torch.rand(batch, sources, generator=self._gen(generator)) < self.p
        if channels != 2:
            return stems
        return torch.where(swap[..., None, None], stems.flip(2), stems)


class SignFlip(Augmentation):
    """Multiply a stem by -1 with probability ``p`` (inaudible, changes the waveform)."""

    def __init__(self, p: float = 0.5, seed: int | None = None):
        super().__init__(seed)
        self.p = float(p)

    def forward(self, stems: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        self._check(stems)
        flip = torch.rand(stems.shape[0], stems.shape[1], generator=self._gen(generator)) < self.p
        sign = 1.0 - 2.0 * flip.to(stems.dtype)
        return stems * sign[..., None, None]


class TimeShift(Augmentation):
    """Circularly shift each stem by an integer offset in ``[0, max_samples]``.

    ``same=True`` shifts every stem of an item by the same offset (keeps them aligned);
    the default shifts them independently, which also decorrelates the sources.
    """

    def __init__(self, max_samples: int = 8192, same: bool = False, seed: int | None = None):
        super().__init__(seed)
        self.max_samples = int(max_samples)
        self.same = bool(same)

    def forward(self, stems: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        self._check(stems)
        batch, sources = stems.shape[:2]
        shape = (batch, 1) if self.same else (batch, sources)
        offsets = torch.randint(0, self.max_samples + 1, shape, generator=self._gen(generator))
        offsets = offsets.expand(batch, sources).tolist()
        # one roll per stem: a gather index would cost 8 bytes per sample of the whole batch
        out = torch.empty_like(stems)
        for b in range(batch):
            for s in range(sources):
                out[b, s] = torch.roll(stems[b, s], offsets[b][s], dims=-1)
        return out


#: Frequencies at which :class:`StemEQ` evaluates a response (10.8 Hz apart at 44.1 kHz; the
#: narrowest peak, Q 3 at 200 Hz, is 67 Hz wide).
EQ_GRID = 2049


class StemEQ(Augmentation):
    """Filter each stem of each item, with probability ``p``, through a random EQ: a low shelf
    (80-300 Hz), a high shelf (3-10 kHz) and one or two peaks (200 Hz-6 kHz), gains uniform in
    ``[-max_db, max_db]`` (:func:`stemkit.data.mixing.filters.random_eq`).

    Applied as the EQ's magnitude response on the chunk's spectrum (zero phase, one FFT pair per
    batch): a mix engineer's EQ moves a stem's spectral balance, and a masking model should not
    learn one song's balance as the instrument's. The residual (last "stem" of a chunk) is filtered
    like any stem, so the re-summed mixture is exactly the sum of the filtered parts.
    """

    def __init__(self, max_db: float = 6.0, p: float = 1.0, sample_rate: int = 44100,
                 seed: int | None = None):
        super().__init__(seed)
        if max_db < 0:
            raise ConfigError(f"StemEQ: max_db must be >= 0, got {max_db}")
        self.max_db, self.p, self.sample_rate = float(max_db), float(p), int(sample_rate)

    def forward(self, stems: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        from .mixing.filters import eq_response, random_eq

        self._check(stems)
        batch, sources, _, length = stems.shape
        gen = self._gen(generator)
        chosen = (torch.rand(batch, sources, generator=gen) < self.p).tolist()
        if self.max_db == 0 or not any(map(any, chosen)):
            return stems
        rng = np.random.default_rng(int(torch.randint(0, 2**62, (1,), generator=gen)))
        freqs = np.fft.rfftfreq(length, 1.0 / self.sample_rate)
        # the responses are smooth: evaluated on a coarse grid, interpolated to the FFT's bins
        grid = np.linspace(0.0, self.sample_rate / 2, EQ_GRID)
        gains = np.ones((batch, sources, 1, len(freqs)), np.float32)
        for b in range(batch):
            for s in range(sources):
                if chosen[b][s]:
                    bands = random_eq(rng, (-self.max_db, self.max_db))
                    gains[b, s, 0] = np.interp(freqs, grid, np.abs(eq_response(bands, grid, self.sample_rate)))
        spectrum = torch.fft.rfft(stems.float(), dim=-1) * torch.from_numpy(gains)
        return torch.fft.irfft(spectrum, n=length, dim=-1).to(stems.dtype)


class _PerItemLibrosa(Augmentation):
    """Shared frame for the librosa-based effects: one random amount per item, all its stems."""

    def __init__(self, p: float, seed: int | None):
        super().__init__(seed)
        self.p = float(p)

    def _amount(self, gen: torch.Generator) -> float:  # pragma: no cover - abstract
        raise NotImplementedError

    def _process(self, audio: np.ndarray, amount: float, length: int) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def forward(self, stems: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        self._check(stems)
        gen = self._gen(generator)
        out = stems.clone()
        length = stems.shape[-1]
        for b in range(stems.shape[0]):
            if float(torch.rand((), generator=gen)) >= self.p:
                continue
            amount = self._amount(gen)
            audio = stems[b].detach().cpu().numpy()
            out[b] = torch.from_numpy(self._process(audio, amount, length)).to(stems)
        return out


def _fit(x: np.ndarray, length: int) -> np.ndarray:
    if x.shape[-1] >= length:
        return x[..., :length]
    return np.pad(x, [(0, 0)] * (x.ndim - 1) + [(0, length - x.shape[-1])])


class PitchShift(_PerItemLibrosa):
    """Shift the pitch of all stems of an item by ``n`` semitones, ``n`` uniform integer in
    ``[-max_semitones, max_semitones]`` (librosa phase vocoder + soxr resampling; slow)."""

    def __init__(self, max_semitones: int = 2, p: float = 0.5, sample_rate: int = 44100,
                 seed: int | None = None):
        super().__init__(p, seed)
        self.max_semitones = int(max_semitones)
        self.sample_rate = int(sample_rate)

    def _amount(self, gen: torch.Generator) -> float:
        return float(torch.randint(-self.max_semitones, self.max_semitones + 1, (1,), generator=gen)[0])

    def _process(self, audio: np.ndarray, amount: float, length: int) -> np.ndarray:
        import librosa
        import soxr

        if amount == 0:
            return audio
        # librosa's recipe (stretch by the pitch ratio, then resample back), with soxr called
        # directly: librosa.resample's first call costs seconds of lazy imports
        ratio = 2.0 ** (-amount / 12.0)  # stretch to 1/ratio times longer, then resample
        stretched = librosa.effects.time_stretch(audio, rate=ratio)
        flat = stretched.reshape(-1, stretched.shape[-1]).T
        shifted = soxr.resample(flat, self.sample_rate / ratio, self.sample_rate).T
        return _fit(shifted.reshape(*audio.shape[:-1], -1).astype(np.float32), length)


class TempoChange(_PerItemLibrosa):
    """Speed all stems of an item up or down by a factor uniform in ``[1 - max_change,
    1 + max_change]`` without changing pitch (librosa time stretch), then cut/zero-pad to T."""

    def __init__(self, max_change: float = 0.1, p: float = 0.5, seed: int | None = None):
        super().__init__(p, seed)
        self.max_change = float(max_change)

    def _amount(self, gen: torch.Generator) -> float:
        return 1.0 + self.max_change * (2.0 * float(torch.rand((), generator=gen)) - 1.0)

    def _process(self, audio: np.ndarray, amount: float, length: int) -> np.ndarray:
        import librosa

        stretched = librosa.effects.time_stretch(audio, rate=amount)
        return _fit(stretched.astype(np.float32), length)


class Compose(Augmentation):
    """Apply augmentations in order, passing the same generator along."""

    def __init__(self, augmentations: Sequence[nn.Module], seed: int | None = None):
        super().__init__(seed)
        self.augmentations = nn.ModuleList(augmentations)

    def forward(self, stems: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
        gen = self._gen(generator)
        for aug in self.augmentations:
            stems = aug(stems, generator=gen)
        return stems


AUGMENTATIONS: dict[str, type] = {
    "remix": RemixAcrossBatch,
    "gain": RandomGain,
    "channel_swap": ChannelSwap,
    "sign_flip": SignFlip,
    "eq": StemEQ,
    "time_shift": TimeShift,
    "pitch_shift": PitchShift,
    "tempo": TempoChange,
}


def build_augment(config: Sequence[dict] | None, seed: int | None = None) -> Compose | None:
    """A :class:`Compose` from ``[{"name": "gain", "min_db": -6, ...}, ...]``; None if empty.

    Each entry's other keys are its constructor arguments; ``seed`` seeds module i with
    ``seed + i`` unless the entry has its own ``seed``.
    """
    if not config:
        return None
    modules = []
    for i, entry in enumerate(config):
        if not isinstance(entry, dict) or "name" not in entry:
            raise ConfigError(f"augmentation #{i} must be a mapping with a 'name', got {entry!r}")
        kwargs = {k: v for k, v in entry.items() if k != "name"}
        name = entry["name"]
        if name not in AUGMENTATIONS:
            raise ConfigError(f"unknown augmentation {name!r}; choose from "
                              f"{', '.join(AUGMENTATIONS)}")
        if seed is not None:
            kwargs.setdefault("seed", seed + i)
        try:
            modules.append(AUGMENTATIONS[name](**kwargs))
        except TypeError as exc:
            raise ConfigError(f"augmentation {name!r}: {exc}") from None
    return Compose(modules, seed=seed)
