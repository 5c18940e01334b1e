"""Every knob of the per-stem mixing chain and the mix bus, with ranges drawn per song."""

from __future__ import annotations

from dataclasses import dataclass, field


def _levels() -> dict:
    # Mean and sd (dB) of each stem's active RMS relative to its mixture, measured on the 94 MUSDB18
    # train excerpts with stemkit.data.mixing.levels (docs/rendering.md).
    return {"drums": (-8.1, 4.0), "bass": (-7.4, 4.4), "other": (-6.8, 2.7), "vocals": (-5.5, 2.1)}


@dataclass
class MixConfig:
    """Per-stem effects (each applied with its probability, parameters drawn from its range).

    Ranges are ``(low, high)`` drawn uniformly. All effects are rendered into each stem, and the
    bus gain is one curve applied to every stem, so the mixture stays the exact sum of the stems.
    """

    enabled: bool = True
    level_db: dict = field(default_factory=_levels)  # stem -> (mean, sd) dB, relative
    track_level_sd: float = 2.0  # spread (dB) of the tracks within one stem
    pan_probability: float = 0.8
    pan_range: tuple[float, float] = (-0.6, 0.6)  # -1 = left, 1 = right; drums/bass/vocals: x0.3
    width_range: tuple[float, float] = (0.6, 1.3)  # side/mid scale
    eq_probability: float = 0.8
    eq_gain_db: tuple[float, float] = (-6.0, 6.0)
    compression_probability: float = 0.6
    compression_threshold_db: tuple[float, float] = (-30.0, -12.0)
    compression_ratio: tuple[float, float] = (1.5, 6.0)
    reverb_probability: float = 0.75
    reverb_wet: tuple[float, float] = (0.05, 0.35)
    reverb_t60: tuple[float, float] = (0.25, 2.2)  # seconds at low-mid frequencies
    # stem: one reverb per written stem (the sum of its tracks' sends through the song's room);
    # track: one reverb per instrument track (the older, slower path; same audio up to rounding)
    reverb_mode: str = "stem"
    saturation_probability: float = 0.15
    saturation_drive: tuple[float, float] = (1.5, 6.0)
    chorus_probability: float = 0.1
    delay_probability: float = 0.1
    delay_feedback: tuple[float, float] = (0.2, 0.5)
    bus_compression_probability: float = 0.5
    bus_threshold_db: tuple[float, float] = (-18.0, -8.0)
    bus_limiter: bool = True
    peak_db: tuple[float, float] = (-6.0, -1.0)  # final mixture peak


def dry_mix() -> MixConfig:
    """No effects, no random levels: stems exactly as the synthesizer renders them (scaled)."""
    return MixConfig(enabled=False)
