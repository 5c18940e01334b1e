"""`stemkit evaluate` / `stemkit compare` end to end on a 2-track synthetic MUSDB18-HQ folder."""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))
from fixtures import write_musdb_hq  # noqa: E402

from stemkit.cli.main import main  # noqa: E402
from stemkit.evaluate.report import read_track_json, validate_track_json  # noqa: E402

SOURCES = ["drums", "bass", "other", "vocals"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    root = tmp_path_factory.mktemp("eval")
    data = write_musdb_hq(root / "data", channels=1)
    outs = {"mixture": root / "ev_mixture", "oracle_irm": root / "ev_irm"}
    # a folder that is itself one split (no test/ inside) is taken whole
    assert main(["evaluate", "-n", "mixture", "--data", str(data / "test"), "-o", str(outs["mixture"]), "-q"]) == 0
    # two jobs: tracks scored in parallel worker processes
    assert main(["evaluate", "-n", "oracle_irm", "--data", str(data), "-o", str(outs["oracle_irm"]),
                 "-j", "2", "--plot-track", "Song B", "-q"]) == 0
    return data, outs


def test_outputs_are_written_and_valid(runs):
    _, outs = runs
    out = outs["mixture"]
    for name in ("summary.md", "scores.csv", "scores.json", "config.json", "plots/sdr_boxplot.png",
                 "plots/Song A_spectrograms.png", "plots/Song A_waveforms.png"):
        assert (out / name).is_file(), name
    for track in ("Song A", "Song B"):
        data = read_track_json(out / "test" / f"{track}.json")
        validate_track_json(data)
        assert [t["name"] for t in data["targets"]] == SOURCES
        assert len(data["targets"][0]["frames"]) == 2  # 2.5 s -> two whole 1 s frames
    with open(out / "scores.csv") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 8 and {r["track"] for r in rows} == {"Song A", "Song B"}
    config = json.loads((out / "config.json").read_text())
    assert config["model"] == "mixture" and config["tracks"] == ["Song A", "Song B"]
    assert config["split"] is None  # taken whole; track files still go under test/ as museval expects
    assert config["stemkit_version"] and config["museval_version"] and config["date"]
    assert (outs["oracle_irm"] / "plots" / "Song B_spectrograms.png").is_file()
    assert not (outs["oracle_irm"] / "plots" / "Song A_spectrograms.png").exists()


def test_mixture_floor_scores_match_museval_on_the_loaded_tracks(runs):
    import museval

    from stemkit.data.tracks import find_tracks

    data, outs = runs
    scores = json.loads((outs["mixture"] / "scores.json").read_text())
    track = find_tracks(data, split="test")[0]
    mix, refs, sr = track.load(SOURCES)
    ests = np.repeat(mix[None], 4, axis=0)
    sdr, isr, sir, sar = museval.evaluate(refs.transpose(0, 2, 1), ests.transpose(0, 2, 1), win=sr, hop=sr)
    ours = scores["tracks"][0]
    assert ours["name"] == track.name
    np.testing.assert_array_equal(ours["medians"]["SDR"], np.nanmedian(sdr, axis=1))
    # SAR of a mixture estimate is ~148 dB of rounding noise: equal to museval's up to that rounding
    np.testing.assert_allclose(ours["medians"]["SAR"], np.nanmedian(sar, axis=1), rtol=1e-7, atol=0)


def test_oracle_irm_scores_above_10_db_and_beats_the_floor(runs):
    _, outs = runs
    irm = json.loads((outs["oracle_irm"] / "scores.json").read_text())["summary"]["stats"]
    floor = json.loads((outs["mixture"] / "scores.json").read_text())["summary"]["stats"]
    assert irm["SDR"]["average"]["median"] > 10.0
    for stem in SOURCES:
        assert irm["SDR"][stem]["median"] > floor["SDR"][stem]["median"] + 5
        assert irm["MDX_SDR"][stem]["median"] > floor["MDX_SDR"][stem]["median"]
        assert irm["signal_difference"][stem]["median"] < floor["signal_difference"][stem]["median"]


def test_compare_cli_puts_both_side_by_side(runs, tmp_path, capsys):
    _, outs = runs
    assert main(["compare", str(outs["oracle_irm"]), str(outs["mixture"]), "-o", str(tmp_path)]) == 0
    printed = capsys.readouterr().out
    assert "| stem | oracle_irm | mixture |" in printed
    table = json.loads((tmp_path / "compare.json").read_text())["median"]
    assert table["average"]["oracle_irm"] > table["average"]["mixture"]
    assert (tmp_path / "compare_boxplot.png").stat().st_size > 5000


def test_user_errors_are_one_line_messages(runs, tmp_path, capsys):
    data, _ = runs
    assert main(["evaluate", "-n", "no_such_model", "--data", str(data), "-o", str(tmp_path)]) != 0
    assert main(["evaluate", "-n", "mixture", "--data", str(tmp_path / "nope"), "-o", str(tmp_path)]) != 0
    assert main(["evaluate", "-n", "mixture", "--data", str(data), "--plot-track", "Nope",
                 "-o", str(tmp_path)]) != 0
    assert main(["compare", str(tmp_path / "nothing")]) != 0
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 4 and all(line.startswith("stemkit: error:") for line in err)
    assert "Nope" in err[2]
