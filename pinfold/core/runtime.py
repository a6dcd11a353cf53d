"""Process-wide tuning, applied once a process has loaded what it keeps for its whole life."""

from __future__ import annotations

import gc

# Young objects are collected after this many net allocations (CPython's default is 700).
GC_YOUNG_THRESHOLD = 20_000


def settle() -> None:
    """Take everything loaded so far out of the garbage collector's view, and collect young objects
    less often.

    Startup loads large, permanent object graphs (botocore's service models, compiled statements);
    left in place, every full collection walks them again. Measured on a 200,000-row import: 24.0 s
    with CPython's defaults, 18.8 s after freezing, 16.4 s with the higher threshold as well.
    """
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_YOUNG_THRESHOLD, 10, 10)
