"""Reads of the accounts capability: who is calling, from a token or a session key."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from krc.accounts.models import ApiToken, User, WebSession
from krc.accounts.roles import Actor
from krc.accounts.security import digest
from krc.cache import TTLCache
from krc.db import url_key
from krc.geo.models import OrgUnit


def actor_for(session: Session, user: User) -> Actor:
    """Return the Actor (role and subtree) of a user."""
    path = session.scalar(select(OrgUnit.path).where(OrgUnit.id == user.org_unit_id)) or "/"
    return Actor(user.id, user.username, user.role, user.org_unit_id, path, user.language)


def user_for_token(session: Session, token: str) -> User | None:
    """Return the active user owning a bearer token, or None."""
    found = actor_for_token(session, token)
    return found[0] if found else None


# A checked bearer token is trusted for this many seconds without a query: API calls and the
# RapidPro webhook then cost no database round trip for authentication. A token revoked, or
# a user deactivated, in another process (`krc tokens revoke`, another worker) stops working
# within this delay; in the same process at once.
TOKEN_TTL = 10.0
TOKENS: TTLCache[str, tuple[User, Actor]] = TTLCache(TOKEN_TTL, max_entries=10_000)


def cached_actor_for_token(url: str, token: str) -> tuple[User, Actor] | None:
    """Return the cached user and Actor of a bearer token checked less than TOKEN_TTL
    seconds ago in the database at `url` (`db.url_key`), or None; never queries."""
    return TOKENS.peek(url, digest(token))


def actor_for_token(session: Session, token: str) -> tuple[User, Actor] | None:
    """Return the active user owning a bearer token and their Actor, in one query, or None
    (cached for TOKEN_TTL seconds when found; the User is detached, read-only)."""
    url = url_key(session)
    key = digest(token)
    hit = TOKENS.peek(url, key)
    if hit is not None:
        return hit
    since = TOKENS.generation  # a revocation committed meanwhile keeps this out of the cache
    row = session.execute(
        select(User, OrgUnit.path).join(ApiToken, ApiToken.user_id == User.id)
        .join(OrgUnit, OrgUnit.id == User.org_unit_id)
        .where(ApiToken.token_hash == digest(token), ApiToken.revoked.is_(False),
               User.active.is_(True))
    ).first()
    if row is None:
        return None
    user, path = row
    found = user, Actor(user.id, user.username, user.role, user.org_unit_id, path,
                        user.language)
    TOKENS.put(url, key, found, since)
    return found


def session_for_key(session: Session, key: str,
                    now: datetime | None = None) -> tuple[User, WebSession] | None:
    """Return the user and session row of a live browser session key, or None."""
    now = now or datetime.now(UTC)
    row = session.execute(
        select(User, WebSession).join(WebSession, WebSession.user_id == User.id)
        .where(WebSession.key_hash == digest(key), User.active.is_(True))
    ).first()
    if row is None:
        return None
    user, ws = row
    expires = ws.expires_at if ws.expires_at.tzinfo else ws.expires_at.replace(tzinfo=UTC)
    if expires < now:
        return None
    return user, ws
