"""Reports: museval-compatible track JSON (schema + museval's own reader), aggregation, summary."""

from __future__ import annotations

import copy
import json
import math

import numpy as np
import pytest

from stemkit.evaluate.report import (
    TRACK_SCHEMA,
    read_track_json,
    summary_markdown,
    track_json,
    validate_track_json,
    write_scores,
    write_track_json,
)
from stemkit.evaluate.results import TrackResult, aggregate, pooled_frames

SOURCES = ["drums", "bass", "other", "vocals"]


def make_result(name: str, sdr_frames: list[list[float]], split: str = "test") -> TrackResult:
    """A track result with given SDR frames; SIR/SAR/ISR derived so each metric differs."""
    frames = {
        "SDR": sdr_frames,
        "SIR": [[v + 5 for v in row] for row in sdr_frames],
        "SAR": [[v + 1 for v in row] for row in sdr_frames],
        "ISR": [[v + 8 for v in row] for row in sdr_frames],
    }
    medians = {m: [float(np.nanmedian(r)) if np.isfinite(r).any() else float("nan")
                   for r in np.asarray(v, float)] for m, v in frames.items()}
    n = len(sdr_frames)
    return TrackResult(
        name=name, split=split, sources=SOURCES[:n], window=1.0, frames=frames, medians=medians,
        mdx_sdr=[m + 0.5 for m in medians["SDR"]], signal_difference=[0.1 * (i + 1) for i in range(n)],
        signal_difference_time=[0.01] * n, signal_difference_spectral=[0.1 * (i + 1) - 0.01 for i in range(n)],
        duration=float(len(sdr_frames[0])),
    )


TRACKS = [
    make_result("A", [[1, 2, 3], [4, 5, 6], [7, 8, 9], [float("nan"), 2, 4]]),
    make_result("B", [[3, 3, 3], [6, 6, 6], [0, 1, 2], [float("nan")] * 3]),
    make_result("C", [[5, 6, 7], [1, 1, 1], [2, 2, 2], [10, 10, 10]]),
]


def test_track_json_validates_and_keeps_frames_and_nan(tmp_path):
    path = write_track_json(tmp_path, TRACKS[0])
    assert path == tmp_path / "test" / "A.json"
    data = read_track_json(path)
    validate_track_json(data)
    assert [t["name"] for t in data["targets"]] == SOURCES
    vocals = data["targets"][3]["frames"]
    assert math.isnan(vocals[0]["metrics"]["SDR"]) and vocals[2]["metrics"]["SDR"] == 4
    assert [f["time"] for f in vocals] == [0, 1, 2] and vocals[1]["duration"] == 1
    assert data["targets"][1]["frames"][2]["metrics"]["ISR"] == 14  # 6 + 8


@pytest.mark.parametrize(
    "breakage",
    [
        lambda d: d.pop("targets"),
        lambda d: d["targets"][0]["frames"][0]["metrics"].pop("SAR"),
        lambda d: d["targets"][0]["frames"][0].__setitem__("time", -1),
        lambda d: d["targets"][0]["frames"][0]["metrics"].__setitem__("SDR", "high"),
        lambda d: d["targets"][1].pop("name"),
    ],
)
def test_schema_rejects_broken_track_files(breakage):
    import jsonschema

    data = json.loads(track_json(TRACKS[2]))
    validate_track_json(data)
    broken = copy.deepcopy(data)
    breakage(broken)
    with pytest.raises(jsonschema.ValidationError):
        validate_track_json(broken)


def test_schema_is_stricter_than_but_compatible_with_museval_schema():
    """Every file we write also passes museval's own schema (its TrackStore.validate)."""
    import os

    import museval

    with open(os.path.join(museval.__path__[0], "musdb.schema.json")) as f:
        museval_schema = json.load(f)
    import jsonschema

    jsonschema.validate(json.loads(track_json(TRACKS[0])), museval_schema)
    assert set(TRACK_SCHEMA["properties"]) >= set(museval_schema["properties"])


def test_museval_evalstore_reads_our_folder_and_agrees_with_our_medians(tmp_path):
    from museval.aggregate import EvalStore

    for r in TRACKS:
        write_track_json(tmp_path, r)
    store = EvalStore()
    store.add_eval_dir(tmp_path)
    theirs = store.agg_frames_tracks_scores()
    ours = aggregate(TRACKS)["stats"]
    for stem in SOURCES:
        for metric in ("SDR", "SIR", "SAR", "ISR"):
            assert theirs[(stem, metric)] == pytest.approx(ours[metric][stem]["median"], abs=1e-9)


def test_aggregate_median_mean_std_and_average_by_hand():
    stats = aggregate(TRACKS)["stats"]
    # drums per-track medians 2, 3, 6
    assert stats["SDR"]["drums"] == {"median": 3.0, "mean": pytest.approx(11 / 3), "std": pytest.approx(np.std([2, 3, 6])), "n": 3}
    # vocals: track B all NaN -> skipped; medians 3 (A: nanmedian of 2,4) and 10
    assert stats["SDR"]["vocals"]["median"] == pytest.approx(6.5) and stats["SDR"]["vocals"]["n"] == 2
    # average per track over sources (NaN skipped): A (2+5+8+3)/4, B (3+6+1)/3, C (6+1+2+10)/4
    averages = [4.5, 10 / 3, 4.75]
    assert stats["SDR"]["average"]["median"] == pytest.approx(np.median(averages))
    assert stats["SDR"]["average"]["mean"] == pytest.approx(np.mean(averages))
    assert stats["MDX_SDR"]["bass"]["median"] == pytest.approx(5.5)
    assert stats["signal_difference"]["other"]["mean"] == pytest.approx(0.3)


def test_pooled_frames_drop_nan():
    pooled = pooled_frames(TRACKS)
    assert sorted(pooled["vocals"]) == [2, 4, 10, 10, 10]
    assert pooled["drums"].size == 9


def test_scores_files_and_summary(tmp_path):
    config = {"model": "demo", "data": "/data", "split": "test", "date": "2026-01-01"}
    summary = write_scores(tmp_path, TRACKS, config)
    rows = (tmp_path / "scores.csv").read_text().strip().splitlines()
    assert rows[0].startswith("track,split,target,SDR,SIR,SAR,ISR,MDX_SDR,signal_difference")
    assert len(rows) == 1 + 3 * 4
    assert "B,test,vocals,,,,," in rows[1 + 4 + 3]  # NaN scores are empty cells
    data = json.loads((tmp_path / "scores.json").read_text())  # strict JSON: NaN became null
    assert data["summary"]["stats"]["SDR"]["drums"]["median"] == 3.0
    assert data["tracks"][1]["medians"]["SDR"][3] is None
    md = summary_markdown(summary, TRACKS, config)
    assert "| SDR | 3.00 | 5.00 | 2.00 | 6.50 |" in md
    assert f"| SDR | 3.67 ± {np.std([2, 3, 6]):.2f} |" in md
    assert "# Evaluation of `demo`" in md and "| B |" in md and "n/a" in md
