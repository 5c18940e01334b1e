"""The MixIT loss: best assignment found, permutation invariant, finite on silence, differentiable."""

import itertools

import pytest
import torch

from stemkit.losses.mixit import assignments, best_assignment, mixit_loss


def sources(batch=3, count=4, channels=2, length=800, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(batch, count, channels, length, generator=g)


def brute_force(estimate, mixtures, tau_db=-30.0):
    """Per item, the loss of every assignment computed directly from the rebuilt mixtures."""
    tau = 10 ** (tau_db / 10)
    B, S = estimate.shape[:2]
    out = torch.empty(B, 2 ** S)
    for k, choice in enumerate(itertools.product(range(2), repeat=S)):
        for b in range(B):
            total = 0.0
            for j in range(2):
                rebuilt = sum(estimate[b, s] for s in range(S) if choice[s] == j) if j in choice \
                    else torch.zeros_like(mixtures[b, j])
                energy = mixtures[b, j].pow(2).sum()
                error = (mixtures[b, j] - rebuilt).pow(2).sum()
                total += -10 * torch.log10(energy / (error + tau * energy))
            out[b, k] = total / 2
    return out


def test_assignments_cover_every_split_once():
    a = assignments(4)
    assert a.shape == (16, 2, 4)
    assert torch.all(a.sum(1) == 1)  # every output goes to exactly one mixture
    assert len({tuple(m.flatten().tolist()) for m in a}) == 16
    assert assignments(3, 3).shape == (27, 3, 3)


def test_known_split_is_found_and_scores_at_the_threshold():
    s = sources()
    # mixture 0 = outputs 0 and 2, mixture 1 = outputs 1 and 3 (for item 1: 0, 1, 2 against 3)
    x = torch.stack([s[:, [0, 2]].sum(1), s[:, [1, 3]].sum(1)], dim=1)
    x[1, 0], x[1, 1] = s[1, :3].sum(0), s[1, 3]
    chosen = best_assignment(s, x)
    assert chosen[0].tolist() == [[1, 0, 1, 0], [0, 1, 0, 1]]
    assert chosen[1].tolist() == [[1, 1, 1, 0], [0, 0, 0, 1]]
    # a perfect reconstruction is worth exactly -tau_db dB per mixture, not more
    assert mixit_loss(s, x).item() == pytest.approx(-30.0, abs=0.01)
    assert mixit_loss(s, x, tau_db=-10.0).item() == pytest.approx(-10.0, abs=0.01)


def test_vectorised_minimum_equals_brute_force_on_noisy_estimates():
    s = sources(batch=4, seed=1)
    x = torch.stack([s[:, [0, 3]].sum(1), s[:, [1, 2]].sum(1)], dim=1)
    estimate = s + 0.7 * sources(batch=4, seed=2)  # wrong enough that several splits compete
    expected = brute_force(estimate, x).min(dim=1).values.mean()
    assert mixit_loss(estimate, x, floor_db=-150.0).item() == pytest.approx(expected.item(), abs=1e-3)
    assert expected.item() > -30.0  # the noise costs something: not just the threshold


def test_invariant_to_permuting_outputs():
    s = sources(seed=3)
    x = torch.stack([s[:, :2].sum(1), s[:, 2:].sum(1)], dim=1)
    estimate = s + 0.3 * sources(seed=4)
    base = mixit_loss(estimate, x)
    for perm in ([3, 2, 1, 0], [1, 3, 0, 2]):
        assert mixit_loss(estimate[:, perm], x).item() == pytest.approx(base.item(), abs=1e-5)
    # swapping the two reference mixtures changes nothing either
    assert mixit_loss(estimate, x.flip(1)).item() == pytest.approx(base.item(), abs=1e-5)


def test_silent_mixtures_are_finite():
    quiet = torch.zeros(2, 2, 2, 400)
    assert mixit_loss(torch.zeros(2, 4, 2, 400), quiet).item() == pytest.approx(0.0)
    loud = sources(batch=2, length=400)
    estimate = loud.clone().requires_grad_(True)
    loss = mixit_loss(estimate, quiet)  # silence asks for quiet outputs: positive, finite
    loss.backward()
    assert torch.isfinite(loss) and loss.item() > 0
    assert torch.isfinite(estimate.grad).all()


def test_gradient_flows_and_a_step_lowers_the_loss():
    s = sources(seed=5)
    x = torch.stack([s[:, [0, 1]].sum(1), s[:, [2, 3]].sum(1)], dim=1)
    estimate = (s + sources(seed=6)).requires_grad_(True)
    loss = mixit_loss(estimate, x)
    loss.backward()
    assert estimate.grad.abs().sum() > 0
    with torch.no_grad():
        stepped = estimate - 1.0 * estimate.grad / estimate.grad.norm() * 10
    assert mixit_loss(stepped, x).item() < loss.item()


def test_mismatched_shapes_are_refused():
    with pytest.raises(ValueError, match="must agree"):
        mixit_loss(torch.zeros(2, 4, 2, 100), torch.zeros(2, 2, 1, 100))
