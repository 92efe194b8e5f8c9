"""Alembic environment: runs migrations online against the configured URL."""

from __future__ import annotations

from alembic import context

import krc.models  # noqa: F401  (registers every table on Base.metadata)
from krc.db import Base, make_engine

config = context.config
target_metadata = Base.metadata


def run() -> None:
    """Run the migrations in one transaction per revision."""
    url = config.get_main_option("sqlalchemy.url") or ""
    engine = make_engine(url)
    with engine.connect() as connection:
        context.configure(connection=connection, target_metadata=target_metadata,
                          render_as_batch=connection.dialect.name == "sqlite",
                          compare_type=True)
        with context.begin_transaction():
            context.run_migrations()
    engine.dispose()


run()
