"""Migrations: the schema they build equals the models, and they go down and up again."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import create_engine, inspect

import krc.models  # noqa: F401
from krc.db import Base, normalise_url
from krc.migrations import downgrade, upgrade
from tests.conftest import _pg_exec, _pg_url_for


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_url(request: pytest.FixtureRequest, tmp_path: object) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path}/m.db"
        return
    request.getfixturevalue("pg_template")  # fails in CI / skips on a laptop without PG
    name = f"krc_mig_{uuid.uuid4().hex[:8]}"
    _pg_exec(f"CREATE DATABASE {name}")
    yield _pg_url_for(name)
    _pg_exec(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_migrations_match_models_and_round_trip(empty_url: str) -> None:
    upgrade(empty_url)
    engine = create_engine(normalise_url(empty_url))
    with engine.connect() as conn:
        ctx = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(ctx, Base.metadata)
    assert diff == [], diff
    downgrade(empty_url, "base")
    assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
    upgrade(empty_url)
    assert "child" in inspect(engine).get_table_names()
    engine.dispose()
