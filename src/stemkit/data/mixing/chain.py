"""The per-track effect chain and the mix bus, drawn at random from a :class:`MixConfig`.

Order per track: level -> EQ -> compression -> saturation -> chorus -> delay -> width -> pan ->
reverb (one synthetic room per song, a wet amount per track). Then one bus gain curve (glue
compression, limiter) and one peak scale are applied to every track alike, so every sum of stems
written afterwards is still exactly the mixture.
"""

from __future__ import annotations

import numpy as np

from .colour import chorus, echo, saturate
from .config import MixConfig
from .dynamics import bus_gain, compress
from .filters import apply_eq, random_eq
from .reverb import Room, apply_reverb, room_impulse_response
from .stereo import pan, width

_CENTRED = ("drums", "bass", "vocals")  # mixed near the centre, as in commercial music


def active_rms(x: np.ndarray, sample_rate: int) -> float:
    """RMS over the 50 ms frames within 40 dB of the loudest one (ignores rests)."""
    frame = int(0.05 * sample_rate)
    n = x.shape[-1] // frame
    if n == 0:
        return float(np.sqrt(np.mean(x**2)))
    energy = np.mean(x[:, : n * frame].reshape(x.shape[0], n, frame) ** 2, axis=(0, 2))
    loud = energy > energy.max() * 1e-4
    return float(np.sqrt(np.mean(energy[loud]))) if energy.max() > 0 else 0.0


def _u(rng, bounds) -> float:
    return float(rng.uniform(bounds[0], bounds[1]))


def draw_stem_levels(rng: np.random.Generator, cfg: MixConfig, stems: list[str]) -> dict:
    """Level (dB) of each stem present, drawn from ``cfg.level_db`` statistics."""
    levels = {}
    for stem in dict.fromkeys(stems):
        mean, sd = cfg.level_db.get(stem, (0.0, 0.0))
        levels[stem] = float(rng.normal(mean, sd))
    return levels


def draw_track_params(rng: np.random.Generator, cfg: MixConfig, stem: str,
                      stem_level_db: float = 0.0, tracks_in_stem: int = 1) -> dict:
    """Random, JSON-able settings of one track's chain.

    The track's level is its stem's level plus a per-track spread, less ``10 log10(n)`` so that
    the ``n`` tracks of a stem together sit at the stem's level.
    """
    level = stem_level_db + rng.normal(0.0, cfg.track_level_sd) - 10 * np.log10(max(1, tracks_in_stem))
    p: dict = {"level_db": float(level)}
    if not cfg.enabled:
        return {}
    if rng.random() < cfg.eq_probability:
        p["eq"] = random_eq(rng, cfg.eq_gain_db)
    if rng.random() < cfg.compression_probability:
        p["compression"] = {"threshold_db": _u(rng, cfg.compression_threshold_db),
                            "ratio": _u(rng, cfg.compression_ratio)}
    if rng.random() < cfg.saturation_probability:
        p["saturation"] = {"drive": _u(rng, cfg.saturation_drive), "mix": _u(rng, (0.3, 1.0))}
    if rng.random() < cfg.chorus_probability:
        p["chorus"] = {"rate_hz": _u(rng, (0.3, 1.5)), "depth_ms": _u(rng, (1.0, 4.0)),
                       "mix": _u(rng, (0.2, 0.5))}
    if rng.random() < cfg.delay_probability:
        p["delay"] = {"delay_s": _u(rng, (0.12, 0.45)), "feedback": _u(rng, cfg.delay_feedback),
                      "mix": _u(rng, (0.1, 0.35))}
    p["width"] = _u(rng, cfg.width_range)
    if rng.random() < cfg.pan_probability:
        p["pan"] = _u(rng, cfg.pan_range) * (0.3 if stem in _CENTRED else 1.0)
    if rng.random() < cfg.reverb_probability:
        p["reverb_wet"] = _u(rng, cfg.reverb_wet) * (0.5 if stem in ("bass", "drums") else 1.0)
    return p


def process_track(x: np.ndarray, p: dict, sample_rate: int, rng: np.random.Generator,
                  room: Room | None) -> np.ndarray:
    """One track ``(2, T)`` through the chain described by ``p``; unit-RMS input level reference."""
    rms = active_rms(x, sample_rate)
    if rms == 0.0:
        return x.astype(np.float32)
    y = x * np.float32(10 ** (p["level_db"] / 20) * 0.1 / rms)
    if "eq" in p:
        y = apply_eq(y, p["eq"], sample_rate)
    if "compression" in p:
        y = compress(y, sample_rate, **p["compression"])
    if "saturation" in p:
        y = saturate(y, **p["saturation"])
    if "chorus" in p:
        y = chorus(y, sample_rate, rng, **p["chorus"])
    if "delay" in p:
        y = echo(y, sample_rate, **p["delay"])
    if "width" in p:
        y = width(y, p["width"])
    if "pan" in p:
        y = pan(y, p["pan"])
    if "reverb_wet" in p and room is not None:
        y = apply_reverb(y, room, p["reverb_wet"])
    return y.astype(np.float32)


def _running_sum(signals: list[np.ndarray]) -> np.ndarray:
    # Only used to measure the mix (peak, RMS, bus gain), so no exactness is needed here; the
    # written mixture is summed exactly later, from the final stems.
    acc = np.array(signals[0], dtype=np.float32, copy=True)
    for x in signals[1:]:
        acc += x
    return acc


def mix_tracks(tracks: list[np.ndarray], stems: list[str], cfg: MixConfig, sample_rate: int,
               rng: np.random.Generator) -> tuple[list[np.ndarray], dict]:
    """Process every track ``(2, T)`` and apply the bus; returns the tracks and what was drawn."""
    room_meta, room = None, None
    if cfg.enabled and cfg.reverb_probability > 0:
        room_meta = {"t60": _u(rng, cfg.reverb_t60), "predelay": _u(rng, (0.0, 0.03))}
        room = Room(room_impulse_response(rng, sample_rate, **room_meta))
    levels = draw_stem_levels(rng, cfg, stems)
    params = [draw_track_params(rng, cfg, s, levels[s], stems.count(s)) for s in stems]
    if cfg.enabled:
        out = [process_track(x, p, sample_rate, rng, room) for x, p in zip(tracks, params)]
    else:  # dry: the synthesizer's own balance (MIDI velocities and volumes) is kept
        out = [np.asarray(x, np.float32) for x in tracks]
    bus: dict = {}
    if out and cfg.enabled:
        mix = _running_sum(out)
        peak_db = 20 * np.log10(np.abs(mix).max() + 1e-12)
        rms_db = 20 * np.log10(np.sqrt(np.mean(mix**2)) + 1e-12)
        threshold = None
        if rng.random() < cfg.bus_compression_probability:  # threshold relative to the mix RMS
            bus["compression_threshold_db"] = threshold = rms_db + _u(rng, (0.0, 6.0))
        limit = peak_db - _u(rng, (1.0, 6.0)) if cfg.bus_limiter else None
        if limit is not None:
            bus["limiter_db"] = limit
        gain = bus_gain(mix, sample_rate, threshold_db=threshold, limit_db=limit)
        out = [x * gain for x in out]
    if out:
        target = _u(rng, cfg.peak_db) if cfg.enabled else float(np.mean(cfg.peak_db))
        scale = np.float32(10 ** (target / 20) / (np.abs(_running_sum(out)).max() + 1e-12))
        out = [(x * scale).astype(np.float32, copy=False) for x in out]
        bus["peak_db"] = target
    return out, {"room": room_meta, "stem_levels_db": levels if cfg.enabled else {},
                 "tracks": params, "bus": bus}
