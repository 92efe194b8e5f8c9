"""Every write of messaging: contacts, groups, templates, queueing, sending, webhooks.

The API, the pages, the CLI, the producers and the demo call these functions. Queueing is
idempotent through `msg_outbox.dedupe_key` (INSERT … ON CONFLICT DO NOTHING). Sending is
at-most-once: a message is claimed (status `sending`, committed) before the provider is
called; a claim whose outcome was never recorded (crash, kill) is marked `unknown` for review
and never resent automatically (`requeue` is an explicit operator decision).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from krc.accounts.roles import MESSAGING_MANAGE, PERSONAL_WRITE, Actor, require_in_scope
from krc.accounts.services import audit
from krc.db import Database, is_postgres
from krc.errors import Conflict, DomainError, Forbidden, Message, NotFound, invalid
from krc.geo.models import OrgUnit
from krc.geo.queries import Unit, unit_for_field
from krc.identifiers import normalise_phone
from krc.immunization.models import Child
from krc.messaging import rules
from krc.messaging.channels import Adapter, OutMessage, SendResult
from krc.messaging.defaults import DEFAULT_TEMPLATES
from krc.messaging.models import (
    CONTACT_KINDS,
    LANGUAGES,
    Contact,
    Group,
    GroupMember,
    Inbound,
    Outbox,
    Template,
)
from krc.messaging.settings import MessagingSettings, RapidProSettings, WhatsAppSettings

STOP_WORDS = frozenset({"STOP", "ARRET", "ARRÊT", "ARRETER", "DABILA"})
_LANG_ALIASES = {"fr": "fra", "fra": "fra", "bm": "bam", "bam": "bam", "en": "eng", "eng": "eng"}


def _rowcount(result: Any) -> int:
    """Return the rows an UPDATE changed."""
    return int(cast(CursorResult[Any], result).rowcount or 0)


def language_code(text: str | None, default: str = "fra") -> str:
    """Return the ISO 639-3 code (fra, bam, eng) of fr/bm/en or 639-3 input, else default."""
    return _LANG_ALIASES.get((text or "").strip().lower(), default)


def manage_or_personal_write(actor: Actor) -> None:
    """Raise 403 unless the role manages messaging or writes personal records (opt-outs)."""
    if actor.role not in MESSAGING_MANAGE | PERSONAL_WRITE:
        manage(actor)


def manage(actor: Actor) -> None:
    """Raise 403 unless the role may manage messaging."""
    _manage(actor)


def _manage(actor: Actor) -> None:
    if actor.role not in MESSAGING_MANAGE:
        raise Forbidden("role_forbidden", Message(
            "Votre rôle ({role}) ne permet pas de gérer la messagerie",
            "Your role ({role}) may not manage messaging", {"role": actor.role}))


def _in_scope(actor: Actor, unit: Unit, field_name: str) -> None:
    require_in_scope(actor, unit.path, unit.name, field_name)


# --------------------------------------------------------------------------- contacts

@dataclass(frozen=True)
class ContactInput:
    """A contact to create (the API's ContactCreate, the CLI's CSV rows, the demo)."""

    kind: str
    name: str
    phone: str
    org_unit: str | None = None  # org unit code; a caregiver defaults to the child's facility
    language: str = "fra"
    whatsapp: bool = False
    child: uuid.UUID | None = None
    consent: bool = False
    rapidpro_uuid: str | None = None


def create_contact(session: Session, actor: Actor, data: ContactInput, now: datetime
                   ) -> tuple[Contact, bool]:
    """Create a contact (idempotent on kind + phone) and return (contact, created)."""
    if data.kind not in CONTACT_KINDS:
        raise invalid("kind", "kind_unknown", "Type de contact inconnu : {k} ; valides : {v}",
                      "Unknown contact kind: {k}; valid: {v}", k=data.kind,
                      v=", ".join(CONTACT_KINDS))
    if data.kind == "caregiver":
        if actor.role not in MESSAGING_MANAGE | PERSONAL_WRITE:
            _manage(actor)
    else:
        _manage(actor)
    if data.language not in LANGUAGES:
        raise invalid("language", "language_unknown", "Langue inconnue : {l} ; valides : {v}",
                      "Unknown language: {l}; valid: {v}", l=data.language,
                      v=", ".join(LANGUAGES))
    name = (data.name or "").strip()
    if not name or len(name) > 200:
        raise invalid("name", "name_invalid", "Nom obligatoire (200 caractères au plus)",
                      "Name required (at most 200 characters)")
    phone = normalise_phone(data.phone, "phone")
    child_pk: int | None = None
    unit: Unit | None = None
    if data.child is not None:
        from krc.immunization.queries import child_for_read
        child = child_for_read(session, actor, data.child)
        child_pk = child.pk
        unit = session.get(OrgUnit, child.facility_id)
    if data.org_unit:
        unit = unit_for_field(session, data.org_unit, "org_unit")
    if unit is None:
        raise invalid("org_unit", "org_unit_required", "Unité d'organisation obligatoire",
                      "Org unit required")
    _in_scope(actor, unit, "org_unit")
    existing = session.scalar(select(Contact).where(Contact.kind == data.kind,
                                                    Contact.phone == phone))
    if existing is not None:
        owner = session.get(OrgUnit, existing.org_unit_id)
        if owner is None or not actor.covers(owner.path):
            raise Conflict("phone_taken", Message(
                "Ce numéro est déjà enregistré pour ce type de contact",
                "This number is already recorded for this kind of contact"), field="phone")
        return existing, False
    contact = Contact(kind=data.kind, name=name, phone=phone, whatsapp=data.whatsapp,
                      language=data.language, org_unit_id=unit.id, child_pk=child_pk,
                      consent=data.consent, consent_at=now if data.consent else None,
                      opted_out=False, rapidpro_uuid=data.rapidpro_uuid, created_at=now,
                      updated_at=now)
    session.add(contact)
    session.flush()
    audit(session, actor, "create", "msg_contact", str(contact.id),
          {"kind": data.kind, "org_unit": unit.code}, at=now)
    return contact, True


def contact_for(session: Session, actor: Actor, contact_id: int) -> Contact:
    """Return a contact in the actor's scope, or raise 404 (also when out of scope)."""
    contact = session.get(Contact, contact_id)
    unit = session.get(OrgUnit, contact.org_unit_id) if contact else None
    if contact is None or unit is None or not actor.covers(unit.path):
        raise NotFound("contact_not_found", Message("Contact introuvable", "Contact not found"))
    return contact


def opt_out(session: Session, actor: Actor | None, contact: Contact, now: datetime,
            source: str = "manual") -> int:
    """Opt a person out by phone: every contact row of the phone, and cancel what is queued.

    Returns the number of queued messages cancelled. Opted-out people never receive anything.
    """
    for row in session.scalars(select(Contact).where(Contact.phone == contact.phone)):
        if not row.opted_out:
            row.opted_out, row.opted_out_at, row.updated_at = True, now, now
    cancelled = _rowcount(session.execute(
        update(Outbox).where(Outbox.phone == contact.phone, Outbox.status == "queued")
        .values(status="cancelled", last_error="opted out", updated_at=now)))
    audit(session, actor, "opt_out", "msg_contact", str(contact.id),
          {"source": source, "cancelled": cancelled}, at=now)
    return int(cancelled or 0)


def opt_out_phone(session: Session, phone: str, now: datetime, source: str) -> int:
    """Opt out a phone that wrote STOP (creates a caregiver row when unknown); see opt_out."""
    contact = session.scalar(select(Contact).where(Contact.phone == phone).limit(1))
    if contact is None:
        facility_id = session.scalar(select(Child.facility_id)
                                     .where(Child.caregiver_phone == phone).limit(1))
        if facility_id is None:
            facility_id = session.scalar(select(OrgUnit.id).where(OrgUnit.level == 1).limit(1))
        if facility_id is None:
            return 0
        contact = Contact(kind="caregiver", name=phone, phone=phone, whatsapp=False,
                          language="fra", org_unit_id=facility_id, consent=False,
                          opted_out=False, created_at=now, updated_at=now)
        session.add(contact)
        session.flush()
    return opt_out(session, None, contact, now, source)


def opted_out_phones(session: Session) -> set[str]:
    """Return every phone with an opted-out contact row (they receive nothing)."""
    return set(session.scalars(select(Contact.phone).where(Contact.opted_out.is_(True))))


# --------------------------------------------------------------------------- groups

def create_group(session: Session, actor: Actor, code: str, name: str, org_unit: str,
                 kind: str, now: datetime) -> tuple[Group, bool]:
    """Create a group (idempotent on code) and return (group, created)."""
    _manage(actor)
    code = (code or "").strip()
    if not code or len(code) > 60:
        raise invalid("code", "code_invalid", "Code obligatoire (60 caractères au plus)",
                      "Code required (at most 60 characters)")
    if not (name or "").strip():
        raise invalid("name", "name_invalid", "Nom obligatoire", "Name required")
    if kind not in ("women_leaders", "health_workers", "other"):
        raise invalid("kind", "group_kind_unknown",
                      "Type de groupe inconnu : {k} (women_leaders, health_workers, other)",
                      "Unknown group kind: {k} (women_leaders, health_workers, other)", k=kind)
    unit = unit_for_field(session, org_unit, "org_unit")
    _in_scope(actor, unit, "org_unit")
    existing = session.scalar(select(Group).where(Group.code == code))
    if existing is not None:
        owner = session.get(OrgUnit, existing.org_unit_id)
        if owner is None or not actor.covers(owner.path):
            raise Conflict("code_taken", Message("Ce code de groupe est déjà utilisé",
                                                 "This group code is already used"),
                           field="code")
        return existing, False
    group = Group(code=code, name=name.strip(), kind=kind, org_unit_id=unit.id, created_at=now)
    session.add(group)
    session.flush()
    audit(session, actor, "create", "msg_group", str(group.id), {"code": code}, at=now)
    return group, True


def group_for(session: Session, actor: Actor, group_id: int) -> Group:
    """Return a group in the actor's scope, or raise 404 (also when out of scope)."""
    group = session.get(Group, group_id)
    unit = session.get(OrgUnit, group.org_unit_id) if group else None
    if group is None or unit is None or not actor.covers(unit.path):
        raise NotFound("group_not_found", Message("Groupe introuvable", "Group not found"))
    return group


def add_members(session: Session, actor: Actor, group_id: int, contact_ids: Sequence[int],
                now: datetime) -> int:
    """Add contacts (in scope) to a group; return how many were new members (idempotent)."""
    _manage(actor)
    group = group_for(session, actor, group_id)
    have = set(session.scalars(select(GroupMember.contact_id)
                               .where(GroupMember.group_id == group.id)))
    added = 0
    for cid in dict.fromkeys(contact_ids):
        try:
            contact_for(session, actor, cid)
        except NotFound:
            raise invalid("contacts", "contact_not_found", "Contact introuvable : {id}",
                          "Contact not found: {id}", id=cid) from None
        if cid not in have:
            session.add(GroupMember(group_id=group.id, contact_id=cid))
            added += 1
    session.flush()
    audit(session, actor, "update", "msg_group", str(group.id), {"added": added}, at=now)
    return added


# --------------------------------------------------------------------------- templates

def ensure_default_templates(session: Session, now: datetime) -> int:
    """Insert the shipped templates that are missing (never overwrites edits); return count."""
    have = {(k, lang) for k, lang in session.execute(select(Template.key, Template.language))}
    added = 0
    for t in DEFAULT_TEMPLATES:
        if (t.key, t.language) in have:
            continue
        session.add(Template(key=t.key, language=t.language, text=t.text, wa_name=t.wa_name,
                             wa_language=t.wa_language, wa_params=list(t.wa_params),
                             updated_at=now))
        added += 1
    session.flush()
    return added


def set_template(session: Session, actor: Actor, key: str, language: str, text: str,
                 wa_name: str | None, wa_language: str | None, wa_params: Sequence[str],
                 now: datetime) -> Template:
    """Create or change the template of a key in one language (national managers only)."""
    _manage(actor)
    if actor.path.count("/") > 1:
        raise Forbidden("national_only", Message(
            "Seul le niveau national peut modifier les modèles de messages",
            "Only the national level may change message templates"))
    if key not in rules.PLACEHOLDERS or key == "broadcast":
        raise invalid("key", "template_key_unknown", "Modèle inconnu : {k} ; valides : {v}",
                      "Unknown template: {k}; valid: {v}", k=key,
                      v=", ".join(k for k in rules.PLACEHOLDERS if k != "broadcast"))
    if language not in LANGUAGES:
        raise invalid("language", "language_unknown", "Langue inconnue : {l}",
                      "Unknown language: {l}", l=language)
    try:
        rules.check_template(key, text)
        if not text.strip():
            raise rules.TemplateError("empty text")
    except rules.TemplateError as exc:
        raise invalid("text", "template_invalid", "Modèle invalide : {e}",
                      "Invalid template: {e}", e=str(exc)) from None
    bad = [p for p in wa_params if p not in rules.PLACEHOLDERS[key]]
    if bad:
        raise invalid("wa_params", "template_invalid", "Paramètres inconnus : {e}",
                      "Unknown parameters: {e}", e=", ".join(bad))
    row = session.scalar(select(Template).where(Template.key == key,
                                                Template.language == language))
    before = {"text": row.text} if row else None
    if row is None:
        row = Template(key=key, language=language, text=text, updated_at=now)
        session.add(row)
    row.text, row.wa_name, row.wa_language = text, wa_name or None, wa_language or None
    row.wa_params, row.updated_at = list(wa_params), now
    session.flush()
    audit(session, actor, "update", "msg_template", f"{key}:{language}",
          {"before": before, "after": {"text": text}}, at=now)
    return row


@dataclass(frozen=True)
class TemplateText:
    """A template's text and WhatsApp naming, detached from the session."""

    text: str
    wa_name: str | None
    wa_language: str | None
    wa_params: tuple[str, ...]


def template_texts(session: Session) -> dict[tuple[str, str], TemplateText]:
    """Return every template by (key, language), shipped defaults filling any gap."""
    out = {(t.key, t.language): TemplateText(t.text, t.wa_name, t.wa_language, t.wa_params)
           for t in DEFAULT_TEMPLATES}
    for t in session.scalars(select(Template)):
        out[(t.key, t.language)] = TemplateText(t.text, t.wa_name, t.wa_language,
                                                tuple(t.wa_params or ()))
    return out


# --------------------------------------------------------------------------- queueing

@dataclass
class QueueItem:
    """One message a producer wants queued; `text` overrides the template (broadcasts)."""

    dedupe_key: str
    producer: str
    phone: str
    language: str
    template_key: str | None
    params: dict[str, str]
    org_unit_id: int
    contact_id: int | None = None
    child_pk: int | None = None
    whatsapp: bool = False
    text: str | None = None


def configured_channels() -> frozenset[str]:
    """Return the channels configured in the environment (log is always available)."""
    out = {"log"}
    if RapidProSettings().configured:
        out.add("rapidpro")
    if WhatsAppSettings().configured:
        out.add("whatsapp")
    return frozenset(out)


def default_channel(settings: MessagingSettings, configured: frozenset[str]) -> str:
    """Return the SMS-like channel: the configured setting, else RapidPro when set, else log."""
    if settings.channel:
        return settings.channel
    return "rapidpro" if "rapidpro" in configured else "log"


@dataclass
class Renderer:
    """Turns QueueItems into outbox rows: language fallback, channel choice, rendering."""

    templates: dict[tuple[str, str], TemplateText]
    configured: frozenset[str]
    default: str
    now: datetime
    skip_phones: set[str] = field(default_factory=set)

    def row(self, item: QueueItem) -> dict[str, Any] | None:
        """Return the outbox row of an item, or None when the phone is opted out."""
        if item.phone in self.skip_phones:
            return None
        language = item.language if item.language in LANGUAGES else "fra"
        params: dict[str, Any] = dict(item.params)
        if item.text is not None:
            text, channel = item.text, self.default
        else:
            key = item.template_key or ""
            tpl = self.templates.get((key, language))
            if tpl is None:
                language = "fra"
                tpl = self.templates[(key, "fra")]
            text = rules.render(tpl.text, item.params)
            channel = rules.choose_channel(item.whatsapp, bool(tpl.wa_name), self.configured,
                                           self.default)
            if channel == "whatsapp":
                params["_wa"] = {"name": tpl.wa_name, "language": tpl.wa_language,
                                 "parameters": [item.params.get(p, "") for p in tpl.wa_params]}
        return {"dedupe_key": item.dedupe_key, "producer": item.producer, "channel": channel,
                "phone": item.phone, "language": language, "template_key": item.template_key,
                "text": text, "params": params, "org_unit_id": item.org_unit_id,
                "contact_id": item.contact_id, "child_pk": item.child_pk, "status": "queued",
                "attempts": 0, "next_attempt_at": self.now, "created_at": self.now,
                "updated_at": self.now}


def renderer(session: Session, settings: MessagingSettings, now: datetime) -> Renderer:
    """Return a Renderer with the templates, channels and opted-out phones in force."""
    configured = configured_channels()
    return Renderer(template_texts(session), configured, default_channel(settings, configured),
                    now, opted_out_phones(session))


COPY_THRESHOLD = 500
_COPY_COLUMNS = ("dedupe_key", "producer", "channel", "phone", "language", "template_key",
                 "text", "params", "org_unit_id", "contact_id", "child_pk", "status",
                 "attempts", "next_attempt_at", "created_at", "updated_at")


def _copy_rows(session: Session, rows: Sequence[dict[str, Any]]) -> int:
    """PostgreSQL bulk path: COPY into a temporary table, then one INSERT … SELECT … ON
    CONFLICT DO NOTHING (an order of magnitude faster than multi-row INSERTs)."""
    cols = ", ".join(_COPY_COLUMNS)
    raw: Any = session.connection().connection.driver_connection
    with raw.cursor() as cur:
        cur.execute("CREATE TEMP TABLE IF NOT EXISTS msg_outbox_load ON COMMIT DROP AS "
                    f"SELECT {cols} FROM msg_outbox WITH NO DATA")
        cur.execute("TRUNCATE msg_outbox_load")
        with cur.copy(f"COPY msg_outbox_load ({cols}) FROM STDIN") as copy:
            for r in rows:
                copy.write_row([json.dumps(r[c]) if c == "params" else r[c]
                                for c in _COPY_COLUMNS])
        cur.execute(f"INSERT INTO msg_outbox ({cols}) SELECT {cols} FROM msg_outbox_load "
                    "ON CONFLICT (dedupe_key) DO NOTHING")
        return int(cur.rowcount or 0)


def insert_rows(session: Session, rows: Sequence[dict[str, Any]], chunk: int = 5000) -> int:
    """Insert outbox rows, skipping dedupe keys already queued; return how many were new."""
    if not rows:
        return 0
    if is_postgres(session) and len(rows) >= COPY_THRESHOLD:
        return _copy_rows(session, rows)
    dialect_insert = postgresql.insert if is_postgres(session) else sqlite.insert
    table = cast(Table, Outbox.__table__)
    added = 0
    conn = session.connection()
    for start in range(0, len(rows), chunk):
        stmt = dialect_insert(table).on_conflict_do_nothing(index_elements=["dedupe_key"])
        added += len(conn.execute(stmt.returning(table.c.id), list(rows[start:start + chunk]))
                     .all())
    return added


def queue(session: Session, items: Iterable[QueueItem], settings: MessagingSettings,
          now: datetime, render_with: Renderer | None = None) -> int:
    """Queue messages (opted-out phones skipped, replays ignored); return how many are new."""
    r = render_with or renderer(session, settings, now)
    rows = [row for row in (r.row(i) for i in items) if row is not None]
    return insert_rows(session, rows)


def broadcast(session: Session, actor: Actor, group_id: int, texts: Mapping[str, str],
              broadcast_id: uuid.UUID | None, now: datetime,
              settings: MessagingSettings | None = None) -> tuple[uuid.UUID, int, int]:
    """Queue a free text to every member of a group in their language (fra as fallback).

    Idempotent on `broadcast_id` (client UUID): a replay queues nothing new. Returns
    (broadcast id, members, newly queued).
    """
    _manage(actor)
    group = group_for(session, actor, group_id)
    clean = {k: v.strip() for k, v in texts.items() if v and v.strip()}
    unknown = set(clean) - set(LANGUAGES)
    if unknown:
        raise invalid("text", "language_unknown", "Langue inconnue : {l}",
                      "Unknown language: {l}", l=", ".join(sorted(unknown)))
    if "fra" not in clean:
        raise invalid("text.fra", "text_required", "Le texte en français est obligatoire",
                      "The French text is required")
    if any(len(v) > 1000 for v in clean.values()):
        raise invalid("text", "text_too_long", "Texte trop long (1000 caractères au plus)",
                      "Text too long (at most 1000 characters)")
    bid = broadcast_id or uuid.uuid4()
    members = list(session.scalars(select(Contact).join(
        GroupMember, GroupMember.contact_id == Contact.id).where(GroupMember.group_id == group.id)
        .order_by(Contact.id)))
    items = [QueueItem(f"bc:{bid}:{c.id}", "broadcast", c.phone, c.language, None, {},
                       c.org_unit_id, c.id, text=clean.get(c.language, clean["fra"]))
             for c in members if not c.opted_out]
    added = queue(session, items, settings or MessagingSettings(), now)
    audit(session, actor, "broadcast", "msg_group", str(group.id),
          {"broadcast": str(bid), "members": len(members), "queued": added}, at=now)
    return bid, len(members), added


# --------------------------------------------------------------------------- sending

@dataclass
class SendReport:
    """Counts of one sender run by outcome."""

    claimed: int = 0
    sent: int = 0
    retry: int = 0
    failed: int = 0
    unknown: int = 0
    cancelled: int = 0
    recovered: int = 0
    by_channel: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        """Return the counts as a plain dict."""
        return {"claimed": self.claimed, "sent": self.sent, "retry": self.retry,
                "failed": self.failed, "unknown": self.unknown, "cancelled": self.cancelled,
                "recovered": self.recovered, "by_channel": dict(self.by_channel)}


def recover_stuck(db: Database, now: datetime, minutes: int) -> int:
    """Mark claims older than `minutes` whose outcome was never recorded as `unknown`.

    Such a message may or may not have reached the provider (crash between the call and the
    write): resending could duplicate it, so it waits for review (`requeue`) instead.
    """
    with db.session() as s:
        return _rowcount(s.execute(
            update(Outbox).where(Outbox.status == "sending",
                                 Outbox.claimed_at < now - timedelta(minutes=minutes))
            .values(status="unknown", updated_at=now,
                    last_error="interrupted between claim and result; not resent")))


def claim(db: Database, channels: Iterable[str], now: datetime, limit: int
          ) -> tuple[list[tuple[str, OutMessage, int]], int]:
    """Claim up to `limit` due messages of the channels in one committed transaction.

    Returns ([(channel, message, attempts)], cancelled): queued messages of opted-out phones
    are cancelled first. PostgreSQL: FOR UPDATE SKIP LOCKED lets senders run side by side;
    SQLite: the write transaction holds the database lock (BEGIN IMMEDIATE, krc.db).
    """
    with db.session() as s:
        cancelled = _rowcount(s.execute(
            update(Outbox).where(Outbox.status == "queued", Outbox.phone.in_(
                select(Contact.phone).where(Contact.opted_out.is_(True))))
            .values(status="cancelled", last_error="opted out", updated_at=now)))
        q = (select(Outbox.id).where(Outbox.status == "queued", Outbox.next_attempt_at <= now,
                                     Outbox.channel.in_(list(channels)))
             .order_by(Outbox.next_attempt_at, Outbox.id).limit(limit))
        if is_postgres(s):
            q = q.with_for_update(skip_locked=True)
        ids = list(s.scalars(q))
        if not ids:
            return [], int(cancelled)
        s.execute(update(Outbox).where(Outbox.id.in_(ids))
                  .values(status="sending", claimed_at=now, updated_at=now,
                          attempts=Outbox.attempts + 1))
        rows = s.execute(select(Outbox.id, Outbox.channel, Outbox.phone, Outbox.language,
                                Outbox.text, Outbox.params, Outbox.attempts)
                         .where(Outbox.id.in_(ids)).order_by(Outbox.id)).all()
    return [(r.channel, OutMessage(r.id, r.phone, r.language, r.text, dict(r.params or {})),
             int(r.attempts)) for r in rows], int(cancelled)


def record(db: Database, results: Sequence[SendResult], attempts: Mapping[int, int],
           now: datetime, settings: MessagingSettings) -> dict[str, int]:
    """Store the outcomes of one adapter call (only rows still `sending` change)."""
    counts = {"sent": 0, "retry": 0, "failed": 0}
    rows: list[dict[str, Any]] = []
    for r in results:
        n = attempts.get(r.id, 1)
        if r.ok:
            row = {"b_id": r.id, "b_status": "sent", "b_provider": r.provider_id,
                   "b_error": None, "b_next": now, "b_sent": now, "b_attempts": n}
            counts["sent"] += 1
        elif r.retry and (r.wait is not None or n < settings.max_attempts):
            # A 429 is the provider's pace, not the message's fault: it costs no attempt.
            wait = r.wait if r.wait is not None else rules.backoff(
                n, settings.backoff_seconds, settings.backoff_cap_seconds)
            row = {"b_id": r.id, "b_status": "queued", "b_provider": None,
                   "b_error": (r.error or "")[:500], "b_next": now + wait, "b_sent": None,
                   "b_attempts": n - 1 if r.wait is not None else n}
            counts["retry"] += 1
        else:
            reason = (r.error or "failed")
            if r.retry:
                reason = f"gave up after {n} attempts: {reason}"
            row = {"b_id": r.id, "b_status": "failed", "b_provider": None,
                   "b_error": reason[:500], "b_next": now, "b_sent": None, "b_attempts": n}
            counts["failed"] += 1
        rows.append(row)
    if rows:
        t = cast(Table, Outbox.__table__)
        stmt = (update(t).where(t.c.id == bindparam("b_id"), t.c.status == "sending")
                .values(status=bindparam("b_status"), provider_id=bindparam("b_provider"),
                        last_error=bindparam("b_error"), next_attempt_at=bindparam("b_next"),
                        sent_at=bindparam("b_sent"), attempts=bindparam("b_attempts"),
                        updated_at=now))
        with db.session() as s:
            s.connection().execute(stmt, rows)
    return counts


def _mark_unknown(db: Database, ids: Sequence[int], now: datetime, error: str) -> None:
    with db.session() as s:
        s.execute(update(Outbox).where(Outbox.id.in_(list(ids)), Outbox.status == "sending")
                  .values(status="unknown", last_error=error[:500], updated_at=now))


def send_pending(db: Database, adapters: Mapping[str, Adapter], now: datetime,
                 limit: int = 1000, settings: MessagingSettings | None = None,
                 sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic) -> SendReport:
    """Send up to `limit` due messages through the adapters and record each outcome.

    Claims are committed before any provider call; retries back off exponentially (5xx,
    network), a 429 waits its Retry-After; each channel is throttled to its configured
    messages per second; an adapter that raises leaves its messages `unknown` (never resent).
    """
    settings = settings or MessagingSettings()
    report = SendReport()
    report.recovered = recover_stuck(db, now, settings.stuck_minutes)
    claimed, report.cancelled = claim(db, adapters.keys(), now, limit)
    report.claimed = len(claimed)
    by_channel: dict[str, list[tuple[OutMessage, int]]] = {}
    for channel, msg, attempts in claimed:
        by_channel.setdefault(channel, []).append((msg, attempts))
    rates = {"log": settings.rate_log, "rapidpro": settings.rate_rapidpro,
             "whatsapp": settings.rate_whatsapp}
    for channel, items in by_channel.items():
        adapter = adapters[channel]
        rate = max(rates.get(channel, 10.0), 0.001)
        size = max(1, adapter.batch_size)
        for start in range(0, len(items), size):
            batch = items[start:start + size]
            msgs = [m for m, _ in batch]
            began = clock()
            try:
                results = adapter.send(msgs, now)
            except Exception as exc:  # noqa: BLE001 - outcome unknown: never resend blindly
                _mark_unknown(db, [m.id for m in msgs], now, f"adapter error: {exc}")
                report.unknown += len(msgs)
                continue
            counts = record(db, results, {m.id: a for m, a in batch}, now, settings)
            report.sent += counts["sent"]
            report.retry += counts["retry"]
            report.failed += counts["failed"]
            report.by_channel[channel] = report.by_channel.get(channel, 0) + counts["sent"]
            wait = len(msgs) / rate - (clock() - began)
            if wait > 0:
                sleep(wait)
    return report


def requeue(session: Session, actor: Actor, ids: Sequence[int], now: datetime) -> int:
    """Put `unknown` or `failed` messages back in the queue (an operator's decision)."""
    _manage(actor)
    rows = session.execute(select(Outbox, OrgUnit.path).outerjoin(
        OrgUnit, OrgUnit.id == Outbox.org_unit_id).where(Outbox.id.in_(list(ids)))).all()
    n = 0
    for row, path in rows:
        if path is None or not actor.covers(path) or row.status not in ("unknown", "failed"):
            continue
        row.status, row.next_attempt_at, row.updated_at = "queued", now, now
        row.attempts = 0
        n += 1
    audit(session, actor, "requeue", "msg_outbox", ",".join(str(i) for i in ids)[:64],
          {"requeued": n}, at=now)
    return n


# --------------------------------------------------------------------------- webhooks

def _ts(value: Any) -> datetime | None:
    try:
        return datetime.fromtimestamp(int(value), UTC)
    except (TypeError, ValueError, OverflowError):
        return None


def _dicts(value: Any) -> list[dict[str, Any]]:
    """Return the objects of a JSON list (anything else: none)."""
    return [v for v in value if isinstance(v, dict)] if isinstance(value, list) else []


def whatsapp_webhook(session: Session, raw: bytes, now: datetime) -> dict[str, int]:
    """Store a signed WhatsApp webhook payload and apply its statuses (idempotent, §3).

    Statuses update the message with that provider id (only forward: sent → delivered →
    read; failed before delivery); an inbound text STOP/ARRET opts the sender out. The raw
    body is kept even when it cannot be parsed.
    """
    inbound = Inbound(source="whatsapp", received_at=now, body=raw.decode("utf-8", "replace"),
                      processed=False)
    session.add(inbound)
    session.flush()
    counts = {"statuses": 0, "updated": 0, "unmatched": 0, "opt_outs": 0}
    try:
        payload = json.loads(raw)
        if not isinstance(payload, dict):
            raise TypeError("the body is not a JSON object")
    except (ValueError, TypeError) as exc:
        inbound.error = f"unparsable: {exc}"[:500]
        return counts
    # Malformed parts (not objects where Meta sends objects) are skipped, never a 500.
    values = [c.get("value") for e in _dicts(payload.get("entry"))
              for c in _dicts(e.get("changes"))]
    for value in values:
        if not isinstance(value, dict):
            continue
        for st in _dicts(value.get("statuses")):
            counts["statuses"] += 1
            msg = session.scalar(select(Outbox).where(Outbox.provider_id == str(st.get("id"))))
            if msg is None:
                counts["unmatched"] += 1
                continue
            new = rules.next_status(msg.status, str(st.get("status")))
            if new is None:
                continue
            at = _ts(st.get("timestamp")) or now
            msg.status, msg.updated_at = new, now
            if new == "delivered":
                msg.delivered_at = at
            elif new == "read":
                msg.read_at = at
                msg.delivered_at = msg.delivered_at or at
            elif new == "failed":
                errs = _dicts(st.get("errors")) or [{}]
                msg.last_error = str(errs[0].get("title") or errs[0].get("code") or
                                     "failed")[:500]
            counts["updated"] += 1
        for m in _dicts(value.get("messages")):
            text = m.get("text")
            body = str((text.get("body") if isinstance(text, dict) else None) or ""
                       ).strip().upper()
            if body in STOP_WORDS and m.get("from"):
                try:
                    phone = normalise_phone("+" + str(m["from"]).lstrip("+"), "from")
                except DomainError:
                    continue
                opt_out_phone(session, phone, now, "whatsapp")
                counts["opt_outs"] += 1
    inbound.processed = True
    return counts


def set_outbox_status(session: Session, provider_id: str, status: str, now: datetime) -> bool:
    """Apply a provider status report to a message by provider id; True when it changed."""
    msg = session.scalar(select(Outbox).where(Outbox.provider_id == provider_id))
    if msg is None:
        return False
    new = rules.next_status(msg.status, status)
    if new is None:
        return False
    msg.status, msg.updated_at = new, now
    if new in ("delivered", "read"):
        msg.delivered_at = msg.delivered_at or now
    if new == "read":
        msg.read_at = now
    return True
