"""The renderer config: every knob of a rendered song, loadable from a dict or YAML file."""

from __future__ import annotations

import dataclasses
from dataclasses import asdict, dataclass, field
from pathlib import Path

from ...errors import ConfigError
from ..mixing.config import MixConfig
from ..songgen.generator import GeneratorConfig


@dataclass
class RenderConfig:
    """How a song becomes stems.

    - ``backend``: ``tinysoundfont`` (default, sample exact), ``fluidsynth``, or ``random`` (per
      song, among those installed).
    - ``soundfonts``: extra ``.sf2``/``.sf3`` files or folders; with ``discover_soundfonts`` they join
      the ones found on the machine, else they replace them. One is drawn per song, or per stem
      with ``soundfont_per_stem``.
    - ``note_cache``: TinySoundFont renders each distinct note of a track once and copies it to
      its onsets (:mod:`.note_cache`); False renders every track event by event (the reference
      path; the two differ by less than a listener notices, see docs/rendering.md).
    - ``vocal_synth_probability``: chance that a song's vocal track is sung by the singing
      synthesizer rather than played with the SoundFont's voice preset (choir/oohs/synth voice).
    - ``drum_soundfonts``: SoundFonts for drum tracks only (e.g. avldrums' recorded kits,
      :mod:`stemkit.data.drumkits`); one drawn per song, used with ``drum_kit_probability``.
    - ``speech_voice_probability``: chance that a vocal track is sung by the speech-based voice
      (:mod:`stemkit.data.speech`: festival's recorded diphones moved onto the melody); the singer
      then gets ``vocal_synth_probability`` of the tracks, the GM voice presets the rest.
    - ``codec``: lossy-codec round trips of each stem (:mod:`stemkit.data.codec`), e.g.
      ``{probability: 0.5, formats: [mp3, aac], bitrate_kbps: [96, 256]}``; empty: off.
    - ``stem_levels``: ``config`` (``mixing.level_db`` statistics) or ``real`` (one real training
      excerpt's measured stem levels drawn per song, :mod:`stemkit.data.levels_real`).
    - ``duration``: seconds per song (None: the whole song); ``tail``: release time kept after the
      last note when ``duration`` is None.
    """

    sample_rate: int = 44100
    duration: float | None = 30.0
    tail: float = 1.5
    backend: str = "tinysoundfont"
    soundfonts: list = field(default_factory=list)
    discover_soundfonts: bool = True
    soundfont_per_stem: bool = False
    note_cache: bool = True
    vocal_synth_probability: float = 0.7
    drum_soundfonts: list = field(default_factory=list)
    drum_kit_probability: float = 1.0
    speech_voice_probability: float = 0.0
    codec: dict = field(default_factory=dict)
    stem_levels: str = "config"
    generator: GeneratorConfig = field(default_factory=GeneratorConfig)
    mixing: MixConfig = field(default_factory=MixConfig)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict | None) -> "RenderConfig":
        """Build from a (possibly partial, nested) dict; unknown keys raise :class:`ConfigError`."""
        data = dict(data or {})
        kwargs = _fields(cls, data, "")
        if "generator" in data:
            kwargs["generator"] = GeneratorConfig(**_fields(GeneratorConfig, data["generator"], "generator."))
        if "mixing" in data:
            kwargs["mixing"] = MixConfig(**_fields(MixConfig, data["mixing"], "mixing."))
        cfg = cls(**kwargs)
        cfg.validate()
        return cfg

    @classmethod
    def from_yaml(cls, path: str | Path) -> "RenderConfig":
        import yaml

        try:
            data = yaml.safe_load(Path(path).read_text()) or {}
        except (OSError, yaml.YAMLError) as exc:
            raise ConfigError(f"cannot read renderer config: {exc}", path=str(path)) from exc
        if not isinstance(data, dict):
            raise ConfigError("renderer config must be a mapping", path=str(path))
        return cls.from_dict(data)

    def validate(self) -> None:
        if self.backend not in ("tinysoundfont", "fluidsynth", "random"):
            raise ConfigError(f"backend must be tinysoundfont, fluidsynth or random, not {self.backend!r}")
        if not 0.0 <= self.vocal_synth_probability <= 1.0:
            raise ConfigError("vocal_synth_probability must be within [0, 1]")
        if not 0.0 <= self.speech_voice_probability <= 1.0 - self.vocal_synth_probability + 1e-9:
            raise ConfigError("speech_voice_probability must be within [0, 1 - vocal_synth_probability]")
        if not 0.0 <= self.drum_kit_probability <= 1.0:
            raise ConfigError("drum_kit_probability must be within [0, 1]")
        if self.mixing.reverb_mode not in ("stem", "track"):
            raise ConfigError(f"mixing.reverb_mode must be stem or track, not {self.mixing.reverb_mode!r}")
        if self.stem_levels not in ("config", "real"):
            raise ConfigError(f"stem_levels must be config or real, not {self.stem_levels!r}")
        if self.codec:
            from ..codec import CodecConfig

            CodecConfig.from_dict(self.codec)
        if self.duration is not None and self.duration <= 0:
            raise ConfigError("duration must be positive")
        if self.sample_rate < 8000:
            raise ConfigError("sample_rate must be at least 8000")


def _fields(cls, data, prefix: str) -> dict:
    if not isinstance(data, dict):
        raise ConfigError(f"{prefix.rstrip('.') or 'config'} must be a mapping")
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise ConfigError(f"unknown renderer config key(s): {', '.join(prefix + k for k in unknown)}")
    nested = {"generator", "mixing"} if cls is RenderConfig else set()
    out = {}
    for k, v in data.items():
        if k in nested:
            continue
        out[k] = tuple(v) if isinstance(v, list) and k not in ("soundfonts", "drum_soundfonts") else v
    return out


def preset(name: str) -> RenderConfig:
    """``realism`` (default knobs) or ``dry`` (no effects, no vocal synth randomness)."""
    if name == "realism":
        return RenderConfig()
    if name == "dry":
        return RenderConfig(mixing=MixConfig(enabled=False))
    raise ConfigError(f"unknown renderer preset {name!r} (realism, dry)")
