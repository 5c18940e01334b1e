"""`compare` merges evaluation folders: per-stem median over tracks, table, box plot."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
from test_report import make_result  # noqa: E402

from stemkit.errors import ConfigError  # noqa: E402
from stemkit.evaluate.compare import compare_results, load_method  # noqa: E402
from stemkit.evaluate.report import write_config, write_track_json  # noqa: E402


def _result_dir(root: Path, model: str, tracks) -> Path:
    root.mkdir(parents=True)
    write_config(root, {"model": model})
    for t in tracks:
        write_track_json(root, t)
    return root


def _good_and_bad(tmp_path: Path, bad_model: str = "model_b") -> tuple[Path, Path]:
    """Two evaluations of tracks A and B (drums, bass); the second has a NaN bass on track B."""
    good = _result_dir(tmp_path / "good", "model_a", [
        make_result("A", [[10, 11, 12], [4, 4, 4]]),
        make_result("B", [[20, 20, 20], [6, 7, 8]]),
    ])
    bad = _result_dir(tmp_path / "bad", bad_model, [
        make_result("A", [[1, 1, 1], [9, 9, 9]]),
        make_result("B", [[3, 3, 3], [float("nan")] * 3]),
    ])
    return good, bad


def test_compare_merges_two_result_dirs(tmp_path):
    good, bad = _good_and_bad(tmp_path, "runs/x/model_b")
    out = tmp_path / "cmp"
    c = compare_results([good, bad], out)
    assert [m.name for m in c.methods] == ["model_a", "model_b"]  # a model path shows its last part
    assert c.table["drums"] == {"model_a": 15.5, "model_b": 2.0}  # median of (11, 20) and (1, 3)
    assert c.table["bass"] == {"model_a": 5.5, "model_b": 9.0}  # model_b's NaN track is skipped
    assert c.table["average"]["model_a"] == pytest.approx((7.5 + 13.5) / 2)
    assert c.table["average"]["model_b"] == pytest.approx((5 + 3) / 2)
    md = (out / "compare.md").read_text()
    assert "| drums | **15.50** | 2.00 |" in md and "| bass | 5.50 | **9.00** |" in md
    assert json.loads((out / "compare.json").read_text())["median"]["drums"]["model_b"] == 2.0
    png = (out / "compare_boxplot.png").read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 5000


def test_compare_names_duplicate_models_by_folder_and_flags_different_track_sets(tmp_path):
    one = _result_dir(tmp_path / "run1", "same", [make_result("A", [[1, 2, 3]])])
    two = _result_dir(tmp_path / "run2", "same", [make_result("Z", [[4, 5, 6]])])
    c = compare_results([one, two], tmp_path / "cmp")
    assert [m.name for m in c.methods] == ["same (run1)", "same (run2)"]
    assert "different track sets" in c.markdown


def test_compare_reads_plain_museval_folders_and_rejects_empty_ones(tmp_path):
    plain = tmp_path / "sisec_method"
    write_track_json(plain, make_result("A", [[1, 2, 3]]))  # no config.json: name from the folder
    assert load_method(plain).name == "sisec_method"
    (tmp_path / "empty").mkdir()
    with pytest.raises(ConfigError, match="no per-track museval JSON"):
        load_method(tmp_path / "empty")
    with pytest.raises(ConfigError, match="not found"):
        load_method(tmp_path / "missing")


def test_compare_pairs_each_method_with_the_first_track_by_track(tmp_path):
    good, bad = _good_and_bad(tmp_path)
    out = tmp_path / "cmp"
    c = compare_results([good, bad], out)
    paired = json.loads((out / "compare.json").read_text())["paired"]
    assert paired["reference"] == "model_a"
    rows = paired["methods"]["model_b"]
    assert rows["drums"]["mean"] == pytest.approx(-13.5)  # (1 - 11) and (3 - 20)
    assert rows["drums"]["se"] == pytest.approx(3.5)  # std(-10, -17) / sqrt(2)
    assert rows["drums"]["higher"] == 0.0 and rows["drums"]["tracks"] == 2
    assert rows["bass"] == {"mean": 5.0, "se": None, "higher": 1.0, "tracks": 1}  # track B's NaN is left out
    assert rows["average"]["tracks"] == 1 and rows["average"]["mean"] == pytest.approx(-2.5)
    assert "## Paired against model_a" in c.markdown and "| drums | -13.50 +- 3.50 (0%) |" in c.markdown
