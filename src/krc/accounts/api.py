"""JSON routes of accounts: who am I, tokens, users (admin), the audit log (admin)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from krc.accounts import services
from krc.accounts.models import AuditEvent, User
from krc.accounts.roles import MANAGE_USERS, Actor
from krc.db import Database
from krc.errors import Forbidden, Message
from krc.geo.models import OrgUnit
from krc.web.deps import get_db, require_actor

router = APIRouter(tags=["accounts"])


class UserCreate(BaseModel):
    """A user to create (administrators only)."""

    model_config = ConfigDict(extra="forbid")

    username: str = Field(min_length=1, max_length=80)
    password: str = Field(min_length=8)
    role: str
    org_unit: str
    full_name: str = ""
    language: str = Field("fr", pattern="^(fr|en)$")


class TokenCreate(BaseModel):
    """A name for a new API token of the caller."""

    name: str = Field("", max_length=100)


def _admin(actor: Actor) -> None:
    if actor.role not in MANAGE_USERS:
        raise Forbidden("role_forbidden", Message("Réservé aux administrateurs",
                                                  "Administrators only"))


@router.get("/me")
def me(actor: Actor = Depends(require_actor), db: Database = Depends(get_db)) -> dict[str, Any]:
    """Return the caller's username, role, org unit and language."""
    with db.session() as s:
        unit = s.get(OrgUnit, actor.org_unit_id)
        return {"username": actor.username, "role": actor.role, "language": actor.language,
                "org_unit": {"code": unit.code, "name": unit.name} if unit else None}


@router.post("/tokens", status_code=201)
def create_token(body: TokenCreate, actor: Actor = Depends(require_actor),
                 db: Database = Depends(get_db)) -> dict[str, str]:
    """Create an API token for the caller; it is shown once."""
    with db.session() as s:
        user = s.get(User, actor.user_id)
        assert user is not None
        return {"token": services.create_token(s, user, body.name, actor)}


@router.post("/users", status_code=201)
def create_user(body: UserCreate, actor: Actor = Depends(require_actor),
                db: Database = Depends(get_db)) -> dict[str, Any]:
    """Create a user scoped to an org unit (administrators only)."""
    _admin(actor)
    with db.session() as s:
        user = services.create_user(s, body.username, body.password, body.role, body.org_unit,
                                    body.full_name, body.language, actor)
        return {"id": user.id, "username": user.username, "role": user.role,
                "org_unit": body.org_unit}


@router.get("/audit")
def audit_log(entity: str | None = None, entity_id: str | None = None,
              limit: int = Query(100, ge=1, le=1000), actor: Actor = Depends(require_actor),
              db: Database = Depends(get_db)) -> list[dict[str, Any]]:
    """Return the newest audit events, optionally for one entity (administrators only)."""
    _admin(actor)
    q = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if entity:
        q = q.where(AuditEvent.entity == entity)
    if entity_id:
        q = q.where(AuditEvent.entity_id == entity_id)
    with db.session() as s:
        return [{"at": e.at, "username": e.username, "action": e.action, "entity": e.entity,
                 "entity_id": e.entity_id, "detail": e.detail} for e in s.scalars(q)]
