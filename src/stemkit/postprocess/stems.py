"""Post-processing applied to a whole set of separated stems, keeping their sum.

Seed 002 cleans its vocal estimate with the denoise gate (:mod:`.denoise`) and optional low/high-pass
filters (:mod:`.filters`). Applied to one stem alone, both remove audio and the stems no longer add
up to the mixture. :class:`StemPostprocess` moves what a step takes out of a stem into a
*complement* stem instead (``accompaniment`` for a vocals/accompaniment model, else ``other``),
so ``sum(stems)`` is unchanged.

Order per stem: high-pass, low-pass, then the gate (the gate judges the filtered envelope).
Stems are ``(S, C, T)`` float arrays in ``sources`` order; a new array is returned.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import ConfigError
from .denoise import DenoiseGate
from .filters import band_limit

#: Where removed audio goes when no complement is named: the first of these the model outputs.
DEFAULT_COMPLEMENTS = ("accompaniment", "other")


@dataclass(frozen=True)
class StemPostprocess:
    """Gate and/or band-limit some stems, handing what is removed to a complement stem.

    Args:
        denoise: stems to gate with ``gate`` (e.g. ``("vocals",)``).
        gate: the gate's settings (window, hop, statistic, softness, fades).
        highpass: stem -> cutoff in Hz (keep what is above).
        lowpass: stem -> cutoff in Hz (keep what is below).
        complement: the stem that receives what was removed (default: ``accompaniment`` or
            ``other``, whichever the model has); it is never processed itself.
    """

    denoise: tuple[str, ...] = ()
    gate: DenoiseGate = field(default_factory=DenoiseGate)
    highpass: dict = field(default_factory=dict)
    lowpass: dict = field(default_factory=dict)
    complement: str | None = None

    @property
    def active(self) -> bool:
        return bool(self.denoise or self.highpass or self.lowpass)

    def processed_stems(self) -> list[str]:
        names = [*self.highpass, *self.lowpass, *self.denoise]
        return list(dict.fromkeys(names))

    def complement_for(self, sources: list[str]) -> str:
        """The stem that takes the removed audio; ConfigError when the model has none to offer."""
        if self.complement is not None:
            if self.complement not in sources:
                raise ConfigError(f"complement stem {self.complement!r} is not among {', '.join(sources)}")
            return self.complement
        for name in DEFAULT_COMPLEMENTS:
            if name in sources:
                return name
        raise ConfigError(f"post-processing needs a complement stem (accompaniment or other); the model "
                          f"has {', '.join(sources)}: name one with --complement")

    def check(self, sources: list[str]) -> None:
        """Refuse stems the model does not output, or processing the complement itself."""
        if not self.active:
            return
        complement = self.complement_for(sources)
        for name in self.processed_stems():
            if name not in sources:
                raise ConfigError(f"post-processing stem {name!r} is not among {', '.join(sources)}")
            if name == complement:
                raise ConfigError(f"stem {name!r} is the complement that receives the removed audio; "
                                  "it cannot be processed itself")

    def __call__(self, stems: np.ndarray, sources: list[str], sample_rate: int) -> np.ndarray:
        """``stems (S, C, T)`` -> processed ``(S, C, T)`` float32 with the same sum over S."""
        stems = np.asarray(stems, dtype=np.float32)
        if not self.active:
            return stems.copy()
        self.check(list(sources))
        sources = list(sources)
        out = stems.copy()
        target = sources.index(self.complement_for(sources))
        for name in self.processed_stems():
            k = sources.index(name)
            cleaned = band_limit(stems[k], sample_rate, low_hz=self.highpass.get(name),
                                 high_hz=self.lowpass.get(name))
            if name in self.denoise:
                cleaned = self.gate(cleaned, sample_rate)
            out[target] += stems[k] - cleaned
            out[k] = cleaned
        return out

    def describe(self) -> dict:
        """JSON-friendly settings (for an evaluation's config.json)."""
        return {
            "denoise": list(self.denoise),
            "gate": {"window_s": self.gate.window_s, "hop_s": self.gate.hop_s, "statistic": self.gate.statistic,
                     "softness": self.gate.softness, "fade_s": self.gate.fade_s},
            "highpass": dict(self.highpass),
            "lowpass": dict(self.lowpass),
            "complement": self.complement,
        }


def parse_cutoffs(items: list[str] | None, option: str) -> dict[str, float]:
    """``["vocals=120", "bass=300"]`` -> ``{"vocals": 120.0, "bass": 300.0}`` (ConfigError if malformed)."""
    cutoffs: dict[str, float] = {}
    for item in items or []:
        name, sep, value = item.partition("=")
        try:
            hz = float(value)
        except ValueError:
            hz = -1.0
        if not sep or not name or hz <= 0:
            raise ConfigError(f"{option} takes STEM=HZ with a positive frequency, e.g. vocals=120; got {item!r}")
        cutoffs[name.strip()] = hz
    return cutoffs
