"""Mixture invariant training (MixIT, Wisdom et al. 2020): a loss that needs no stems.

Two unlabelled mixtures ``x_1, x_2`` are summed into a mixture of mixtures (MoM) and the model
separates the MoM into its ``S`` outputs. Each way of giving every output to one of the ``M``
reference mixtures (``M^S`` assignments; 16 for four outputs and two mixtures) rebuilds each
mixture as the sum of its outputs; the loss is that of the best assignment, per item.

The per-mixture loss is the paper's negative thresholded SNR,
``-10 log10(||x||^2 / (||x - x_hat||^2 + tau ||x||^2))``, ``tau = 10^(tau_db / 10)``: ``tau``
caps how far one well-separated item can pull (at ``-tau_db`` dB), so the hard items keep the
gradient. A power floor ``e`` (as in the ``sdr`` loss) is added to both energies so a silent
mixture gives a finite loss that only asks for quiet outputs.

Not in the loss registry: registered losses compare ``(B, S, C, T)`` estimates with targets of the
same shape, MixIT compares them with ``M`` mixtures. The training loop calls :func:`mixit_loss`
itself (``data.unlabelled`` in the training config).
"""

from __future__ import annotations

import itertools
from functools import lru_cache

import torch

from stemkit.errors import ConfigError


@lru_cache(maxsize=16)
def assignments(outputs: int, mixtures: int = 2) -> torch.Tensor:
    """Every assignment of ``outputs`` outputs to ``mixtures`` mixtures as 0/1 matrices:
    ``(mixtures ** outputs, mixtures, outputs)`` float32, one 1 per column."""
    choices = torch.tensor(list(itertools.product(range(mixtures), repeat=outputs)), dtype=torch.long)
    return torch.nn.functional.one_hot(choices, mixtures).transpose(1, 2).float()


def check_mixit_args(tau_db: float, floor_db: float) -> None:
    if not -80.0 <= float(tau_db) <= 0.0:
        raise ConfigError(f"tau_db: the SNR threshold must be in [-80, 0] dB, got {tau_db}")
    if not -150.0 <= float(floor_db) <= 0.0:
        raise ConfigError(f"floor_db: must be in [-150, 0] dB, got {floor_db}")


def best_assignment(estimate: torch.Tensor, mixtures: torch.Tensor, tau_db: float = -30.0,
                    floor_db: float = -60.0) -> torch.Tensor:
    """The loss-minimising assignment of each item: ``(B, M, S)`` 0/1.

    ``estimate (B, S, C, T)``, ``mixtures (B, M, C, T)``. All ``M^S`` candidates are scored at once
    from inner products (``||x - A s||^2 = ||x||^2 - 2 A <x, s> + A <s, s'> A^T``), so the
    ``(B, M^S, M, C, T)`` reconstructions are never formed. In float64: the expansion subtracts
    energies that nearly cancel for a good assignment.
    """
    with torch.no_grad():
        s = estimate.detach().flatten(2).double()  # (B, S, N)
        x = mixtures.detach().flatten(2).double()  # (B, M, N)
        gram = s @ s.transpose(1, 2)  # (B, S, S)
        cross = x @ s.transpose(1, 2)  # (B, M, S)
        energy = x.pow(2).sum(-1)  # (B, M)
        a = assignments(s.shape[1], x.shape[1]).to(s.device, torch.float64)  # (K, M, S)
        quad = torch.einsum("kms,bst,kmt->bkm", a, gram, a)
        lin = torch.einsum("kms,bms->bkm", a, cross)
        error = (energy[:, None] - 2.0 * lin + quad).clamp_min(0.0)  # (B, K, M)
        loss = _snr_loss(energy[:, None], error, tau_db, floor_db, s.shape[-1]).sum(-1)  # (B, K)
        best = loss.argmin(dim=1)
        return a[best].to(estimate.dtype)


def _snr_loss(energy: torch.Tensor, error: torch.Tensor, tau_db: float, floor_db: float,
              size: int) -> torch.Tensor:
    """``-10 log10((||x||^2 + e) / (||x - x_hat||^2 + tau ||x||^2 + e))``, element-wise."""
    tau = 10.0 ** (float(tau_db) / 10.0)
    floor = 10.0 ** (float(floor_db) / 10.0) * size
    return 10.0 * torch.log10((error + tau * energy + floor) / (energy + floor))


def mixit_loss(estimate: torch.Tensor, mixtures: torch.Tensor, *, tau_db: float = -30.0,
               floor_db: float = -60.0) -> torch.Tensor:
    """MixIT loss: mean over items of the best assignment's summed per-mixture loss, divided by ``M``.

    ``estimate (B, S, C, T)``: the model's outputs for the MoM ``mixtures.sum(1)``;
    ``mixtures (B, M, C, T)``: the mixtures it was summed from (``M = 2`` in the paper). Divided by
    ``M`` so the value reads in dB per mixture, like the ``sdr`` loss (the minimising assignment is
    the same). ``floor_db``: power floor per sample (``e = 10^(floor_db/10) * C * T``) that keeps a
    silent mixture finite. Returns a scalar; gradients flow through the chosen assignment.
    """
    if estimate.dim() != 4 or mixtures.dim() != 4 or estimate.shape[0] != mixtures.shape[0] \
            or estimate.shape[2:] != mixtures.shape[2:]:
        raise ValueError(f"mixit_loss: estimate (B, S, C, T) and mixtures (B, M, C, T) must agree on B, C, T; "
                         f"got {tuple(estimate.shape)} and {tuple(mixtures.shape)}")
    estimate, mixtures = estimate.float(), mixtures.float()
    chosen = best_assignment(estimate, mixtures, tau_db, floor_db)  # (B, M, S)
    rebuilt = torch.einsum("bms,bsct->bmct", chosen, estimate)
    energy = mixtures.pow(2).sum((2, 3))
    error = (mixtures - rebuilt).pow(2).sum((2, 3))
    size = mixtures.shape[2] * mixtures.shape[3]
    return _snr_loss(energy, error, tau_db, floor_db, size).mean()
