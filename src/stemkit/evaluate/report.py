"""Evaluation outputs: museval-compatible JSON per track, ``scores.csv``/``scores.json``, ``summary.md``.

Layout of an evaluation folder (``OUT``)::

    OUT/config.json              model, data, date, stemkit and museval versions, options
    OUT/<split>/<track>.json     frame scores, museval's TrackStore schema (``museval.EvalStore``
                                 and sigsep tools read these folders as they are)
    OUT/scores.csv               one row per (track, target): frame medians, MDX SDR, difference
    OUT/scores.json              the same rows plus the aggregated statistics
    OUT/summary.md               the tables a person reads
    OUT/plots/*.png              see :mod:`stemkit.evaluate.plots`
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import tempfile
from pathlib import Path

import numpy as np

from ..errors import AudioWriteError
from .metrics import METRICS
from .results import TrackResult, aggregate

#: JSON schema of one track file: museval's ``musdb.schema.json`` made strict (required keys,
#: all four metrics, non-negative times). NaN (a frame museval could not score) is a number.
TRACK_SCHEMA = {
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "required": ["targets"],
    "properties": {
        "museval_version": {"type": "string"},
        "targets": {
            "type": "array",
            "minItems": 1,
            "items": {
                "type": "object",
                "required": ["name", "frames"],
                "properties": {
                    "name": {"type": "string", "minLength": 1},
                    "frames": {
                        "type": "array",
                        "items": {
                            "type": "object",
                            "required": ["time", "duration", "metrics"],
                            "properties": {
                                "time": {"type": "number", "minimum": 0},
                                "duration": {"type": "number", "exclusiveMinimum": 0},
                                "metrics": {
                                    "type": "object",
                                    "required": list(METRICS),
                                    "properties": {m: {"type": "number"} for m in METRICS},
                                },
                            },
                        },
                    },
                },
            },
        },
    },
}


def write_text_atomic(path: Path, text: str) -> Path:
    """Write ``text`` to ``path`` through a temporary file in the same folder, then rename."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as f:
                f.write(text)
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise
    except OSError as exc:
        raise AudioWriteError(f"cannot write: {exc.strerror or exc}", path=str(path)) from None
    return path


def _finite_or_none(value):
    """JSON has no NaN: write missing scores as null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _clean(obj):
    if isinstance(obj, dict):
        return {k: _clean(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_clean(v) for v in obj]
    if isinstance(obj, (np.floating, np.integer)):
        obj = obj.item()
    return _finite_or_none(obj)


def dumps_strict(obj) -> str:
    """Standard JSON (NaN and inf as null)."""
    return json.dumps(_clean(obj), indent=2, allow_nan=False)


# ----------------------------------------------------------------------------- per track (museval)
def track_json(result: TrackResult) -> str:
    """The track's frames as museval writes them: built by ``museval.TrackStore`` itself.

    museval quantises to 1e-5 dB and writes unscored frames as ``NaN`` (its format; Python's
    ``json`` and ``simplejson`` read it back as float NaN).
    """
    from museval.aggregate import TrackStore

    store = TrackStore(track_name=result.name, win=result.window, hop=result.window)
    for s, name in enumerate(result.sources):
        store.add_target(name, {m: result.frames[m][s] for m in METRICS})
    return store.json


def track_json_path(out_dir: Path, result: TrackResult) -> Path:
    return Path(out_dir) / (result.split or "test") / f"{result.name}.json"


def write_track_json(out_dir: Path, result: TrackResult) -> Path:
    return write_text_atomic(track_json_path(out_dir, result), track_json(result))


def validate_track_json(data) -> None:
    """Raise ``jsonschema.ValidationError`` unless ``data`` (parsed JSON) fits :data:`TRACK_SCHEMA`."""
    import jsonschema

    jsonschema.validate(data, TRACK_SCHEMA)


def read_track_json(path: Path) -> dict:
    """Parse a museval track file (accepts its bare ``NaN``)."""
    with open(path, encoding="utf-8") as f:
        return json.load(f)


# ----------------------------------------------------------------------------- scores tables
def write_scores(out_dir: Path, results: list[TrackResult], config: dict) -> dict:
    """``scores.csv`` (rows) and ``scores.json`` (rows + aggregate + config); returns the aggregate."""
    rows = [r.row(i) for r in results for i in range(len(r.sources))]
    buf = io.StringIO()
    if rows:
        writer = csv.DictWriter(buf, fieldnames=list(rows[0]))
        writer.writeheader()
        for row in rows:
            writer.writerow({k: ("" if isinstance(v, float) and not math.isfinite(v) else v)
                             for k, v in row.items()})
    write_text_atomic(Path(out_dir) / "scores.csv", buf.getvalue())
    summary = aggregate(results)
    payload = {
        "config": config,
        "summary": summary,
        "tracks": [
            {k: v for k, v in r.to_dict().items() if k != "frames"} for r in results
        ],
    }
    write_text_atomic(Path(out_dir) / "scores.json", dumps_strict(payload))
    return summary


# ----------------------------------------------------------------------------- summary.md
def _fmt(x: float, digits: int = 2) -> str:
    return "n/a" if x is None or not math.isfinite(x) else f"{x:.{digits}f}"


def _pm(stats: dict, digits: int = 2) -> str:
    if not stats["n"]:
        return "n/a"
    return f"{_fmt(stats['mean'], digits)} ± {_fmt(stats['std'], digits)}"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return lines


def _block(seconds) -> str:
    return f"correlations in blocks of {seconds:g} s" if seconds else "one museval call per track"


def summary_markdown(summary: dict, results: list[TrackResult], config: dict) -> str:
    """The human report: SiSEC medians, seed 004's mean ± std, MDX SDR and signal difference."""
    sources = summary["sources"]
    cols = [*sources, "average"]
    stats = summary["stats"]
    out = [
        f"# Evaluation of `{config.get('model', '?')}`",
        "",
        f"- data: `{config.get('data', '?')}` (split: {config.get('split') or 'all'}), "
        f"{summary['tracks']} track(s)",
        f"- date: {config.get('date', '?')}; stemkit {config.get('stemkit_version', '?')}, "
        f"museval {config.get('museval_version', '?')}",
        f"- BSS Eval v4: {config.get('window', 1.0):g} s windows and hop, time-invariant filters "
        f"fitted on the whole track ({_block(config.get('block_seconds'))})",
        "",
        "## BSS Eval v4, SiSEC 2018 protocol (dB, higher is better)",
        "",
        "Median over frames within a track, then median over tracks. `average` = mean of the "
        "per-source values of each track, then median over tracks.",
        "",
    ]
    out += _table(["metric", *cols],
                  [[m] + [_fmt(stats[m][c]["median"]) for c in cols] for m in METRICS])
    out += [
        "",
        "## Mean ± std over tracks (dB), as in seed 004's tables",
        "",
        "Of the same per-track frame medians.",
        "",
    ]
    out += _table(["metric", *cols], [[m] + [_pm(stats[m][c]) for c in cols] for m in METRICS])
    out += [
        "",
        "## Per-track SDR (MDX 2021 definition, dB) and signal difference (seed 002, lower is better)",
        "",
        "MDX SDR = 10 log10(sum ref² / sum (ref - est)²) over the whole track, per source. "
        "Signal difference = RMS waveform error + mean STFT magnitude error (0 = identical).",
        "",
    ]
    rows = [
        ["MDX SDR median"] + [_fmt(stats["MDX_SDR"][c]["median"]) for c in cols],
        ["MDX SDR mean ± std"] + [_pm(stats["MDX_SDR"][c]) for c in cols],
        ["signal difference median"] + [_fmt(stats["signal_difference"][c]["median"], 4) for c in cols],
        ["signal difference mean"] + [_fmt(stats["signal_difference"][c]["mean"], 4) for c in cols],
    ]
    out += _table(["score", *cols], rows)
    out += ["", "## Per track (SDR: median over frames; MDX SDR)", ""]
    track_rows = []
    for r in results:
        cells = [f"{_fmt(r.medians['SDR'][i])} / {_fmt(r.mdx_sdr[i])}" for i in range(len(r.sources))]
        track_rows.append([r.name, *cells])
    out += _table(["track", *(f"{s} SDR / MDX" for s in sources)], track_rows)
    out += [
        "",
        "`n/a`: no frame could be scored (museval skips a frame when any reference or estimate "
        "is digital silence in it).",
        "",
    ]
    return "\n".join(out)


def write_summary(out_dir: Path, summary: dict, results: list[TrackResult], config: dict) -> Path:
    return write_text_atomic(Path(out_dir) / "summary.md", summary_markdown(summary, results, config))


def write_config(out_dir: Path, config: dict) -> Path:
    return write_text_atomic(Path(out_dir) / "config.json", dumps_strict(config))
