"""Fixtures: a database on SQLite and on PostgreSQL, a small Mali world, users and tokens.

Every storage test takes `db` (or `client`) and so runs on both backends. PostgreSQL at
127.0.0.1:5432 (or KRC_TEST_PG_URL) is required when CI=true; elsewhere, when it is truly
absent, the PostgreSQL half is skipped and `make test` says so.
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import psycopg
import pytest
from fastapi.testclient import TestClient

from krc.accounts import services as accounts
from krc.accounts.models import User
from krc.accounts.queries import actor_for
from krc.accounts.roles import Actor
from krc.config import Settings
from krc.db import Database
from krc.geo.models import FACILITY, VILLAGE
from krc.geo.queries import unit_by_code
from krc.geo.services import add_unit, load_mali_seed, set_derived_targets
from krc.migrations import upgrade

TODAY = date(2026, 3, 16)
PASSWORD = "secret-pass-1"
PG_BASE = os.environ.get("KRC_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")

# The small world: two CSComs in Kati (ML0207), one in Mopti (ML0501).
FACILITIES = {
    "ML0207-C01": ("ML0207", "CSCom Kati Central", ["Kati Coro", "Sébénikoro"]),
    "ML0207-C02": ("ML0207", "CSCom Diago", ["Diago", "Ouézindougou"]),
    "ML0501-C01": ("ML0501", "CSCom Mopti Komoguel", ["Komoguel", "Sévaré"]),
}
USERS = {  # username: (role, org unit)
    "admin": ("admin", "ML"),
    "national": ("national", "ML"),
    "partner": ("partner", "ML"),
    "kati": ("district", "ML0207"),
    "vacc_kati": ("vaccinator", "ML0207-C01"),
    "vacc_mopti": ("vaccinator", "ML0501-C01"),
}


def build_world(db: Database) -> dict[str, str]:
    """Load the Mali seed, a few facilities and villages, targets and users; return tokens."""
    tokens: dict[str, str] = {}
    with db.session() as s:
        country = load_mali_seed(s)
        for code, (district_code, name, villages) in FACILITIES.items():
            district = unit_by_code(s, district_code)
            fac = add_unit(s, code, name, FACILITY, district)
            for i, v in enumerate(villages, 1):
                add_unit(s, f"{code}-V{i:02d}", v, VILLAGE, fac)
        for year in (2025, 2026):
            set_derived_targets(s, [(country, 24_000_000), (unit_by_code(s, "ML0207"), 600_000),
                                    (unit_by_code(s, "ML0501"), 450_000),
                                    (unit_by_code(s, "ML0207-C01"), 24_000),
                                    (unit_by_code(s, "ML0207-C02"), 18_000),
                                    (unit_by_code(s, "ML0501-C01"), 30_000)], year)
        for username, (role, ou) in USERS.items():
            user = accounts.create_user(s, username, PASSWORD, role, ou)
            tokens[username] = accounts.create_token(s, user, "tests")
    return tokens


def _pg_admin_url() -> str:
    return PG_BASE.replace("postgresql+psycopg://", "postgresql://")


def _pg_available() -> bool:
    try:
        with psycopg.connect(_pg_admin_url(), connect_timeout=3):
            return True
    except psycopg.OperationalError:
        return False


def _pg_exec(sql: str) -> None:
    with psycopg.connect(_pg_admin_url(), autocommit=True) as conn:
        conn.execute(sql)


def _pg_url_for(name: str) -> str:
    base, _, _ = _pg_admin_url().rpartition("/")
    return f"{base}/{name}"


@dataclass
class Template:
    """A built world to copy for each test: its location and the users' tokens."""

    backend: str
    source: str  # SQLite file path or PostgreSQL template database name
    tokens: dict[str, str]


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Template:
    path = tmp_path_factory.mktemp("tmpl") / "template.db"
    url = f"sqlite:///{path}"
    upgrade(url)
    db = Database(url)
    tokens = build_world(db)
    db.dispose()
    return Template("sqlite", str(path), tokens)


@pytest.fixture(scope="session")
def pg_template() -> Iterator[Template]:
    if not _pg_available():
        msg = f"PostgreSQL not reachable at {_pg_admin_url()}"
        if IN_CI:
            pytest.fail(msg + " (CI=true: the PostgreSQL half must run)")
        pytest.skip(msg + ": PostgreSQL half not run")
    name = f"krc_tmpl_{_worker()}_{os.getpid()}"
    _pg_exec(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    _pg_exec(f"CREATE DATABASE {name}")
    url = _pg_url_for(name)
    upgrade(url)
    db = Database(url)
    tokens = build_world(db)
    db.dispose()
    yield Template("postgresql", name, tokens)
    _pg_exec(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@dataclass
class World:
    """A fresh database holding the small world, with tokens and helpers for a test."""

    db: Database
    backend: str
    tokens: dict[str, str]

    def actor(self, username: str) -> Actor:
        """Return the Actor of a world user."""
        from sqlalchemy import select
        with self.db.session() as s:
            user = s.scalar(select(User).where(User.username == username))
            assert user is not None
            return actor_for(s, user)

    def headers(self, username: str, lang: str = "fr") -> dict[str, str]:
        """Return bearer-token headers for a world user."""
        return {"Authorization": f"Bearer {self.tokens[username]}", "Accept-Language": lang}


@pytest.fixture(params=["sqlite", "postgresql"])
def world(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[World]:
    if request.param == "sqlite":
        tmpl: Template = request.getfixturevalue("sqlite_template")
        path = tmp_path / "krc.db"
        shutil.copy(tmpl.source, path)
        db = Database(f"sqlite:///{path}")
        yield World(db, "sqlite", tmpl.tokens)
        db.dispose()
        return
    tmpl = request.getfixturevalue("pg_template")
    name = f"krc_t_{_worker()}_{uuid.uuid4().hex[:8]}"
    _pg_exec(f"CREATE DATABASE {name} TEMPLATE {tmpl.source}")
    db = Database(_pg_url_for(name))
    yield World(db, "postgresql", tmpl.tokens)
    db.dispose()
    _pg_exec(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture
def db(world: World) -> Database:
    return world.db


@pytest.fixture
def client(world: World) -> Iterator[TestClient]:
    from krc.web.app import create_app
    settings = Settings(database_url=world.db.url, secret_key="test")
    app = create_app(settings, world.db, clock=lambda: TODAY)
    with TestClient(app) as c:
        yield c


RACERS = 6


def race(work: Any, n: int = RACERS) -> list[Any]:
    """Run `work` in n threads released together; return each result or exception (the
    retries of one create racing past its existence check to the unique index)."""
    barrier = threading.Barrier(n)
    results: list[Any] = []
    lock = threading.Lock()

    def run() -> None:
        barrier.wait()
        try:
            out = work()
        except Exception as exc:  # noqa: BLE001 - collected and asserted by the caller
            out = exc
        with lock:
            results.append(out)

    threads = [threading.Thread(target=run) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert len(results) == n, "a racer did not finish"
    return results


def child_payload(**over: Any) -> dict[str, Any]:
    """Return a valid child registration body, with overrides."""
    body: dict[str, Any] = {
        "given_name": "Awa", "family_name": "Traoré", "sex": "F", "birth_date": "2025-09-01",
        "caregiver_name": "Fatoumata Traoré", "caregiver_phone": "76 12 34 56",
        "facility": "ML0207-C01", "village": "ML0207-C01-V01",
    }
    body.update(over)
    return body


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """With CI=true a skipped test is a failure: nothing may silently not run in CI."""
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
    if IN_CI and skipped and exitstatus == 0:
        if reporter:
            reporter.write_line(f"CI=true: {skipped} test(s) skipped; failing the run", red=True)
        session.exitstatus = 1


# --------------------------------------------------------------------------- browser tests
# The app served on loopback over a copy of the SQLite world, and Debian's Chromium driven by
# Playwright: skipped on a laptop without it, a failure with CI=true.

CHROMIUM = os.environ.get("KRC_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: the browser tests must run)")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(sqlite_template: Template, tmp_path: Path) -> Iterator[str]:
    """Serve the app on a loopback port over a fresh copy of the SQLite world."""
    import uvicorn

    from krc.web.app import create_app

    path = tmp_path / "krc.db"
    shutil.copy(sqlite_template.source, path)
    db = Database(f"sqlite:///{path}")
    app = create_app(Settings(database_url=db.url, secret_key="test"), db,
                     clock=lambda: TODAY)
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                        lifespan="off"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not srv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)
    db.dispose()


@pytest.fixture
def browser() -> Iterator[Any]:
    """Yield a headless Chromium, or skip (fail in CI) when it is not installed."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright for Python is not installed")
    if not Path(CHROMIUM).exists():
        _unavailable(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield b
        finally:
            b.close()


def sign_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert "/login" not in page.url, page.content()
