"""Each model can fit one tiny synthetic example with its own native loss (Adam, a few dozen steps)."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from stemkit.models import SOURCES_4


def fit(model, loss_fn, steps: int, lr: float) -> tuple[float, float]:
    """Train ``model`` on ``loss_fn()``; returns (first loss, last loss)."""
    model.train()
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    losses = []
    for _ in range(steps):
        opt.zero_grad()
        loss = loss_fn()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses[0], losses[-1]


def test_spec_unet_overfits_weighted_l1(tiny, synth_stems):
    model = tiny("spec_unet", n_fft=128, hop=64)
    stems = synth_stems(2, 2048, 8000)
    mix = stems.sum(dim=1)
    target = model.training_targets(stems)["spec"]
    alpha = torch.tensor([0.5, 0.5]).view(1, 2, 1, 1, 1)  # seed 002's alpha = 0.5

    def loss():
        spec = model.training_outputs(mix)["spec"]
        return (alpha * (spec - target).abs()).mean(dim=(0, 2, 3, 4)).sum()

    first, last = fit(model, loss, steps=40, lr=3e-3)
    assert last < 0.3 * first, (first, last)


def test_chandna_overfits_squared_error(tiny, synth_stems):
    model = tiny("chandna")
    stems = synth_stems(len(SOURCES_4), 4096, 8000)
    mix = stems.sum(dim=1)
    target = model.training_targets(stems)["spec"]

    def loss():
        return F.mse_loss(model.training_outputs(mix)["spec"], target)

    first, last = fit(model, loss, steps=60, lr=1e-2)
    assert last < 0.3 * first, (first, last)


def test_vocal_mask_overfits_bce(tiny, synth_stems):
    model = tiny("vocal_mask", stft_stride=2)
    stems = synth_stems(2, 4096, 8000)
    mix = stems.sum(dim=1)
    target = model.training_targets(stems)["mask"]
    assert 0 < target.mean() < 1

    def loss():
        return F.binary_cross_entropy_with_logits(model.training_outputs(mix)["logits"], target)

    first, last = fit(model, loss, steps=40, lr=1e-2)
    assert last < 0.3 * first, (first, last)
