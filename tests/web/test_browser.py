"""End to end in headless Chromium (Playwright): refuse a fake file, separate a song, download a stem.

Needs ``chromium`` (Debian package) and ``npm ci`` in tests/web/e2e; skipped when either is absent.
Set ``STEMKIT_WEB_SCREENSHOT=path.png`` to keep the screenshot.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import httpx
import pytest
import soundfile as sf

from .conftest import write_song

E2E = Path(__file__).resolve().parent / "e2e"
CHROMIUM = os.environ.get("CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"


def _missing() -> str | None:
    if not Path(CHROMIUM).is_file():
        return "chromium is not installed (apt-get install -y chromium)"
    if shutil.which("node") is None:
        return "node is not installed"
    if not (E2E / "node_modules" / "playwright-core").is_dir():
        return "playwright-core is not installed (cd tests/web/e2e && npm ci)"
    return None


pytestmark = pytest.mark.skipif(_missing() is not None, reason=_missing() or "")


def test_separate_in_headless_chromium(server, tmp_path):
    song = write_song(tmp_path / "browser song.wav", seconds=3.0, seed=7)
    out = tmp_path / "out"
    out.mkdir()
    proc = subprocess.run(["node", str(E2E / "separate_in_browser.mjs"), server.url, str(song), str(out)],
                          cwd=E2E, capture_output=True, text=True, timeout=480,
                          env={**os.environ, "CHROMIUM": CHROMIUM})
    assert proc.returncode == 0, proc.stderr[-3000:]
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    print(f"page ready after {report['page_ready_seconds']:.1f} s", *report["page_log"], sep="\n")  # with -s

    assert report["external_requests"] == []  # the page loads nothing from the internet
    assert report["error_message"].startswith("fake.wav: not a WAV file")
    assert [p["label"] for p in report["players"]] == ["drums", "bass", "other", "vocals"]
    assert report["durations"] == pytest.approx([3.0] * 4, abs=0.01)  # the browser decoded every stem
    for p in report["players"]:
        r = httpx.get(p["picture"], timeout=10)
        assert r.status_code == 200 and r.content[:8] == b"\x89PNG\r\n\x1a\n"

    assert report["download_name"] == "browser song - vocals.wav"
    served = [p for p in server.root.jobs.rglob("browser song - vocals.wav")]
    assert len(served) == 1
    assert Path(report["downloaded"]).read_bytes() == served[0].read_bytes()
    assert sf.info(report["downloaded"]).frames == sf.info(song).frames

    shot = Path(report["screenshot"])
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if os.environ.get("STEMKIT_WEB_SCREENSHOT"):
        shutil.copyfile(shot, os.environ["STEMKIT_WEB_SCREENSHOT"])
