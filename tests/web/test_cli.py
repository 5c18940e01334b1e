"""``stemkit serve`` arguments: help lists the options, bad values fail fast with one line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

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


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--port", "0"], "--port must be between 1 and 65535"),
        (["--concurrency", "0"], "--concurrency must be at least 1"),
        (["--max-upload-mb", "-1"], "--max-upload-mb must be positive"),
        (["--ttl-minutes", "0"], "--ttl-minutes must be positive"),
        (["--queue-size", "0"], "--queue-size must be at least 1"),
        (["--model", "oracle_ibm"], "is an oracle"),
        (["--model", "no_such_model_xyz"], "cannot be served"),
    ],
)
def test_bad_values_fail_with_one_line(capsys, args, message):
    assert main(["serve", "--quiet", *args]) != 0
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1


def test_serve_command_starts_answers_and_cleans_up_on_sigterm(tmp_path):
    import signal
    import time

    import httpx

    from .conftest import TEST_MODEL, free_port

    port = free_port()
    # The test model is registered by this package's conftest, so the server runs in a python that imports it.
    # Building the parser (every command) must not import Gradio: other commands stay fast.
    code = ("import sys; sys.path.insert(0, %r); import conftest; from stemkit.cli.main import build_parser, main; "
            "build_parser(); print('gradio imported:', 'gradio' in sys.modules, flush=True); "
            "sys.exit(main(sys.argv[1:]))") % str(Path(__file__).resolve().parent)
    proc = subprocess.Popen([sys.executable, "-c", code, "serve", "--port", str(port), "--model", TEST_MODEL,
                             "--temp-dir", str(tmp_path), "--ttl-minutes", "5"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert proc.stdout.readline().strip() == "gradio imported: False"
        first = proc.stdout.readline()
        assert first.startswith(f"stemkit: serving on http://127.0.0.1:{port}/"), first
        page = httpx.get(f"http://127.0.0.1:{port}/", timeout=30)
        assert page.status_code == 200 and "stemkit" in page.text
        roots = list(tmp_path.glob("stemkit-serve-*"))
        assert len(roots) == 1 and (roots[0] / "jobs").is_dir()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=60) == 0
        rest = proc.stdout.read()
        assert "stopping" in rest
        assert list(tmp_path.iterdir()) == []  # the private temp root is gone
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
