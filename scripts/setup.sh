#!/usr/bin/env bash
# Install stemkit and everything it needs into the current Python environment.
#   bash scripts/setup.sh          # runtime
#   bash scripts/setup.sh --test   # runtime + test tools
# System packages (Debian/Ubuntu): ffmpeg (m4a/.stem.mp4 decoding; museval imports it),
# portaudio19-dev (headers that tinysoundfont's pyaudio dependency compiles against),
# fluidsynth + fluid-soundfont-gm + musescore-general-soundfont (the FluidSynth backend and the larger
# GM soundfonts `stemkit synth` draws from; without them it renders with pretty_midi's small one),
# avldrums.lv2-soundfont (recorded acoustic drum kits as SoundFonts) and festival + festvox-kallpc16k (a speech
# voice sung onto melodies): realism levers of the renderer, skipped with a message when absent.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python3}
APT_PACKAGES="ffmpeg portaudio19-dev fluidsynth fluid-soundfont-gm musescore-general-soundfont avldrums.lv2-soundfont festival festvox-kallpc16k"

# --test adds Debian's chromium for the web page's end-to-end browser test.
[ "${1:-}" = "--test" ] && APT_PACKAGES="$APT_PACKAGES chromium"

missing=""
for pkg in $APT_PACKAGES; do
  dpkg -s "$pkg" >/dev/null 2>&1 || missing="$missing $pkg"
done
if [ -n "$missing" ]; then
  if command -v apt-get >/dev/null 2>&1; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    echo "setup: installing system packages:$missing"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $missing >/dev/null
  else
    echo "setup: please install with your package manager:$missing" >&2
  fi
fi

# torch first, pinned to the CPU build where a local wheel provides it, so that resolving
# stemkit's torch>=2.2,<=2.13.0 never pulls CUDA packages.
"$PY" -m pip install -q "torch==2.13.0" || "$PY" -m pip install -q "torch>=2.2,<=2.13.0"
if [ "${1:-}" = "--test" ]; then
  "$PY" -m pip install -q -e ".[test]"
  # playwright-core drives Debian's chromium (it never downloads a browser of its own).
  if command -v npm >/dev/null 2>&1; then
    (cd tests/web/e2e && npm ci --silent --no-audit --no-fund) || echo "setup: npm ci failed; the browser test will skip" >&2
  else
    echo "setup: npm not found; the browser test will skip" >&2
  fi
else
  "$PY" -m pip install -q -e .
fi
echo "setup: done ($("$PY" -m stemkit --version))"
