"""BSS Eval v4 with whole-track filters in bounded memory.

museval's v4 fits its 512-tap filters from the correlations of whole signals, computed through FFTs
of ``next_pow2(T + 511)`` points (4.3 GB of spectra alone for a 10-minute stereo 4-stem track).
Only ``2 * 511 + 1`` lags of each correlation are used, and a correlation is a sum over time, so
here the same lags are *accumulated block by block* (each block read with a 511-sample margin on
each side). The filters are then solved, and every frame decomposed and scored, with museval's own
helpers (``_reshape_G``, ``_bss_decomp_mtifilt``, ``_bss_crit``), in museval's order. The result is
museval's v4 up to floating-point rounding (``tests/evaluate/test_metrics.py`` checks 1e-6 dB),
with memory set by the block length instead of the track length.
"""

from __future__ import annotations

import itertools

import numpy as np
from scipy.fft import irfft, next_fast_len, rfft
from scipy.linalg import toeplitz

FILTERS_LEN = 512  # museval's default distortion-filter length


def _lagged_correlations(x: np.ndarray, y: np.ndarray, block: int, L: int) -> np.ndarray:
    """``R[a, b, k + L - 1] = sum_t x[a, t] * y[b, t - k]`` for lags ``|k| < L``.

    ``x (A, T)``, ``y (B, T)`` (any float dtype; sums in float64); returns ``(A, B, 2L - 1)``.
    Computed per block of ``block`` samples of ``x`` with ``y`` read ``L - 1`` samples beyond each
    side (zeros outside), so the sums are exact, not circular, and memory does not grow with ``T``.
    """
    A, T = x.shape
    B = y.shape[0]
    out = np.zeros((A, B, 2 * L - 1))
    for start in range(0, T, block):
        stop = min(start + block, T)
        lo, hi = start - (L - 1), stop + (L - 1)
        y_ext = np.zeros((B, hi - lo))  # float64 per block: inputs stay float32 (half the memory)
        a, b = max(lo, 0), min(hi, T)
        y_ext[:, a - lo:b - lo] = y[:, a:b]
        n = next_fast_len(hi - lo)
        X = rfft(x[:, start:stop].astype(np.float64), n, axis=-1)
        Y = rfft(y_ext, n, axis=-1)
        for i in range(A):
            # corr[m] = sum_n y_ext[n + m] x[n] = R[k] with k = (L - 1) - m, m = 0 .. 2L - 2
            corr = irfft(Y * np.conj(X[i]), n, axis=-1)[:, : 2 * L - 1]
            out[i] += corr[:, ::-1]
    return out


def _solve_filters(G: np.ndarray, D: np.ndarray) -> np.ndarray:
    """museval's least-squares projection filters: ``(G + eps I) C = D`` (its ``_compute_projection_filters``)."""
    from museval.metrics import _reshape_G

    nsrc, nchan, L = G.shape[0], G.shape[2], G.shape[-1]
    Gm = _reshape_G(G)
    Gm[np.diag_indices_from(Gm)] += np.finfo(float).eps
    try:
        C = np.linalg.solve(Gm, D.reshape(nsrc * nchan * L, nchan))
    except np.linalg.LinAlgError:
        C = np.linalg.lstsq(Gm, D.reshape(nsrc * nchan * L, nchan), rcond=None)[0]
    return C.reshape(nsrc, nchan, L, nchan)


def track_filters(references: np.ndarray, estimates: np.ndarray, block: int, L: int = FILTERS_LEN):
    """Whole-track v4 filters ``C (S, S, C, L, C)`` and ``Cj (S, C, L, C)`` from ``(S, C, T)`` arrays.

    Same quantities as museval's ``compute_GsfC`` / ``compute_Cj`` without a permutation search.
    """
    S, nchan, T = references.shape
    refs = references.reshape(S * nchan, T)  # views: blocks are converted to float64 one by one
    ests = estimates.reshape(S * nchan, T)
    R_rr = _lagged_correlations(refs, refs, block, L)  # (S*C, S*C, 2L-1)
    R_re = _lagged_correlations(refs, ests, block, L)
    zero = L - 1

    G = np.zeros((S, S, nchan, nchan, L, L))
    for (i, c1), (j, c2) in itertools.combinations_with_replacement(
        itertools.product(range(S), range(nchan)), 2
    ):
        r = R_rr[j * nchan + c2, i * nchan + c1]  # R[k] = sum_t ref_j,c2[t] ref_i,c1[t - k]
        ss = toeplitz(r[zero::-1], r[zero:])  # column: lags 0, -1, ..; row: lags 0, 1, ..
        G[j, i, c2, c1] = ss
        G[i, j, c1, c2] = ss.T

    C = np.zeros((S, S, nchan, L, nchan))
    Cj = np.zeros((S, nchan, L, nchan))
    for jest in range(S):
        # D[j, cj, m, c] = sum_t ref_j,cj[t] est_c[t + m], m = 0 .. L-1
        D = np.zeros((S, nchan, L, nchan))
        for j, cj, c in itertools.product(range(S), range(nchan), range(nchan)):
            D[j, cj, :, c] = R_re[j * nchan + cj, jest * nchan + c][zero::-1]
        C[jest] = _solve_filters(G, D)
        Cj[jest] = _solve_filters(G[jest : jest + 1, jest : jest + 1], D[jest : jest + 1])[0]
    return C, Cj


def bss_eval_v4_stream(
    references: np.ndarray, estimates: np.ndarray, window: int, block: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """``(SDR, ISR, SIR, SAR)``, each ``(S, N)``, for ``(S, C, T)`` inputs of equal shape.

    Windows = hop = ``window`` samples (museval's framing); ``block`` samples per correlation
    block. A frame where any reference or estimate is silent is NaN, as in museval.
    """
    from museval.metrics import Framing, _any_source_silent, _bss_crit, _bss_decomp_mtifilt

    S, nchan, T = references.shape
    framer = Framing(window, window, T)
    scores = np.full((4, S, framer.nwin), np.nan)
    C, Cj = track_filters(references, estimates, block)
    for t, win in enumerate(framer):
        ref = np.ascontiguousarray(references[..., win].transpose(0, 2, 1), dtype=np.float64)
        est = np.ascontiguousarray(estimates[..., win].transpose(0, 2, 1), dtype=np.float64)
        if _any_source_silent(ref) or _any_source_silent(est):
            continue
        for j in range(S):
            parts = _bss_decomp_mtifilt(ref, est[j], j, C[j], Cj[j])
            scores[:, j, t] = _bss_crit(*parts, False)
    return scores[0], scores[1], scores[2], scores[3]
