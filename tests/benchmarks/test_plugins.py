"""The ``STEMKIT_PLUGINS`` hook: models defined outside the package, loaded by module name."""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from stemkit.errors import ModelError
from stemkit.models.registry import PLUGINS_ENV, architectures, build_model, load_model
from stemkit.models.weights import save_model_dir

REPO = Path(__file__).resolve().parents[2]

PLUGIN = textwrap.dedent('''
    import torch
    from stemkit.models.base import SeparationModel
    from stemkit.models.registry import register

    @register("{name}", description="plugin test model: fixed gains per source")
    class Gains(SeparationModel):
        def __init__(self, *, sources=("a", "b"), sample_rate=8000, channels=1, segment=800):
            super().__init__(sources=sources, sample_rate=sample_rate, channels=channels, segment=segment)
            self.gain = torch.nn.Parameter(torch.tensor([0.25, 0.75]))

        def forward(self, mix):
            return mix.unsqueeze(1) * self.gain[None, :, None, None]
''')


def write_plugin(folder: Path, module: str, name: str) -> None:
    (folder / f"{module}.py").write_text(PLUGIN.format(name=name))


def test_plugin_module_registers_its_models(tmp_path, monkeypatch):
    write_plugin(tmp_path, "stemkit_test_plugin_a", "plugin_gains_a")
    monkeypatch.syspath_prepend(str(tmp_path))
    assert "plugin_gains_a" not in architectures()
    monkeypatch.setenv(PLUGINS_ENV, " stemkit_test_plugin_a , ")  # spaces and empty items ignored
    arch = architectures()["plugin_gains_a"]
    assert arch.family == "neural" and arch.description.startswith("plugin test model")
    folder = save_model_dir(build_model("plugin_gains_a"), tmp_path / "m")
    model = load_model(str(folder))
    torch.testing.assert_close(model(torch.ones(1, 1, 4))[0, :, 0, 0], torch.tensor([0.25, 0.75]))


def test_a_plugin_that_fails_to_import_is_one_model_error(tmp_path, monkeypatch):
    (tmp_path / "stemkit_test_plugin_broken.py").write_text("import no_such_module_anywhere\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.setenv(PLUGINS_ENV, "stemkit_test_plugin_broken")
    with pytest.raises(ModelError, match="stemkit_test_plugin_broken.*no_such_module_anywhere") as err:
        architectures()
    assert "\n" not in str(err.value)
    monkeypatch.setenv(PLUGINS_ENV, "stemkit_test_plugin_missing")
    with pytest.raises(ModelError, match="ModuleNotFoundError"):
        load_model("anything")


def test_stemkit_separate_loads_a_plugin_model_folder(tmp_path):
    """End to end in a fresh process: the variable is read by the CLI's model loading."""
    write_plugin(tmp_path, "stemkit_test_plugin_cli", "plugin_gains_cli")
    sys.path.insert(0, str(tmp_path))
    try:
        os.environ[PLUGINS_ENV] = "stemkit_test_plugin_cli"
        folder = save_model_dir(build_model("plugin_gains_cli"), tmp_path / "model")
    finally:
        os.environ.pop(PLUGINS_ENV)
        sys.path.remove(str(tmp_path))
    song = tmp_path / "song.wav"
    audio = 0.5 * np.sin(np.linspace(0, 300, 8000, dtype=np.float32))
    sf.write(song, audio, 8000, subtype="FLOAT")
    env = {**os.environ, "PYTHONPATH": str(tmp_path), PLUGINS_ENV: "stemkit_test_plugin_cli", "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "stemkit", "separate", str(song), "-n", str(folder), "-o", str(tmp_path / "out"),
           "-q", "--float32", "--no-consistency"]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=REPO)
    assert done.returncode == 0, done.stderr
    b, _ = sf.read(tmp_path / "out" / "model" / "song" / "b.wav", dtype="float32")
    np.testing.assert_allclose(b, 0.75 * audio, atol=1e-5)

    env[PLUGINS_ENV] = "stemkit_test_plugin_nowhere"
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, cwd=REPO)
    assert done.returncode != 0
    assert "stemkit_test_plugin_nowhere" in done.stderr and "Traceback" not in done.stderr
