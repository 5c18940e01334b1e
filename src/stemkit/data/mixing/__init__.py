"""Mixing realism: per-stem gain, pan, width, EQ, compression, reverb, saturation, chorus, delay,
and a mix bus whose gain is shared by all stems (so the mixture stays their exact sum)."""

from .chain import mix_tracks
from .config import MixConfig, dry_mix

__all__ = ["MixConfig", "dry_mix", "mix_tracks"]
