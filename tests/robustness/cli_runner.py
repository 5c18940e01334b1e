"""``python cli_runner.py ARGS``: the stemkit CLI with the robustness test models registered.

With ``STEMKIT_PEAK_RSS_FILE`` set, the process's peak resident memory (KiB) is written there on exit.
"""

import os
import resource
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import robust_model  # noqa: E402,F401

from stemkit.cli.main import main  # noqa: E402

if __name__ == "__main__":
    code = main(sys.argv[1:])
    report = os.environ.get("STEMKIT_PEAK_RSS_FILE")
    if report:
        Path(report).write_text(str(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))
    sys.exit(code)
