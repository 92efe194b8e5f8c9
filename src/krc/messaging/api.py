"""JSON routes of messaging (/api/v1): parse, authorise, call a service or query, shape."""

from __future__ import annotations

from datetime import UTC, datetime, time
from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import PlainTextResponse

from krc.accounts.roles import Actor
from krc.accounts.services import utcnow
from krc.db import Database
from krc.errors import DomainError, Message, invalid
from krc.geo.models import OrgUnit
from krc.geo.queries import unit_in_scope
from krc.messaging import queries, services
from krc.messaging.models import STATUSES
from krc.messaging.producers import announce_session
from krc.messaging.rules import signature_ok
from krc.messaging.schemas import (
    AnnouncementCreate,
    BroadcastCreate,
    BroadcastRead,
    ContactCreate,
    ContactRead,
    GroupCreate,
    GroupRead,
    MembersAdd,
    OutboxRead,
    QueuedCount,
    TemplateRead,
    TemplateUpdate,
)
from krc.messaging.settings import WhatsAppSettings
from krc.web.deps import Unauthorized, get_db, require_actor, today
from krc.web.problems import PROBLEM, REFUSALS

router = APIRouter(tags=["messaging"])



def _now(request: Request) -> datetime:
    """Return now, or the test clock's day at 08:00 UTC when the app has a fixed clock."""
    if getattr(request.app.state, "clock", None):
        return datetime.combine(today(request), time(8, 0), UTC)
    return utcnow()


@router.post("/messaging/contacts", status_code=201, response_model=ContactRead,
             responses={**REFUSALS, 200: {"description": "Replay: the contact already exists"}})
def create_contact(body: ContactCreate, request: Request, response: Response,
                   actor: Actor = Depends(require_actor), db: Database = Depends(get_db)
                   ) -> dict[str, Any]:
    """Create a contact (caregiver, health worker, women leader) in the caller's scope."""
    with db.session() as s:
        contact, created = services.create_contact(s, actor, services.ContactInput(
            **body.model_dump()), _now(request))
        out = queries.contact_dict(contact, s.get(OrgUnit, contact.org_unit_id))
    if not created:
        response.status_code = 200
        response.headers["Idempotent-Replay"] = "true"
    return out


@router.get("/messaging/contacts", response_model=list[ContactRead], responses=REFUSALS)
def list_contacts(kind: str | None = None, org_unit: str | None = None,
                  limit: int = Query(200, ge=1, le=2000), actor: Actor = Depends(require_actor),
                  db: Database = Depends(get_db)) -> list[dict[str, Any]]:
    """List contacts in scope; caregivers only for roles reading personal data (audited)."""
    with db.session() as s:
        path = unit_in_scope(s, actor, org_unit).path if org_unit else None
        return queries.list_contacts(s, actor, kind, path, limit)


@router.post("/messaging/contacts/{contact_id}/opt-out", response_model=ContactRead,
             responses=REFUSALS)
def opt_out(contact_id: int, request: Request, actor: Actor = Depends(require_actor),
            db: Database = Depends(get_db)) -> dict[str, Any]:
    """Opt a contact's phone out of every message (queued ones are cancelled)."""
    with db.session() as s:
        services.manage_or_personal_write(actor)
        contact = services.contact_for(s, actor, contact_id)
        services.opt_out(s, actor, contact, _now(request))
        return queries.contact_dict(contact, s.get(OrgUnit, contact.org_unit_id))


@router.post("/messaging/groups", status_code=201, response_model=GroupRead,
             responses={**REFUSALS, 200: {"description": "Replay: the group already exists"}})
def create_group(body: GroupCreate, request: Request, response: Response,
                 actor: Actor = Depends(require_actor), db: Database = Depends(get_db)
                 ) -> dict[str, Any]:
    """Create a group of contacts (e.g. a district's women leaders)."""
    with db.session() as s:
        group, created = services.create_group(s, actor, body.code, body.name, body.org_unit,
                                               body.kind, _now(request))
        gid = group.id
        out = next(g for g in queries.list_groups(s, actor) if g["id"] == gid)
    if not created:
        response.status_code = 200
        response.headers["Idempotent-Replay"] = "true"
    return out


@router.get("/messaging/groups", response_model=list[GroupRead], responses=REFUSALS)
def list_groups(actor: Actor = Depends(require_actor), db: Database = Depends(get_db)
                ) -> list[dict[str, Any]]:
    """List the groups in scope with member counts."""
    with db.session(write=False) as s:
        return queries.list_groups(s, actor)


@router.get("/messaging/groups/{group_id}/members", response_model=list[ContactRead],
            responses=REFUSALS)
def list_members(group_id: int, actor: Actor = Depends(require_actor),
                 db: Database = Depends(get_db)) -> list[dict[str, Any]]:
    """List a group's members."""
    with db.session(write=False) as s:
        return queries.group_members(s, actor, group_id)


@router.post("/messaging/groups/{group_id}/members", response_model=QueuedCount,
             responses=REFUSALS)
def add_members(group_id: int, body: MembersAdd, request: Request,
                actor: Actor = Depends(require_actor), db: Database = Depends(get_db)
                ) -> dict[str, int]:
    """Add contacts to a group (idempotent); answers how many were new (`queued`)."""
    with db.session() as s:
        return {"queued": services.add_members(s, actor, group_id, body.contacts,
                                               _now(request))}


@router.get("/messaging/templates", response_model=list[TemplateRead], responses=REFUSALS)
def list_templates(actor: Actor = Depends(require_actor), db: Database = Depends(get_db)
                   ) -> list[dict[str, Any]]:
    """List the message templates (fra, bam, eng) with their WhatsApp names."""
    with db.session(write=False) as s:
        return queries.list_templates(s)


@router.put("/messaging/templates/{key}/{language}", response_model=TemplateRead,
            responses=REFUSALS)
def put_template(key: str, language: str, body: TemplateUpdate, request: Request,
                 actor: Actor = Depends(require_actor), db: Database = Depends(get_db)
                 ) -> dict[str, Any]:
    """Change a template's text (national messaging managers only; audited)."""
    with db.session() as s:
        t = services.set_template(s, actor, key, language, body.text, body.wa_name,
                                  body.wa_language, body.wa_params, _now(request))
        return {"key": t.key, "language": t.language, "text": t.text, "wa_name": t.wa_name,
                "wa_language": t.wa_language, "wa_params": list(t.wa_params)}


@router.post("/messaging/broadcasts", status_code=201, response_model=BroadcastRead,
             responses=REFUSALS)
def create_broadcast(body: BroadcastCreate, request: Request,
                     actor: Actor = Depends(require_actor), db: Database = Depends(get_db)
                     ) -> dict[str, Any]:
    """Queue a text to every member of a group in their language (idempotent on `id`)."""
    with db.session() as s:
        bid, members, queued = services.broadcast(s, actor, body.group, body.text, body.id,
                                                  _now(request))
    return {"id": bid, "members": members, "queued": queued}


@router.post("/messaging/announcements", status_code=201, response_model=QueuedCount,
             responses=REFUSALS)
def announce(body: AnnouncementCreate, request: Request, actor: Actor = Depends(require_actor),
             db: Database = Depends(get_db)) -> dict[str, int]:
    """Announce a session to the women leaders of its district and area (once per contact)."""
    with db.session() as s:
        return {"queued": announce_session(s, actor, body.facility, body.date, body.place_name,
                                           body.strategy, today(request), _now(request))}


@router.get("/messaging/outbox", response_model=list[OutboxRead], responses=REFUSALS)
def list_outbox(status: str | None = None, limit: int = Query(50, ge=1, le=1000),
                actor: Actor = Depends(require_actor), db: Database = Depends(get_db)
                ) -> list[dict[str, Any]]:
    """List the latest messages in scope, newest first (audited: phones and texts)."""
    if status is not None and status not in STATUSES:
        raise invalid("status", "status_unknown", "Statut inconnu : {s} ; valides : {v}",
                      "Unknown status: {s}; valid: {v}", s=status, v=", ".join(STATUSES))
    with db.session() as s:
        return queries.list_outbox(s, actor, status, limit)


@router.get("/messaging/outbox/counts", response_model=dict[str, dict[str, int]],
            responses=REFUSALS)
def outbox_counts(actor: Actor = Depends(require_actor), db: Database = Depends(get_db)
                  ) -> dict[str, dict[str, int]]:
    """Count messages in scope by status and channel."""
    with db.session(write=False) as s:
        return queries.outbox_counts(s, actor)


class BadSignature(DomainError):
    """The webhook signature does not match (HTTP 403)."""

    status = 403


@router.get("/whatsapp/webhook", response_class=PlainTextResponse,
            responses={403: {"description": "Wrong verify token", **PROBLEM}})
def whatsapp_verify(request: Request) -> PlainTextResponse:
    """Answer Meta's subscription handshake (hub.mode, hub.verify_token, hub.challenge)."""
    q = request.query_params
    expected = WhatsAppSettings().verify_token
    if q.get("hub.mode") != "subscribe" or not expected or \
            q.get("hub.verify_token") != expected:
        raise BadSignature("verify_token_invalid", Message(
            "Jeton de vérification invalide", "Invalid verify token"))
    return PlainTextResponse(q.get("hub.challenge", ""))


@router.post("/whatsapp/webhook", responses={
    401: {"description": "Signature missing", **PROBLEM},
    403: {"description": "Signature does not match", **PROBLEM}})
async def whatsapp_webhook(request: Request, db: Database = Depends(get_db)) -> dict[str, Any]:
    """Receive WhatsApp status and message webhooks signed with X-Hub-Signature-256."""
    raw = await request.body()
    header = request.headers.get("x-hub-signature-256")
    if not header:
        raise Unauthorized("signature_missing", Message(
            "En-tête X-Hub-Signature-256 manquant", "Missing X-Hub-Signature-256 header"))
    if not signature_ok(WhatsAppSettings().app_secret, raw, header):
        raise BadSignature("signature_invalid", Message(
            "Signature du webhook invalide", "Invalid webhook signature"))
    with db.session() as s:
        counts = services.whatsapp_webhook(s, raw, _now(request))
    return {"ok": True, **counts}
