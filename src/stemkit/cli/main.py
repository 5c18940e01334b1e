"""``stemkit`` entry point.

Subcommands are discovered: every module in ``stemkit.cli`` that defines

- ``COMMAND``: the subcommand name, ``HELP``: one line, ``EPILOG``: examples (optional),
- ``add_arguments(parser)`` and ``run(args) -> int``

becomes ``stemkit COMMAND``. A :class:`~stemkit.errors.StemkitError` ends the program with its
one-line message on stderr and its exit code; Ctrl-C exits with 130; nothing prints a traceback
unless ``STEMKIT_DEBUG=1``.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
import warnings

from .. import __version__
from ..errors import StemkitError

# Before torch loads OpenMP: idle OpenMP threads sleep instead of spinning. On a laptop whose cores
# are busy with other work, spinning threads made a 2-thread separation cost 5x the CPU time
# (docs/benchmarks.md). A user's own setting wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def _commands():
    import stemkit.cli as pkg

    mods = []
    for info in pkgutil.iter_modules(pkg.__path__):
        if info.name in ("main",) or info.name.startswith("_"):
            continue
        mod = importlib.import_module(f"stemkit.cli.{info.name}")
        if hasattr(mod, "COMMAND"):
            mods.append(mod)
    return sorted(mods, key=lambda m: (getattr(m, "ORDER", 50), m.COMMAND))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="stemkit",
        description="Separate music into stems; train, evaluate and compare separation models.",
        epilog="Run `stemkit COMMAND --help` for a command's options and examples.",
    )
    parser.add_argument("--version", action="version", version=f"stemkit {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for mod in _commands():
        p = sub.add_parser(
            mod.COMMAND,
            help=mod.HELP,
            description=mod.HELP,
            epilog=getattr(mod, "EPILOG", None),
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run)
    return parser


def _format_warning(message, category, filename, lineno, line=None):
    return f"stemkit: warning: {message}\n"


def main(argv: list[str] | None = None) -> int:
    saved_format = warnings.formatwarning
    warnings.formatwarning = _format_warning
    try:
        with warnings.catch_warnings():
            # Users see stemkit's own warnings (clipping, downmixing), not libraries' deprecations.
            warnings.filterwarnings("ignore", category=DeprecationWarning)
            warnings.filterwarnings("ignore", category=FutureWarning)
            warnings.filterwarnings("ignore", category=PendingDeprecationWarning)
            return _main(argv)
    finally:
        warnings.formatwarning = saved_format


def _main(argv: list[str] | None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    try:
        return int(args._run(args) or 0)
    except StemkitError as exc:
        print(f"stemkit: error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("stemkit: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug: say so in one line unless debugging
        if os.environ.get("STEMKIT_DEBUG"):
            raise
        print(
            f"stemkit: internal error: {exc.__class__.__name__}: {exc} "
            "(set STEMKIT_DEBUG=1 for a traceback)",
            file=sys.stderr,
        )
        return 70


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
