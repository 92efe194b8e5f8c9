"""Every write of the accounts capability: users, tokens, sessions, audit events."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from krc.accounts.models import ApiToken, AuditEvent, LoginFailure, User, WebSession
from krc.accounts.queries import TOKENS
from krc.accounts.roles import ROLES, Actor
from krc.accounts.security import digest, hash_password, new_token, verify_password
from krc.errors import DomainError, Message, invalid
from krc.geo.models import OrgUnit


def utcnow() -> datetime:
    """Return the current UTC time (the shell's clock; pure rules take time as input)."""
    return datetime.now(UTC)


def audit(session: Session, actor: Actor | None, action: str, entity: str, entity_id: str,
          detail: dict[str, Any] | None = None, at: datetime | None = None) -> None:
    """Append one audit event in the caller's transaction.

    A Core INSERT, not an ORM object: the event is never read back in the transaction, and
    the unit of work's bookkeeping for it was a visible share of every audited request
    (py-spy, mixed API load)."""
    session.execute(_AUDIT_INSERT, {
        "at": at or utcnow(), "user_id": actor.user_id if actor else None,
        "username": actor.username if actor else "system", "action": action,
        "entity": entity, "entity_id": entity_id, "detail": detail or {},
    })


_AUDIT_INSERT = insert(AuditEvent)


def create_user(session: Session, username: str, password: str, role: str, org_unit_code: str,
                full_name: str = "", language: str = "fr", actor: Actor | None = None) -> User:
    """Create a user scoped to an org unit and return it; refuses bad roles and duplicates."""
    if role not in ROLES:
        raise invalid("role", "role_unknown", "Rôle inconnu : {role} ; rôles valides : {roles}",
                      "Unknown role: {role}; valid roles: {roles}", role=role,
                      roles=", ".join(ROLES))
    if len(password) < 8:
        raise invalid("password", "password_too_short",
                      "Le mot de passe doit comporter au moins 8 caractères",
                      "The password must have at least 8 characters")
    if not username or len(username) > 80:
        raise invalid("username", "username_invalid", "Nom d'utilisateur invalide",
                      "Invalid username")
    ou = session.scalar(select(OrgUnit).where(OrgUnit.code == org_unit_code))
    if ou is None:
        raise invalid("org_unit", "org_unit_unknown", "Unité d'organisation inconnue : {code}",
                      "Unknown org unit: {code}", code=org_unit_code)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise DomainError("username_taken", Message("Ce nom d'utilisateur existe déjà : {u}",
                                                    "This username already exists: {u}",
                                                    {"u": username}), field="username")
    user = User(username=username, password_hash=hash_password(password), role=role,
                org_unit_id=ou.id, full_name=full_name, language=language, created_at=utcnow())
    session.add(user)
    session.flush()
    audit(session, actor, "create", "user", str(user.id), {"username": username, "role": role,
                                                            "org_unit": org_unit_code})
    return user


def create_token(session: Session, user: User, name: str = "", actor: Actor | None = None) -> str:
    """Create an API token for the user and return it in clear (only its hash is stored)."""
    token = new_token()
    session.add(ApiToken(user_id=user.id, name=name, token_hash=digest(token), created_at=utcnow()))
    audit(session, actor, "create", "api_token", str(user.id), {"name": name})
    return token


def revoke_token(session: Session, token: str) -> bool:
    """Revoke a token; return True when it existed."""
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == digest(token)))
    if row is None:
        return False
    row.revoked = True
    TOKENS.forget(session)  # this process at once; other processes within TOKEN_TTL
    return True


class LoginThrottled(DomainError):
    """Too many failed sign-ins for this user and address (HTTP 429)."""

    status = 429


def authenticate(session: Session, username: str, password: str, address: str,
                 max_failures: int, lock_minutes: int, now: datetime | None = None) -> User | None:
    """Return the user when the password matches; record failures and refuse when locked."""
    now = now or utcnow()
    since = now - timedelta(minutes=lock_minutes)
    failures = session.scalar(
        select(func.count()).select_from(LoginFailure)
        .where(LoginFailure.username == username, LoginFailure.at >= since)
    ) or 0
    if failures >= max_failures:
        raise LoginThrottled("login_throttled", Message(
            "Trop de tentatives ; réessayez dans {m} minutes",
            "Too many attempts; try again in {m} minutes", {"m": lock_minutes}))
    user = session.scalar(select(User).where(User.username == username, User.active.is_(True)))
    if user is None or not verify_password(user.password_hash, password):
        session.add(LoginFailure(username=username, address=address[:64], at=now))
        return None
    session.execute(delete(LoginFailure).where(LoginFailure.username == username))
    return user


def open_session(session: Session, user: User, hours: int) -> tuple[str, WebSession]:
    """Create a browser session; return the cookie key (clear) and the stored row."""
    key = secrets.token_urlsafe(32)
    now = utcnow()
    row = WebSession(key_hash=digest(key), user_id=user.id, csrf_token=secrets.token_urlsafe(24),
                     created_at=now, expires_at=now + timedelta(hours=hours))
    session.add(row)
    return key, row


def close_session(session: Session, key: str) -> None:
    """Delete a browser session (sign out)."""
    session.execute(delete(WebSession).where(WebSession.key_hash == digest(key)))
