"""Every shipped config validates and builds its model and loss (no data is read, and a fine-tune's
``model.init_from``, another config's run folder, is not loaded)."""

from pathlib import Path

import pytest

from stemkit.losses import build_loss
from stemkit.train.config import load_config
from stemkit.train.run import build_training_model, segment_samples

CONFIGS = sorted((Path(__file__).resolve().parents[2] / "configs").glob("*.yaml"))


def test_configs_exist():
    assert any(p.name == "example_tiny.yaml" for p in CONFIGS)


@pytest.mark.parametrize("path", CONFIGS, ids=[p.name for p in CONFIGS])
def test_config_builds(path):
    cfg = load_config(path)
    if cfg.model.init_from:  # the run of another config (configs/hq_mixit.yaml starts from configs/hq.yaml's)
        assert cfg.model.init_from.startswith("runs/")
        cfg.model.init_from = None
    model = build_training_model(cfg)
    assert list(model.sources) == cfg.sources
    assert segment_samples(cfg, model) > 0
    loss = build_loss(cfg.loss.name, sources=cfg.sources, **cfg.loss.args)
    if (cfg.loss.inputs or loss.inputs) != "waveform":
        assert callable(getattr(model, "training_outputs", None))
