"""Command-line options for :class:`~stemkit.postprocess.stems.StemPostprocess`.

``stemkit evaluate`` uses them; any command that writes or scores stems can add the same
options with :func:`add_postprocess_arguments` and build the post-processor with
:func:`postprocess_from_args` (None when no option was given).
"""

from __future__ import annotations

import argparse

from ..errors import ConfigError
from .denoise import DenoiseGate
from .stems import StemPostprocess, parse_cutoffs


def add_postprocess_arguments(parser: argparse.ArgumentParser) -> None:
    """``--denoise STEMS`` with the gate's knobs, ``--highpass/--lowpass STEM=HZ``, ``--complement``."""
    post = parser.add_argument_group("post-processing (seed 002): what is removed from a stem goes to the "
                                "complement stem, so the stems still sum to the mixture")
    post.add_argument("--denoise", default=None, metavar="STEMS",
                      help="comma-separated stems to gate with the Hilbert-envelope denoise gate, e.g. vocals")
    post.add_argument("--denoise-window", type=float, default=0.5, metavar="S", help="gate window (s, default 0.5)")
    post.add_argument("--denoise-hop", type=float, default=0.25, metavar="S", help="gate hop (s, default 0.25)")
    post.add_argument("--denoise-statistic", choices=("median", "mean"), default="median",
                      help="envelope statistic of the threshold and of each window (default median)")
    post.add_argument("--denoise-softness", type=float, default=2.0, metavar="X",
                      help="threshold = statistic / softness; larger mutes less (default 2)")
    post.add_argument("--denoise-fade", type=float, default=0.05, metavar="S",
                      help="fade out/in around muted regions (s, default 0.05)")
    post.add_argument("--highpass", action="append", default=None, metavar="STEM=HZ",
                      help="zero-phase Butterworth high-pass on a stem (repeatable), e.g. vocals=120")
    post.add_argument("--lowpass", action="append", default=None, metavar="STEM=HZ",
                      help="zero-phase Butterworth low-pass on a stem (repeatable), e.g. bass=4000")
    post.add_argument("--complement", default=None, metavar="STEM",
                      help="stem receiving the removed audio (default: accompaniment, else other)")


def postprocess_from_args(args: argparse.Namespace) -> StemPostprocess | None:
    """The parsed options as a StemPostprocess (None when none of them was used)."""
    denoise = tuple(s.strip() for s in (args.denoise or "").split(",") if s.strip())
    highpass = parse_cutoffs(args.highpass, "--highpass")
    lowpass = parse_cutoffs(args.lowpass, "--lowpass")
    if not (denoise or highpass or lowpass):
        return None
    if min(args.denoise_window, args.denoise_hop, args.denoise_softness) <= 0 or args.denoise_fade < 0:
        raise ConfigError("--denoise-window, --denoise-hop and --denoise-softness must be > 0, --denoise-fade >= 0")
    gate = DenoiseGate(window_s=args.denoise_window, hop_s=args.denoise_hop, statistic=args.denoise_statistic,
                       softness=args.denoise_softness, fade_s=args.denoise_fade)
    return StemPostprocess(denoise=denoise, gate=gate, highpass=highpass, lowpass=lowpass,
                           complement=args.complement)
