#!/usr/bin/env bash
# Regenerate demo/demo_song.flac: a 15 s rock song rendered by stemkit itself with the GM soundfont
# that pretty_midi ships (TimGM6mb.sf2), the singing-voice synthesizer and the default mixing chain.
set -euo pipefail
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
sf=$(python3 -c "import os, pretty_midi; print(os.path.join(os.path.dirname(pretty_midi.__file__), 'TimGM6mb.sf2'))")
stemkit synth "$tmp" --songs 4 --seed 11 --duration 15 --split 1:0:0 --soundfont "$sf" -j 2 -q
python3 - "$tmp/train/song_00002_seed13/mixture.wav" demo/demo_song.flac <<'PY'
import sys
from stemkit.audio import read_audio, write_audio
audio, sr = read_audio(sys.argv[1])
write_audio(sys.argv[2], audio, sr, subtype="PCM_16")
PY
rm -rf "$tmp"
