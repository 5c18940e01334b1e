"""``python train_kill_runner.py N train ...``: the stemkit CLI, SIGKILLed in the middle of writing its
N-th checkpoint (half the bytes are on disk when the process dies), as a power cut or OOM killer would."""

import os
import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "train"))
import train_tiny_model  # noqa: E402,F401  (registers "tiny_train_net")
import torch  # noqa: E402

import stemkit.train.callbacks as callbacks  # noqa: E402
from stemkit.cli.main import main  # noqa: E402

KILL_ON = int(sys.argv[1])
_saves = {"n": 0}
_real_save = torch.save


def dying_save(obj, f, *args, **kwargs):
    if "checkpoints" in str(f):
        _saves["n"] += 1
        if _saves["n"] == KILL_ON:
            _real_save(obj, f, *args, **kwargs)
            with open(f, "r+b") as half:  # keep half of what was written, then die at once
                half.truncate(os.path.getsize(f) // 2)
            os.kill(os.getpid(), signal.SIGKILL)
    return _real_save(obj, f, *args, **kwargs)


callbacks.torch.save = dying_save

if __name__ == "__main__":
    sys.exit(main(sys.argv[2:]))
