"""Config loading: strict keys and types, dotted overrides, clear one-line errors."""

import pytest

from stemkit.cli.main import main
from stemkit.errors import ConfigError
from stemkit.train.config import load_config, parse_duration, parse_overrides

BASE = {"model": {"name": "tiny_train_net"}, "data": {"train": {"type": "musdb_hq", "root": "/data"}}}


def test_defaults_and_overrides():
    cfg = load_config(raw=BASE, overrides=["optimizer.lr=3e-4", "schedule.name=step", "schedule.at=50",
                                           "model.args.kernel=5", "early_stopping.patience=4",
                                           "data.valid.type=musdb_hq", "data.valid.root=/v"])
    assert cfg.optimizer.lr == pytest.approx(3e-4)  # PyYAML alone would read "3e-4" as a string
    assert cfg.schedule.name == "step" and cfg.schedule.at == 50
    assert cfg.model.args == {"kernel": 5}
    assert cfg.early_stopping.patience == 4 and cfg.early_stopping.monitor == "val/sdr"
    assert cfg.sources == ["drums", "bass", "other", "vocals"]
    assert cfg.every_checkpoint == cfg.val_every


def test_numbers_written_as_yaml_strings_are_numbers():
    cfg = load_config(raw={**BASE, "optimizer": {"lr": "1e-4"}})
    assert cfg.optimizer.lr == pytest.approx(1e-4)


@pytest.mark.parametrize(
    "change, message",
    [
        ({"optimiser": {"lr": 1e-3}}, r"^optimiser: unknown key"),
        ({"optimizer": {"learning_rate": 1e-3}}, r"^optimizer.learning_rate: unknown key"),
        ({"batch_size": "8"}, r"^batch_size: expected an integer"),
        ({"batch_size": 0}, r"^batch_size: must be >= 1"),
        ({"optimizer": {"name": "sgd"}}, r"^optimizer.name: must be one of adam, adamw, adadelta"),
        ({"schedule": {"name": "cosine"}}, r"^schedule.name: must be one of"),
        ({"max_time": "25 minutes"}, r"^max_time: expected HH:MM:SS"),
        ({"early_stopping": {"patience": 3}}, r"^early_stopping: needs data.valid"),
        ({"data": {"train": {"type": "musdb_hq"}}}, r"^data.train.root: required"),
        ({"data": {"train": {"type": "nope", "root": "/x"}}}, r"^data.train.type: must be one of"),
        ({"penalty": {"l1": -1}}, r"^penalty: l1 and l2 must be >= 0"),
        ({"refine": {"batch_size": 32, "lr": "fast"}}, r"^refine.lr: expected a number"),
        ({"model": {"args": {}}}, r"^model.name: required key missing"),
    ],
)
def test_bad_configs_name_the_key(change, message):
    with pytest.raises(ConfigError, match=message):
        load_config(raw={**BASE, **change})


def test_override_syntax_errors():
    with pytest.raises(ConfigError, match="expected dotted.key=value"):
        parse_overrides(["optimizer.lr"])
    with pytest.raises(ConfigError, match=r"optimizer.lr.x: optimizer.lr is not a mapping"):
        load_config(raw={**BASE, "optimizer": {"lr": 1e-3}}, overrides=["optimizer.lr.x=1"])
    assert parse_overrides(["a.b=[1, 2]", "c=true", "d=null"]) == [("a.b", [1, 2]), ("c", True), ("d", None)]


def test_durations():
    assert parse_duration("00:25:00").total_seconds() == 25 * 60
    assert parse_duration("1:02:00:05").total_seconds() == 86400 + 2 * 3600 + 5


def test_cli_reports_config_errors_in_one_line(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: {name: tiny_train_net}\ndata: {train: {type: musdb_hq, root: /x}}\nbatchsize: 4\n")
    code = main(["train", "--config", str(bad), "--runs-dir", str(tmp_path / "runs"), "--quiet"])
    err = capsys.readouterr().err.strip()
    assert code == ConfigError.exit_code
    assert err.count("\n") == 0 and "batchsize: unknown key" in err
    assert main(["train", "--config", str(tmp_path / "missing.yaml"), "--quiet"]) == ConfigError.exit_code
    assert main(["train", "--resume", "--name", "nothing", "--runs-dir", str(tmp_path / "runs")]) == ConfigError.exit_code
    assert "nothing to resume" in capsys.readouterr().err


def test_data_errors_stop_before_the_run_folder_exists(tmp_path, capsys):
    cfg = tmp_path / "nodata.yaml"
    cfg.write_text(f"model: {{name: tiny_train_net}}\ndata: {{train: {{type: musdb_hq, root: {tmp_path / 'nowhere'}}}}}\n")
    code = main(["train", "--config", str(cfg), "--runs-dir", str(tmp_path / "runs"), "--quiet"])
    assert code == ConfigError.exit_code and "dataset folder not found" in capsys.readouterr().err
    assert not (tmp_path / "runs" / "nodata").exists()


def test_resume_refuses_a_different_model(tmp_path):
    from stemkit.train.run import _check_resume_overrides

    with pytest.raises(ConfigError, match="model.args.kernel: cannot change on --resume"):
        _check_resume_overrides(["max_steps=10", "model.args.kernel=3"])
    with pytest.warns(UserWarning, match="restores its optimizer"):
        _check_resume_overrides(["optimizer.lr=1e-5"])
    _check_resume_overrides(["max_steps=10", "data.train.samples_per_epoch=8"])
