"""Request dependencies: the database, the caller (token or session) and the language."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from krc.accounts.models import User
from krc.accounts.queries import (
    actor_for,
    actor_for_token,
    cached_actor_for_token,
    session_for_key,
)
from krc.accounts.roles import Actor
from krc.config import Settings
from krc.db import Database, url_key
from krc.errors import DomainError, Message

SESSION_COOKIE = "krc_session"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class Unauthorized(DomainError):
    """No valid credentials (HTTP 401)."""

    status = 401


# The dependencies below do no I/O, so they are `async def`: FastAPI runs a plain `def`
# dependency in a worker thread, a hand-off per dependency per request.

def database_of(request: Request) -> Database:
    """Return the app's Database (outside dependency injection)."""
    db: Database = request.app.state.db
    return db


async def get_db(request: Request) -> Database:
    """Return the app's Database."""
    return database_of(request)


async def get_settings(request: Request) -> Settings:
    """Return the app's Settings."""
    settings: Settings = request.app.state.settings
    return settings


def today(request: Request) -> date:
    """Return today's date in Mali (UTC+0); tests may fix it through app.state.clock."""
    return today_of(request.app.state)


def today_of(state: Any) -> date:
    """Today's date for an app's state (its `clock` when set: tests), outside a request."""
    clock = getattr(state, "clock", None)
    return clock() if clock else datetime.now(UTC).date()


@dataclass
class Caller:
    """The authenticated caller of a request."""

    actor: Actor
    user: User
    csrf_token: str | None  # set for browser sessions
    via_session: bool


def _authenticate(request: Request, s: Session) -> Caller | None:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        by_token = actor_for_token(s, auth[7:].strip())
        if by_token is None:
            raise Unauthorized("token_invalid", Message("Jeton invalide ou révoqué",
                                                        "Invalid or revoked token"))
        return Caller(by_token[1], by_token[0], None, False)
    key = request.cookies.get(SESSION_COOKIE)
    if key:
        found = session_for_key(s, key)
        if found is not None:
            user, ws = found
            return Caller(actor_for(s, user), user, ws.csrf_token, True)
    return None


def _authenticate_now(request: Request, db: Database) -> Caller | None:
    with db.session(write=False) as s:
        return _authenticate(request, s)


async def optional_caller(request: Request, db: Database = Depends(get_db)) -> Caller | None:
    """Return the caller when credentials are present and valid, else None.

    A bearer token checked in the last TOKEN_TTL seconds is answered from the per-process
    cache in the event loop (no thread hand-off, no query); anything else is checked in a
    worker thread."""
    auth = request.headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        hit = cached_actor_for_token(url_key(db.engine), auth[7:].strip())
        if hit is not None:
            return Caller(hit[1], hit[0], None, False)
    return await run_in_threadpool(_authenticate_now, request, db)


def check_csrf(request: Request, caller: Caller, form_token: str | None = None) -> None:
    """Refuse an unsafe browser-session request whose CSRF token does not match."""
    if not caller.via_session or request.method in SAFE_METHODS:
        return
    sent = form_token or request.headers.get("x-csrf-token") or ""
    if not caller.csrf_token or not hmac.compare_digest(sent, caller.csrf_token):
        raise DomainError("csrf_failed", Message(
            "Jeton CSRF manquant ou invalide ; rechargez la page",
            "Missing or invalid CSRF token; reload the page"))


async def checked_form(request: Request, caller: Caller) -> FormData:
    """Read a page's posted form and check its CSRF token (refusing a forged post before
    anything is read from it)."""
    form = await request.form()
    check_csrf(request, caller, str(form.get("csrf_token") or ""))
    return form


async def require_caller(request: Request,
                         caller: Caller | None = Depends(optional_caller)) -> Caller:
    """Return the caller or raise 401; JSON calls from a browser session need the CSRF header."""
    if caller is None:
        raise Unauthorized("auth_required", Message(
            "Authentification requise (jeton Bearer ou session)",
            "Authentication required (Bearer token or session)"))
    if request.url.path.startswith("/api/"):
        check_csrf(request, caller)
    return caller


async def require_actor(caller: Caller = Depends(require_caller)) -> Actor:
    """Return the authenticated Actor."""
    return caller.actor


def db_session(db: Database = Depends(get_db)) -> Iterator[Session]:
    """Yield one session (one transaction) for a read-only dependency chain."""
    with db.session(write=False) as s:
        yield s
