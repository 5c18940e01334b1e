"""Turn a user-supplied file name into one that is safe to write and to offer for download."""

from __future__ import annotations

import re
import unicodedata

#: Characters Windows forbids in names, plus both path separators.
_FORBIDDEN = set('<>:"/\\|?*')
#: Device names Windows reserves whatever the extension (a download named ``CON.wav`` fails there).
_RESERVED = {"CON", "PRN", "AUX", "NUL", *(f"COM{i}" for i in range(1, 10)), *(f"LPT{i}" for i in range(1, 10))}
#: Unicode categories dropped: controls, format characters (bidi overrides can disguise an
#: extension, e.g. U+202E), surrogates, private use and unassigned code points.
_DROPPED_CATEGORIES = {"Cc", "Cf", "Cs", "Co", "Cn"}


def safe_filename(name: str, *, fallback: str = "track", max_bytes: int = 100) -> str:
    """A single path component made from ``name``: no directories, no control characters.

    Letters of every script are kept (``Café – Ω.flac`` stays readable); forbidden and
    invisible characters are replaced or removed; leading/trailing dots and spaces go, so the
    result is never ``.``, ``..`` or a hidden file; it is at most ``max_bytes`` UTF-8 bytes.
    """
    name = unicodedata.normalize("NFC", str(name))
    name = re.split(r"[/\\]", name)[-1]  # only the last component of any path
    chars = []
    for ch in name:
        category = unicodedata.category(ch)
        if ch.isspace() or category in ("Zl", "Zp"):  # tabs and newlines too, before controls go
            chars.append(" ")
        elif category in _DROPPED_CATEGORIES:
            continue
        elif ch in _FORBIDDEN:
            chars.append("_")
        else:
            chars.append(ch)
    name = re.sub(r" {2,}", " ", "".join(chars)).strip(" .")
    # Truncate the stem, not the extension: a long "....wav" must still end in ".wav".
    stem, dot, ext = name.rpartition(".")
    if dot and stem and 0 < len(ext) <= 10 and " " not in ext:
        ext = "." + ext
        name = _truncate_utf8(stem, max(1, max_bytes - len(ext.encode()))).rstrip(" .") + ext
    else:
        name = _truncate_utf8(name, max_bytes).rstrip(" .")
    if not name:
        return fallback
    if name.split(".")[0].upper() in _RESERVED:
        name = "_" + name
    return name


def _truncate_utf8(text: str, max_bytes: int) -> str:
    """Cut ``text`` to at most ``max_bytes`` UTF-8 bytes without splitting a character."""
    data = text.encode("utf-8")
    if len(data) <= max_bytes:
        return text
    return data[:max_bytes].decode("utf-8", errors="ignore")
