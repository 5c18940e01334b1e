"""``stemkit evaluate``: separate every track of a dataset, score it, write the reports.

One job = one track: load it, separate it (oracle models get the reference stems), score it
(:func:`~stemkit.evaluate.results.score_track`), write its museval JSON (and figures for the plot
track). ``jobs > 1`` runs tracks in parallel worker processes; the main process only gathers the
small per-track results and writes the summaries, so a finished track is never lost.
"""

from __future__ import annotations

import datetime as _dt
import os
import sys
import time
import warnings
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path

import numpy as np

from ..errors import ConfigError
from .results import TrackResult, pooled_frames, score_track


@dataclass
class EvalSettings:
    """Everything a job needs besides the track (pickled to worker processes)."""

    model: str
    split: str | None = "test"
    layout: str = "auto"
    out: Path | None = None
    jobs: int = 1
    max_tracks: int | None = None
    plot_track: str | None = None
    segment: float | None = None
    shifts: int = 0
    device: str = "cpu"
    window: float = 1.0
    block_seconds: float | None = 30.0
    sdr_only: bool = False  # SDR without distortion filters (museval's SDR; ISR/SIR/SAR not computed)
    wiener: int = 0  # multichannel Wiener post-filter iterations, as `stemkit separate --wiener`
    postprocess: object = None  # a stemkit.postprocess.StemPostprocess (gate / filters), or None
    quiet: bool = False


@dataclass
class EvalRun:
    out: Path
    results: list[TrackResult]
    summary: dict
    config: dict = field(default_factory=dict)


def model_label(model: str) -> str:
    """Folder-friendly name of a model argument: a path gives its last component."""
    return Path(model).name if ("/" in model or os.sep in model) else model


# ----------------------------------------------------------------------------- one track
_MODELS: dict[tuple, object] = {}  # one loaded model per worker process


def _model(settings: EvalSettings):
    from ..models.registry import load_model

    key = (settings.model, settings.device)
    if key not in _MODELS:
        _MODELS[key] = load_model(settings.model)
    return _MODELS[key]


def separate_track(model, mix: np.ndarray, refs: np.ndarray, sample_rate: int, settings: EvalSettings) -> np.ndarray:
    """Estimates ``(S, C, T)`` in ``model.sources`` order: oracles get the references ``(S, C, T)``."""
    if getattr(model, "family", "neural") == "oracle":
        return np.asarray(model.separate_with_references(mix, refs), dtype=np.float32)
    from ..separator import Separator

    # Mixture consistency spreads the residual over the stems; with one stem (a cascade stage such
    # as a vocals-only wave_unet) it would replace the estimate by the mixture itself.
    sep = Separator(model, device=settings.device, segment=settings.segment, shifts=settings.shifts,
                    wiener=settings.wiener, consistency=len(model.sources) > 1, progress=False)
    stems = sep.separate(mix, sample_rate)
    estimates = np.stack([stems[s] for s in model.sources]).astype(np.float32, copy=False)
    if settings.postprocess is not None and settings.postprocess.active:
        # after Wiener, as a user would chain them; what is removed goes to the complement stem
        estimates = settings.postprocess(estimates, list(model.sources), sample_rate)
    return estimates


def evaluate_track(track, settings: EvalSettings, out_dir: Path) -> TrackResult:
    """Separate, score and write one track; returns its (small) result."""
    from .report import write_track_json

    model = _model(settings)
    sources = list(model.sources)
    t0 = time.perf_counter()
    mix, refs, sr = track.load(sources)
    silent = [s for s, r in zip(sources, refs) if not np.any(r)]
    if silent:
        warnings.warn(f"{track.name}: reference {', '.join(silent)} is silent throughout; BSS Eval "
                      "cannot score any frame of this track (MDX SDR and signal difference still can)")
    t1 = time.perf_counter()
    estimates = separate_track(model, mix, refs, sr, settings)
    t2 = time.perf_counter()
    # museval's folder layout: <split>/<track>.json; a track of no known split files under test/
    split = (track.meta or {}).get("split") or settings.split or "test"
    split = "test" if split == "all" else split
    result = score_track(track.name, split, sources, refs, estimates, sr,
                         window=settings.window, block_seconds=settings.block_seconds,
                         sdr_only=settings.sdr_only)
    t3 = time.perf_counter()
    result.seconds = {"load": t1 - t0, "separate": t2 - t1, "score": t3 - t2}
    write_track_json(out_dir, result)
    if settings.plot_track is not None and track.name == settings.plot_track:
        from .plots import track_figures

        track_figures(track.name, mix, refs, estimates, sources, sr, out_dir / "plots")
    return result


def _init_worker() -> None:
    import torch

    torch.set_num_threads(1)  # jobs share the cores; one thread each avoids oversubscription


# ----------------------------------------------------------------------------- the dataset
def _find_tracks(data: Path, settings: EvalSettings):
    from ..data.loader_layouts import MUSDB_SPLITS
    from ..data.tracks import find_tracks

    split = None if settings.split in (None, "all") else settings.split
    try:
        tracks = find_tracks(data, layout=settings.layout, split=split)
    except ConfigError:
        has_splits = any((data / s).is_dir() for s in MUSDB_SPLITS) or (data / "Mixtures").is_dir()
        if split is None or has_splits:
            raise
        # a folder that *is* one split (e.g. musdb18/train itself): take all of it
        tracks = find_tracks(data, layout=settings.layout, split=None)
        settings.split = None
    if settings.max_tracks is not None:
        if settings.max_tracks < 1:
            raise ConfigError("--tracks must be at least 1")
        tracks = tracks[: settings.max_tracks]
    return tracks


def _progress(total: int, quiet: bool):
    from tqdm import tqdm

    return tqdm(total=total, unit="track", desc="evaluate", leave=False,
                disable=quiet or not sys.stderr.isatty(), file=sys.stderr)


def _versions() -> dict:
    from importlib.metadata import PackageNotFoundError, version

    from .. import __version__

    try:
        museval_version = version("museval")
    except PackageNotFoundError:  # pragma: no cover - museval is a dependency
        museval_version = "?"
    return {"stemkit_version": __version__, "museval_version": museval_version}


def evaluate_model(data: str | Path, settings: EvalSettings) -> EvalRun:
    """Evaluate ``settings.model`` on every track of ``data``; writes and returns the run."""
    from ..models.registry import load_model
    from . import report
    from .plots import sdr_boxplot

    data = Path(data).expanduser()
    model = load_model(settings.model)  # fail early on an unknown model, before any work
    tracks = _find_tracks(data, settings)
    names = [t.name for t in tracks]
    if settings.plot_track is None:
        settings.plot_track = names[0]
    elif settings.plot_track not in names:
        shown = ", ".join(names[:5]) + (" ..." if len(names) > 5 else "")
        raise ConfigError(f"--plot-track {settings.plot_track!r} is not among the tracks ({shown})")
    if settings.jobs < 1:
        raise ConfigError("-j/--jobs must be at least 1")
    if settings.wiener < 0:
        raise ConfigError("--wiener must be 0 or more")
    if settings.postprocess is not None:
        settings.postprocess.check(list(model.sources))  # fail before any separation
    if settings.window <= 0 or (settings.block_seconds is not None and settings.block_seconds < settings.window):
        raise ConfigError("the window must be positive and the block at least one window long")
    out = Path(settings.out) if settings.out else Path("evaluations") / model_label(settings.model)
    out.mkdir(parents=True, exist_ok=True)

    config = {
        "model": settings.model,
        "model_family": getattr(model, "family", "neural"),
        "sources": list(model.sources),
        "data": str(data.resolve()),
        "split": settings.split,
        "layout": settings.layout,
        "tracks": names,
        "date": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        **_versions(),
        "protocol": "BSS Eval v4 (museval, bss_eval_images, whole-track time-invariant filters); "
                    "median over frames, then median over tracks",
        "window": settings.window,
        "block_seconds": settings.block_seconds,
        "sdr_only": settings.sdr_only,
        "wiener": settings.wiener,
        "postprocess": settings.postprocess.describe() if settings.postprocess is not None else None,
        "segment": settings.segment,
        "shifts": settings.shifts,
        "jobs": settings.jobs,
        "device": settings.device,
    }
    report.write_config(out, config)
    _MODELS[(settings.model, settings.device)] = model

    results: dict[str, TrackResult] = {}
    bar = _progress(len(tracks), settings.quiet)
    try:
        if settings.jobs == 1:
            for track in tracks:
                results[track.name] = evaluate_track(track, settings, out)
                bar.update(1)
        else:
            _run_parallel(tracks, settings, out, results, bar)
    finally:
        bar.close()
    ordered = [results[n] for n in names]
    summary = report.write_scores(out, ordered, config)
    report.write_summary(out, summary, ordered, config)
    sdr_boxplot(pooled_frames(ordered, "SDR"), out / "plots" / "sdr_boxplot.png",
                title=f"{model_label(settings.model)}: SDR per 1 s frame, {len(ordered)} track(s)")
    return EvalRun(out=out, results=ordered, summary=summary, config=config)


def _run_parallel(tracks, settings: EvalSettings, out: Path, results: dict, bar) -> None:
    # spawn, not fork: forking a process that already ran torch/OpenMP threads can deadlock.
    ctx = get_context("spawn")
    with ProcessPoolExecutor(max_workers=settings.jobs, mp_context=ctx, initializer=_init_worker) as pool:
        pending = {pool.submit(evaluate_track, t, settings, out): t.name for t in tracks}
        try:
            while pending:
                done, _ = wait(pending, return_when=FIRST_COMPLETED)
                for fut in done:
                    name = pending.pop(fut)
                    results[name] = fut.result()
                    bar.update(1)
        except BaseException:
            for fut in pending:
                fut.cancel()
            raise
