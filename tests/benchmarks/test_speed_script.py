"""benchmarks/speed.py's bookkeeping: child environment and the printed ratios."""

import importlib.util
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "speed.py"
spec = importlib.util.spec_from_file_location("speed_script", SCRIPT)
speed = importlib.util.module_from_spec(spec)
spec.loader.exec_module(speed)


def test_children_share_threads_and_see_the_peer_plugin(monkeypatch):
    monkeypatch.setenv("PYTHONPATH", "/elsewhere")
    monkeypatch.delenv("STEMKIT_PLUGINS", raising=False)
    env = speed.child_env(2, plugins=True)
    assert env["OMP_NUM_THREADS"] == "2" and env["STEMKIT_PLUGINS"] == "stemkit_peers"
    assert env["PYTHONPATH"].split(":") == [str(speed.PEERS_DIR), "/elsewhere"]
    assert "STEMKIT_PLUGINS" not in speed.child_env(None, plugins=False)


def test_ratios_are_peer_over_first_model_and_longest_over_shortest_rss():
    results = {
        "ours": {30.0: {"wall": 3.0, "cpu": 1.5, "peak_mb": 400.0}, 1200.0: {"wall": 60.0, "cpu": 54.0, "peak_mb": 440.0}},
        "peer": {30.0: {"wall": 15.0, "cpu": 9.0, "peak_mb": 700.0}},
    }
    lines = speed.ratios(results, ["ours", "peer"])
    assert "peer / ours at 30 s: RTF 5.0x, CPU/s 6.0x" in lines
    assert "ours: peak RSS 1200 s / 30 s = 1.10x" in lines
    assert not any(line.startswith("peer: peak RSS") for line in lines)  # one length: no ratio
