"""Steps -> seconds with swing, timing jitter and velocity variation."""

from __future__ import annotations

import numpy as np

from .notes import StepNote


def to_seconds(notes: list[StepNote], step_seconds: float, rng: np.random.Generator, *,
               swing: float = 0.0, timing_ms: float = 8.0, velocity_sd: float = 6.0,
               beat_steps: int = 4) -> list[tuple[float, float, int, int]]:
    """``(start_s, end_s, pitch, velocity)`` for each note.

    ``swing`` in [0, 1] delays every off-beat eighth towards the triplet position (0.5 = 2:1
    triplet swing); ``timing_ms`` is the standard deviation of a per-note timing offset.
    """
    out = []
    for n in notes:
        start = n.start
        if swing and beat_steps == 4 and start % 4 == 2:
            start += 2 * swing * (2 / 3)  # half of a triplet eighth at full swing
        jitter = rng.normal(0.0, timing_ms / 1000.0)
        t0 = max(0.0, start * step_seconds + jitter)
        t1 = max(t0 + 0.02, (start + n.length) * step_seconds + jitter)
        vel = min(127, max(1, int(round(n.velocity + rng.normal(0, velocity_sd)))))  # not np.clip: per note
        out.append((t0, t1, n.pitch, vel))
    return out
