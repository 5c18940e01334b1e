"""The linear end of the chain for a whole stem: one reverb (one inverse FFT pass) per stem.

Every track's EQ, width, pan and reverb send is linear and time-invariant, and every track of a
song shares the song's room, so a stem of tracks ``t`` is

    Y_c(f) = sum_t X_t,c(f) * H_eq,t(f) * ((1 - wet_t) + wet_t * g_t * R_c(f))

(``X_t`` the placed track, ``R_c`` the room's response for ear ``c``): each track's dry path plus
the room's response to the sum of the tracks' sends. It is computed block by block: one forward
FFT per track channel, the products summed in the frequency domain, then ONE inverse FFT per
stem channel instead of one per track channel; every block of every track goes through one
forward FFT call and the stem's ears through one inverse call (torch pays a plan set-up per
call). A track arrives as ``gain * curve * x`` (:class:`Processed`): its level, placement and
compressor curve are applied while its blocks are copied into the FFT buffer, and a mono track
is one channel whose placement is folded into its response. The result equals the sum of
:func:`.linear_stage.linear_stage` over the stem's tracks up to float32 rounding (tested).

Tracks with neither EQ nor reverb need no FFT: their placement (a 2x2 matrix) is applied in the
time domain and added to the stem.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .filters import EQ_TAIL_SECONDS
from .linear_stage import PSD_FFT, _eq_impulse, reverb_gain
from .reverb import Room
from .spectral import _CHUNK_FLOATS, BlockPlan, block_plan, impulse_spectrum, one_thread
from .measure import identical_channels
from .stereo import placement_matrix


@dataclass
class Processed:
    """A track after its non-linear effects, as ``gain * curve * x``: ``x`` (K, T) with K = 1 for
    a mono track (its one channel feeds both ears), ``curve`` (T,) a compressor's gain curve not
    yet multiplied in (or None), ``gain`` a scalar level."""

    x: np.ndarray
    gain: float = 1.0
    curve: np.ndarray | None = None

    def audio(self) -> np.ndarray:
        """The track as a new ``(2, T)`` float32 array."""
        y = self.x * np.float32(self.gain)
        if self.curve is not None:
            y *= self.curve
        return np.concatenate([y, y]) if y.shape[0] == 1 else y


@dataclass
class LinearTrack:
    """One track after its non-linear effects - ``gain * curve * x``, ``x`` (2, T) or (1, T) for
    a mono track, ``curve`` (T,) or None - and its linear settings."""

    x: np.ndarray
    eq: list | None = None
    width: float = 1.0
    pan: float = 0.0
    wet: float = 0.0  # reverb send (energy ratio); 0 or no room: dry only
    gain: float = 1.0
    curve: np.ndarray | None = None

    def tail(self, room: Room | None, sample_rate: int) -> int:
        """Samples of response past a block that the block FFTs must leave room for."""
        eq_tail = int(EQ_TAIL_SECONDS * sample_rate) if self.eq else 0  # = len(_eq_impulse)
        return eq_tail + (room.length if self.reverberant(room) else 0)

    def reverberant(self, room: Room | None) -> bool:
        return room is not None and self.wet > 0

    def filtered(self, room: Room | None) -> bool:
        return bool(self.eq) or self.reverberant(room)

    def source(self) -> np.ndarray:
        """``x`` as float32 with a mono track's identical channels reduced to one, (K, T)."""
        x = np.asarray(self.x, np.float32)
        return x[:1] if identical_channels(x) else x


@dataclass
class _Part:
    """One track's share of a stem's block FFTs: FFT source ``k`` is ``(sum_i mix[k, i] x[i]) *
    curve``, and output ear ``c`` gets ``source[k] * response[c]`` (``k = c``, or 0 when K = 1)."""

    x: torch.Tensor  # (K_in, T)
    mix: np.ndarray  # (K, K_in) float32
    curve: torch.Tensor | None  # (T,)
    response: torch.Tensor  # (2, 1, F) complex64

    @property
    def n_sources(self) -> int:
        return self.mix.shape[0]


def _placed(x: np.ndarray, matrix: np.ndarray, curve: np.ndarray | None = None) -> np.ndarray:
    """``matrix`` (2, K) applied to ``x`` (K, T) (and the ``curve`` (T,)), into a new (2, T) array."""
    m = matrix.astype(np.float32)
    out = np.empty((2, x.shape[-1]), np.float32)
    scratch = np.empty_like(out[0])
    for c in range(2):
        np.multiply(x[0], m[c, 0], out=out[c])
        for i in range(1, x.shape[0]):
            out[c] += np.multiply(x[i], m[c, i], out=scratch)
        if curve is not None:
            out[c] *= curve
    return out


def track_transfer(track: LinearTrack, sample_rate: int, room: Room | None, n_fft: int,
                   eq_spec: np.ndarray | None = None) -> _Part:
    """The track's FFT sources and per-ear response (see :class:`_Part`): a stereo track is
    placed (width, pan, level) as it is copied into the blocks and filtered per ear; a mono
    track's one channel is transformed once, its placement and level folded into the response.
    ``eq_spec``: the EQ's spectrum at ``n_fft`` points when the caller has it (see
    :func:`render_stem`)."""
    x = track.source()
    matrix = placement_matrix(track.width, track.pan)
    n_bins = n_fft // 2 + 1
    if eq_spec is None:
        eq_spec = (impulse_spectrum(_eq_impulse(track.eq, sample_rate), n_fft) if track.eq
                   else np.ones(n_bins, np.complex64))
    # response (2, F) complex64, built in place: EQ x ((1 - wet) + wet g R_c) per ear
    if track.reverberant(room):
        eq_power = np.abs(eq_spec[:: n_fft // PSD_FFT]) ** 2 if track.eq else 1.0
        g = reverb_gain(x, matrix, eq_power, room, curve=track.curve)
        response = np.multiply(room.spectrum(n_fft), np.float32(track.wet * g))
        response += np.float32(1.0 - track.wet)
        response *= eq_spec
    else:
        response = np.repeat(eq_spec[None, :], 2, axis=0)
    if x.shape[0] == 1:
        response *= (matrix.sum(axis=1) * track.gain).astype(np.float32)[:, None]
        mix = np.ones((1, 1), np.float32)
    else:
        mix = (matrix * track.gain).astype(np.float32)
    curve = None if track.curve is None else torch.from_numpy(np.ascontiguousarray(track.curve, np.float32))
    return _Part(torch.from_numpy(np.ascontiguousarray(x)), mix, curve,
                 torch.from_numpy(response.astype(np.complex64, copy=False))[:, None, :])


def stem_plan(tracks: list[LinearTrack], sample_rate: int, room: Room | None) -> BlockPlan | None:
    """The block plan of a stem's filtered tracks (None when no track needs FFTs)."""
    filtered = [t for t in tracks if t.filtered(room)]
    if not filtered:
        return None
    return block_plan(tracks[0].x.shape[-1], max(t.tail(room, sample_rate) for t in filtered))


def eq_spectra(stems: list[list[LinearTrack]], sample_rate: int, room: Room | None) -> dict[int, np.ndarray]:
    """``{id(track): EQ spectrum at its stem's FFT size}`` for every filtered track with an EQ of
    ``stems``: one torch FFT call per FFT size (each call pays a plan set-up of ~3 ms at 2^18
    points, more than the transform of a 0.1 s impulse response)."""
    by_size: dict[int, list[LinearTrack]] = {}
    for tracks in stems:
        plan = stem_plan(tracks, sample_rate, room)
        if plan is not None:
            by_size.setdefault(plan.n_fft, []).extend(t for t in tracks if t.filtered(room) and t.eq)
    spectra = {}
    for n_fft, tracks in by_size.items():
        if tracks:
            specs = impulse_spectrum(np.stack([_eq_impulse(t.eq, sample_rate) for t in tracks]), n_fft)
            spectra.update({id(t): specs[i] for i, t in enumerate(tracks)})
    return spectra


def render_stem(tracks: list[LinearTrack], sample_rate: int, room: Room | None,
                eq_specs: dict[int, np.ndarray] | None = None) -> np.ndarray:
    """``(2, T)`` float32: the sum of ``tracks`` through their linear stages, the reverb of the
    whole stem computed once (see the module docstring). ``eq_specs``: :func:`eq_spectra` of the
    song's stems, computed together (else this stem's own)."""
    out = None
    plan = stem_plan(tracks, sample_rate, room)
    if plan is not None:
        # The stem's tracks' blocks are one forward FFT call and its two ears one inverse call
        # (a 30 s stem of up to two stereo tracks at once; longer ones in chunks). Batching every
        # stem of a song into one call measured 5-10 % slower: the working set outgrows the cache.
        if eq_specs is None:
            eq_specs = eq_spectra([tracks], sample_rate, room)
        flat = np.ones(plan.n_bins, np.complex64)
        parts = [track_transfer(t, sample_rate, room, plan.n_fft, eq_specs.get(id(t), flat))
                 for t in tracks if t.filtered(room)]
        with one_thread():
            out = _summed_transfer(parts, plan)
    for t in tracks:  # memoryless tracks: placement only, in the time domain
        if not t.filtered(room):
            x = t.source()
            matrix = placement_matrix(t.width, t.pan) * t.gain
            placed = _placed(x, matrix.sum(axis=1, keepdims=True) if x.shape[0] == 1 else matrix, t.curve)
            out = placed if out is None else np.add(out, placed, out=out)
    return out


def _fill(frames: torch.Tensor, part: _Part, k: int, start: int, count: int, plan: BlockPlan) -> None:
    """Write FFT source ``k`` of ``part`` for blocks ``start // block ..`` + ``count`` into the
    first ``block`` samples of each of ``frames`` (count, n_fft); zero past the signal's end."""
    n, b = plan.n_samples, plan.block
    whole = min(count, (n - start) // b)  # blocks fully inside the signal
    spans = []
    if whole:
        spans.append((frames[:whole, :b], start, whole * b, (whole, b)))
    if whole < count:  # the last, partial block (zero beyond the signal)
        frames[whole:count, :b] = 0.0
        rest = n - (start + whole * b)
        spans.append((frames[whole, :rest], start + whole * b, rest, (rest,)))
    row = part.mix[k]
    for dst, at, length, shape in spans:
        inputs = [part.x[i, at: at + length].view(shape) for i in range(len(row))]
        torch.mul(inputs[0], float(row[0]), out=dst)
        for i in range(1, len(row)):
            if row[i] != 0:
                dst.add_(inputs[i], alpha=float(row[i]))
        if part.curve is not None:
            dst.mul_(part.curve[at: at + length].view(shape))


def _summed_transfer(parts: list[_Part], plan: BlockPlan) -> np.ndarray:
    """``(2, T)``: the sum over ``parts`` of their sources through their responses (see
    :class:`_Part`), by overlap-add of ``plan`` blocks with one inverse FFT per ear.

    The blocks of every source of every part go through one forward FFT call and the summed
    spectra through one inverse call, chunk by chunk (``_CHUNK_FLOATS`` of blocks at a time).
    """
    n, b, n_fft = plan.n_samples, plan.block, plan.n_fft
    rows = sum(part.n_sources for part in parts)
    per_chunk = min(plan.n_blocks, max(1, _CHUNK_FLOATS // (max(rows, 2) * n_fft)))
    overlap = n_fft - b  # block j's first ``overlap`` samples add to earlier blocks; the rest is new
    out = torch.empty((2, plan.n_blocks * b + n_fft), dtype=torch.float32)
    out[:, :overlap] = 0.0  # the only samples added to before anything is written there
    frames = torch.empty((rows, per_chunk, n_fft), dtype=torch.float32)
    frames[:, :, b:] = 0.0  # the zero padding of every block; the first b samples are overwritten
    acc_buffer = torch.empty((2, per_chunk, plan.n_bins), dtype=torch.complex64)
    for first in range(0, plan.n_blocks, per_chunk):
        count = min(per_chunk, plan.n_blocks - first)
        start = first * b
        row = 0
        for part in parts:
            for j in range(part.n_sources):
                _fill(frames[row + j], part, j, start, count, plan)
            row += part.n_sources
        spec = torch.fft.rfft(frames[:, :count], dim=-1)  # (rows, count, F): one call
        acc = acc_buffer[:, :count]
        row = 0
        for i, part in enumerate(parts):
            k = part.n_sources
            src = spec[row: row + k].expand(2, -1, -1)  # a mono track feeds both ears (a view)
            if i == 0:
                torch.mul(src, part.response, out=acc)  # (2, count, F)
            else:
                acc.addcmul_(src, part.response)
            row += k
        blocks = torch.fft.irfft(acc, n=n_fft, dim=-1)  # (2, count, n_fft)
        for j in range(count):
            at = start + j * b
            out[:, at: at + overlap] += blocks[:, j, :overlap]
            out[:, at + overlap: at + n_fft] = blocks[:, j, overlap:]
    return out[:, :n].numpy()
