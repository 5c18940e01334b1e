"""User-facing errors.

Anything a user can cause (a bad file, an unknown model, an unwritable folder) raises a
``StemkitError``. The command line prints its message as one line on stderr and exits with
its ``exit_code``; any other exception is a bug in stemkit.
"""

from __future__ import annotations


class StemkitError(Exception):
    """An error caused by input, configuration or environment, with a one-line message."""

    exit_code = 1

    def __init__(self, message: str, *, path: str | None = None):
        self.path = path
        super().__init__(f"{path}: {message}" if path else message)


class AudioReadError(StemkitError):
    """The input could not be decoded as audio (empty, truncated, not audio, NaN...)."""

    exit_code = 3


class AudioWriteError(StemkitError):
    """An output could not be written (permissions, full disk, bad format)."""

    exit_code = 4


class MissingToolError(StemkitError):
    """An external program (ffmpeg) that this input needs is not installed."""

    exit_code = 5


class ModelError(StemkitError):
    """Unknown model name, corrupt or foreign weights, refused pickle checkpoint."""

    exit_code = 6


class ConfigError(StemkitError):
    """A configuration file or override with wrong keys, types or values."""

    exit_code = 2
