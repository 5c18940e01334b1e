"""scripts/compose_model.py: parts, per-stem choice and per_stem options land in the model folder."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from stemkit.models.registry import load_model

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "compose_model.py"


def compose_main():
    spec = importlib.util.spec_from_file_location("compose_model", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.main


def test_compose_writes_choice_and_options(tmp_path):
    out = tmp_path / "combo"
    rc = compose_main()(["--part", "a=classical:n_fft=1024,hop=256,vocal_cue=centre",
                         "--part", "b=classical:n_fft=2048,hop=512,vocal_cue=centre",
                         "--choose", "drums=a,bass=b,other=a,vocals=b",
                         "--option", "overlap=0.05", "--out", str(out)])
    assert rc == 0
    sidecar = json.loads((out / "model.json").read_text())
    assert sidecar["args"]["choose"] == {"drums": "a", "bass": "b", "other": "a", "vocals": "b"}
    assert sidecar["args"]["overlap"] == 0.05
    model = load_model(str(out))
    assert model.default_overlap == pytest.approx(0.05)
    # without the option the overlap is the parts' own
    rc = compose_main()(["--part", "a=classical:n_fft=1024,hop=256", "--choose", "drums=a,bass=a,other=a,vocals=a",
                         "--out", str(tmp_path / "plain")])
    assert rc == 0 and "overlap" not in json.loads((tmp_path / "plain" / "model.json").read_text())["args"]


@pytest.mark.parametrize("option", ["overlap", "colour=red", "overlap=2"])
def test_compose_refuses_bad_options(tmp_path, option):
    with pytest.raises(SystemExit):
        compose_main()(["--part", "a=classical:n_fft=1024,hop=256", "--choose", "drums=a,bass=a,other=a,vocals=a",
                        "--option", option, "--out", str(tmp_path / "x")])


def test_compose_blends_parts_per_stem(tmp_path):
    out = tmp_path / "blend"
    rc = compose_main()(["--part", "a=classical:n_fft=1024,hop=256", "--part", "b=classical:n_fft=2048,hop=512",
                         "--choose", "drums=a,bass=a+b,other=b,vocals=a:3+b:1", "--out", str(out)])
    assert rc == 0
    sidecar = json.loads((out / "model.json").read_text())
    assert sidecar["args"]["choose"]["bass"] == {"a": 1.0, "b": 1.0}
    model = load_model(str(out))
    assert model.blend["vocals"] == pytest.approx({"a": 0.75, "b": 0.25})
    with pytest.raises(SystemExit, match="not a number"):
        compose_main()(["--part", "a=classical", "--choose", "drums=a:x+a,bass=a,other=a,vocals=a",
                        "--out", str(tmp_path / "bad")])
