"""Tables of messaging: contacts, groups, templates, the outbox and raw inbound payloads.

Caregivers are not copied from the register: a reminder reads `child.caregiver_phone` when it
is queued. A caregiver gets a `msg_contact` row only when something must be remembered about
that phone (an opt-out, consent, a language other than French, WhatsApp). Opt-outs are by
phone: a phone with any opted-out contact row receives nothing (see services.opted_out_phones).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from krc.db import Base

CONTACT_KINDS = ("caregiver", "health_worker", "women_leader")
LANGUAGES = ("fra", "bam", "eng")  # ISO 639-3 as RapidPro uses (reference/interop.md §2)
CHANNELS = ("log", "rapidpro", "whatsapp")
# `unknown`: the claim was persisted but the outcome never recorded (crash between the
# provider call and the write); such messages are never resent automatically.
STATUSES = ("queued", "sending", "sent", "delivered", "read", "failed", "cancelled", "unknown")


class Contact(Base):
    """A person messages are sent to; caregivers only when something is known about them."""

    __tablename__ = "msg_contact"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str] = mapped_column(String(16), index=True)  # E.164, +223…
    whatsapp: Mapped[bool] = mapped_column(Boolean, default=False)
    language: Mapped[str] = mapped_column(String(3), default="fra")
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    child_pk: Mapped[int | None] = mapped_column(ForeignKey("child.pk"))
    consent: Mapped[bool] = mapped_column(Boolean, default=False)
    consent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    opted_out: Mapped[bool] = mapped_column(Boolean, default=False)
    opted_out_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    rapidpro_uuid: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("kind", "phone", name="uq_msg_contact_kind_phone"),)


class Group(Base):
    """A named group of contacts, e.g. the women leaders' network of a district."""

    __tablename__ = "msg_group"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    code: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(20), default="other")  # women_leaders | other
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), index=True)
    rapidpro_uuid: Mapped[str | None] = mapped_column(String(36))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class GroupMember(Base):
    """A contact's membership of a group."""

    __tablename__ = "msg_group_member"

    group_id: Mapped[int] = mapped_column(ForeignKey("msg_group.id", ondelete="CASCADE"),
                                          primary_key=True)
    contact_id: Mapped[int] = mapped_column(ForeignKey("msg_contact.id", ondelete="CASCADE"),
                                            primary_key=True, index=True)


class Template(Base):
    """A message text for a key in one language, with its approved WhatsApp template."""

    __tablename__ = "msg_template"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(3))
    text: Mapped[str] = mapped_column(Text)  # str.format named placeholders: {child}, {date}
    wa_name: Mapped[str | None] = mapped_column(String(100))
    wa_language: Mapped[str | None] = mapped_column(String(10))
    wa_params: Mapped[list[str]] = mapped_column(JSON, default=list)  # placeholder order
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (UniqueConstraint("key", "language", name="uq_msg_template_key_language"),)


class Outbox(Base):
    """One message to send to one recipient; `dedupe_key` makes every producer idempotent.

    No foreign keys on org_unit_id / child_pk / contact_id: rows are bulk-inserted by the
    reminder producers (tens of thousands at a time) and must survive a contact's removal.
    """

    __tablename__ = "msg_outbox"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(160), unique=True)
    producer: Mapped[str] = mapped_column(String(20))  # due, missed, session, stock, alarm…
    channel: Mapped[str] = mapped_column(String(10))
    phone: Mapped[str] = mapped_column(String(16))
    language: Mapped[str] = mapped_column(String(3))
    template_key: Mapped[str | None] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    org_unit_id: Mapped[int] = mapped_column(Integer, index=True)
    contact_id: Mapped[int | None] = mapped_column(Integer)
    child_pk: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(10), default="queued")
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(String(500))
    provider_id: Mapped[str | None] = mapped_column(String(120), index=True)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    claimed_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))

    __table_args__ = (Index("ix_msg_outbox_status_next", "status", "next_attempt_at"),)


class Inbound(Base):
    """A raw inbound payload (WhatsApp status webhook…), kept before and whatever parsing."""

    __tablename__ = "msg_inbound"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    source: Mapped[str] = mapped_column(String(20))
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    body: Mapped[str] = mapped_column(Text)
    processed: Mapped[bool] = mapped_column(Boolean, default=False)
    error: Mapped[str | None] = mapped_column(String(500))


class LogDelivery(Base):
    """A message 'sent' through the log channel (demo and dry runs): it always succeeds."""

    __tablename__ = "msg_log_delivery"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    outbox_id: Mapped[int] = mapped_column(Integer, index=True)
    phone: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
