"""GM program -> fine class -> stem group, and SoundFont discovery."""

import pytest

from stemkit.data.render import FINE_CLASSES, bundled_soundfont, discover_soundfonts, fine_class, stem_group
from stemkit.data.render.soundfonts import resolve_soundfonts
from stemkit.errors import ConfigError


@pytest.mark.parametrize("program,drum,name,fine,group", [
    (0, False, "", "piano", "other"), (10, False, "", "chromatic_percussion", "other"),
    (19, False, "", "organ", "other"), (27, False, "", "guitar", "other"),
    (33, False, "", "bass", "bass"), (40, False, "", "strings", "other"),
    (48, False, "", "strings", "other"), (51, False, "", "strings", "other"),
    (55, False, "", "ensemble", "other"), (52, False, "", "voice", "vocals"),
    (54, False, "", "voice", "vocals"), (56, False, "", "brass", "other"),
    (65, False, "", "reed", "other"), (73, False, "", "pipe", "other"),
    (81, False, "", "synth_lead", "other"), (89, False, "", "synth_pad", "other"),
    (99, False, "", "synth_fx", "other"), (105, False, "", "ethnic", "other"),
    (116, False, "", "percussive", "drums"), (122, False, "", "sound_fx", "other"),
    (0, True, "", "drums", "drums"), (81, False, "Lead Vocal", "voice", "vocals"),
])
def test_fine_class_and_group(program, drum, name, fine, group):
    assert fine_class(program, drum, name) == fine
    assert stem_group(fine) == group


def test_every_fine_class_has_a_group():
    assert {stem_group(c) for c in FINE_CLASSES} == {"drums", "bass", "other", "vocals"}
    with pytest.raises(ValueError):
        fine_class(128)


def test_discovery_includes_the_bundled_font_and_resolves_user_paths(tmp_path):
    assert bundled_soundfont().is_file()
    assert bundled_soundfont().resolve() in discover_soundfonts()
    forced = resolve_soundfonts([str(bundled_soundfont())], discover=False)
    assert forced == [bundled_soundfont().resolve()]
    (tmp_path / "x.txt").write_text("no")
    with pytest.raises(ConfigError):
        resolve_soundfonts([str(tmp_path / "x.txt")], discover=False)
