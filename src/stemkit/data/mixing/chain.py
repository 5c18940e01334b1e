"""The per-track effect chain and the mix bus, drawn at random from a :class:`MixConfig`.

Order per track: level -> compression -> saturation -> chorus -> delay, then the linear stage
EQ -> width -> pan -> reverb (one synthetic room per song, a wet amount per track) as one pass of
block FFTs (:mod:`.linear_stage`); :func:`mix_stems` sums the linear stages of the tracks written
into one stem and computes that stem's reverb once (:mod:`.stem_stage`). Then one bus gain curve (glue compression, limiter) and one peak
scale are applied to every track alike, so every sum of stems written afterwards is still exactly
the mixture.
"""

from __future__ import annotations

import numpy as np

from .colour import chorus, echo, saturate
from .config import MixConfig
from .dynamics import compression_curve, power_bus_gain
from .filters import random_eq
from .linear_stage import linear_stage
from .measure import active_rms, identical_channels
from ..render.stems import exact_sum
from .reverb import Room, room_impulse_response
from .stem_stage import LinearTrack, Processed, eq_spectra, render_stem

__all__ = ["active_rms", "draw_stem_levels", "draw_track_params", "mix_stems", "mix_tracks",
           "nonlinear_stage", "process_track"]

_CENTRED = ("drums", "bass", "vocals")  # mixed near the centre, as in commercial music


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
    y = nonlinear_stage(x, p, sample_rate, rng)
    if y is None:
        return np.array(x, np.float32)  # a copy: the bus scales the returned tracks in place
    wet = p.get("reverb_wet", 0.0) if room is not None else 0.0
    return linear_stage(y.audio(), sample_rate, eq=p.get("eq"), width=p.get("width", 1.0),
                        pan=p.get("pan", 0.0), room=room, wet=wet)


def nonlinear_stage(x: np.ndarray, p: dict, sample_rate: int,
                    rng: np.random.Generator) -> Processed | None:
    """Level, compression, saturation, chorus and delay of one track ``(2, T)``; None when the
    track is silent (it then bypasses the chain).

    Nothing here is computed that the linear stage can do for free: a mono track (identical
    channels) is processed as one channel until an effect makes it stereo (chorus, ping-pong
    echo); the level is a scalar that rides along (saturation is scale-invariant, chorus and
    echo are linear, and the compressor's threshold is moved instead), and a compressor's gain
    curve is left for the linear stage to multiply in unless a later effect needs it applied.
    """
    rms = active_rms(x, sample_rate)
    if rms == 0.0:
        return None
    gain = float(10 ** (p["level_db"] / 20) * 0.1 / rms)
    y = np.asarray(x, np.float32)
    if identical_channels(y):
        y = y[:1]
    curve = None
    if "compression" in p:
        curve = compression_curve(y, sample_rate, scale=gain, **p["compression"])
        gain = 1.0  # in the curve now
    if curve is not None and any(k in p for k in ("saturation", "chorus", "delay")):
        y, curve = y * curve, None
    if "saturation" in p:
        y = saturate(y, **p["saturation"])
    if ("chorus" in p or "delay" in p) and y.shape[0] == 1:
        y = np.concatenate([y, y])  # chorus and ping-pong echo make a mono track stereo
    if "chorus" in p:
        y = chorus(y, sample_rate, rng, **p["chorus"])
    if "delay" in p:
        y = echo(y, sample_rate, **p["delay"])
    return Processed(y, gain, curve)


_BUS_BLOCK = 1 << 16  # samples of the mix summed and squared at a time (in the core's cache)


def _mix_power(signals: list[np.ndarray]) -> tuple[np.ndarray, float]:
    """``(power (T,), energy)`` of the sum of ``signals`` (each (C, T)): ``max_c mix_c^2`` per
    sample and the sum of squares, a block at a time, so the mix itself is never stored.

    Only used to measure the mix (peak, RMS, bus gain), so no exactness is needed here; the
    written mixture is summed exactly later, from the final stems.
    """
    channels, n = signals[0].shape
    power = np.empty(n, np.float32)
    buf = np.empty((channels, min(n, _BUS_BLOCK)), np.float32)
    energy = 0.0
    for a in range(0, n, _BUS_BLOCK):
        m = min(_BUS_BLOCK, n - a)
        acc = buf[:, :m]
        np.copyto(acc, signals[0][:, a: a + m])
        for x in signals[1:]:
            acc += x[:, a: a + m]
        np.square(acc, out=acc)
        energy += float(np.einsum("ct->", acc))
        if channels == 2:
            np.maximum(acc[0], acc[1], out=power[a: a + m])
        else:
            np.max(acc, axis=0, out=power[a: a + m])
    return power, energy


def _draw_song(cfg: MixConfig, stems: list[str], sample_rate: int, rng: np.random.Generator):
    """The song's room (one for every track), stem levels and per-track settings."""
    room_meta, room = None, None
    if cfg.enabled and cfg.reverb_probability > 0:
        room_meta = {"t60": _u(rng, cfg.reverb_t60), "predelay": _u(rng, (0.0, 0.03))}
        room = Room(room_impulse_response(rng, sample_rate, **room_meta))
    levels = draw_stem_levels(rng, cfg, stems)
    params = [draw_track_params(rng, cfg, s, levels[s], stems.count(s)) for s in stems]
    return room_meta, room, levels, params


def _apply_bus(out: list[np.ndarray], cfg: MixConfig, sample_rate: int,
               rng: np.random.Generator) -> dict:
    """Scale every signal of ``out`` in place by the bus's one gain curve; returns what was drawn."""
    bus: dict = {}
    # Everything the bus measures comes from the mix's detector power max_c mix_c^2: its peak,
    # the compressor's and the limiter's levels, and the peak after them.
    power, energy = _mix_power(out)
    gain = None
    if cfg.enabled:
        peak_db = 10 * np.log10(float(power.max()) + 1e-24)
        rms_db = 10 * np.log10(energy / (out[0].size) + 1e-24)
        threshold = None
        if rng.random() < cfg.bus_compression_probability:  # threshold relative to the mix RMS
            bus["compression_threshold_db"] = threshold = rms_db + _u(rng, (0.0, 6.0))
        limit = peak_db - _u(rng, (1.0, 6.0)) if cfg.bus_limiter else None
        if limit is not None:
            bus["limiter_db"] = limit
        if threshold is not None or limit is not None:
            gain = power_bus_gain(power, sample_rate, threshold_db=threshold, limit_db=limit)  # scales power
    target = _u(rng, cfg.peak_db) if cfg.enabled else float(np.mean(cfg.peak_db))
    # The bus gain and the peak scale are one curve, multiplied into every signal once; the peak
    # is that of the measuring sum (float32 rounding apart, the exact sum written later).
    scale = np.float32(10 ** (target / 20) / (np.sqrt(float(power.max())) + 1e-12))
    curve = np.multiply(gain, scale, out=gain) if gain is not None else scale
    for x in out:  # every signal is the caller's own array: scale in place
        x *= curve
    bus["peak_db"] = target
    return bus


def mix_tracks(tracks: list[np.ndarray], stems: list[str], cfg: MixConfig, sample_rate: int,
               rng: np.random.Generator) -> tuple[list[np.ndarray], dict]:
    """Process every track ``(2, T)`` on its own (its own reverb) and apply the bus; returns the
    tracks and what was drawn."""
    room_meta, room, levels, params = _draw_song(cfg, stems, sample_rate, rng)
    if cfg.enabled:
        out = [process_track(x, p, sample_rate, rng, room) for x, p in zip(tracks, params)]
    else:  # dry: the synthesizer's own balance (MIDI velocities and volumes) is kept
        out = [np.array(x, np.float32) for x in tracks]  # copies, scaled in place below
    bus = _apply_bus(out, cfg, sample_rate, rng) if out else {}
    return out, {"room": room_meta, "stem_levels_db": levels if cfg.enabled else {},
                 "tracks": params, "bus": bus}


def mix_stems(tracks: list[np.ndarray], stems: list[str], keys: list[str], cfg: MixConfig,
              sample_rate: int, rng: np.random.Generator) -> tuple[dict, dict]:
    """Mix ``tracks`` (each ``(2, T)``) into one ``(2, T)`` signal per output key (``keys[i]``:
    the stem group or fine class that track ``i`` is written into); returns ``{key: audio}`` in
    order of first appearance and what was drawn.

    ``cfg.reverb_mode`` ``stem`` (default): each key's tracks go through their non-linear effects
    one by one, then their linear stages (EQ, placement, reverb send) are summed in the frequency
    domain and the key's reverb is computed once (:mod:`.stem_stage`). ``track``: every track
    through its own linear stage and reverb (:func:`mix_tracks`), then summed per key. Both draw
    the same random numbers: the same seed gives the same settings, and audio equal up to
    float32 rounding.
    """
    order = list(dict.fromkeys(keys))
    if cfg.reverb_mode == "track" or not cfg.enabled:
        out, meta = mix_tracks(tracks, stems, cfg, sample_rate, rng)
        shape = tracks[0].shape if tracks else (2, 0)
        return {k: exact_sum([y for y, kk in zip(out, keys) if kk == k], shape) for k in order}, meta
    if cfg.reverb_mode != "stem":
        raise ValueError(f"reverb_mode must be stem or track, not {cfg.reverb_mode!r}")
    room_meta, room, levels, params = _draw_song(cfg, stems, sample_rate, rng)
    linear: dict[str, list[LinearTrack]] = {k: [] for k in order}
    bypass: dict[str, list[np.ndarray]] = {k: [] for k in order}
    for x, p, k in zip(tracks, params, keys):  # track order: the chorus draws as in mix_tracks
        y = nonlinear_stage(x, p, sample_rate, rng)
        if y is None:
            bypass[k].append(np.asarray(x, np.float32))
            continue
        linear[k].append(LinearTrack(y.x, eq=p.get("eq"), width=p.get("width", 1.0), pan=p.get("pan", 0.0),
                                     wet=p.get("reverb_wet", 0.0), gain=y.gain, curve=y.curve))
    eq_specs = eq_spectra([linear[k] for k in order if linear[k]], sample_rate, room)  # one FFT call per size
    out = {}
    for k in order:
        audio = render_stem(linear[k], sample_rate, room, eq_specs) if linear[k] else None
        for x in bypass[k]:
            audio = np.array(x, np.float32) if audio is None else np.add(audio, x, out=audio)
        out[k] = audio
    bus = _apply_bus(list(out.values()), cfg, sample_rate, rng) if out else {}
    return out, {"room": room_meta, "stem_levels_db": levels, "tracks": params, "bus": bus}
