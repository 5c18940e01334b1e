"""``stemkit compare``: put several evaluation folders side by side.

Every folder is read from its per-track museval JSON files (``<split>/<track>.json``), so a
folder written by ``stemkit evaluate`` and one written by museval itself (e.g. SiSEC 2018
submissions) compare alike. Per method and stem: median over frames, then median over tracks,
the SiSEC 2018 protocol; ``average`` = per track mean over stems, then median over tracks.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..errors import ConfigError
from .metrics import METRICS
from .report import dumps_strict, write_text_atomic


@dataclass
class MethodScores:
    """One evaluation folder: per-track frame values of one metric, per stem."""

    name: str
    path: Path
    frames: dict[str, dict[str, np.ndarray]] = field(default_factory=dict)  # track -> stem -> (N,)

    @property
    def stems(self) -> list[str]:
        seen: list[str] = []
        for per_stem in self.frames.values():
            seen += [s for s in per_stem if s not in seen]
        return seen

    def track_medians(self, stem: str) -> list[float]:
        out = []
        for per_stem in self.frames.values():
            if stem in per_stem:
                v = per_stem[stem][np.isfinite(per_stem[stem])]
                out.append(float(np.median(v)) if v.size else float("nan"))
        return out

    def track_averages(self) -> list[float]:
        out = []
        for per_stem in self.frames.values():
            meds = [float(np.median(v[np.isfinite(v)])) for v in per_stem.values() if np.isfinite(v).any()]
            out.append(float(np.mean(meds)) if meds else float("nan"))
        return out

    def by_track(self, stem: str | None) -> dict[str, float]:
        """track -> median over frames of ``stem`` (``None``: the mean of the stems' medians)."""
        out = {}
        for track, per_stem in self.frames.items():
            stems = list(per_stem) if stem is None else [stem] if stem in per_stem else []
            meds = [float(np.median(per_stem[s][np.isfinite(per_stem[s])])) for s in stems
                    if np.isfinite(per_stem[s]).any()]
            if meds and (stem is not None or len(meds) == len(stems)):
                out[track] = float(np.mean(meds))
        return out

    def pooled(self, stem: str) -> np.ndarray:
        parts = [per_stem[stem] for per_stem in self.frames.values() if stem in per_stem]
        v = np.concatenate(parts) if parts else np.zeros(0)
        return v[np.isfinite(v)]


@dataclass
class Comparison:
    out: Path
    methods: list[MethodScores]
    table: dict  # stem|"average" -> method name -> median
    markdown: str


def _median(values) -> float:
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    return float(np.median(v)) if v.size else float("nan")


def _track_files(folder: Path) -> list[Path]:
    """Per-track JSON files: anything ``*.json`` below a sub-folder (top-level files are reports)."""
    return sorted(p for p in folder.rglob("*.json") if p.parent != folder and not p.name.startswith("."))


def load_method(folder: str | Path, metric: str = "SDR") -> MethodScores:
    """Read an evaluation folder; its name is the evaluated model (config.json) or the folder name."""
    folder = Path(folder).expanduser()
    if not folder.is_dir():
        raise ConfigError(f"evaluation folder not found: {folder}")
    name = folder.name
    config = folder / "config.json"
    if config.is_file():
        try:
            name = str(json.loads(config.read_text(encoding="utf-8")).get("model") or name)
            name = Path(name).name if "/" in name else name
        except (OSError, json.JSONDecodeError):
            pass
    method = MethodScores(name=name, path=folder)
    for path in _track_files(folder):
        try:
            data = json.loads(path.read_text(encoding="utf-8"))  # museval writes bare NaN: json reads it
        except (OSError, json.JSONDecodeError):
            continue
        if not isinstance(data, dict) or not isinstance(data.get("targets"), list):
            continue
        per_stem = {}
        for target in data["targets"]:
            values = [f.get("metrics", {}).get(metric) for f in target.get("frames", [])]
            per_stem[str(target.get("name"))] = np.array(
                [float("nan") if v is None else float(v) for v in values], dtype=float)
        track = f"{path.parent.relative_to(folder)}/{path.stem}"
        method.frames[track] = per_stem
    if not method.frames:
        raise ConfigError(f"no per-track museval JSON files found under {folder}")
    return method


def paired_differences(reference: MethodScores, other: MethodScores, stems: list[str]) -> dict:
    """Per stem and ``average``: ``other - reference`` over the tracks both scored (each track's
    median over frames): mean, its standard error, the fraction of tracks where ``other`` is higher,
    and the track count. Differences between methods on the same tracks vary far less than the
    tracks themselves, so this tells a real gain from track-to-track spread."""
    out = {}
    for stem in [*stems, None]:
        ref, oth = reference.by_track(stem), other.by_track(stem)
        common = sorted(set(ref) & set(oth))
        d = np.array([oth[t] - ref[t] for t in common])
        row = "average" if stem is None else stem
        if d.size == 0:
            out[row] = {"mean": float("nan"), "se": float("nan"), "higher": float("nan"), "tracks": 0}
            continue
        se = float(d.std(ddof=1) / math.sqrt(d.size)) if d.size > 1 else float("nan")
        out[row] = {"mean": float(d.mean()), "se": se, "higher": float(np.mean(d > 0)), "tracks": int(d.size)}
    return out


def _unique_names(methods: list[MethodScores]) -> None:
    counts: dict[str, int] = {}
    for m in methods:
        counts[m.name] = counts.get(m.name, 0) + 1
    for m in methods:
        if counts[m.name] > 1:
            m.name = f"{m.name} ({m.path.name})" if m.path.name != m.name else f"{m.name} ({m.path})"


def _fmt(x: float) -> str:
    return "n/a" if not math.isfinite(x) else f"{x:.2f}"


def comparison_markdown(methods: list[MethodScores], table: dict, metric: str, paired: dict | None = None) -> str:
    names = [m.name for m in methods]
    lines = [
        f"# Comparison: median {metric} (dB)",
        "",
        "BSS Eval v4, median over 1 s frames within a track, then median over tracks "
        "(SiSEC 2018). `average`: per track mean over stems, then median over tracks. "
        "Best of each row in bold.",
        "",
        "| stem | " + " | ".join(names) + " |",
        "|---|" + "|".join("---:" for _ in names) + "|",
    ]
    for row, values in table.items():
        finite = [v for v in values.values() if math.isfinite(v)]
        best = max(finite) if finite else None
        cells = [f"**{_fmt(v)}**" if best is not None and v == best and len(names) > 1 else _fmt(v)
                 for v in values.values()]
        lines.append(f"| {row} | " + " | ".join(cells) + " |")
    lines.append("| tracks | " + " | ".join(str(len(m.frames)) for m in methods) + " |")
    track_sets = {frozenset(m.frames) for m in methods}
    if len(track_sets) > 1:
        lines += ["", "Note: the evaluations cover different track sets; compare with care."]
    if paired:
        reference = names[0]
        lines += ["", f"## Paired against {reference}", "",
                  f"Per track (median over frames), each method minus {reference} on the tracks both scored: "
                  "mean +- standard error, and the share of tracks where the method is higher.", "",
                  "| stem | " + " | ".join(paired) + " |", "|---|" + "|".join("---:" for _ in paired) + "|"]
        for row in next(iter(paired.values())):
            cells = []
            for name in paired:
                d = paired[name][row]
                cells.append("n/a" if not d["tracks"] else
                             f"{d['mean']:+.2f} +- {_fmt(d['se'])} ({d['higher']:.0%})")
            lines.append(f"| {row} | " + " | ".join(cells) + " |")
    lines += ["", "Folders:", ""] + [f"- {m.name}: `{m.path}`" for m in methods] + [""]
    return "\n".join(lines)


def compare_results(folders: list[str | Path], out: str | Path, *, metric: str = "SDR") -> Comparison:
    """Read evaluation folders, write ``compare.md``, ``compare.json``, ``compare_boxplot.png``."""
    from .plots import grouped_boxplot

    if metric not in METRICS:
        raise ConfigError(f"unknown metric {metric!r}; choose from {', '.join(METRICS)}")
    methods = [load_method(f, metric) for f in folders]
    _unique_names(methods)
    stems: list[str] = []
    for m in methods:
        stems += [s for s in m.stems if s not in stems]
    table: dict[str, dict[str, float]] = {}
    for stem in stems:
        table[stem] = {m.name: _median(m.track_medians(stem)) for m in methods}
    table["average"] = {m.name: _median(m.track_averages()) for m in methods}

    paired = {m.name: paired_differences(methods[0], m, stems) for m in methods[1:]}

    out = Path(out)
    markdown = comparison_markdown(methods, table, metric, paired)
    write_text_atomic(out / "compare.md", markdown)
    write_text_atomic(out / "compare.json", dumps_strict({
        "metric": metric,
        "methods": [{"name": m.name, "path": str(m.path), "tracks": sorted(m.frames)} for m in methods],
        "median": table,
        "paired": {"reference": methods[0].name, "methods": paired},
    }))
    grouped_boxplot({m.name: {s: m.pooled(s) for s in stems} for m in methods},
                    out / "compare_boxplot.png", title=f"{metric} per 1 s frame",
                    ylabel=f"{metric} per 1 s frame (dB)")
    return Comparison(out=out, methods=methods, table=table, markdown=markdown)
