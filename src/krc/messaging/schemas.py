"""Pydantic models of the messaging API, in families (Create / Read)."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel, ConfigDict, Field


class ContactCreate(BaseModel):
    """A contact to create; the kind + phone pair makes retries idempotent."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    kind: str = Field(description="caregiver, health_worker or women_leader")
    name: str = Field(min_length=1, max_length=200)
    phone: str = Field(min_length=1, max_length=30, description="Mali number, +223 implied")
    org_unit: str | None = Field(default=None, description="org unit code (caregiver: "
                                                           "defaults to the child's facility)")
    language: str = Field(default="fra", description="fra, bam or eng")
    whatsapp: bool = False
    child: uuid.UUID | None = Field(default=None, description="caregiver's child (register id)")
    consent: bool = False
    rapidpro_uuid: str | None = Field(default=None, max_length=36)


class OrgUnitRef(BaseModel):
    """An org unit by code and name."""

    code: str
    name: str


class ContactRead(BaseModel):
    """A contact as the API returns it."""

    id: int
    kind: str
    name: str
    phone: str
    language: str
    whatsapp: bool
    org_unit: OrgUnitRef | None
    consent: bool
    opted_out: bool
    opted_out_at: dt.datetime | None


class GroupCreate(BaseModel):
    """A group to create (idempotent on code)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    code: str = Field(min_length=1, max_length=60)
    name: str = Field(min_length=1, max_length=200)
    org_unit: str = Field(description="org unit code (a district for the women leaders)")
    kind: str = Field(default="women_leaders",
                      description="women_leaders, health_workers or other")


class GroupRead(BaseModel):
    """A group with its member count."""

    id: int
    code: str
    name: str
    kind: str
    org_unit: OrgUnitRef | None
    members: int


class MembersAdd(BaseModel):
    """Contacts to add to a group."""

    model_config = ConfigDict(extra="forbid")

    contacts: list[int] = Field(min_length=1, max_length=5000)


class TemplateRead(BaseModel):
    """A message template in one language."""

    key: str
    language: str
    text: str
    wa_name: str | None
    wa_language: str | None
    wa_params: list[str]


class TemplateUpdate(BaseModel):
    """A template's new text and WhatsApp naming."""

    model_config = ConfigDict(extra="forbid")

    text: str = Field(min_length=1, max_length=1000)
    wa_name: str | None = Field(default=None, max_length=100)
    wa_language: str | None = Field(default=None, max_length=10)
    wa_params: list[str] = Field(default_factory=list)


class BroadcastCreate(BaseModel):
    """A free text to send to a group; `id` (client UUID) makes retries idempotent."""

    model_config = ConfigDict(extra="forbid")

    id: uuid.UUID | None = None
    group: int
    text: dict[str, str] = Field(description='texts by language, "fra" required: '
                                             '{"fra": "...", "bam": "..."}')


class BroadcastRead(BaseModel):
    """The outcome of a broadcast."""

    id: uuid.UUID
    members: int
    queued: int


class AnnouncementCreate(BaseModel):
    """An outreach session to announce now to the women leaders of its district."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    facility: str = Field(description="org unit code of the health area (CSCom)")
    date: dt.date
    place_name: str | None = Field(default=None, max_length=200)
    strategy: str = Field(default="outreach", description="fixed, outreach, mobile, campaign")


class OutboxRead(BaseModel):
    """One outbox message."""

    id: int
    producer: str
    channel: str
    phone: str
    language: str
    template_key: str | None
    text: str
    status: str
    attempts: int
    last_error: str | None
    provider_id: str | None
    created_at: dt.datetime
    sent_at: dt.datetime | None


class QueuedCount(BaseModel):
    """How many messages were queued."""

    queued: int
