"""Immunization tables: children, doses, and the pre-aggregated dose facts."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from krc.db import Base


class Child(Base):
    """A child in the register; `id` is the public UUID (client-supplied for idempotency)."""

    __tablename__ = "child"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    registry_number: Mapped[str | None] = mapped_column(String(12), unique=True)
    given_name: Mapped[str] = mapped_column(String(100))
    family_name: Mapped[str] = mapped_column(String(100))
    sex: Mapped[str] = mapped_column(String(1))
    birth_date: Mapped[date] = mapped_column(Date)
    caregiver_name: Mapped[str] = mapped_column(String(200))
    caregiver_phone: Mapped[str | None] = mapped_column(String(16), index=True)
    national_id: Mapped[str | None] = mapped_column(String(40))
    facility_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    village_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"))
    # Phonetic keys of the names (krc.matching.name_key) for tolerant search.
    family_key: Mapped[str] = mapped_column(String(100))
    given_key: Mapped[str] = mapped_column(String(100))
    # Denormalised dose dates kept by services for zero-dose and dropout lists.
    first_dose_on: Mapped[date | None] = mapped_column(Date)
    penta1_on: Mapped[date | None] = mapped_column(Date)
    penta3_on: Mapped[date | None] = mapped_column(Date)
    mcv1_on: Mapped[date | None] = mapped_column(Date)
    # Day of every valid dose in schedule slot order (krc.immunization.dose_days), so
    # defaulter lists read only this table.
    dose_days: Mapped[str | None] = mapped_column(String(120))
    merged_into_pk: Mapped[int | None] = mapped_column(ForeignKey("child.pk"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))

    __table_args__ = (
        Index("ix_child_family_given", "family_key", "given_key"),
        Index("ix_child_family_facility", "family_key", "facility_id"),
        Index("ix_child_given_facility", "given_key", "facility_id"),
        Index("ix_child_facility_birth", "facility_id", "birth_date"),
        Index("ix_child_village", "village_id"),
    )


class Vaccination(Base):
    """One recorded dose; early doses are kept with valid=False and the reason."""

    __tablename__ = "vaccination"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    child_pk: Mapped[int] = mapped_column(ForeignKey("child.pk"))
    vaccine: Mapped[str] = mapped_column(String(10))
    dose: Mapped[int] = mapped_column(SmallInteger)
    given_on: Mapped[date] = mapped_column(Date)
    facility_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    # The health facility serving the child's residence (the child's facility) when the dose
    # was recorded: residence-based facts are then read from this table alone (no join).
    residence_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    strategy: Mapped[str] = mapped_column(String(10), default="fixed")
    session: Mapped[str | None] = mapped_column(String(64))
    lot: Mapped[str | None] = mapped_column(String(40))
    valid: Mapped[bool] = mapped_column(Boolean, default=True)
    invalid_reason: Mapped[str | None] = mapped_column(String(40))
    # Days after the due date (negative when early); null when no due date applies.
    delay_days: Mapped[int | None] = mapped_column(Integer)
    deleted: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))

    __table_args__ = (
        Index("ix_vaccination_child", "child_pk"),
        Index("ix_vaccination_given_on", "given_on"),
        # One live dose per child, vaccine and dose number (a second one is refused).
        Index(
            "uq_vaccination_live_dose", "child_pk", "vaccine", "dose", unique=True,
            sqlite_where=text("deleted = 0"), postgresql_where=text("NOT deleted"),
        ),
    )


class DoseFact(Base):
    """Valid doses by org unit (every ancestor level), month, vaccine and dose.

    basis 1 = org unit of the vaccinating facility, 2 = org unit of the child's residence
    (reference/immunization.md §2 "Doses administered"). `timely` counts doses given within
    the grace window of their due date; `delay_days` sums their delays for the mean.
    """

    __tablename__ = "dose_fact"

    # No foreign key: facts are derived data rebuilt in bulk, where a per-row FK check cost
    # more than the aggregation itself (3 M rows nationally).
    org_unit_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    period: Mapped[int] = mapped_column(Integer, primary_key=True)  # YYYYMM
    vaccine: Mapped[str] = mapped_column(String(10), primary_key=True)
    dose: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    basis: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    doses: Mapped[int] = mapped_column(Integer, default=0)
    timely: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (Index("ix_dose_fact_period", "period", "basis"),)


class DelayFact(Base):
    """Histogram of dose delays (days after due date, capped) for the median delay."""

    __tablename__ = "delay_fact"

    org_unit_id: Mapped[int] = mapped_column(Integer, primary_key=True)  # no FK: see dose_fact
    period: Mapped[int] = mapped_column(Integer, primary_key=True)  # YYYYMM
    delay: Mapped[int] = mapped_column(Integer, primary_key=True)  # clamped to [0, 365]
    doses: Mapped[int] = mapped_column(Integer, default=0)


class ScheduleSetting(Base):
    """An administrator-set value of a configurable schedule parameter (as data)."""

    __tablename__ = "schedule_setting"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[str] = mapped_column(String(2000))
