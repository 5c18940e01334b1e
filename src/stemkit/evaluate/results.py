"""What scoring one track produces, and how many tracks aggregate (SiSEC medians, seed 004's mean ± std)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import numpy as np

from .metrics import METRICS, FrameScores, SignalDifference, mdx_sdr, signal_difference

#: Summary statistics for every per-track score column.
STAT_NAMES = ("median", "mean", "std")


@dataclass
class TrackResult:
    """Scores of one track; plain lists so it pickles small and dumps to JSON as is.

    ``frames[metric][s]`` = frame values of source ``s`` (NaN = not scored); ``medians[metric][s]``
    = median over frames; ``mdx_sdr[s]``; ``signal_difference[s]`` (time + spectral parts too).
    """

    name: str
    split: str
    sources: list[str]
    window: float
    frames: dict[str, list[list[float]]]
    medians: dict[str, list[float]]
    mdx_sdr: list[float]
    signal_difference: list[float]
    signal_difference_time: list[float]
    signal_difference_spectral: list[float]
    duration: float
    seconds: dict[str, float] = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "TrackResult":
        return cls(**data)

    def row(self, source_index: int) -> dict:
        """One flat row (track, target, metrics) for ``scores.csv``."""
        s = source_index
        out = {"track": self.name, "split": self.split, "target": self.sources[s]}
        for metric in METRICS:
            out[metric] = self.medians[metric][s]
        out["MDX_SDR"] = self.mdx_sdr[s]
        out["signal_difference"] = self.signal_difference[s]
        out["signal_difference_time"] = self.signal_difference_time[s]
        out["signal_difference_spectral"] = self.signal_difference_spectral[s]
        return out


def score_track(
    name: str,
    split: str,
    sources: list[str],
    references: np.ndarray,
    estimates: np.ndarray,
    sample_rate: int,
    *,
    window: float = 1.0,
    block_seconds: float | None = 30.0,
    sdr_only: bool = False,
) -> TrackResult:
    """All metrics of one track: references and estimates ``(S, C, T)`` in ``sources`` order."""
    from .metrics import bss_eval_v4

    frames: FrameScores = bss_eval_v4(
        references, estimates, sample_rate, window=window, block_seconds=block_seconds, sdr_only=sdr_only
    )
    diff: SignalDifference = signal_difference(references, estimates)
    return TrackResult(
        name=name,
        split=split,
        sources=list(sources),
        window=float(window),
        frames={m: v.tolist() for m, v in frames.as_dict().items()},
        medians={m: v.tolist() for m, v in frames.medians().items()},
        mdx_sdr=mdx_sdr(references, estimates).tolist(),
        signal_difference=diff.total.tolist(),
        signal_difference_time=diff.time.tolist(),
        signal_difference_spectral=diff.spectral.tolist(),
        duration=references.shape[-1] / sample_rate,
    )


def _stats(values) -> dict[str, float]:
    """median, mean, std (population, as seed 004's tf.reduce_std) of the finite values; n used."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return {"median": float("nan"), "mean": float("nan"), "std": float("nan"), "n": 0}
    return {"median": float(np.median(v)), "mean": float(np.mean(v)), "std": float(np.std(v)),
            "n": int(v.size)}


def score_columns() -> list[str]:
    return [*METRICS, "MDX_SDR", "signal_difference"]


def _per_track(result: TrackResult, column: str) -> list[float]:
    """Per-source values of one score column: frame medians for BSS Eval, else the track score."""
    if column in METRICS:
        return result.medians[column]
    return {"MDX_SDR": result.mdx_sdr, "signal_difference": result.signal_difference}[column]


def aggregate(results: list[TrackResult]) -> dict:
    """Statistics over tracks of every per-track score, per source and for the source average.

    BSS Eval columns follow SiSEC 2018: the per-track value is the median over frames, then the
    median (and mean ± std, as seed 004 reports) over tracks. ``average`` is, per track, the
    mean over sources of the per-track values (NaN sources skipped), then the same statistics
    over tracks. Returns ``{"sources": [...], "stats": {column: {source|"average": stats}}}``.
    """
    if not results:
        return {"sources": [], "stats": {}, "tracks": 0}
    sources = list(results[0].sources)
    stats: dict[str, dict] = {}
    for column in score_columns():
        per_source = {s: [] for s in sources}
        average = []
        for r in results:
            values = np.asarray(_per_track(r, column), dtype=np.float64)
            for s, v in zip(r.sources, values):
                per_source.setdefault(s, []).append(v)
            finite = values[np.isfinite(values)]
            average.append(float(np.mean(finite)) if finite.size else float("nan"))
        stats[column] = {s: _stats(v) for s, v in per_source.items()}
        stats[column]["average"] = _stats(average)
    return {"sources": sources, "stats": stats, "tracks": len(results)}


def pooled_frames(results: list[TrackResult], metric: str = "SDR") -> dict[str, np.ndarray]:
    """All finite frame values of ``metric`` over all tracks, per source (for box plots)."""
    out: dict[str, list] = {}
    for r in results:
        for s, values in zip(r.sources, r.frames[metric]):
            v = np.asarray(values, dtype=np.float64)
            out.setdefault(s, []).append(v[np.isfinite(v)])
    return {s: np.concatenate(v) if v else np.zeros(0) for s, v in out.items()}
