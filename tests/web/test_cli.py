"""``stemkit serve`` arguments: help lists the options, bad values fail fast with one line."""

from __future__ import annotations

import subprocess
import sys

import pytest

from stemkit.cli.main import main


def test_help_lists_the_options(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["serve", "--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    for option in ("--host", "--port", "--model", "--max-upload-mb", "--concurrency", "--ttl-minutes", "--quiet"):
        assert option in out
    assert "127.0.0.1" in out


def test_cli_does_not_import_gradio_for_other_commands():
    code = "import sys; from stemkit.cli.main import build_parser; build_parser(); print('gradio' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--port", "0"], "--port must be between 1 and 65535"),
        (["--concurrency", "0"], "--concurrency must be at least 1"),
        (["--max-upload-mb", "-1"], "--max-upload-mb must be positive"),
        (["--ttl-minutes", "0"], "--ttl-minutes must be positive"),
        (["--model", "oracle_ibm"], "is an oracle"),
        (["--model", "no_such_model_xyz"], "cannot be served"),
    ],
)
def test_bad_values_fail_with_one_line(capsys, args, message):
    assert main(["serve", "--quiet", *args]) != 0
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
