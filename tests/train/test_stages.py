"""Schedules, weight penalties, model-native loss inputs, best-weight restore, the refine stage."""

import json
from types import SimpleNamespace

import pytest
import torch
from train_helpers import tiny_config, write_config

from stemkit.cli.main import main
from stemkit.errors import ConfigError
from stemkit.losses import build_loss
from stemkit.models import build_model
from stemkit.train.callbacks import ModelFolders
from stemkit.train.config import ScheduleConfig, load_config
from stemkit.train.module import SeparationTask
from stemkit.train.optim import build_schedule


def lrs(schedule_cfg, steps, lr=1e-3, max_steps=10):
    opt = torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=lr)
    sched = build_schedule(opt, schedule_cfg, max_steps=max_steps, val_every=5, monitor="val/sdr")["scheduler"]
    out = []
    for _ in range(steps):
        out.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return out


def test_step_schedule_drops_tenfold_at_its_step():
    # Seed 002: 1e-3 for the first half, then 1e-4 (default step: max_steps // 2).
    assert lrs(ScheduleConfig(name="step"), 10) == pytest.approx([1e-3] * 5 + [1e-4] * 5)
    assert lrs(ScheduleConfig(name="step", at=2, factor=0.5), 4) == pytest.approx([1e-3, 1e-3, 5e-4, 5e-4])


def test_cyclic_schedule_is_triangular():
    got = lrs(ScheduleConfig(name="cyclic", base_lr=1e-4, max_lr=5e-4, step_size=4), 9)
    assert got == pytest.approx([1e-4, 2e-4, 3e-4, 4e-4, 5e-4, 4e-4, 3e-4, 2e-4, 1e-4])


def test_plateau_schedule_steps_after_validation():
    opt = torch.optim.Adam([torch.nn.Parameter(torch.zeros(1))], lr=1e-3)
    cfg = build_schedule(opt, ScheduleConfig(name="plateau", patience=2, factor=0.5), max_steps=10,
                         val_every=5, monitor="val/sdr")
    assert cfg["frequency"] == 5 and cfg["monitor"] == "val/sdr"
    for sdr in (1.0, 0.5, 0.4):  # two validations without improvement -> halve
        cfg["scheduler"].step(sdr)
    assert opt.param_groups[0]["lr"] == pytest.approx(5e-4)


def _task(musdb_root, model, **changes):
    cfg = load_config(raw=tiny_config(musdb_root, **changes))
    loss = build_loss(cfg.loss.name, sources=cfg.sources, **cfg.loss.args)
    return SeparationTask(model, loss, cfg, lr=cfg.optimizer.lr, max_steps=cfg.max_steps)


def test_weight_penalty_sums_weights_not_biases(musdb_root):
    model = build_model("tiny_train_net")
    task = _task(musdb_root, model, penalty={"l1": 0.5, "l2": 2.0})
    w = model.conv.weight
    expected = 0.5 * w.abs().sum() + 2.0 * w.pow(2).sum()
    assert task.penalty().item() == pytest.approx(expected.item())
    assert _task(musdb_root, model).penalty() is None


def small_chandna():
    return build_model("chandna", sample_rate=8000, segment=4096, n_fft=256, hop=64, frames=8, f1=129, n1=4,
                       t2=4, n2=4, bottleneck=8)


def test_spectrogram_loss_on_the_models_own_outputs(musdb_root):
    # Seed 002's alpha-weighted L1 on the magnitudes a spectrogram model estimates (training_outputs).
    model = small_chandna()
    task = _task(musdb_root, model, loss={"name": "alpha_l1"})
    mix, stems = torch.randn(2, 2, 4096), torch.randn(2, 4, 2, 4096)
    loss = task.compute_loss(mix, stems)
    spec = model.training_outputs(mix)["spec"]
    target = model.training_targets(stems)["spec"]
    assert loss.item() == pytest.approx(build_loss("alpha_l1")(spec, target, None).item(), rel=1e-5)
    loss.backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in model.parameters())
    # Chandna's own loss on waveforms through the same model.
    wave = _task(musdb_root, model, loss={"name": "chandna"}).compute_loss(mix, stems)
    assert torch.isfinite(wave)


def test_native_inputs_are_checked(musdb_root):
    with pytest.raises(ConfigError, match="has no training_outputs"):
        _task(musdb_root, build_model("tiny_train_net"), loss={"name": "mask_bce"})
    task = _task(musdb_root, small_chandna(), loss={"name": "mask_bce"})
    with pytest.raises(ConfigError, match="not 'mask'"):  # chandna gives masks but no mask targets
        task.compute_loss(torch.randn(1, 2, 4096), torch.randn(1, 4, 2, 4096))


def test_model_folders_keep_and_restore_the_best(tmp_path):
    model = build_model("tiny_train_net")
    folders = ModelFolders(tmp_path, monitor="val/sdr",
                           describe=lambda which: {"data": {}, "training": {}, "description": which})
    module = SimpleNamespace(model=model)
    for step, sdr in ((10, 1.0), (20, 3.0), (30, 2.0)):
        with torch.no_grad():
            model.conv.weight.fill_(step)
        trainer = SimpleNamespace(sanity_checking=False, global_step=step, is_global_zero=True,
                                  callback_metrics={"val/sdr": torch.tensor(sdr)})
        folders.on_validation_end(trainer, module)
    assert folders.best_score == 3.0 and folders.best_step == 20
    assert json.loads((tmp_path / "best" / "model.json").read_text())["metrics"]["step"] == 20
    assert json.loads((tmp_path / "last" / "model.json").read_text())["metrics"]["step"] == 30
    assert folders.restore_best(model) and torch.all(model.conv.weight == 20)
    folders.best_state = None  # after a resume the best weights come from best/ on disk
    with torch.no_grad():
        model.conv.weight.zero_()
    assert folders.restore_best(model) and torch.all(model.conv.weight == 20)


def test_two_stage_training_with_early_stopping(musdb_root, tmp_path):
    cfg = tiny_config(musdb_root, max_steps=12, val_every=4, log_every=4,
                      early_stopping={"patience": 2}, refine={"batch_size": 2, "lr": 1e-3, "max_steps": 4})
    config = write_config(tmp_path / "two.yaml", cfg)
    assert main(["train", "--config", str(config), "--runs-dir", str(tmp_path), "--quiet"]) == 0
    run = tmp_path / "two"
    state = json.loads((run / "state.json").read_text())
    main_stage, refine = state["stages"]["main"], state["stages"]["refine"]
    assert main_stage["handed_on"] == "best" and refine["steps"] == 4
    assert (run / "checkpoints" / "refine" / "last.ckpt").is_file()
    last = json.loads((run / "last" / "model.json").read_text())
    assert last["training"]["stage"] == "refine"
    assert last["training"]["budget"]["steps"] == main_stage["steps"] + 4
    rows = (run / "metrics.csv").read_text().splitlines()
    assert any(r.startswith("main,") for r in rows) and any(r.startswith("refine,") for r in rows)
    # Resuming a finished run does nothing more.
    assert main(["train", "--name", "two", "--runs-dir", str(tmp_path), "--resume", "--quiet"]) == 0
    assert json.loads((run / "state.json").read_text())["stages"]["refine"]["steps"] == 4


def test_augmentation_keeps_what_the_sources_leave_of_the_mixture(musdb_root):
    # Training one stem: the rest of the mixture is augmented along with it, not dropped.
    model = build_model("tiny_train_net", sources=("vocals",))
    task = _task(musdb_root, model, sources=["vocals"], augment=[{"name": "gain", "min_db": -6, "max_db": -6}])
    stems = torch.randn(2, 4, 2, 100)
    mix, vocals = stems.sum(1), stems[:, 3:]
    out_mix, out_stems = task._prepare(mix, vocals)
    gain = 10 ** (-6 / 20)
    torch.testing.assert_close(out_stems, vocals * gain)
    torch.testing.assert_close(out_mix, mix * gain)


def test_cascade_stage_input_is_the_mixture_minus_earlier_stems(musdb_root):
    # Seed 000's cascade: the drums stage sees the mixture without the vocals.
    model = build_model("tiny_train_net", sources=("drums",))
    task = _task(musdb_root, model, sources=["drums"], mixture_minus=["vocals"])
    stems = torch.randn(2, 4, 2, 100)
    loaded = stems[:, [0, 3]]  # what the loaders read: drums, then vocals
    mix, target = task._prepare(stems.sum(1), loaded)
    torch.testing.assert_close(mix, stems[:, :3].sum(1))
    torch.testing.assert_close(target, stems[:, :1])
    with pytest.raises(ConfigError, match="mixture_minus"):
        load_config(raw=tiny_config(musdb_root, sources=["drums"], mixture_minus=["drums"]))


def test_cascade_stage_trains_end_to_end(musdb_root, tmp_path):
    cfg = tiny_config(musdb_root, max_steps=4, val_every=4, sources=["drums"], mixture_minus=["vocals"],
                      model={"name": "tiny_train_net", "args": {}})
    config = write_config(tmp_path / "stage.yaml", cfg)
    assert main(["train", "--config", str(config), "--runs-dir", str(tmp_path), "--quiet"]) == 0
    meta = json.loads((tmp_path / "stage" / "best" / "model.json").read_text())
    assert meta["sources"] == ["drums"] and meta["data"]["mixture_minus"] == ["vocals"]
    assert set(meta["metrics"]) >= {"val/sdr", "val/sdr_drums"}


def test_max_time_stops_a_stage(musdb_root, tmp_path):
    cfg = tiny_config(musdb_root, max_steps=1_000_000, max_time="00:00:02", val_every=1_000_000)
    config = write_config(tmp_path / "timed.yaml", cfg)
    assert main(["train", "--config", str(config), "--runs-dir", str(tmp_path), "--quiet"]) == 0
    state = json.loads((tmp_path / "timed" / "state.json").read_text())
    assert state["stages"]["main"]["reason"] == "max_time"
    assert 0 < state["stages"]["main"]["steps"] < 1_000_000
    assert state["budget"]["wall_s"] >= 1.5  # the budget clock starts a moment after the time limit's
    # No validation was due, so the final weights were scored once at the end.
    best = json.loads((tmp_path / "timed" / "best" / "model.json").read_text())
    assert best["metrics"]["step"] == state["stages"]["main"]["steps"] and "val/sdr" in best["metrics"]


def test_divergence_is_a_user_error(musdb_root):
    from stemkit.errors import StemkitError

    model = build_model("tiny_train_net")
    task = _task(musdb_root, model)
    mix = torch.full((1, 2, 64), float("nan"))
    with pytest.raises(StemkitError, match="training diverged"):
        task.training_step((mix, torch.zeros(1, 4, 2, 64)), 0)


def test_cpu_budget_stops_the_run_and_resumes_with_a_larger_one(musdb_root, tmp_path):
    cfg = tiny_config(musdb_root, max_steps=1_000_000, max_cpu_s=1.0, val_every=1_000_000,
                      refine={"batch_size": 2, "lr": 1e-3, "max_steps": 4})
    config = write_config(tmp_path / "cpu.yaml", cfg)
    assert main(["train", "--config", str(config), "--runs-dir", str(tmp_path), "--quiet"]) == 0
    run = tmp_path / "cpu"
    state = json.loads((run / "state.json").read_text())
    assert state["stages"]["main"]["reason"] == "max_cpu_s"
    first_steps = state["stages"]["main"]["steps"]
    assert 0 < first_steps < 1_000_000 and state["budget"]["cpu_s"] >= 1.0
    assert "refine" not in state["stages"]  # the budget covers the whole run: no later stage starts
    # A larger budget on resume continues the stopped stage, then runs the refine stage.
    assert main(["train", "--name", "cpu", "--runs-dir", str(tmp_path), "--resume", "--quiet", "max_cpu_s=1e6",
                 "max_steps=" + str(first_steps + 3)]) == 0
    state = json.loads((run / "state.json").read_text())
    assert state["stages"]["main"]["steps"] == first_steps + 3 and state["stages"]["refine"]["steps"] == 4


def test_cpu_budget_must_be_positive(tmp_path, musdb_root):
    config = write_config(tmp_path / "bad.yaml", tiny_config(musdb_root, max_cpu_s=0))
    with pytest.raises(ConfigError, match="max_cpu_s"):
        load_config(config)
