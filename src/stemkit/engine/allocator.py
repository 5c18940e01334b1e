"""Keep glibc from handing the model's big temporaries back to the kernel after every segment.

A forward pass allocates tens of megabytes of short-lived tensors (spectrograms, masks, iSTFT
frames). glibc's defaults serve blocks above its mmap threshold (dynamic, at most 32 MiB) with a
fresh ``mmap`` and trim the heap top above 128 KiB, so each segment's tensors were returned to the
kernel and faulted back in, page by page, on the next segment: 2.3 million page faults and 40 % of
the CPU time of `stemkit separate -n ref_masker` on 3 minutes of audio. With the thresholds below the
heap keeps those blocks for reuse: CPU time drops by about a third and peak RSS does not grow
(docs/benchmarks.md, "Speed and memory, side by side").

Parallel segments (``engine.overlap_add``, worker threads) would each get a malloc arena of their
own, each keeping its segment's freed blocks: one arena for all (``M_ARENA_MAX``) lets a worker
reuse what another freed, about 30 MB less peak RSS with two workers, at no measurable cost (the
allocations are few and large).

Process-wide and applied once; ``STEMKIT_MALLOC_TUNING=0`` leaves the allocator alone. A no-op
where the C library is not glibc.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import platform

#: mallopt parameters (malloc.h).
M_TRIM_THRESHOLD = -1
M_MMAP_THRESHOLD = -3
M_ARENA_MAX = -8
#: Blocks below this come from the heap (reused); the largest temporaries of a 6 s stereo segment are ~35 MiB.
MMAP_THRESHOLD = 64 << 20
#: Free heap above this is returned to the kernel (the model's working set stays mapped).
TRIM_THRESHOLD = 1 << 30
#: malloc arenas for the whole process (glibc's default: 8 per core, one per thread that allocates).
ARENAS = 1

_applied: bool | None = None


def tune_allocator() -> bool:
    """Raise glibc's mmap and trim thresholds once per process; True when they are in effect."""
    global _applied
    if _applied is not None:
        return _applied
    _applied = False
    if os.environ.get("STEMKIT_MALLOC_TUNING", "1") == "0" or platform.libc_ver()[0] != "glibc":
        return False
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
        _applied = bool(libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
            libc.mallopt(M_TRIM_THRESHOLD, TRIM_THRESHOLD)) and bool(libc.mallopt(M_ARENA_MAX, ARENAS))
    except (OSError, AttributeError):
        pass
    return _applied
