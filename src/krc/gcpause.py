"""Pause Python's cyclic garbage collector while a request builds a large result.

Building a district's defaulter list allocates some 200,000 small objects (rows, dicts,
lists), none of them in a reference cycle. Each allocation burst triggers the cyclic
collector, whose full collections then walk every live object again: on the national
dataset the Kati list took 1.1–1.6 s with the collector on and 0.7 s with it paused
(`bench/bench_figures.py`). Reference counting still frees everything; the collector runs
again as soon as the last paused section ends.

The pause is process-wide (the collector has no per-thread switch), so concurrent sections
share it: a counter re-enables the collector when the last one leaves, and never enables a
collector that was off before the first one entered.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

_lock = threading.Lock()
_depth = 0
_was_enabled = False


@contextmanager
def paused_gc() -> Iterator[None]:
    """Run the block with the cyclic garbage collector paused (see the module docstring)."""
    global _depth, _was_enabled
    with _lock:
        if _depth == 0:
            _was_enabled = gc.isenabled()
            gc.disable()
        _depth += 1
    try:
        yield
    finally:
        with _lock:
            _depth -= 1
            if _depth == 0 and _was_enabled:
                gc.enable()
