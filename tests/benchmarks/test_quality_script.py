"""benchmarks/quality.py: model specs, the tables, and one tiny end-to-end run through stemkit evaluate."""

import importlib.util
import math
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

BENCH = Path(__file__).resolve().parents[2] / "benchmarks"
if str(BENCH) not in sys.path:
    sys.path.insert(0, str(BENCH))  # quality.py imports its sibling realism.py, as when run as a script
spec = importlib.util.spec_from_file_location("quality_script", BENCH / "quality.py")
quality = importlib.util.module_from_spec(spec)
spec.loader.exec_module(quality)

STEMS = ("drums", "bass", "other", "vocals")


def test_model_specs_name_folders_or_stand_for_themselves():
    assert quality.parse_model("umx=runs/umx/last") == ("umx", "runs/umx/last")
    assert quality.parse_model("classical") == ("classical", "classical")


def test_tables_give_each_set_its_rows_and_the_share_of_the_reference():
    results = {
        "oracle_irm": {"real": dict(zip(STEMS, (8.0, 8.0, 8.0, 8.0)))},
        "ours": {"real": dict(zip(STEMS, (2.0, 4.0, 2.0, 4.0))), "rendered": dict(zip(STEMS, (1.0,) * 4))},
    }
    real = quality.table(results, "real", "oracle_irm")
    assert "| `ours` | 2.00 | 4.00 | 2.00 | 4.00 | **3.00** | 38 % |" in real
    rendered = quality.table(results, "rendered", "oracle_irm")
    assert "`ours`" in rendered and "`oracle_irm`" not in rendered  # no rendered scores: no row
    assert math.isnan(quality.average({"drums": 1.0}))  # a missing stem is not averaged away


def write_tracks(root: Path, n: int = 2, seconds: float = 1.5, sr: int = 44100) -> Path:
    rng = np.random.default_rng(0)
    t = np.arange(int(seconds * sr)) / sr
    for k in range(n):
        folder = root / "train" / f"track{k}"
        folder.mkdir(parents=True)
        stems = {
            "drums": 0.3 * rng.standard_normal(t.size) * (np.sin(2 * np.pi * 2 * t) > 0.9),
            "bass": 0.3 * np.sin(2 * np.pi * (55 + 10 * k) * t),
            "other": 0.2 * np.sin(2 * np.pi * 660 * t),
            "vocals": 0.2 * np.sin(2 * np.pi * (330 + 3 * np.sin(2 * np.pi * 5 * t)) * t),
        }
        mix = 0
        for name, x in stems.items():
            stereo = np.stack([x, 0.8 * x], axis=1).astype(np.float32)
            sf.write(folder / f"{name}.wav", stereo, sr, subtype="FLOAT")
            mix = mix + stereo
        sf.write(folder / "mixture.wav", mix, sr, subtype="FLOAT")
    return root


def test_end_to_end_scores_baselines_and_writes_the_report(tmp_path, capsys):
    data = write_tracks(tmp_path / "real")
    out = tmp_path / "quality"
    assert quality.main(["--model", "oracle_irm", "--model", "floor=mixture", "--sets", "real",
                         "--real", str(data), "--out", str(out)]) == 0
    report = (out / "quality.md").read_text()
    rows = {line.split("|")[1].strip(): line for line in report.splitlines() if line.startswith("| `")}
    assert set(rows) == {"`oracle_irm`", "`floor`"}
    avg = {k: float(v.split("|")[6].strip().strip("*")) for k, v in rows.items()}
    assert avg["`oracle_irm`"] > avg["`floor`"] + 5  # the oracle separates, the mixture does not
    assert (out / "real" / "compare" / "compare_boxplot.png").is_file()
    assert "box plot (real)" in capsys.readouterr().out


def test_only_peer_models_get_the_peer_plugin(tmp_path):
    folder = tmp_path / "umx"
    folder.mkdir()
    (folder / "model.json").write_text('{"model": "openunmix_peer"}')
    assert quality.is_peer(str(folder)) and quality.is_peer("htdemucs_peer")
    assert not quality.is_peer("classical") and not quality.is_peer(str(tmp_path))
