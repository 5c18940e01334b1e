"""The realism ladder (issue 5): how much each data change helps a model separate *real* music.

For every named row (a file ``configs/realism/<row>.yaml``: a renderer config and a real-data mode)
this script

1. renders ``--songs`` songs with ``stemkit synth`` (cached per row, song count, duration and seed);
2. builds the row's training folder (rendered songs, the real training excerpts of
   ``stemkit.data.real_split``, or both) and trains ``ref_masker`` with ``stemkit train`` and the
   fixed recipe ``configs/realism/train.yaml`` for ``--budget`` minutes of wall clock (same seed,
   same config; only the data differs);
3. scores the trained model with ``stemkit evaluate`` on a fixed rendered held-out set
   (``configs/realism/heldout.yaml``: seeds 900000+, a SoundFont no row trains on) and on the 30
   real validation excerpts; the classical separator is scored on both as the reference row;
4. optionally measures model levers on one row's model (``--levers``): mask temperature, Wiener
   refinement, classical input features (a second training run), and per-stem fallback to the
   classical separator (chosen by 2-fold cross-validation over the real validation excerpts);
5. prints one row per configuration (rendered average SDR, real average SDR, real per-stem SDR:
   museval medians over frames then tracks) and writes ``OUT/results.md`` and ``OUT/results.json``.

Everything a step produces is cached under ``--out``: running again with more rows only does the
new work, and ``--report`` rebuilds the table from what has finished (several processes can fill
one ``--out`` with different ``--rows`` once its shared sets exist: run ``--prepare`` first).

    OMP_NUM_THREADS=1 python benchmarks/realism.py --rows naive,bus,real --budget 5 --songs 30 \\
        --out /work/realism_runs/ladder
    python benchmarks/realism.py --out /work/realism_runs/ladder --report
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import yaml

REPO = Path(__file__).resolve().parents[1]
ROWS_DIR = REPO / "configs" / "realism"
TRAIN_CONFIG = ROWS_DIR / "train.yaml"
SOURCES = ("drums", "bass", "other", "vocals")
REAL_MODES = ("none", "mix", "only")
HELDOUT_SEED = 900_000
LEVERS = ("temperature", "wiener", "features", "fallback", "finetune")


# ----------------------------------------------------------------------------- small helpers
def say(text: str, quiet: bool = False) -> None:
    if not quiet:
        print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)


def write_atomic(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def stemkit(args: list[str], log: Path, env: dict | None = None) -> None:
    """Run ``python -m stemkit ARGS`` (the real command), output appended to ``log``."""
    log.parent.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-m", "stemkit", *args]
    with open(log, "a") as f:
        f.write(f"$ {' '.join(command)}\n")
        f.flush()
        done = subprocess.run(command, stdout=f, stderr=subprocess.STDOUT, cwd=REPO, env=env)
    if done.returncode != 0:
        tail = log.read_text().splitlines()[-5:]
        raise RuntimeError(f"stemkit {args[0]} failed (exit {done.returncode}); see {log}:\n" + "\n".join(tail))


def soundfont_aliases() -> dict[str, Path | None]:
    """``@bundled`` (pretty_midi's TimGM6mb), ``@fluidr3``, ``@musescore`` -> files when present."""
    from stemkit.data.render.soundfonts import bundled_soundfont

    def first(*candidates: str) -> Path | None:
        return next((Path(c).resolve() for c in candidates if Path(c).is_file()), None)

    return {
        "@bundled": bundled_soundfont(),
        "@fluidr3": first("/usr/share/sounds/sf2/FluidR3_GM.sf2", "/usr/share/soundfonts/FluidR3_GM.sf2"),
        "@musescore": first("/usr/share/sounds/sf3/MuseScore_General.sf3", "/usr/share/sounds/sf2/MuseScore_General.sf2",
                            "/usr/share/sounds/sf3/MuseScore_General_Full.sf3"),
    }


def drum_kit_files(entries: list, path: Path, notes: list[str]) -> list[str]:
    """``drum_soundfonts`` entries with ``@avldrums`` (every installed avldrums kit) resolved.

    A row that asks for kits which are not installed stops here: without them it would silently
    be its parent row.
    """
    from stemkit.data.drumkits import installed_drum_kits

    out = []
    for entry in entries:
        if str(entry) == "@avldrums":
            kits = installed_drum_kits()
            if not kits:
                raise SystemExit(f"{path}: @avldrums needs the avldrums kits (apt-get install avldrums.lv2)")
            out += [str(k) for k in kits]
            notes.append(f"drum kits: {', '.join(k.stem for k in kits)}")
        elif str(entry).startswith("@"):
            raise SystemExit(f"{path}: unknown drum SoundFont alias {entry!r} (known: @avldrums)")
        else:
            out.append(str(entry))
    return out


# ----------------------------------------------------------------------------- rows
def load_row(name: str, rows_dir: Path = ROWS_DIR) -> dict:
    """``configs/realism/<name>.yaml`` -> ``{"name", "description", "render" (dict|None), "real", "notes"}``.

    ``@alias`` SoundFont entries are resolved; a missing alias is dropped with a note, and a row
    left with none falls back to every SoundFont found (``discover_soundfonts: true``).
    """
    path = rows_dir / f"{name}.yaml"
    if not path.is_file():
        known = sorted(p.stem for p in rows_dir.glob("*.yaml") if p.stem != "train")
        raise SystemExit(f"unknown row {name!r}: no {path} (rows: {', '.join(known)})")
    raw = yaml.safe_load(path.read_text()) or {}
    real = raw.get("real", "none")
    if real not in REAL_MODES:
        raise SystemExit(f"{path}: real must be one of {', '.join(REAL_MODES)}, got {real!r}")
    songs_from = raw.get("songs_from")
    if songs_from is not None:  # the same rendered songs as another row: only the training differs
        parent = load_row(str(songs_from), rows_dir)
        if "render" in raw:
            raise SystemExit(f"{path}: give either render: or songs_from:, not both")
        raw = {**raw, "render": parent["render"]}
    train = raw.get("train") or {}
    if not isinstance(train, dict):
        raise SystemExit(f"{path}: train: must be a mapping of training-config overrides")
    render = raw.get("render")
    notes = []
    if render is not None and songs_from is None:
        render = dict(render)
        aliases = soundfont_aliases()
        resolved = []
        for entry in render.get("soundfonts", []):
            if str(entry).startswith("@"):
                if str(entry) not in aliases:
                    raise SystemExit(f"{path}: unknown SoundFont alias {entry!r} (known: {', '.join(aliases)})")
                if aliases[entry] is None:
                    notes.append(f"{entry} not installed")
                    continue
                resolved.append(str(aliases[entry]))
            else:
                resolved.append(str(entry))
        if render.get("soundfonts") and not resolved:
            render["discover_soundfonts"] = True
            notes.append("fell back to every SoundFont found")
        render["soundfonts"] = resolved
        if render.get("drum_soundfonts"):
            render["drum_soundfonts"] = drum_kit_files(render["drum_soundfonts"], path, notes)
        if render.get("speech_voice_probability"):
            from stemkit.data.speech import festival_available

            if not festival_available():
                raise SystemExit(f"{path}: the speech voice needs apt-get install festival festvox-kallpc16k")
        from stemkit.data.render.config import RenderConfig

        RenderConfig.from_dict(render)  # fail now on a bad key, not in a subprocess
    elif render is None and real == "none":
        raise SystemExit(f"{path}: a row needs rendered songs (render:) or real data (real: mix|only)")
    if songs_from is not None:
        render, notes = raw["render"], [f"songs of row {songs_from}", *parent["notes"]]
    return {"name": name, "description": raw.get("description", ""), "render": render, "real": real, "notes": notes,
            "songs_from": songs_from, "train": train}


# ----------------------------------------------------------------------------- data
def decode_real(part: str, dest: Path, quiet: bool) -> Path:
    """The real ``part`` excerpts as ``dest/train/NAME/<stem>.wav`` (float WAV; decoded once)."""
    from stemkit.audio import write_audio
    from stemkit.data.real_split import real_tracks

    if (dest / "done.json").is_file():
        return dest
    tmp = dest.with_name(dest.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tracks = real_tracks(part=part)
    say(f"decoding {len(tracks)} real {part} excerpts to {dest}", quiet)
    for track in tracks:
        mix, stems, sr = track.load(SOURCES)
        folder = tmp / "train" / track.name
        write_audio(folder / "mixture.wav", mix, sr, subtype="FLOAT")
        for name, stem in zip(SOURCES, stems):
            write_audio(folder / f"{name}.wav", stem, sr, subtype="FLOAT")
    write_atomic(tmp / "done.json", json.dumps({"part": part, "tracks": [t.name for t in tracks]}, indent=1))
    shutil.rmtree(dest, ignore_errors=True)
    os.replace(tmp, dest)
    return dest


def render_songs(row: dict, songs: int, seed: int, dest: Path, jobs: int, log: Path, quiet: bool) -> Path:
    """``stemkit synth`` of ``songs`` songs with the row's renderer config into ``dest/train``."""
    if (dest / "done.json").is_file():
        return dest
    tmp = dest.with_name(dest.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    config = tmp / "render.yaml"
    write_atomic(config, yaml.safe_dump(row["render"], sort_keys=False))
    say(f"rendering {songs} songs for {row['name']} into {dest}", quiet)
    stemkit(["synth", str(tmp), "--songs", str(songs), "--seed", str(seed), "--split", "1:0:0",
             "--config", str(config), "-j", str(jobs), "-q"], log)
    write_atomic(tmp / "done.json", json.dumps({"row": row["name"], "songs": songs, "seed": seed}, indent=1))
    shutil.rmtree(dest, ignore_errors=True)
    os.replace(tmp, dest)
    return dest


def link_training_folder(dest: Path, sources: list[Path]) -> Path:
    """``dest/train/SONG`` symlinks to every ``SRC/train/SONG`` of ``sources`` (rebuilt each time)."""
    shutil.rmtree(dest, ignore_errors=True)
    (dest / "train").mkdir(parents=True)
    for src in sources:
        for song in sorted((src / "train").iterdir()):
            if song.is_dir():
                (dest / "train" / song.name).symlink_to(song.resolve(), target_is_directory=True)
    return dest


class Ladder:
    def __init__(self, args):
        self.args = args
        self.out = Path(args.out).expanduser().resolve()
        self.quiet = args.quiet
        self.common = self.out / "common"
        self.logs = self.out / "logs"

    # -- shared sets -----------------------------------------------------------------------------
    def prepare(self) -> None:
        a = self.args
        self.real_valid = decode_real("valid", self.common / "real_valid", self.quiet)
        self.real_train = decode_real("train", self.common / "real_train", self.quiet)
        heldout = load_row("heldout", a.rows_dir)
        tag = f"heldout_{a.heldout_songs}x{a.duration:g}s"
        heldout["render"]["duration"] = a.duration
        self.heldout = render_songs(heldout, a.heldout_songs, HELDOUT_SEED, self.common / tag, a.jobs,
                                    self.logs / "heldout.synth.log", self.quiet)
        self.heldout_notes = heldout["notes"]

    # -- one row -----------------------------------------------------------------------------------
    def train_data(self, row: dict, label: str | None = None) -> Path:
        a = self.args
        parts = []
        if row["render"] is not None and row["real"] != "only":
            row["render"]["duration"] = a.duration
            source = row.get("songs_from") or row["name"]
            tag = f"{source}_{a.songs}x{a.duration:g}s_seed{a.seed}"
            parts.append(render_songs({**row, "name": source}, a.songs, a.seed, self.out / "songs" / tag, a.jobs,
                                      self.logs / f"{source}.synth.log", self.quiet))
        if row["real"] in ("mix", "only"):
            parts.append(self.real_train)
        return link_training_folder(self.out / "train_data" / (label or row["name"]), parts)

    def train(self, name: str, data: Path, extra: list[str] = ()) -> Path:
        """``stemkit train`` with the fixed recipe; returns the model folder (``last/``)."""
        runs = self.out / "runs"
        run = runs / name
        state = run / "state.json"
        if state.is_file() and json.loads(state.read_text()).get("stages", {}).get("main", {}).get("finished"):
            return run / "last"
        shutil.rmtree(run, ignore_errors=True)  # an interrupted attempt of this script: start over
        budget = time.strftime("%H:%M:%S", time.gmtime(int(round(self.args.budget * 60))))
        say(f"training {name} for {budget} on {data}", self.quiet)
        steps = [f"max_steps={self.args.steps}"] if self.args.steps else []
        stemkit(["train", "--config", str(self.args.train_config), "--runs-dir", str(runs), "--name", name,
                 "--accelerator", "cpu", "-q", f"data.train.root={data}", f"max_time={budget}", *steps,
                 f"seed={self.args.seed}", *extra], self.logs / f"{name}.train.log")
        return run / "last"

    def evaluate(self, model: str, label: str) -> dict:
        """Scores of ``model`` on the rendered held-out set and the real validation set."""
        out = {}
        for key, data in (("rendered", self.heldout), ("real", self.real_valid)):
            dest = self.out / "eval" / label / key
            if not (dest / "scores.json").is_file():
                say(f"evaluating {label} on the {key} set", self.quiet)
                limit = ["--tracks", str(self.args.real_tracks)] if key == "real" and self.args.real_tracks else []
                sdr_only = ["--sdr-only"] if self.args.sdr_only else []
                stemkit(["evaluate", "-n", str(model), "--data", str(data), "--split", "all", "--layout",
                         "musdb_hq", "-o", str(dest), "-j", str(self.args.jobs), "-q", *limit, *sdr_only],
                        self.logs / f"{label}.evaluate.log")
            out[key] = read_scores(dest / "scores.json")
        return out

    def run_row(self, name: str) -> dict:
        row = load_row(name, self.args.rows_dir)
        t0 = time.monotonic()
        # another --seed is another sample of the row: its own run, scores and result (seed 0 keeps
        # the bare row name, so earlier output folders stay valid)
        label = name if self.args.seed == 0 else f"{name}_seed{self.args.seed}"
        data = self.train_data(row, label)
        model = self.train(label, data, train_overrides(row["train"]))
        scores = self.evaluate(str(model), label)
        result = self.record(label, row["description"], model, scores, row["notes"], time.monotonic() - t0,
                             songs=self.args.songs if row["real"] != "only" else 0, real=row["real"])
        return result

    def record(self, label: str, description: str, model: Path | str, scores: dict, notes: list[str],
               seconds: float, **extra) -> dict:
        training = {}
        sidecar = Path(model) / "model.json"
        if sidecar.is_file():
            training = json.loads(sidecar.read_text()).get("training", {}).get("budget", {})
        result = {
            "row": label, "description": description, "model": str(model), "notes": notes,
            "budget_min": self.args.budget, "max_steps": self.args.steps, "duration_s": self.args.duration,
            "seed": self.args.seed, "training": training, "wall_s_total": round(seconds, 1), **extra,
            "rendered": scores["rendered"]["summary"], "real": scores["real"]["summary"],
        }
        write_atomic(self.out / "results" / f"{label}.json", json.dumps(result, indent=1))
        return result

    # -- reference and levers ------------------------------------------------------------------------
    def classical(self) -> dict:
        t0 = time.monotonic()
        scores = self.evaluate("classical", "classical")
        return self.record("classical", "classical separator (no training)", "classical", scores, [],
                           time.monotonic() - t0)

    def levers(self, base: str, which: list[str]) -> None:
        base_model = self.out / "runs" / base / "last"
        if not (base_model / "model.json").is_file():
            raise SystemExit(f"--levers: row {base!r} has no trained model in {base_model}; run it first")
        for lever in which:
            t0 = time.monotonic()
            if lever == "temperature":
                for t in self.args.temperatures:
                    label = f"{base}+T{t:g}"
                    model = variant(base_model, self.out / "variants" / label, temperature=t)
                    self.record(label, f"{base}, mask temperature {t:g}", model, self.evaluate(str(model), label),
                                [], time.monotonic() - t0, lever="temperature")
            elif lever == "wiener":
                label = f"{base}+wiener1"
                model = variant(base_model, self.out / "variants" / label, wiener_iterations=1)
                self.record(label, f"{base}, 1 EM Wiener iteration", model, self.evaluate(str(model), label),
                            [], time.monotonic() - t0, lever="wiener")
            elif lever == "features":
                label = f"{base}+features"
                model = self.train(label, self.out / "train_data" / base, ["model.args.features=[hpss, centre]"])
                self.record(label, f"{base}, HPSS + mid/side input features", model,
                            self.evaluate(str(model), label), [], time.monotonic() - t0, lever="features")
            elif lever == "fallback":
                self.fallback(base)
            elif lever == "finetune":
                # the row's model, trained further on the real training excerpts only (same budget again)
                label = f"{base}+finetune"
                real_only = link_training_folder(self.out / "train_data" / "finetune_real", [self.real_train])
                model = self.train(label, real_only, [f"model.init_from={base_model}"])
                self.record(label, f"{base}, then fine-tuned on the real training excerpts", model,
                            self.evaluate(str(model), label), [], time.monotonic() - t0, lever="finetune")

    def fallback(self, base: str) -> None:
        """Per stem, the model or the classical separator, chosen on one half of the real excerpts
        and scored on the other (2-fold cross-validation); BSS Eval scores each stem on its own."""
        label = f"{base}+fallback"
        self.classical()
        model = read_scores(self.out / "eval" / base / "real" / "scores.json")
        classical = read_scores(self.out / "eval" / "classical" / "real" / "scores.json")
        per_stem, choices = fallback_scores(model["tracks"], classical["tracks"])
        rendered = read_scores(self.out / "eval" / base / "rendered" / "scores.json")["summary"]
        real = {"per_stem": per_stem, "average": float(np.mean(list(per_stem.values()))),
                "tracks": len(model["tracks"])}
        result = {"row": label, "description": f"{base}, per-stem fallback to classical (2-fold CV)",
                  "model": str(self.out / "runs" / base / "last"), "notes": [f"choices per fold: {choices}"],
                  "budget_min": self.args.budget, "duration_s": self.args.duration, "seed": self.args.seed,
                  "lever": "fallback", "rendered": rendered, "real": real}
        write_atomic(self.out / "results" / f"{label}.json", json.dumps(result, indent=1))


def train_overrides(train: dict) -> list[str]:
    """A row's ``train:`` mapping -> ``stemkit train`` overrides ``key=<YAML flow value>``
    (e.g. ``augment:`` replaces the recipe's augmentation list)."""
    return [f"{k}={yaml.safe_dump(v, default_flow_style=True, width=10**6).strip()}" for k, v in train.items()]


def variant(model_dir: Path, dest: Path, **changes) -> Path:
    """A copy of a ``ref_masker`` model folder with inference-only constructor arguments changed."""
    from stemkit.models.registry import build_model
    from stemkit.models.weights import load_model_dir, read_sidecar, save_model_dir

    if (dest / "model.json").is_file():
        return dest
    meta = read_sidecar(model_dir)
    trained = load_model_dir(model_dir)
    model = build_model(meta["model"], **{**meta.get("args", {}), **changes})
    model.load_state_dict(trained.state_dict())
    save_model_dir(model, dest, data=meta.get("data"), training=meta.get("training"), metrics=meta.get("metrics"),
                   description=f"{meta.get('description', '')} with {changes}")
    return dest


# ----------------------------------------------------------------------------- scores
def read_scores(path: Path) -> dict:
    """``stemkit evaluate``'s scores.json -> ``{"summary": {...}, "tracks": {name: {stem: SDR}}}``.

    ``summary``: ``per_stem`` (museval SDR, median over frames then tracks) and ``average`` (their mean).
    """
    data = json.loads(Path(path).read_text())
    stats = data["summary"]["stats"]["SDR"]
    per_stem = {s: _number(stats[s]["median"]) for s in SOURCES if s in stats}
    tracks = {t["name"]: {s: _number(v) for s, v in zip(t["sources"], t["medians"]["SDR"])} for t in data["tracks"]}
    n = len(data["tracks"])
    return {"summary": {"per_stem": per_stem, "average": float(np.mean(list(per_stem.values()))), "tracks": n},
            "tracks": tracks}


def _number(value) -> float:
    """JSON null (a NaN score: a silent reference) -> NaN."""
    return float("nan") if value is None else float(value)


def fallback_scores(model: dict, classical: dict, folds: int = 2) -> tuple[dict, list]:
    """Per-stem median SDR when each stem of each fold's tracks uses whichever separator had the
    higher median SDR on the *other* folds' tracks. ``model``/``classical``: ``{track: {stem: SDR}}``."""
    names = sorted(set(model) & set(classical))
    fold_of = {n: i % folds for i, n in enumerate(names)}
    chosen: dict[str, dict[str, float]] = {n: {} for n in names}
    choices = []
    for fold in range(folds):
        train = [n for n in names if fold_of[n] != fold]
        pick = {}
        for stem in SOURCES:
            ours = np.nanmedian([model[n][stem] for n in train])
            theirs = np.nanmedian([classical[n][stem] for n in train])
            pick[stem] = "classical" if theirs > ours else "model"
        choices.append(pick)
        for n in names:
            if fold_of[n] == fold:
                for stem in SOURCES:
                    chosen[n][stem] = (classical if pick[stem] == "classical" else model)[n][stem]
    per_stem = {s: float(np.nanmedian([chosen[n][s] for n in names])) for s in SOURCES}
    return per_stem, choices


# ----------------------------------------------------------------------------- the table
def table(results: list[dict]) -> str:
    header = ["row", "rendered avg", "real avg", *(f"real {s}" for s in SOURCES), "train steps", "train CPU s"]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for r in results:
        real = r["real"]["per_stem"]
        steps = r.get("training", {}).get("steps", "")
        cpu = r.get("training", {}).get("cpu_s", "")
        lines.append("| " + " | ".join([
            r["row"], f"{r['rendered']['average']:.2f}", f"{r['real']['average']:.2f}",
            *(f"{real[s]:.2f}" for s in SOURCES), str(steps), f"{cpu:.0f}" if cpu != "" else "",
        ]) + " |")
    return "\n".join(lines)


def report(out: Path, order: list[str] | None = None) -> str:
    """The table of every finished row under ``out/results`` (ladder order, then levers)."""
    found = {p.stem: json.loads(p.read_text()) for p in sorted((out / "results").glob("*.json"))}
    ladder = ["classical", "naive", "soundfonts", "effects", "singer", "bus", "real", "real_only",
              "bus_s3", "avldrums", "avldrums_half", "speech_voice", "codec", "real_levels", "levers_s3", "pitch", "tempo"]
    names = [n for n in (order or ladder) if n in found] + sorted(n for n in found if n not in (order or ladder))
    results = [found[n] for n in names]
    trained = [r for r in found.values() if r.get("training")]
    first = trained[0] if trained else next(iter(found.values()), {})
    text = "\n".join([
        f"# realism ladder: {out}",
        "",
        "SDR in dB (museval BSS Eval v4 SDR, median over 1 s frames then over tracks; avg = mean of "
        "the four stems).",
        f"rendered: held-out rendered songs (configs/realism/heldout.yaml); real: "
        f"{first.get('real', {}).get('tracks', '?')} real validation excerpts (stemkit.data.real_split).",
        f"training per model: at most {first.get('budget_min', '?')} min wall clock"
        + (f" and {first['max_steps']} steps" if first.get("max_steps") else "")
        + f"; machine {platform.node()}, {os.cpu_count()} CPUs.",
        "",
        table(results),
        "",
        *[f"- {r['row']}: {r['description']}" + (f" ({'; '.join(r['notes'])})" if r.get("notes") else "")
          for r in results],
        "",
    ])
    write_atomic(out / "results.md", text)
    write_atomic(out / "results.json", json.dumps(results, indent=1))
    return text


# ----------------------------------------------------------------------------- entry point
def parse_args(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", default="naive,soundfonts,effects,singer,bus,real,real_only",
                   help="comma-separated rows (configs/realism/<row>.yaml); empty for none")
    p.add_argument("--budget", type=float, default=5.0, help="training minutes (wall clock) per model")
    p.add_argument("--steps", type=int, default=None,
                   help="also stop training after this many steps (equal updates per row on a busy machine)")
    p.add_argument("--songs", type=int, default=30, help="rendered training songs per row")
    p.add_argument("--duration", type=float, default=15.0, help="seconds per rendered song")
    p.add_argument("--heldout-songs", type=int, default=8, help="songs in the rendered held-out set")
    p.add_argument("--real-tracks", type=int, default=None,
                   help="score only the first N real validation excerpts (smoke tests; default all 30)")
    p.add_argument("--out", required=True, help="output folder (cached steps, results.md, results.json)")
    p.add_argument("--seed", type=int, default=0, help="render and training seed (same for every row)")
    p.add_argument("--no-classical", dest="classical", action="store_false",
                   help="skip the classical separator's reference row")
    p.add_argument("--levers", default="", help=f"comma-separated levers on --lever-row: {', '.join(LEVERS)}")
    p.add_argument("--lever-row", default=None,
                   help="row whose model the levers modify (default: the finished row with the best real average)")
    p.add_argument("--temperatures", default="2", help="mask temperatures for the temperature lever (comma-separated)")
    p.add_argument("--prepare", action="store_true",
                   help="only build the data: shared sets (real excerpts, held-out songs) and the rows' songs")
    p.add_argument("--report", action="store_true", help="only print the table of finished rows")
    p.add_argument("-j", "--jobs", type=int, default=1, help="processes for rendering and evaluation")
    p.add_argument("--rows-dir", type=Path, default=ROWS_DIR, help=argparse.SUPPRESS)
    p.add_argument("--train-config", type=Path, default=TRAIN_CONFIG, help=argparse.SUPPRESS)
    p.add_argument("--full-metrics", dest="sdr_only", action="store_false",
                   help="score SIR/SAR/ISR too (museval's filters: minutes per model); default SDR only, "
                        "which is museval's SDR computed without filters (`stemkit evaluate --sdr-only`)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress messages")
    args = p.parse_args(argv)
    args.rows = [r.strip() for r in args.rows.split(",") if r.strip()]
    args.levers = [x.strip() for x in args.levers.split(",") if x.strip()]
    args.temperatures = [float(t) for t in args.temperatures.split(",") if t.strip()]
    bad = [x for x in args.levers if x not in LEVERS]
    if bad:
        p.error(f"unknown lever(s) {', '.join(bad)}; choose from {', '.join(LEVERS)}")
    if args.steps is not None and args.steps < 1:
        p.error("--steps must be at least 1")
    if args.real_tracks is not None and args.real_tracks < 1:
        p.error("--real-tracks must be at least 1")
    if args.budget <= 0 or args.songs < 1 or args.heldout_songs < 1 or args.duration <= 0 or args.jobs < 1:
        p.error("--budget, --songs, --heldout-songs, --duration and --jobs must be positive")
    if any(t <= 0 for t in args.temperatures):
        p.error("--temperatures must be positive")
    return args


def best_row(out: Path, candidates: list[str]) -> str | None:
    scores = {}
    for name in candidates:
        path = out / "results" / f"{name}.json"
        if path.is_file():
            scores[name] = json.loads(path.read_text())["real"]["average"]
    return max(scores, key=scores.get) if scores else None


def main(argv=None) -> int:
    args = parse_args(argv)
    ladder = Ladder(args)
    if args.report:
        print(report(ladder.out))
        return 0
    for name in args.rows:
        load_row(name, args.rows_dir)  # every row's config is checked before any work
    ladder.prepare()
    if args.prepare:
        for name in args.rows:
            ladder.train_data(load_row(name, args.rows_dir))
        return 0
    if args.classical:
        ladder.classical()
    for name in args.rows:
        ladder.run_row(name)
    if args.levers:
        ladder_rows = [p.stem for p in args.rows_dir.glob("*.yaml") if p.stem not in ("train", "heldout")]
        base = args.lever_row or best_row(ladder.out, ladder_rows)
        if base is None:
            raise SystemExit("--levers: no finished row to modify; give --rows or --lever-row")
        ladder.levers(base, args.levers)
    print(report(ladder.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
