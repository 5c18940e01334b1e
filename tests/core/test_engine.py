import numpy as np
import pytest
import torch

from stemkit.engine import OverlapAdd, blend_window, enforce_consistency, separate_tensor
from stemkit.models.base import IdentitySplit, SeparationModel


class Doubler(SeparationModel):
    """Stem 0 = 2 * mix, stem 1 = -mix: identity blending must reproduce exactly these."""

    family = "classical"

    def forward(self, mix):
        return torch.stack([2 * mix, -mix], dim=1)


@pytest.mark.parametrize("window", ["hann", "triangular", "rectangular"])
@pytest.mark.parametrize("overlap", [0.0, 0.1, 0.25, 0.5, 0.9])
@pytest.mark.parametrize("length", [1, 7, 999, 1000, 1001, 4567])
def test_identity_reconstructs_exactly(window, overlap, length):
    model = Doubler(sources=("a", "b"), segment=1000)
    mix = torch.randn(2, length)
    out = separate_tensor(model, mix, overlap=overlap, window=window)
    assert out.shape == (2, 2, length)
    torch.testing.assert_close(out[0], 2 * mix, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(out[1], -mix, atol=1e-5, rtol=1e-5)


def test_fixed_segment_model_gets_padded_chunks_for_short_input():
    class Fixed(IdentitySplit):
        fixed_segment = True
        seen = []

        def forward(self, mix):
            self.seen.append(mix.shape[-1])
            return super().forward(mix)

    model = Fixed(segment=512)
    mix = torch.randn(2, 100)
    out = separate_tensor(model, mix)
    assert set(Fixed.seen) == {512}
    torch.testing.assert_close(out.sum(0), mix, atol=1e-6, rtol=1e-6)


@pytest.mark.parametrize("shifts", [1, 3])
def test_shifts_average_grids_and_stay_exact(shifts):
    model = Doubler(sources=("a", "b"), segment=2000, sample_rate=8000, channels=1)
    mix = torch.randn(1, 9001)
    out = separate_tensor(model, mix, shifts=shifts, batch_size=3)
    torch.testing.assert_close(out[0], 2 * mix, atol=1e-5, rtol=1e-5)


def test_shifts_change_what_a_position_dependent_model_sees():
    class EdgeSensitive(SeparationModel):
        def forward(self, mix):  # output depends on where a sample sits in its segment
            ramp = torch.linspace(0, 1, mix.shape[-1])
            return (mix * ramp).unsqueeze(1)

    model = EdgeSensitive(sources=("x",), segment=1000, sample_rate=8000, channels=1)
    mix = torch.ones(1, 5000)
    plain = separate_tensor(model, mix)
    shifted = separate_tensor(model, mix, shifts=2, seed=1)
    assert not torch.allclose(plain, shifted)


def test_streaming_equals_whole_input():
    model = Doubler(sources=("a", "b"), segment=700)
    model.fixed_segment = True
    mix = torch.randn(2, 10_000)
    whole = separate_tensor(model, mix, overlap=0.3)
    ola = OverlapAdd(model, segment=700, overlap=0.3, batch_size=2)
    parts = []
    for i in range(0, mix.shape[1], 333):
        parts += list(ola.push(mix[:, i : i + 333]))
    parts += list(ola.finish())
    torch.testing.assert_close(torch.cat(parts, -1), whole, atol=1e-6, rtol=1e-6)


def test_streaming_memory_is_bounded():
    model = IdentitySplit(segment=1000)
    ola = OverlapAdd(model, segment=1000, overlap=0.25, batch_size=2)
    for _ in range(200):
        list(ola.push(torch.randn(2, 5000)))
        assert ola._in.shape[1] <= 1000 + 5000
        assert ola._acc.shape[-1] <= 3 * 1000
    assert sum(p.shape[-1] for p in ola.finish()) > 0


def test_wrong_output_shape_is_reported():
    class Broken(SeparationModel):
        def forward(self, mix):
            return mix.unsqueeze(1)[..., :-1]

    with pytest.raises(RuntimeError, match="model returned shape"):
        separate_tensor(Broken(sources=("x",), segment=100), torch.randn(2, 300))


def test_windows_are_positive_and_bounded():
    for kind in ("hann", "triangular", "rectangular"):
        for n in (1, 2, 1000, 441_000):
            w = blend_window(kind, n)
            assert w.shape == (n,) and float(w.min()) > 0 and float(w.max()) <= 1.0


def test_consistency_projects_onto_the_mixture():
    rng = np.random.default_rng(0)
    mix = rng.standard_normal((2, 500)).astype(np.float32)
    stems = rng.standard_normal((4, 2, 500)).astype(np.float32)
    fixed = enforce_consistency(mix, stems)
    err = np.linalg.norm(fixed.sum(0) - mix) / np.linalg.norm(mix)
    assert 20 * np.log10(err + 1e-20) < -60
    # Already consistent stems are left alone.
    np.testing.assert_allclose(enforce_consistency(mix, fixed), fixed, atol=1e-6)
