"""Shared pieces of every `krc` sub-command: the --db option, clear errors, the database."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any, TypeVar

import typer
from rich.console import Console
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from krc.accounts.models import User
from krc.accounts.queries import actor_for
from krc.accounts.roles import Actor
from krc.config import get_settings
from krc.db import Database, normalise_url
from krc.errors import DomainError, invalid
from krc.geo.models import COUNTRY, OrgUnit

console = Console()
err = Console(stderr=True)
F = TypeVar("F", bound=Callable[..., Any])

DB_OPTION = typer.Option(None, "--db", help="Database URL (default: KRC_DATABASE_URL or "
                                             "sqlite:///krc.db)")


def clear_errors(fn: F) -> F:
    """Turn domain errors into one clear line on stderr and exit code 1."""
    @wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except DomainError as exc:
            lang = get_settings().default_language
            fields = "; ".join(f"{e.field}: {e.message.text(lang)}" for e in exc.errors
                               if e.message.text(lang) != exc.text(lang))
            err.print(f"[red]Erreur[/red] : {exc.text(lang)}" + (f" ({fields})" if fields else ""))
            raise typer.Exit(1) from None
    return wrapper  # type: ignore[return-value]


def db_url(db: str | None) -> str:
    """Return the database URL from --db or the settings."""
    return normalise_url(db or get_settings().database_url)


def open_database(db: str | None) -> Database:
    """Return the Database of --db, or exit with a clear line when it has no krc schema."""
    url = db_url(db)
    database = Database(url)
    if "alembic_version" not in inspect(database.engine).get_table_names():
        err.print(f"[red]Erreur[/red] : la base {url} n'a pas de schéma krc ; "
                  "lancez d'abord `krc db upgrade`")
        raise typer.Exit(1)
    return database


USER_OPTION = typer.Option(None, "--user", help="act as this user (scope and audit); "
                                               "default: the command line, national scope")


def cli_actor(s: Session, username: str | None) -> Actor:
    """Return the actor of --user, or the command line's own national-scope actor."""
    if username:
        user = s.scalar(select(User).where(User.username == username))
        if user is None:
            raise invalid("user", "user_unknown", "Utilisateur inconnu : {u}",
                          "Unknown user: {u}", u=username)
        return actor_for(s, user)
    root = s.scalar(select(OrgUnit).where(OrgUnit.level == COUNTRY,
                                          OrgUnit.hierarchy == "health"))
    if root is None:
        raise invalid("org_unit", "no_country", "Aucun pays chargé (krc geo load-seed)",
                      "No country loaded (krc geo load-seed)")
    return Actor(None, "cli", "admin", root.id, root.path)
