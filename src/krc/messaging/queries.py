"""Reads of messaging, always through the caller's org-unit scope.

Phones and message texts are personal data: contact lists and the outbox need a role that
reads personal records (or manages messaging); reads of caregiver lists and of the outbox
are audited.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from krc.accounts.roles import MESSAGING_MANAGE, PERSONAL_READ, Actor
from krc.accounts.services import audit
from krc.errors import Forbidden, Message
from krc.geo.models import OrgUnit
from krc.messaging.models import Contact, Group, GroupMember, Outbox, Template
from krc.messaging.services import template_texts


def _reader(actor: Actor, personal: bool = False) -> None:
    allowed = PERSONAL_READ if personal else PERSONAL_READ | MESSAGING_MANAGE
    if actor.role not in allowed:
        raise Forbidden("role_forbidden", Message(
            "Votre rôle ({role}) ne donne pas accès aux contacts et messages",
            "Your role ({role}) gives no access to contacts and messages",
            {"role": actor.role}))


def _subtree(actor: Actor) -> Any:
    return or_(OrgUnit.path == actor.path, OrgUnit.path.startswith(actor.path + "/"))


def _ref(unit: OrgUnit | None) -> dict[str, str] | None:
    return {"code": unit.code, "name": unit.name} if unit else None


def contact_dict(c: Contact, unit: OrgUnit | None) -> dict[str, Any]:
    """Return the API shape of a contact."""
    return {"id": c.id, "kind": c.kind, "name": c.name, "phone": c.phone,
            "language": c.language, "whatsapp": c.whatsapp, "org_unit": _ref(unit),
            "consent": c.consent, "opted_out": c.opted_out, "opted_out_at": c.opted_out_at}


def list_contacts(session: Session, actor: Actor, kind: str | None = None,
                  org_unit_path: str | None = None, limit: int = 200) -> list[dict[str, Any]]:
    """Return the contacts in scope (caregivers only for personal-data roles; audited)."""
    _reader(actor, personal=kind == "caregiver")
    q = select(Contact, OrgUnit).join(OrgUnit, OrgUnit.id == Contact.org_unit_id).where(
        _subtree(actor))
    if org_unit_path:
        q = q.where(or_(OrgUnit.path == org_unit_path,
                        OrgUnit.path.startswith(org_unit_path + "/")))
    if kind:
        q = q.where(Contact.kind == kind)
    elif actor.role not in PERSONAL_READ:
        q = q.where(Contact.kind != "caregiver")
    rows = session.execute(q.order_by(Contact.name, Contact.id).limit(limit)).all()
    if any(c.kind == "caregiver" for c, _ in rows):
        audit(session, actor, "read", "msg_contact_list", kind or "all",
              {"contacts": len(rows)})
    return [contact_dict(c, u) for c, u in rows]


def list_groups(session: Session, actor: Actor) -> list[dict[str, Any]]:
    """Return the groups in scope with their member counts, by name."""
    _reader(actor)
    counts = select(GroupMember.group_id, func.count().label("n")).group_by(
        GroupMember.group_id).subquery()
    rows = session.execute(
        select(Group, OrgUnit, func.coalesce(counts.c.n, 0))
        .join(OrgUnit, OrgUnit.id == Group.org_unit_id)
        .outerjoin(counts, counts.c.group_id == Group.id)
        .where(_subtree(actor)).order_by(Group.name)).all()
    return [{"id": g.id, "code": g.code, "name": g.name, "kind": g.kind, "org_unit": _ref(u),
             "members": int(n)} for g, u, n in rows]


def group_members(session: Session, actor: Actor, group_id: int) -> list[dict[str, Any]]:
    """Return the members of a group in scope (404 outside)."""
    from krc.messaging.services import group_for
    _reader(actor)
    group = group_for(session, actor, group_id)
    rows = session.execute(
        select(Contact, OrgUnit).join(GroupMember, GroupMember.contact_id == Contact.id)
        .join(OrgUnit, OrgUnit.id == Contact.org_unit_id)
        .where(GroupMember.group_id == group.id).order_by(Contact.name)).all()
    return [contact_dict(c, u) for c, u in rows]


def list_templates(session: Session) -> list[dict[str, Any]]:
    """Return every template (stored edits over shipped defaults), by key and language."""
    stored = {(t.key, t.language) for t in session.scalars(select(Template))}
    out = []
    for (key, language), t in sorted(template_texts(session).items()):
        out.append({"key": key, "language": language, "text": t.text, "wa_name": t.wa_name,
                    "wa_language": t.wa_language, "wa_params": list(t.wa_params),
                    "stored": (key, language) in stored})
    return out


def outbox_dict(m: Outbox) -> dict[str, Any]:
    """Return the API shape of an outbox message."""
    return {"id": m.id, "producer": m.producer, "channel": m.channel, "phone": m.phone,
            "language": m.language, "template_key": m.template_key, "text": m.text,
            "status": m.status, "attempts": m.attempts, "last_error": m.last_error,
            "provider_id": m.provider_id, "created_at": m.created_at, "sent_at": m.sent_at}


def list_outbox(session: Session, actor: Actor, status: str | None = None, limit: int = 50,
                audit_read: bool = True) -> list[dict[str, Any]]:
    """Return the latest outbox messages in scope, newest first (the read is audited)."""
    _reader(actor)
    q = select(Outbox).join(OrgUnit, OrgUnit.id == Outbox.org_unit_id).where(_subtree(actor))
    if status:
        q = q.where(Outbox.status == status)
    rows = list(session.scalars(q.order_by(Outbox.id.desc()).limit(limit)))
    if audit_read:
        audit(session, actor, "read", "msg_outbox", status or "all", {"messages": len(rows)})
    return [outbox_dict(m) for m in rows]


def outbox_counts(session: Session, actor: Actor) -> dict[str, dict[str, int]]:
    """Return {status: {channel: count}} of the outbox in the actor's scope."""
    _reader(actor)
    q = select(Outbox.status, Outbox.channel, func.count()).group_by(
        Outbox.status, Outbox.channel)
    if actor.path.count("/") > 1:
        q = q.join(OrgUnit, OrgUnit.id == Outbox.org_unit_id).where(_subtree(actor))
    out: dict[str, dict[str, int]] = {}
    for status, channel, n in session.execute(q):
        out.setdefault(status, {})[channel] = int(n)
    return out
