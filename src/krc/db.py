"""Engine and session factory: SQLite (WAL, foreign keys on) or PostgreSQL."""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from sqlalchemy import MetaData, Select, create_engine, event, inspect, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.orm import DeclarativeBase, Session, make_transient_to_detached, sessionmaker
from sqlalchemy.orm.attributes import set_committed_value

from krc.groupcommit import GroupCommitter

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


# Whether the transaction about to begin will write: SQLite then takes the write lock at
# BEGIN (BEGIN IMMEDIATE) so that concurrent writers wait (busy_timeout) instead of failing
# with "database is locked" when a read transaction tries to upgrade.
_WRITE_INTENT: ContextVar[bool] = ContextVar("krc_write_intent", default=True)


class Base(DeclarativeBase):
    """Declarative base of every krc table."""

    metadata = MetaData(naming_convention=NAMING)


def normalise_url(url: str) -> str:
    """Return the URL with the psycopg 3 driver chosen for plain postgresql:// URLs."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def make_engine(url: str) -> Engine:
    """Return an engine for the URL, with SQLite tuned for concurrent web use."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False}, pool_size=8)
        event.listen(engine, "connect", _sqlite_pragmas)
        # SQLite's own transaction handling is replaced by explicit BEGIN so that a
        # request's writes are one transaction (SQLAlchemy docs, "Serializable isolation").
        @event.listens_for(engine, "connect")
        def _no_autobegin(dbapi_conn: Any, _record: Any) -> None:
            dbapi_conn.isolation_level = None

        @event.listens_for(engine, "begin")
        def _begin(conn: Any) -> None:
            conn.exec_driver_sql("BEGIN IMMEDIATE" if _WRITE_INTENT.get() else "BEGIN")

        return engine
    return create_engine(url, pool_size=20, max_overflow=20, pool_pre_ping=True)


_URL_KEYS: weakref.WeakKeyDictionary[Engine, str] = weakref.WeakKeyDictionary()


def url_key(bind: Engine | Session) -> str:
    """Return the key of a database in the per-process caches: its engine URL as
    `str(engine.url)` renders it, rendered once per engine (rendering it took ~5 µs, and a
    card read looks up its caches some 25 times)."""
    engine = bind.get_bind().engine if isinstance(bind, Session) else bind
    key = _URL_KEYS.get(engine)
    if key is None:
        key = _URL_KEYS[engine] = str(engine.url)
    return key


def is_postgres(engine_or_session: Engine | Session) -> bool:
    """Return True when the engine (or the session's engine) is PostgreSQL."""
    if isinstance(engine_or_session, Session):
        return engine_or_session.get_bind().dialect.name == "postgresql"
    bind = engine_or_session
    return bind.dialect.name == "postgresql"


def fetch_rows(session: Session, stmt: Select[Any] | Any) -> Sequence[Sequence[Any]]:
    """Return every row of a Core select as plain tuples, in the session's transaction.

    On PostgreSQL the rows come straight from the psycopg cursor (C-built tuples with
    native dates and UUIDs), skipping SQLAlchemy's per-row result processing, which cost
    more than the query itself on lists of tens of thousands of children. SQLite rows need
    SQLAlchemy's type processing (dates are stored as text), so they take the usual path.
    """
    conn = session.connection()
    if conn.dialect.name != "postgresql":
        return conn.execute(stmt).all()
    compiled = stmt.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    cursor = conn.connection.cursor()
    try:
        cursor.execute(str(compiled), compiled.params)
        rows: Sequence[Sequence[Any]] = cursor.fetchall()
        return rows
    finally:
        cursor.close()


# insert_unless_taken's statements, built once per (table, dialect): building an INSERT
# with its values on every call cost more CPU than the bookkeeping it replaced.
_INSERTS: dict[tuple[str, bool], tuple[Any, Any, str]] = {}


def insert_unless_taken(session: Session, obj: Any) -> bool:
    """INSERT a new ORM object's row unless it would break a unique constraint (a replayed
    id, a concurrent duplicate): return True and attach `obj` as persistent, or False and
    leave the session untouched.

    One `INSERT … ON CONFLICT DO NOTHING RETURNING pk` (PostgreSQL and SQLite) replaces a
    SAVEPOINT, the ORM flush and a RELEASE: two round trips fewer per create, and a conflict
    no longer aborts anything, so no savepoint is needed. The columns set on `obj` (None
    included) are inserted as they are; a column left unset takes its default, read back
    with RETURNING so that the object is whole without another query. A primary key
    already set (`next_pk`) is inserted as is; the primary key is `pk`, or `id` on the few
    tables keyed so. Any other integrity fault (a foreign key) raises as a flush would.
    """
    mapper = inspect(type(obj))
    pg = is_postgres(session)
    cached = _INSERTS.get((mapper.local_table.name, pg))
    if cached is None:
        table = mapper.local_table
        conflict_free = (pg_insert if pg else sqlite_insert)(table).on_conflict_do_nothing()
        cached = (conflict_free.returning(mapper.primary_key[0]),
                  conflict_free.returning(*(prop.columns[0] for prop in mapper.column_attrs)),
                  mapper.get_property_by_column(mapper.primary_key[0]).key)  # "pk" or "id"
        _INSERTS[(mapper.local_table.name, pg)] = cached
    returning_pk, returning_row, key = cached
    state = obj.__dict__
    values = {prop.columns[0].name: state[prop.key] for prop in mapper.column_attrs
              if prop.key in state and (prop.key != key or state[prop.key] is not None)}
    unset = [prop.key for prop in mapper.column_attrs if prop.key not in state]
    if unset in ([], [key]):  # every column given (the register's hot path)
        pk = session.execute(returning_pk, values).scalar()
        row = None
    else:  # read back the defaults the database applied, as a flush would have
        row = session.execute(returning_row, values).first()
        stored = {} if row is None else dict(zip(mapper.column_attrs.keys(), row, strict=True))
        pk = stored.get(key)
    if pk is None:
        return False
    setattr(obj, key, pk)
    make_transient_to_detached(obj)
    if row is not None:
        for attr in unset:
            set_committed_value(obj, attr, stored[attr])
    session.add(obj)
    return True


def insert_or_find(session: Session, obj: Any) -> tuple[Any | None, bool]:
    """Create `obj` once by its client id: (obj, True) when inserted; (the stored row with
    the same `id`, False) when that id is taken (a retry, or a concurrent retry that won
    the race); (None, False) when another unique constraint refused it (the caller says
    which, in the user's words)."""
    if insert_unless_taken(session, obj):
        return obj, True
    model = type(obj)
    return session.scalar(select(model).where(model.id == obj.id)), False


def next_pk(session: Session, table: str) -> int:
    """Draw the next serial primary key of a table before inserting the row, so that values
    derived from it (a child's registry number) go into the INSERT itself instead of a
    second UPDATE of the row. PostgreSQL: the table's sequence (a value drawn and not used
    leaves a gap, as a rolled-back insert does); SQLite: max + 1, safe because a write
    transaction holds the database's write lock from its start (BEGIN IMMEDIATE)."""
    if is_postgres(session):
        sql = f"SELECT nextval('{table}_pk_seq')"
    else:
        sql = f"SELECT COALESCE(MAX(pk), 0) + 1 FROM {table}"
    return int(session.execute(text(sql)).scalar_one())


class Database:
    """An engine with its session factory."""

    def __init__(self, url: str) -> None:
        self.url = normalise_url(url)
        self.engine = make_engine(self.url)
        self.sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._committer: GroupCommitter | None = None
        self._committer_lock = threading.Lock()

    def group_committer(self) -> GroupCommitter:
        """This process's group committer for the database (PostgreSQL only; see
        `krc.groupcommit`), started on first use and stopped by `dispose`."""
        with self._committer_lock:
            if self._committer is None:
                self._committer = GroupCommitter(self.url)
            return self._committer

    @contextmanager
    def session(self, write: bool = True) -> Iterator[Session]:
        """Yield a session whose work is one transaction: committed at the end, or rolled
        back on error. `write=False` marks a read-only transaction (SQLite: no write lock)."""
        token = _WRITE_INTENT.set(write)
        try:
            with self.sessions() as s, s.begin():
                s.connection()  # begin now, while the intent is set
                yield s
        finally:
            _WRITE_INTENT.reset(token)

    def dispose(self) -> None:
        """Stop the group committer and close every pooled connection."""
        with self._committer_lock:
            committer, self._committer = self._committer, None
        if committer is not None:
            committer.close()
        self.engine.dispose()


# Callbacks run when a database is erased (caches keyed by database URL register here).
RESET_HOOKS: list[Callable[[], None]] = []


def reset(url: str) -> None:
    """Erase a database entirely: delete a SQLite file, or recreate PostgreSQL's public schema."""
    from pathlib import Path

    from sqlalchemy import text
    url = normalise_url(url)
    for hook in RESET_HOOKS:
        hook()
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            for suffix in ("", "-wal", "-shm"):
                Path(path + suffix).unlink(missing_ok=True)
        return
    engine = create_engine(url)
    with engine.begin() as conn:
        conn.execute(text("DROP SCHEMA public CASCADE"))
        conn.execute(text("CREATE SCHEMA public"))
    engine.dispose()
