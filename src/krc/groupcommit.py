"""Group commit: many small, independent writes share one PostgreSQL transaction.

A busy endpoint whose every call is one short write (the RapidPro stock webhook) spends
most of the database's time on transaction overhead: a WAL flush per commit and a round
trip per statement. A `GroupCommitter` owns one connection and one thread. Callers submit
a *job* (a few statements that form one unit of work); the thread takes every job waiting,
sends all their statements in one pipeline (psycopg 3 pipeline mode, no round trip per
statement) inside one transaction, commits once and hands each job its rows.

Guarantees, the same as one transaction per job:
- a job's future resolves only after the transaction holding it has committed, so an
  acknowledged write is durable;
- when a batch fails (one bad job, a deadlock, a lost connection), it is rolled back whole
  and every job is rerun alone, in its own transaction; a job that fails alone gets its own
  exception and no other job is affected;
- jobs run in the order of their `order` key inside a batch;
- a job may name advisory locks (`locks`, pairs of integers): a batch takes every lock of
  its jobs first, in one statement and in sorted order, before any job runs. Writers that
  take the same lock before touching the same rows (see `krc.immunization.stock.services`)
  are thereby serialised per lock, and two processes committing batches at once cannot wait
  on each other in a cycle (a deadlock would cost deadlock_timeout, then a rerun).

PostgreSQL only; SQLite has a single writer and no pipeline.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

import psycopg

log = logging.getLogger(__name__)

Rows = list[tuple[Any, ...]]
Statement = tuple[str, dict[str, Any]]


@dataclass(order=True)
class Job:
    """Statements forming one unit of work; `order` sets their place in a batch."""

    order: tuple[Any, ...]
    statements: Sequence[Statement] = field(compare=False)
    locks: tuple[tuple[int, int], ...] = field(compare=False, default=())
    # Called once, from the writer thread, with the rows or the exception.
    settle: Callable[[list[Rows] | None, BaseException | None], None] = field(
        compare=False, default=lambda rows, exc: None)


_LOCKS = ("SELECT pg_advisory_xact_lock(u.a, u.b) FROM unnest(CAST(%(a)s AS integer[]), "
          "CAST(%(b)s AS integer[])) AS u(a, b)")


def _settle(future: asyncio.Future[list[Rows]], rows: list[Rows] | None,
            exc: BaseException | None) -> None:
    if future.cancelled():  # the caller went away; the job ran (or failed) all the same
        return
    if exc is not None:
        future.set_exception(exc)
    else:
        future.set_result(rows or [])


def libpq_url(url: str) -> str:
    """Return a libpq connection string for a SQLAlchemy PostgreSQL URL."""
    scheme, sep, rest = url.partition("://")
    return "postgresql" + sep + rest if scheme.startswith("postgresql") else url


class GroupCommitter:
    """One writer thread and connection committing the submitted jobs in batches."""

    def __init__(self, url: str, max_batch: int = 64) -> None:
        self.conninfo = libpq_url(url)
        self.max_batch = max_batch
        self._queue: queue.SimpleQueue[Job | None] = queue.SimpleQueue()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._conn: psycopg.Connection[Any] | None = None
        self.batches = 0  # counters, for tests and benchmarks
        self.jobs = 0

    def submit(self, statements: Sequence[Statement], order: tuple[Any, ...] = (),
               locks: tuple[tuple[int, int], ...] = ()) -> Future[list[Rows]]:
        """Queue a job; its future gives one list of rows per statement once committed."""
        future: Future[list[Rows]] = Future()

        def settle(rows: list[Rows] | None, exc: BaseException | None) -> None:
            if exc is not None:
                future.set_exception(exc)
            else:
                future.set_result(rows or [])

        self._put(Job(order, statements, locks, settle))
        return future

    async def run(self, statements: Sequence[Statement], order: tuple[Any, ...] = (),
                  locks: tuple[tuple[int, int], ...] = ()) -> list[Rows]:
        """Submit a job and wait for its rows without blocking the event loop (the writer
        settles an asyncio future through the loop: no thread-safe future to chain)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[list[Rows]] = loop.create_future()

        def settle(rows: list[Rows] | None, exc: BaseException | None) -> None:
            loop.call_soon_threadsafe(_settle, future, rows, exc)

        self._put(Job(order, statements, locks, settle))
        return await future

    def _put(self, job: Job) -> None:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="krc-group-commit",
                                                daemon=True)
                self._thread.start()
        self._queue.put(job)

    def close(self) -> None:
        """Stop the thread after the jobs already queued, and close the connection."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is not None:
            self._queue.put(None)
            thread.join(timeout=30)

    # ------------------------------------------------------------------ the writer thread

    def _run(self) -> None:
        stop = False
        while not stop:
            first = self._queue.get()
            if first is None:
                break
            batch = [first]
            while len(batch) < self.max_batch:
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    stop = True
                    break
                batch.append(nxt)
            self._commit(sorted(batch))
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _connection(self) -> psycopg.Connection[Any]:
        if self._conn is None or self._conn.closed:
            self._conn = psycopg.connect(self.conninfo)
        return self._conn

    def _commit(self, batch: list[Job]) -> None:
        """Commit the batch in one transaction, else each job alone."""
        try:
            results = self._execute(batch)
        except Exception as exc:  # rolled back whole: rerun each job alone
            log.info("group commit of %d job(s) failed (%r); rerunning them one by one",
                     len(batch), exc)
            self._discard_broken()
            for job in batch:
                try:
                    rows = self._execute([job])[0]
                except Exception as job_exc:
                    self._discard_broken()
                    job.settle(None, job_exc)
                else:
                    job.settle(rows, None)
            return
        self.batches += 1
        self.jobs += len(batch)
        for job, rows in zip(batch, results, strict=True):
            job.settle(rows, None)

    def _execute(self, batch: list[Job]) -> list[list[Rows]]:
        """Run the batch in one transaction and one pipeline; return each job's rows."""
        conn = self._connection()
        cursors: list[list[psycopg.Cursor[Any]]] = []
        locks = sorted({lock for job in batch for lock in job.locks})
        with conn.pipeline(), conn.transaction():
            if locks:  # integers only: a literal array is one cheap text parameter
                conn.execute(_LOCKS, {"a": "{" + ",".join(str(int(a)) for a, _ in locks) + "}",
                                      "b": "{" + ",".join(str(int(b)) for _, b in locks) + "}"},
                             prepare=True)
            for job in batch:
                mine = []
                for sql, params in job.statements:
                    cur = conn.cursor()
                    cur.execute(sql, params, prepare=True)
                    mine.append(cur)
                cursors.append(mine)
        # The transaction has committed (leaving the block commits and syncs the pipeline).
        return [[cur.fetchall() if cur.description else [] for cur in mine]
                for mine in cursors]

    def _discard_broken(self) -> None:
        """Drop a connection left unusable (lost, or inside a failed transaction)."""
        conn = self._conn
        if conn is not None and (conn.closed or conn.info.transaction_status
                                 != psycopg.pq.TransactionStatus.IDLE):
            conn.close()
            self._conn = None
