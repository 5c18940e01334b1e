"""Open-Unmix and HT-Demucs as stemkit models (benchmarks/peers); skipped without the packages."""

import sys
from pathlib import Path

import pytest
import torch

PEERS = Path(__file__).resolve().parents[2] / "benchmarks" / "peers"
pytest.importorskip("demucs.htdemucs", reason="demucs not installed (benchmarks/peers/requirements.txt)")
pytest.importorskip("einops")
if str(PEERS) not in sys.path:
    sys.path.insert(0, str(PEERS))
from stemkit_peers._stub import ensure_torchaudio  # noqa: E402

ensure_torchaudio()
pytest.importorskip("openunmix.model", reason="openunmix not installed (benchmarks/peers/requirements.txt)")

from stemkit_peers import HTDemucsPeer, OpenUnmixPeer  # noqa: E402

from stemkit.engine import separate_tensor  # noqa: E402
from stemkit.models.weights import load_model_dir, save_model_dir  # noqa: E402

SMALL_UMX = dict(hidden_size=16, nb_layers=1, n_fft=512, hop=128)
SMALL_DEMUCS = dict(segment=0.5, width=8, depth=2, t_layers=1, nfft=1024, t_heads=2)


def small_umx(**kw) -> OpenUnmixPeer:
    torch.manual_seed(0)
    return OpenUnmixPeer(**SMALL_UMX, **kw).eval()


def test_openunmix_imports_only_the_stub_or_a_real_torchaudio():
    ta = sys.modules["torchaudio"]
    if getattr(ta, "STUB", False):
        with pytest.raises(AttributeError, match="stub"):
            ta.load  # noqa: B018  (any use must fail loudly)


def test_openunmix_peer_shapes_and_mixture_phase():
    model = small_umx()
    mix = torch.randn(2, 2, 5000) * 0.1
    with torch.inference_mode():
        stems = model(mix)
        out = model.training_outputs(mix)
        spec = model.stft(mix)
    assert stems.shape == (2, 4, 2, 5000) and torch.isfinite(stems).all()
    assert out["spec"].shape == (2, 4, 2, 257, spec.shape[-1]) and out["mix_spec"].shape == (2, 2, 257, spec.shape[-1])
    # niter = 0 is openunmix's own wiener(..., iterations=0): magnitudes with the mixture phase
    from openunmix.filtering import wiener

    with torch.inference_mode():
        ref = wiener(out["spec"][0].permute(3, 2, 1, 0), torch.view_as_real(spec[0]).permute(2, 1, 0, 3).clone(), 0)
        ref = model.stft.inverse(torch.view_as_complex(ref.permute(4, 2, 1, 0, 3).contiguous()), 5000)
    torch.testing.assert_close(stems[0], ref, atol=1e-5, rtol=1e-4)


def test_openunmix_peer_wiener_stems_sum_to_the_mixture():
    model = small_umx(niter=1, wiener_win_len=7)  # several Wiener windows
    with torch.no_grad():
        for target in model.targets.values():  # keep every ReLU'd magnitude positive
            target.output_mean.fill_(2.0)
    mix = torch.randn(1, 2, 4000) * 0.1
    with torch.inference_mode():
        stems = model(mix)
    torch.testing.assert_close(stems.sum(1), mix, atol=2e-3, rtol=0)


def test_openunmix_peer_trains_on_magnitudes_and_round_trips(tmp_path):
    model = small_umx().train()
    mix, stems = torch.randn(2, 2, 4000) * 0.1, torch.randn(2, 4, 2, 4000) * 0.05
    loss = (model.training_outputs(mix)["spec"] - model.training_targets(stems)["spec"]).pow(2).mean()
    loss.backward()
    assert all(p.grad is not None for n, p in model.named_parameters() if "fc1" in n)
    model.eval()
    model.architecture, model.init_args = "openunmix_peer", dict(SMALL_UMX)
    loaded = load_model_dir(save_model_dir(model, tmp_path / "umx"), device="cpu")
    with torch.inference_mode():
        torch.testing.assert_close(loaded(mix), model(mix))


def test_htdemucs_peer_fixed_segment_shapes_and_engine():
    torch.manual_seed(0)
    model = HTDemucsPeer(**SMALL_DEMUCS).eval()
    assert model.fixed_segment and model.segment == 22050
    mix = torch.randn(1, 2, model.segment) * 0.1
    with torch.inference_mode():
        assert model(mix).shape == (1, 4, 2, 22050)
        out = separate_tensor(model, torch.randn(2, 30000) * 0.1)  # the engine pads to whole segments
    assert out.shape == (4, 2, 30000) and torch.isfinite(out).all()
