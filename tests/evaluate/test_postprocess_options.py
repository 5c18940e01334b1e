"""`stemkit evaluate --wiener / --denoise / --highpass / --lowpass`: post-processing in the evaluation."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).parent))
from fixtures import synthetic_stems, write_musdb_hq  # noqa: E402

from stemkit.cli.main import main  # noqa: E402


def test_wiener_and_denoise_options_keep_the_stem_sum(tmp_path):
    """--wiener and --denoise/--highpass run after separation; the gated audio goes to `other`."""
    data = write_musdb_hq(tmp_path / "data", names=("Song A",), channels=1)
    plain, post = tmp_path / "plain", tmp_path / "post"
    assert main(["evaluate", "-n", "classical", "--data", str(data), "-o", str(plain), "-q", "--sdr-only"]) == 0
    assert main(["evaluate", "-n", "classical", "--data", str(data), "-o", str(post), "-q", "--sdr-only",
                 "--wiener", "1", "--denoise", "vocals", "--denoise-statistic", "mean",
                 "--highpass", "vocals=200"]) == 0
    config = json.loads((post / "config.json").read_text())
    assert config["wiener"] == 1
    assert config["postprocess"]["denoise"] == ["vocals"] and config["postprocess"]["highpass"] == {"vocals": 200.0}
    a = {r["target"]: float(r["MDX_SDR"]) for r in csv.DictReader(open(plain / "scores.csv"))}
    b = {r["target"]: float(r["MDX_SDR"]) for r in csv.DictReader(open(post / "scores.csv"))}
    assert a["vocals"] != b["vocals"] and a["other"] != b["other"]
    # errors a user can cause: one line, non-zero exit, before any separation
    assert main(["evaluate", "-n", "classical", "--data", str(data), "-q", "--denoise", "piano"]) != 0
    assert main(["evaluate", "-n", "classical", "--data", str(data), "-q", "--highpass", "vocals"]) != 0
    assert main(["evaluate", "-n", "classical", "--data", str(data), "-q", "--wiener", "-1"]) != 0


def test_postprocess_sends_removed_audio_to_the_complement():
    from stemkit.evaluate.runner import EvalSettings, separate_track
    from stemkit.models.registry import load_model
    from stemkit.postprocess import StemPostprocess

    stems = synthetic_stems(seconds=2.0, channels=2)
    mix = stems.sum(0)
    model = load_model("classical")
    plain = separate_track(model, mix, stems, 22050, EvalSettings(model="classical"))
    post = StemPostprocess(lowpass={"vocals": 500.0})
    cut = separate_track(model, mix, stems, 22050, EvalSettings(model="classical", postprocess=post))
    np.testing.assert_allclose(cut.sum(0), plain.sum(0), atol=1e-4)
    other = list(model.sources).index("other")
    vocals = list(model.sources).index("vocals")
    np.testing.assert_allclose(cut[other] - plain[other], plain[vocals] - cut[vocals], atol=1e-5)
    assert np.abs(cut[vocals] - plain[vocals]).max() > 1e-3


def test_a_one_stem_model_is_scored_on_its_own_estimate_not_the_mixture():
    import torch

    from stemkit.evaluate.runner import EvalSettings, separate_track
    from stemkit.models.registry import build_model

    torch.manual_seed(0)
    model = build_model("wave_unet", sources=["vocals"], num_levels=2, growth=2).eval()
    stems = synthetic_stems(seconds=1.0, channels=1)
    mix = stems.sum(0)
    est = separate_track(model, mix, stems[3:], 22050, EvalSettings(model="x"))
    assert est.shape == (1, 1, mix.shape[-1])
    assert np.abs(est[0] - mix).max() > 1e-2  # consistency would have made it the mixture
