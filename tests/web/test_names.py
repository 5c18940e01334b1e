"""File-name sanitising: no traversal, no control or bidi characters, unicode kept."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stemkit.web.names import safe_filename


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("..\\..\\windows\\win.ini", "win.ini"),
        ("Café – Ω.flac", "Café – Ω.flac"),
        ("歌 曲.mp3", "歌 曲.mp3"),
        ("bell\x07\ttab\nline.wav", "bell tab line.wav"),
        ("evil\u202egnp.wav", "evilgnp.wav"),  # right-to-left override would disguise the extension
        ('a<b>c:d"e|f?g*h.wav', "a_b_c_d_e_f_g_h.wav"),
        ("..", "track"),
        ("  .hidden. ", "hidden"),
        ("", "track"),
        ("CON.wav", "_CON.wav"),
    ],
)
def test_examples(raw, expected):
    assert safe_filename(raw) == expected


def test_long_names_are_cut_on_character_boundaries():
    name = safe_filename("é" * 300, max_bytes=101)
    assert name == "é" * 50 and len(name.encode()) <= 101


@given(st.text(max_size=200))
def test_any_input_gives_one_harmless_component(raw):
    name = safe_filename(raw)
    assert name and name not in (".", "..") and not name.startswith((".", " "))
    assert "/" not in name and "\\" not in name and len(name.encode()) <= 100
    assert all(ord(ch) >= 32 and not 0x202A <= ord(ch) <= 0x202E for ch in name)
