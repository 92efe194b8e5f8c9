"""A child's valid dose dates as one compact string (pure; no I/O).

The register keeps, on each child, the day of every valid dose in `schedule.batch_slots()`
order, so a facility's or district's defaulter list is one read of the child table and one
vectorised evaluation (schedule.evaluate_batch), with no scan of the dose table. Each slot
is 4 hex digits of the day since 1970-01-01 (big-endian uint16), `ffff` when not given.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

NO_DAY = 0xFFFF
WIDTH = 4  # hex digits per slot


def encode(days: npt.NDArray[np.int64]) -> list[str]:
    """Return one string per row of an (n, slots) array of epoch days (-1 = not given)."""
    n, slots = days.shape
    if n == 0:
        return []
    if int(days.max(initial=-1)) >= NO_DAY:
        raise ValueError("dose day beyond 2149-06-05 cannot be encoded")
    text = np.where(days < 0, NO_DAY, days).astype(">u2").tobytes().hex()
    w = slots * WIDTH
    return [text[i * w:(i + 1) * w] for i in range(n)]


def decode(texts: Sequence[str | None], slots: int) -> npt.NDArray[np.int64]:
    """Return the (n, slots) array of epoch days (-1 = not given) of encoded strings.

    A missing string (None) or one of another width (written for another schedule) reads as
    no dose at all: callers treat such rows as needing a refresh.
    """
    blank = "f" * (slots * WIDTH)
    joined = "".join(t if t and len(t) == slots * WIDTH else blank for t in texts)
    if not joined:
        return np.zeros((0, slots), np.int64)
    raw = np.frombuffer(bytes.fromhex(joined), dtype=">u2").reshape(-1, slots).astype(np.int64)
    return np.where(raw == NO_DAY, -1, raw)
