"""Per-process caches of reference data (org units, settings), keyed by database.

Reference data is read on almost every request (an org unit's code and name for each dose
shown, the schedule parameters for each evaluation) and changes rarely. A `TTLCache` keeps
what it loaded for `ttl` seconds; the services that change the data clear the cache of
their own process at once, and other processes (uvicorn workers) see the change within
`ttl` seconds. `krc.db.reset` clears every cache of an erased database.

A service that changes cached data calls `forget(session)`: the cache is cleared at once
and again when the session's outermost transaction ends (commit, rollback or close).
Clearing only before the commit would let a read in between (this transaction's own, or
another request's) cache values that the commit then changes, or that a rollback never
keeps, for up to `ttl` seconds. Every clear also moves the cache to a new generation, and
a value loaded before a clear is not stored after it: a slow reader that began before the
commit cannot put the old value back.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Generic, TypeVar

from sqlalchemy import event
from sqlalchemy.orm import Session, SessionTransaction

from krc.db import RESET_HOOKS, url_key

_PENDING = "krc_forget_after_transaction"

K = TypeVar("K")
V = TypeVar("V")


class TTLCache(Generic[K, V]):
    """A cache of values per (database, key), each trusted for `ttl` seconds."""

    def __init__(self, ttl: float, max_entries: int = 100_000) -> None:
        self.ttl = ttl
        self.max_entries = max_entries
        self._data: dict[tuple[str, K], tuple[V, float]] = {}
        self.generation = 0  # moved on by every clear
        RESET_HOOKS.append(self.clear)

    def get(self, session: Session, key: K, load: Callable[[], V]) -> V:
        """Return the cached value of key in the session's database, loading it if stale."""
        url = url_key(session)
        hit = self._data.get((url, key))
        if hit is not None and hit[1] > time.monotonic():
            return hit[0]
        since = self.generation
        value = load()
        self.put(url, key, value, since)
        return value

    def peek(self, url: str, key: K) -> V | None:
        """Return the fresh cached value of key in the database at `url` (its key,
        `db.url_key`), or None; never queries (for the event loop)."""
        hit = self._data.get((url, key))
        return hit[0] if hit is not None and hit[1] > time.monotonic() else None

    def put(self, url: str, key: K, value: V, since: int | None = None) -> None:
        """Store a value loaded from the database at `url`; with `since` (the generation
        read before loading it), only when no clear happened while it was loaded."""
        if since is not None and since != self.generation:
            return
        if len(self._data) >= self.max_entries:
            self._data.clear()
        self._data[(url, key)] = (value, time.monotonic() + self.ttl)

    def clear(self) -> None:
        """Forget everything (a change in this process, or an erased database)."""
        self.generation += 1
        self._data.clear()

    def forget(self, session: Session) -> None:
        """Forget everything now and again when the session's outermost transaction ends
        (a change to the cached data written in that transaction)."""
        self.clear()
        pending: set[Callable[[], None]] = session.info.setdefault(_PENDING, set())
        pending.add(self.clear)


def _after_transaction_end(session: Session, transaction: SessionTransaction) -> None:
    # A savepoint's release or rollback ends a nested transaction: the change is not
    # committed yet, so the clears wait for the outermost one.
    if transaction.parent is not None:
        return
    for clear in session.info.pop(_PENDING, ()):
        clear()


event.listen(Session, "after_transaction_end", _after_transaction_end)
