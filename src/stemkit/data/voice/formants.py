"""Vowel formant tracks that glide between syllables, applied as a time-varying filter.

The filter runs in the STFT domain: each frame's spectrum is multiplied by the magnitude response
of a cascade of five second-order resonators at that frame's formants. The tracks are smoothed over
~50 ms so the vocal tract moves between vowels instead of jumping.
"""

from __future__ import annotations

import numpy as np
import torch
from scipy.ndimage import uniform_filter1d

from ..mixing.spectral import one_thread
from .characters import VoiceCharacter
from .score import SungNote

# Hop N/2: the formant tracks move over ~50 ms, so 11.6 ms frames cross-faded by the Hann window
# follow them; N/4 (the session-2 setting) doubled the frames for no audible change.
N_FFT, HOP = 1024, 512
OVERLAP = N_FFT // HOP

# Voiced consonants shape the first tens of ms of a note like a vowel with its own formants.
_CONSONANT_FORMANTS = {
    "m": (280, 1100, 2300, 3000, 3500), "n": (280, 1600, 2500, 3100, 3600),
    "l": (360, 1300, 2700, 3100, 3500), "r": (420, 1300, 1700, 3000, 3500),
    "w": (300, 650, 2200, 2900, 3400),
}
CONSONANT_SECONDS = 0.05


def formant_tracks(notes: list[SungNote], n_frames: int, sample_rate: int,
                   voice: VoiceCharacter, smooth_seconds: float = 0.05,
                   f0: np.ndarray | None = None) -> np.ndarray:
    """Formant frequencies per frame, ``(n_frames, 5)`` Hz; the vowel is held through rests.

    With ``f0`` (Hz per frame) F1 is kept above the fundamental, as trained high voices do
    ("formant tuning"): a first formant below f0 would leave the fundamental unsupported.
    """
    times = np.arange(n_frames) * HOP / sample_rate
    first = voice.vowel_formants(notes[0].vowel if notes else "a")
    tracks = np.tile(np.array(first, float), (n_frames, 1))
    female = voice.formants["a"][0] > 700
    for n in notes:
        a = int(np.searchsorted(times, n.start))
        tracks[a:] = voice.vowel_formants(n.vowel)
        if n.consonant in _CONSONANT_FORMANTS:
            b = int(np.searchsorted(times, n.start + CONSONANT_SECONDS))
            scale = voice.formant_scale * (1.15 if female else 1.0)
            tracks[a:b] = np.array(_CONSONANT_FORMANTS[n.consonant]) * scale
    width = max(1, int(round(smooth_seconds * sample_rate / HOP)))
    tracks = uniform_filter1d(tracks, width, axis=0, mode="nearest")
    if f0 is not None:
        tracks[:, 0] = np.maximum(tracks[:, 0], 1.15 * f0[:n_frames])
        tracks[:, 1] = np.maximum(tracks[:, 1], tracks[:, 0] + 250.0)
    return tracks


def formant_response(tracks: np.ndarray, bandwidths, sample_rate: int) -> np.ndarray:
    """Magnitude response ``(n_frames, N_FFT//2+1)`` of cascaded resonators, unity gain at DC."""
    w2 = (np.fft.rfftfreq(N_FFT, 1.0 / sample_rate) ** 2).astype(np.float32)[None, :]
    power = None
    for i, bw in enumerate(bandwidths):  # one resonator at a time keeps the arrays 2-D and small
        f2 = (tracks[:, i:i + 1] ** 2).astype(np.float32)
        term = w2 - f2  # |H|^2 = f^4 / ((f^2 - w^2)^2 + bw^2 w^2), computed in place
        np.square(term, out=term)
        term += np.float32(bw * bw) * w2
        np.divide(f2 * f2, term, out=term)
        if power is None:
            power = term
        else:
            power *= term
    if power is None:
        return np.ones((tracks.shape[0], w2.shape[1]), np.float32)
    return np.sqrt(power, out=power)


def apply_formants(source: np.ndarray, tracks_fn, bandwidths, sample_rate: int) -> np.ndarray:
    """Filter ``source`` (T,) by per-frame responses; ``tracks_fn(n_frames)`` gives the tracks.

    Weighted overlap-add with a periodic Hann window at hop N/OVERLAP, whose overlapped sum is
    exactly OVERLAP/2, so an all-pass response returns the input unchanged.
    """
    n = len(source)
    lead = N_FFT - HOP  # lead-in so that sample 0 lies under OVERLAP frames
    n_frames = -(-n // HOP) + OVERLAP - 1  # every source sample lies under OVERLAP frames
    padded = np.zeros((n_frames + OVERLAP - 1) * HOP, np.float32)
    padded[lead: lead + n] = source
    frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP]  # (n_frames, N_FFT)
    window = (0.5 - 0.5 * np.cos(2 * np.pi * np.arange(N_FFT) / N_FFT)).astype(np.float32)
    # Rests are digital silence: only frames holding sound are transformed and filtered (a silent
    # frame's filtered output is zero whatever the response).
    hop_sound = np.abs(padded).reshape(-1, HOP).max(axis=1) > 0  # frame k spans hops k..k+OVERLAP-1
    sounding = hop_sound[:len(frames)].copy()
    for k in range(1, OVERLAP):
        sounding |= hop_sound[k: k + len(frames)]
    active = np.flatnonzero(sounding)
    tracks = tracks_fn(len(frames))
    with one_thread():  # torch's FFT (MKL): ~1.7x pocketfft's on these 1024-point frames
        spec = torch.fft.rfft(torch.from_numpy(frames[active] * window), dim=1)
        spec *= torch.from_numpy(formant_response(tracks[active], bandwidths, sample_rate))
        blocks = np.zeros((len(frames), N_FFT), np.float32)
        blocks[active] = torch.fft.irfft(spec, N_FFT, dim=1).numpy()
    out = np.zeros((len(padded) // HOP, HOP), np.float32)  # the padded signal, hop by hop
    for k in range(OVERLAP):  # overlap-add, one hop of every frame at a time (2-D views, no copies)
        out[k: k + len(blocks)] += blocks[:, k * HOP:(k + 1) * HOP]
    out = out.reshape(-1)[lead: lead + n]
    return out if OVERLAP == 2 else out / np.float32(OVERLAP / 2)
