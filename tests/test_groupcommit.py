"""Group commit (krc.groupcommit): batches share one transaction, a failing job fails alone,
jobs run in their order, a lost connection is replaced. PostgreSQL only (the module is)."""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from concurrent.futures import Future

import psycopg
import pytest
from sqlalchemy import func, select

from krc.accounts import services as accounts
from krc.groupcommit import GroupCommitter, Rows, libpq_url
from krc.immunization.stock import api as stock_api
from krc.immunization.stock import services as stock
from krc.immunization.stock.models import StockBalance, StockMessage, StockTransaction
from krc.immunization.stock.schemas import ReporterCreate
from tests.conftest import PASSWORD, TODAY, World

pytestmark = pytest.mark.parametrize("world", ["postgresql"], indirect=True)


@pytest.fixture
def committer(world: World) -> GroupCommitter:
    with psycopg.connect(libpq_url(world.db.url), autocommit=True) as conn:
        conn.execute("CREATE TABLE gc_t (k INTEGER PRIMARY KEY, v TEXT, "
                     "seq SERIAL, xid BIGINT DEFAULT txid_current())")
    return world.db.group_committer()


def rows(url: str, sql: str) -> list[tuple[object, ...]]:
    with psycopg.connect(libpq_url(url)) as conn:
        return conn.execute(sql).fetchall()


def hold(committer: GroupCommitter, seconds: float = 0.4) -> Future[list[Rows]]:
    """Keep the writer busy so that the jobs submitted next wait for one batch."""
    future = committer.submit([("SELECT pg_sleep(%(s)s)", {"s": seconds})])
    time.sleep(0.1)  # let the writer take it alone
    return future


def insert(k: int) -> list[tuple[str, dict[str, object]]]:
    return [("INSERT INTO gc_t (k, v) VALUES (%(k)s, %(v)s) RETURNING k, v",
             {"k": k, "v": f"v{k}"})]


def test_waiting_jobs_share_one_transaction_and_are_committed(world: World,
                                                              committer: GroupCommitter) -> None:
    first = hold(committer)
    futures = [committer.submit(insert(k), order=(k,)) for k in range(10)]
    assert [f.result(timeout=10) for f in futures] == [[[(k, f"v{k}")]] for k in range(10)]
    first.result(timeout=10)
    assert committer.batches == 2 and committer.jobs == 11
    # Visible from another connection as soon as the future resolves: committed, once.
    stored = rows(world.db.url, "SELECT k, xid FROM gc_t ORDER BY k")
    assert [k for k, _ in stored] == list(range(10))
    assert len({xid for _, xid in stored}) == 1


def test_a_failing_job_fails_alone(world: World, committer: GroupCommitter) -> None:
    committer.submit(insert(1)).result(timeout=10)
    first = hold(committer)
    good_a = committer.submit(insert(2), order=(2,))
    # Two statements: the second fails, so the first must not be kept either.
    bad = committer.submit(insert(3) + insert(1), order=(3,))
    good_b = committer.submit(insert(4), order=(4,))
    first.result(timeout=10)
    assert good_a.result(timeout=10) == [[(2, "v2")]]
    assert good_b.result(timeout=10) == [[(4, "v4")]]
    with pytest.raises(psycopg.errors.UniqueViolation):
        bad.result(timeout=10)
    assert rows(world.db.url, "SELECT k FROM gc_t ORDER BY k") == [(1,), (2,), (4,)]
    committer.submit(insert(5)).result(timeout=10)  # the committer goes on


def test_jobs_run_in_their_order_within_a_batch(world: World,
                                                committer: GroupCommitter) -> None:
    first = hold(committer)
    futures = [committer.submit(insert(k), order=(k,)) for k in (5, 3, 9, 1, 7)]
    for f in futures:
        f.result(timeout=10)
    first.result(timeout=10)
    assert rows(world.db.url, "SELECT k FROM gc_t ORDER BY seq") == [
        (1,), (3,), (5,), (7,), (9,)]


def test_a_lost_connection_is_replaced(world: World, committer: GroupCommitter) -> None:
    pid = committer.submit([("SELECT pg_backend_pid()", {})]).result(timeout=10)[0][0][0]
    with psycopg.connect(libpq_url(world.db.url), autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(%s)", [pid])
    assert committer.submit(insert(1)).result(timeout=10) == [[(1, "v1")]]
    assert rows(world.db.url, "SELECT k FROM gc_t") == [(1,)]


def test_close_commits_what_is_queued(world: World, committer: GroupCommitter) -> None:
    hold(committer, 0.2)
    futures = [committer.submit(insert(k)) for k in range(3)]
    committer.close()
    assert all(f.done() and f.exception() is None for f in futures)
    assert rows(world.db.url, "SELECT count(*) FROM gc_t") == [(3,)]


def test_webhook_calls_at_once_apply_exactly_once(world: World) -> None:
    """Sixteen calls at once through the web path (group commit): eight replays of one
    report and eight distinct reports; each report is applied once, replays answer alike."""
    with world.db.session() as s:
        user = accounts.create_user(s, "rapidpro", PASSWORD, "integration", "ML")
        stock.add_reporter(s, world.actor("kati"), ReporterCreate(
            phone="+22376123456", facility="ML0207-C01", name="Moussa", language="fra"))
    actor = world.actor(user.username)

    def body(text: str) -> bytes:
        return json.dumps({"input": {"uuid": str(uuid.uuid4()), "text": text,
                                     "urn": "tel:+22376123456"},
                           "contact": {"urn": "tel:+22376123456"}}).encode()

    same = body("REC PENTA 5")
    calls = [same] * 8 + [body(f"REC BCG {i + 1}") for i in range(8)]

    async def all_at_once() -> list[stock.Answer]:
        return await asyncio.gather(*(stock_api._receive(world.db, actor, raw, TODAY)
                                      for raw in calls))

    answers = asyncio.run(all_at_once())
    assert {a.status for a in answers} == {"ok"}
    assert sum(not a.replay for a in answers[:8]) == 1
    assert len({a.reply for a in answers[:8]}) == 1
    assert not any(a.replay for a in answers[8:])
    with world.db.session() as s:
        assert s.scalar(select(func.count()).select_from(StockMessage)) == 9
        assert s.scalar(select(func.count()).select_from(StockTransaction)) == 9
        assert dict(s.execute(select(StockBalance.product, StockBalance.balance)).all()) == {
            "PENTA": 5, "BCG": sum(range(1, 9))}
    # Sixteen writes, and a read of the stored answer for each of the seven replays.
    assert world.db.group_committer().jobs == 16 + 7


def test_batches_sharing_a_lock_run_one_after_the_other(world: World,
                                                        committer: GroupCommitter) -> None:
    """Two processes' committers: a job naming a lock waits for the batch holding it."""
    other = GroupCommitter(world.db.url)
    try:
        slow = committer.submit([("SELECT pg_sleep(0.4)", {})] + insert(1), locks=((7, 1),))
        time.sleep(0.1)
        fast = other.submit(insert(2), locks=((7, 1), (7, 0)))
        free = other.submit(insert(3), locks=((7, 2),))
        for f in (slow, fast, free):
            f.result(timeout=10)
    finally:
        other.close()
    # k=2 waited for the commit of k=1; k=3 (another lock, the same batch as k=2) too,
    # since a batch takes all its locks before running any job.
    assert rows(world.db.url, "SELECT k FROM gc_t ORDER BY seq") == [(1,), (2,), (3,)]
    unlocked = GroupCommitter(world.db.url)
    try:
        slow = committer.submit([("SELECT pg_sleep(0.4)", {})] + insert(4), locks=((7, 1),))
        time.sleep(0.1)
        unlocked.submit(insert(5)).result(timeout=10)
        slow.result(timeout=10)
    finally:
        unlocked.close()
    assert rows(world.db.url, "SELECT k FROM gc_t WHERE k > 3 ORDER BY seq") == [(5,), (4,)]
