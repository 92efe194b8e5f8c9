"""Per-process caches of reference data (org units, settings), keyed by database.

Reference data is read on almost every request (an org unit's code and name for each dose
shown, the schedule parameters for each evaluation) and changes rarely. A `TTLCache` keeps
what it loaded for `ttl` seconds; the services that change the data clear the cache of
their own process at once, and other processes (uvicorn workers) see the change within
`ttl` seconds. `krc.db.reset` clears every cache of an erased database.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Generic, TypeVar

from sqlalchemy.orm import Session

from krc.db import RESET_HOOKS

K = TypeVar("K")
V = TypeVar("V")


class TTLCache(Generic[K, V]):
    """A cache of values per (database, key), each trusted for `ttl` seconds."""

    def __init__(self, ttl: float, max_entries: int = 100_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._data: dict[tuple[str, K], tuple[V, float]] = {}
        RESET_HOOKS.append(self.clear)

    def get(self, session: Session, key: K, load: Callable[[], V]) -> V:
        """Return the cached value of key in the session's database, loading it if stale."""
        full = (str(session.get_bind().engine.url), key)
        now = time.monotonic()
        hit = self._data.get(full)
        if hit is not None and hit[1] > now:
            return hit[0]
        value = load()
        if len(self._data) >= self.max_entries:
            self._data.clear()
        self._data[full] = (value, now + self.ttl)
        return value

    def clear(self) -> None:
        """Forget everything (a change in this process, or an erased database)."""
        self._data.clear()
