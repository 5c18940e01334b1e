"""Multichannel Wiener filtering with EM re-estimation (Duong, Vincent & Gribonval 2010;
Nugraha, Liutkus & Vincent 2016), the post-filter of Open-Unmix and the SiSEC oracle baselines.

Each source ``j`` is modelled, per bin ``(f, n)``, as a zero-mean complex Gaussian with covariance
``v_j(f, n) R_j(f)``: a power spectral density ``v_j`` times a spatial covariance ``R_j`` (C x C).
Given the mixture STFT ``x``, the MMSE estimate of each source is
``y_j = v_j R_j Cxx^-1 x`` with ``Cxx = sum_j v_j R_j``. EM alternates that E-step with
re-estimating ``v_j`` and ``R_j`` from the estimates (M-step).

Shapes: mixture STFT ``(C, F, N)``, sources ``(S, C, F, N)``. Frames are processed in blocks so
memory stays bounded on long songs. Stereo covariances are inverted in closed form, element-wise
(faster, and the batched ``torch.linalg.solve`` of this torch build is unsafe with several threads).
"""

from __future__ import annotations

import torch

from .arrays import to_tensor, like_input
from .stft import istft, stft

#: Frames per block when building and inverting the mixture covariances.
BLOCK_FRAMES = 256


#: Default regularisation (powers are measured with the mixture scaled to a peak of 10).
EPS = 1e-10


def source_statistics(y: torch.Tensor, eps: float) -> tuple[torch.Tensor, torch.Tensor]:
    """M-step: ``y (S, C, F, N)`` complex -> PSDs ``v (S, F, N)`` and spatial covariances
    ``R (S, F, C, C)`` (normalised by the total PSD over frames, as in Duong et al.)."""
    power = y.real.square() + y.imag.square()
    v = power.mean(dim=1)
    weight = v.sum(dim=-1) + eps  # (S, F)
    if y.shape[1] == 2:
        # Hermitian 2x2: two real diagonals and one cross term, no einsum over C x C.
        r11 = power[:, 0].sum(-1) / weight
        r22 = power[:, 1].sum(-1) / weight
        r12 = (y[:, 0] * y[:, 1].conj()).sum(-1) / weight
        R = torch.stack(
            [torch.stack([r11.to(y.dtype), r12], -1), torch.stack([r12.conj(), r22.to(y.dtype)], -1)],
            -2,
        )
        return v, R
    R = torch.einsum("scfn,sdfn->sfcd", y, y.conj()) / weight[..., None, None]
    return v, R


def _filter_block_stereo(xb: torch.Tensor, vb: torch.Tensor, R: torch.Tensor, load: float):
    """E-step on a block for C = 2, written out element-wise: ``xb (2, F, n)``, ``vb (S, F, n)``,
    ``R (S, F, 2, 2)`` -> ``(S, 2, F, n)``. Cxx is Hermitian, so its determinant is real."""
    r11, r12, r22 = R[..., 0, 0].real[..., None], R[..., 0, 1][..., None], R[..., 1, 1].real[..., None]
    c11 = (vb * r11).sum(0) + load
    c22 = (vb * r22).sum(0) + load
    c12 = (vb * r12).sum(0)
    # Double precision: c11*c22 - |c12|^2 cancels in float32 for nearly rank-1 (centre-panned) bins.
    det = c11.double() * c22.double() - (c12.real.double().square() + c12.imag.double().square())
    det = det.to(c11.dtype)
    x1, x2 = xb[0], xb[1]
    z1 = (c22 * x1 - c12 * x2) / det  # Cxx^-1 x
    z2 = (c11 * x2 - c12.conj() * x1) / det
    y1 = vb * (r11 * z1 + r12 * z2)  # v_j R_j Cxx^-1 x
    y2 = vb * (r12.conj() * z1 + r22 * z2)
    return torch.stack([y1, y2], dim=1)


def _filter_block(xb: torch.Tensor, vb: torch.Tensor, R: torch.Tensor, load: float):
    """E-step on a block for C != 2: ``xb (C, F, n)``, ``vb (S, F, n)``, ``R (S, F, C, C)``."""
    eye = torch.eye(xb.shape[0], dtype=xb.dtype, device=xb.device)
    vc = vb.to(xb.dtype)
    Cxx = torch.einsum("sfn,sfcd->fncd", vc, R) + load * eye
    inverse = 1.0 / Cxx if xb.shape[0] == 1 else torch.linalg.inv(Cxx)
    mixed = torch.einsum("fnde,efn->fnd", inverse, xb)  # Cxx^-1 x
    return torch.einsum("sfn,sfcd,fnd->scfn", vc, R, mixed)


def apply_filter(
    x: torch.Tensor,
    v: torch.Tensor,
    R: torch.Tensor,
    eps: float,
    block_frames: int = BLOCK_FRAMES,
) -> torch.Tensor:
    """E-step: mixture ``x (C, F, N)``, PSDs ``v (S, F, N)``, covariances ``R (S, F, C, C)``
    -> source estimates ``y_j = v_j R_j Cxx^-1 x``, ``(S, C, F, N)``."""
    channels, frames = x.shape[0], x.shape[-1]
    out = torch.empty((v.shape[0],) + tuple(x.shape), dtype=x.dtype, device=x.device)
    # A small diagonal load keeps Cxx invertible where every source is silent.
    load = eps**0.5
    block = _filter_block_stereo if channels == 2 else _filter_block
    for start in range(0, frames, block_frames):
        stop = min(start + block_frames, frames)
        out[..., start:stop] = block(x[..., start:stop], v[..., start:stop], R, load)
    return out


def expectation_maximization(
    y: torch.Tensor,
    x: torch.Tensor,
    iterations: int,
    eps: float,
    block_frames: int = BLOCK_FRAMES,
) -> torch.Tensor:
    """Run ``iterations`` of (M-step, E-step) from initial estimates ``y (S, C, F, N)`` of the
    mixture ``x (C, F, N)``; returns refined estimates ``(S, C, F, N)``."""
    for _ in range(iterations):
        v, R = source_statistics(y, eps)
        y = apply_filter(x, v, R, eps, block_frames)
    return y


def wiener(
    mix_stft: torch.Tensor,
    source_magnitudes: torch.Tensor,
    iterations: int = 1,
    softmask: bool = False,
    residual: bool = False,
    eps: float = EPS,
    block_frames: int = BLOCK_FRAMES,
) -> torch.Tensor:
    """Multichannel Wiener filter with EM.

    Args:
        mix_stft: mixture STFT ``(C, F, N)`` complex.
        source_magnitudes: non-negative magnitude estimates ``(S, C, F, N)``.
        iterations: EM iterations; 0 returns the initial estimates.
        softmask: initialise with ratio masks ``|s_j| / sum_k |s_k|`` on the mixture; otherwise
            with the given magnitudes and the mixture phase.
        residual: append one more source, the mixture minus the initial estimates (for models
            that estimate only some of the sources).
        eps: regularisation of PSD ratios; ``sqrt(eps)`` loads the covariance diagonal.
        block_frames: frames per block, to bound memory.

    Returns:
        source STFTs ``(S, C, F, N)`` (``S + 1`` with ``residual``).
    """
    x = to_tensor(mix_stft)
    mags = to_tensor(source_magnitudes)
    if not x.is_complex():
        raise TypeError("mix_stft must be complex")
    if mags.shape[1:] != x.shape:
        raise ValueError(
            f"source_magnitudes {tuple(mags.shape)} do not match mix_stft {tuple(x.shape)}"
        )
    eps = float(eps)
    # Work at a scale where powers neither underflow nor overflow float32.
    scale = max(1.0, float(x.abs().max()) / 10.0)
    x = x / scale
    mags = mags.to(x.real.dtype) / scale
    if softmask:
        mask = mags / (mags.sum(dim=0, keepdim=True) + eps)
        y = mask * x
    else:
        phase = x / (x.abs() + eps)
        y = mags * phase
    if residual:
        y = torch.cat([y, (x - y.sum(dim=0)).unsqueeze(0)], dim=0)
    y = expectation_maximization(y, x, iterations, eps, block_frames)
    return y * scale


def wiener_postfilter(
    mix,
    stems,
    iterations: int = 1,
    n_fft: int = 4096,
    hop: int = 1024,
    softmask: bool = False,
):
    """Refine any separator's waveform estimates with a multichannel Wiener filter.

    ``mix (C, T)`` and ``stems (S, C, T)`` (numpy or torch) -> refined stems ``(S, C, T)`` of the
    same type. The stems' magnitudes become the source models; the mixture is re-filtered, so
    the result sums to the mixture (up to the regularisation).
    """
    x = to_tensor(mix)
    s = to_tensor(stems)
    if s.shape[1:] != x.shape:
        raise ValueError(f"stems {tuple(s.shape)} do not match mix {tuple(x.shape)}")
    if iterations < 1:
        return like_input(s, mix)
    X = stft(x, n_fft, hop)
    mags = stft(s, n_fft, hop).abs()
    Y = wiener(X, mags, iterations=iterations, softmask=softmask)
    return like_input(istft(Y, x.shape[-1], n_fft, hop), mix)
