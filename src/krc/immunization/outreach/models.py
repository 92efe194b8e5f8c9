"""Tables of outreach (migration 0008): sessions, their target villages, and the index that
finds the doses recorded at a session.

A dose links to its session through the existing text column `vaccination.session`, which
holds the session's UUID (validated by `outreach.services.session_for_dose`); the partial
index below, declared here so that it belongs to this capability's migration, makes a
session's doses one index read.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from krc.db import Base
from krc.immunization.models import Vaccination


class OutreachSession(Base):
    """A vaccination session of a health area (reference/immunization.md §3).

    `id` is the public UUID (client-supplied for idempotent creates); `district_id` is the
    health district of the facility, kept for district-keyed reads (and sharding).
    """

    __tablename__ = "outreach_session"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    facility_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    district_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    session_date: Mapped[date] = mapped_column(Date)
    strategy: Mapped[str] = mapped_column(String(10))
    place_type: Mapped[str | None] = mapped_column(String(20))
    place_name: Mapped[str | None] = mapped_column(String(200))
    latitude: Mapped[float | None] = mapped_column(Float)
    longitude: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(10), default="planned")
    notes: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))

    __table_args__ = (
        Index("ix_outreach_session_facility_date", "facility_id", "session_date"),
        Index("ix_outreach_session_district_date", "district_id", "session_date"),
        Index("ix_outreach_session_date_status", "session_date", "status"),
    )


class OutreachSessionVillage(Base):
    """A village a session targets (villages of the session's health area)."""

    __tablename__ = "outreach_session_village"

    session_pk: Mapped[int] = mapped_column(
        ForeignKey("outreach_session.pk", ondelete="CASCADE"), primary_key=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"), primary_key=True)


# Doses of a session: most doses have no session, so the index is partial.
VACCINATION_SESSION_INDEX = Index(
    "ix_vaccination_session", Vaccination.session,
    sqlite_where=text("session IS NOT NULL"), postgresql_where=text("session IS NOT NULL"))
