"""Shared by the benchmarks: best of N wall-clock runs (the least disturbed one), and the split
preset the depth benchmarks quantise with (five splits over 1-9.6 m, cutoff 8.5)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any


def best(fn: Callable[[], Any], repeat: int) -> float:
    """Seconds of the fastest of ``repeat`` calls of ``fn()``."""
    times = []
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


#: The depth benchmarks' split preset: five splits, three region flags, a cutoff.
PRESET = {
    "version": 1,
    "cutoff": 8.5,
    "curve": "linear",
    "splits": [
        {"start": 1.0, "end": 2.0, "levels": 90, "test": "red", "region": 0},
        {"start": 2.0, "end": 3.0, "levels": 4, "test": "green"},
        {"start": 3.0, "end": 5.0, "levels": 60, "region": 1},
        {"start": 5.0, "end": 7.0, "levels": 90, "test": "blue"},
        {"start": 7.0, "end": 9.6, "levels": 12, "region": 2},
    ],
}
