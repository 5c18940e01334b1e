"""Each seed loss against a value worked out by hand on a tiny tensor, plus a float64 gradcheck."""

import math

import pytest
import torch

from stemkit.errors import ConfigError
from stemkit.losses import build_loss, losses


def t(values, shape):
    return torch.tensor(values, dtype=torch.float64).reshape(shape)


def test_l1_and_l2_by_hand():
    est, tgt = t([1.0, 2.0], (1, 1, 1, 2)), t([0.0, 4.0], (1, 1, 1, 2))
    mix = tgt.sum(1)
    assert build_loss("l1")(est, tgt, mix).item() == pytest.approx((1 + 2) / 2)
    assert build_loss("l2")(est, tgt, mix).item() == pytest.approx((1 + 4) / 2)


def test_spectral_l2_on_constant_signals():
    # A constant c seen through a periodic Hann window of 4 ([0, .5, 1, .5]) has bins (2c, c, 0) in
    # every frame (reflect padding keeps the frames constant), so the mean squared magnitude gap
    # between constants a and b is ((2(a-b))^2 + (a-b)^2 + 0) / 3.
    a, b = 3.0, 1.0
    est, tgt = torch.full((1, 1, 1, 8), a, dtype=torch.float64), torch.full((1, 1, 1, 8), b, dtype=torch.float64)
    loss = build_loss("spec_l2", n_fft=4, hop=2)(est, tgt, tgt.sum(1))
    assert loss.item() == pytest.approx(5 * (a - b) ** 2 / 3)
    both = build_loss("spec_l2_mae", n_fft=4, hop=2, mae_weight=0.5)(est, tgt, tgt.sum(1))
    assert both.item() == pytest.approx(5 * (a - b) ** 2 / 3 + 0.5 * (a - b))


def test_difference_loss_by_hand():
    # a = [[|1-2|, |1-3|], [|5-2|, |5-3|]] = [[1, 2], [3, 2]]: diagonal mean 1.5, off-diagonal mean 2.5.
    est, tgt = t([1.0, 5.0], (1, 2, 1, 1)), t([2.0, 3.0], (1, 2, 1, 1))
    assert build_loss("difference", weight=0.2)(est, tgt, tgt.sum(1)).item() == pytest.approx(1.5 - 0.2 * 2.5)
    assert build_loss("difference", weight=0.0)(est, tgt, tgt.sum(1)).item() == pytest.approx(1.5)


def test_alpha_weighted_l1_by_hand():
    # Target norms 5 and 10 give alpha = (1/5, 1/10) / (3/10) = (2/3, 1/3); source L1s are 0.5 and 1.5.
    tgt = t([3.0, 4.0, 6.0, 8.0], (1, 2, 1, 2))
    est = t([4.0, 4.0, 6.0, 5.0], (1, 2, 1, 2))
    auto = build_loss("alpha_l1")(est, tgt, tgt.sum(1))
    assert auto.item() == pytest.approx(2 / 3 * 0.5 + 1 / 3 * 1.5)
    fixed = build_loss("alpha_l1", weights=[0.707, 0.293])(est, tgt, tgt.sum(1))
    assert fixed.item() == pytest.approx(0.707 * 0.5 + 0.293 * 1.5)


def test_alpha_weights_match_the_report_rule():
    # The report's rule alpha * n_vocals = (1 - alpha) * n_acc for two sources.
    from stemkit.losses.weighted import norm_weights

    tgt = torch.randn(3, 2, 2, 50, dtype=torch.float64) * torch.tensor([0.4, 1.0], dtype=torch.float64).reshape(1, 2, 1, 1)
    w = norm_weights(tgt)
    norms = tgt.flatten(2).norm(dim=2).mean(0)
    assert w.sum().item() == pytest.approx(1.0)
    assert (w[0] * norms[0]).item() == pytest.approx((w[1] * norms[1]).item())


def test_chandna_loss_by_hand():
    # drums, bass, other, vocals estimates 1, 2, 3, 4; targets 1, 1, 0, 2.
    # L_m = (0 + 1 + 4) - alpha * (1 + 4 + 9 + 1 + 4 + 1); L_o = -beta * (1 + 4) - gamma * 16.
    est, tgt = t([1.0, 2.0, 3.0, 4.0], (1, 4, 1, 1)), t([1.0, 1.0, 0.0, 2.0], (1, 4, 1, 1))
    loss = build_loss("chandna", alpha=0.1, beta=0.01, gamma=0.03)(est, tgt, tgt.sum(1))
    assert loss.item() == pytest.approx(5 - 0.1 * 20 - 0.01 * 5 - 0.03 * 16)
    # Batch of two identical items: same value (the report divides by the batch size).
    loss2 = build_loss("chandna", alpha=0.1, beta=0.01, gamma=0.03)(est.repeat(2, 1, 1, 1), tgt.repeat(2, 1, 1, 1), None)
    assert loss2.item() == pytest.approx(loss.item())


def test_chandna_finds_other_by_name():
    est, tgt = t([3.0, 4.0, 1.0, 2.0], (1, 4, 1, 1)), t([0.0, 2.0, 1.0, 1.0], (1, 4, 1, 1))
    order = ("other", "vocals", "drums", "bass")
    reordered = build_loss("chandna", sources=order)(est, tgt, None)
    canonical = build_loss("chandna")(est[:, [2, 3, 0, 1]], tgt[:, [2, 3, 0, 1]], None)
    assert reordered.item() == pytest.approx(canonical.item())


def test_mask_bce_by_hand():
    p, target = t([0.5, 0.8], (1, 1, 1, 2, 1)), t([1.0, 0.0], (1, 1, 1, 2, 1))
    assert build_loss("mask_bce")(p, target, None).item() == pytest.approx(-(math.log(0.5) + math.log(0.2)) / 2)


def _inputs(name):
    g = torch.Generator().manual_seed(0)
    if name == "mask_bce":
        est = 0.2 + 0.6 * torch.rand(1, 2, 1, 5, 3, generator=g, dtype=torch.float64)
        tgt = (torch.rand(1, 2, 1, 5, 3, generator=g, dtype=torch.float64) > 0.5).double()
        return est, tgt, {}
    est = torch.randn(2, 4, 1, 32, generator=g, dtype=torch.float64)
    tgt = torch.randn(2, 4, 1, 32, generator=g, dtype=torch.float64)
    args = {"n_fft": 8, "hop": 4} if name in ("spec_l2", "spec_l2_mae", "alpha_spec_l1") else {}
    return est, tgt, args


@pytest.mark.parametrize("name", sorted(losses()))
def test_gradcheck(name):
    est, tgt, args = _inputs(name)
    loss = build_loss(name, **args)
    est.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda e: loss(e, tgt, tgt.sum(1)), (est,))


def test_loss_config_errors_name_the_problem():
    with pytest.raises(ConfigError, match="unknown loss 'l3'"):
        build_loss("l3")
    with pytest.raises(ConfigError, match="loss.args.n_ftt"):
        build_loss("spec_l2", n_ftt=512)
    with pytest.raises(ConfigError, match="weight must be in"):
        build_loss("difference", weight=1.5)
    with pytest.raises(ConfigError, match="'other'"):
        build_loss("chandna", sources=("vocals", "accompaniment"))


def test_sdr_loss_by_hand_and_silent_targets():
    # target energy 4 + 4 = 8, error energy 1 + 1 = 2 (floor negligible): 10 log10(2 / 8)
    tgt = t([2.0, 2.0], (1, 1, 1, 2))
    est = t([1.0, 3.0], (1, 1, 1, 2))
    sdr = build_loss("sdr", floor_db=-120.0)
    assert sdr(est, tgt, tgt.sum(1)).item() == pytest.approx(10 * math.log10(2 / 8), abs=1e-6)
    # sources count equally whatever their level: the same relative error costs the same
    loud_quiet = torch.cat([100 * tgt, 0.01 * tgt], dim=1)
    assert sdr(torch.cat([100 * est, 0.01 * est], dim=1), loud_quiet, loud_quiet.sum(1)).item() == \
        pytest.approx(10 * math.log10(2 / 8), abs=1e-5)
    # while the L2 loss sees only the loud source's error
    l2 = build_loss("l2")
    assert l2(torch.cat([100 * est, 0.01 * tgt], dim=1), loud_quiet, None).item() == \
        pytest.approx(l2(torch.cat([100 * est, 0.01 * est], dim=1), loud_quiet, None).item(), rel=1e-6)
    # a silent target gives a finite loss that is lowest for a silent estimate
    silent = torch.zeros(1, 1, 1, 2, dtype=torch.float64)
    assert sdr(silent, silent, silent.sum(1)).item() == pytest.approx(0.0)
    assert sdr(0.1 * est, silent, silent.sum(1)).item() > 0.0
    with pytest.raises(ConfigError, match="floor_db"):
        build_loss("sdr", floor_db=3.0)


def test_framewise_sdr_loss_averages_the_frames_sdrs():
    # frame 1 (samples 0-1): error 2 of energy 8; frame 2 (samples 2-3): error 8 of energy 8 (0 dB);
    # the tail sample 4 is shorter than a frame and left out, as museval leaves it out
    tgt = t([2.0, 2.0, 2.0, 2.0, 5.0], (1, 1, 1, 5))
    est = t([1.0, 3.0, 0.0, 0.0, -9.0], (1, 1, 1, 5))
    framed = build_loss("sdr", floor_db=-120.0, frame=2)
    by_frame = (10 * math.log10(2 / 8) + 0.0) / 2
    assert framed(est, tgt, tgt.sum(1)).item() == pytest.approx(by_frame, abs=1e-6)
    whole = build_loss("sdr", floor_db=-120.0)
    assert whole(est[..., :4], tgt[..., :4], None).item() == pytest.approx(10 * math.log10(10 / 16), abs=1e-6)
    # a frame longer than the item scores the whole item
    assert build_loss("sdr", floor_db=-120.0, frame=99)(est, tgt, None).item() == \
        pytest.approx(whole(est, tgt, None).item(), abs=1e-9)
    with pytest.raises(ConfigError, match="frame"):
        build_loss("sdr", frame=-1)
