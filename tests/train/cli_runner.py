"""``python cli_runner.py train ...``: the stemkit CLI with the test-only tiny model registered."""

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import train_tiny_model  # noqa: E402,F401

from stemkit.cli.main import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
