"""Per-process caches: forgotten when the writing transaction ends, never refilled with a
value loaded before a clear."""

from __future__ import annotations

from sqlalchemy import text

from krc.cache import TTLCache
from krc.db import url_key
from tests.conftest import World


def test_a_value_loaded_before_a_clear_is_not_stored_after_it() -> None:
    cache: TTLCache[str, int] = TTLCache(60.0)
    since = cache.generation
    cache.clear()  # a change committed while the slow reader was loading
    cache.put("db", "k", 1, since)
    assert cache.peek("db", "k") is None
    cache.put("db", "k", 2, cache.generation)
    assert cache.peek("db", "k") == 2


def test_forget_waits_for_the_outermost_transaction(world: World) -> None:
    cache: TTLCache[str, int] = TTLCache(60.0)
    with world.db.session() as s:
        cache.forget(s)
        with s.begin_nested():  # a savepoint released: nothing is committed yet
            s.execute(text("SELECT 1"))
        # a read in the transaction caches a value the rollback will not keep
        assert cache.get(s, "k", lambda: 41) == 41
        with s.begin_nested():
            s.execute(text("SELECT 1"))
        assert cache.peek(url_key(world.db.engine), "k") == 41  # still there: no early clear
        s.rollback()
    assert cache.peek(url_key(world.db.engine), "k") is None  # forgotten with the transaction
    with world.db.session() as s:
        assert cache.get(s, "k", lambda: 42) == 42
    assert cache.peek(url_key(world.db.engine), "k") == 42  # an unrelated commit keeps the cache
