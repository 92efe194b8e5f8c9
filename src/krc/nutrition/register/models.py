"""Tables of nutrition.register (migration 0010): women of the first 1,000 days, their
contacts, growth-monitoring visits of register children (`child.pk`), referrals, settings.

A child in growth monitoring IS a child of the immunization register: visits and referrals
hang on `child.pk`; nothing about the child is copied here.
"""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from krc.db import Base


class Woman(Base):
    """A pregnant or breastfeeding woman (reference/nutrition.md §5); `id` is the public
    UUID (client-supplied for idempotency)."""

    __tablename__ = "nutrition_woman"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    given_name: Mapped[str] = mapped_column(String(100))
    family_name: Mapped[str] = mapped_column(String(100))
    birth_date: Mapped[date | None] = mapped_column(Date)
    age_years: Mapped[int | None] = mapped_column(SmallInteger)  # when no birth date
    phone: Mapped[str | None] = mapped_column(String(16))
    facility_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    village_id: Mapped[int | None] = mapped_column(ForeignKey("org_unit.id"))
    status: Mapped[str] = mapped_column(String(14))  # pregnant | breastfeeding | closed
    expected_delivery: Mapped[date | None] = mapped_column(Date)
    # Outcome of the pregnancy: live_birth, stillbirth, miscarriage; then the newborn.
    outcome: Mapped[str | None] = mapped_column(String(14))
    outcome_on: Mapped[date | None] = mapped_column(Date)
    child_pk: Mapped[int | None] = mapped_column(ForeignKey("child.pk"))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))

    __table_args__ = (
        Index("ix_nutrition_woman_facility_status", "facility_id", "status"),
        Index("ix_nutrition_woman_child", "child_pk"),
    )


class WomanContact(Base):
    """An antenatal (or postnatal) contact: iron–folic acid, MUAC, counselling (§5).
    One contact per woman and day (the natural key makes replays safe)."""

    __tablename__ = "nutrition_woman_contact"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    woman_pk: Mapped[int] = mapped_column(ForeignKey("nutrition_woman.pk"))
    kind: Mapped[str] = mapped_column(String(10))  # antenatal | postnatal
    contact_on: Mapped[date] = mapped_column(Date)
    facility_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    iron_folic_acid: Mapped[bool] = mapped_column(Boolean)
    ifa_tablets: Mapped[int | None] = mapped_column(SmallInteger)
    muac_mm: Mapped[float | None] = mapped_column(Float)
    muac_at_risk: Mapped[bool | None] = mapped_column(Boolean)
    counselling: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))

    __table_args__ = (
        UniqueConstraint("woman_pk", "contact_on", name="uq_nutrition_woman_contact_day"),
        Index("ix_nutrition_woman_contact_facility_on", "facility_id", "contact_on"),
    )


class GrowthVisit(Base):
    """A growth-monitoring visit of a register child with its WHO z-scores (full
    precision), flags and classification computed at entry (reference §1, §2).
    One live (not voided) visit per child and day."""

    __tablename__ = "growth_visit"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    child_pk: Mapped[int] = mapped_column(ForeignKey("child.pk"))
    visit_on: Mapped[date] = mapped_column(Date)
    facility_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    age_days: Mapped[int] = mapped_column(Integer)
    weight_kg: Mapped[float | None] = mapped_column(Float)
    lenhei_cm: Mapped[float | None] = mapped_column(Float)
    measure: Mapped[str | None] = mapped_column(String(1))  # l | h | None
    muac_mm: Mapped[float | None] = mapped_column(Float)
    oedema: Mapped[bool] = mapped_column(Boolean)
    counselling: Mapped[bool] = mapped_column(Boolean)
    complications: Mapped[bool | None] = mapped_column(Boolean)
    appetite_test: Mapped[str | None] = mapped_column(String(6))  # passed | failed
    # WHO anthro outputs (names as anthro's): z-scores and flags.
    zlen: Mapped[float | None] = mapped_column(Float)
    flen: Mapped[bool | None] = mapped_column(Boolean)
    zwei: Mapped[float | None] = mapped_column(Float)
    fwei: Mapped[bool | None] = mapped_column(Boolean)
    zwfl: Mapped[float | None] = mapped_column(Float)
    fwfl: Mapped[bool | None] = mapped_column(Boolean)
    zbmi: Mapped[float | None] = mapped_column(Float)
    fbmi: Mapped[bool | None] = mapped_column(Boolean)
    zac: Mapped[float | None] = mapped_column(Float)
    fac: Mapped[bool | None] = mapped_column(Boolean)
    clenhei: Mapped[float | None] = mapped_column(Float)
    cmeasure: Mapped[str | None] = mapped_column(String(1))
    c9mo_flag: Mapped[bool | None] = mapped_column(Boolean)
    # Classification (classify.py): sam | mam | normal | unknown, its criteria, faltering.
    status: Mapped[str] = mapped_column(String(8))
    criteria: Mapped[str | None] = mapped_column(String(40))
    faltering: Mapped[str | None] = mapped_column(String(20))  # waz_drop,no_gain
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    # Voided (entered in error, migration 0012): kept, excluded from everything that counts.
    voided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    voided_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    void_reason: Mapped[str | None] = mapped_column(String(200))

    __table_args__ = (
        # One live visit per child and day: a voided visit frees its day for the correction.
        Index("uq_growth_visit_child_day_live", "child_pk", "visit_on", unique=True,
              sqlite_where=text("voided_at IS NULL"),
              postgresql_where=text("voided_at IS NULL")),
        # Figures read visits by org unit (facility) and date.
        Index("ix_growth_visit_facility_on", "facility_id", "visit_on"),
        Index("ix_growth_visit_on", "visit_on"),
    )


class Referral(Base):
    """A malnutrition referral raised by a visit (SAM, MAM or growth faltering), followed
    to its outcome: open → attended → closed (reference §2, CMAM)."""

    __tablename__ = "nutrition_referral"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    child_pk: Mapped[int] = mapped_column(ForeignKey("child.pk"))
    visit_pk: Mapped[int] = mapped_column(ForeignKey("growth_visit.pk"), unique=True)
    facility_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    reason: Mapped[str] = mapped_column(String(10))  # sam | mam | faltering
    criteria: Mapped[str | None] = mapped_column(String(40))
    destination: Mapped[str] = mapped_column(String(14))  # stabilisation|otp|tsfp|assessment
    status: Mapped[str] = mapped_column(String(10))  # open | attended | closed
    referred_on: Mapped[date] = mapped_column(Date)
    attended_on: Mapped[date | None] = mapped_column(Date)
    # recovered | defaulted | died | non_response | transferred | entered_in_error
    outcome: Mapped[str | None] = mapped_column(String(20))
    outcome_on: Mapped[date | None] = mapped_column(Date)
    discharge_met_on: Mapped[date | None] = mapped_column(Date)
    notes: Mapped[str | None] = mapped_column(String(500))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))
    updated_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))

    __table_args__ = (
        Index("ix_nutrition_referral_child", "child_pk"),
        Index("ix_nutrition_referral_facility_on", "facility_id", "referred_on"),
        Index("ix_nutrition_referral_status", "status"),
    )


class RegisterSetting(Base):
    """An administrator-set value of a configurable register parameter (as data)."""

    __tablename__ = "nutrition_register_setting"

    key: Mapped[str] = mapped_column(String(60), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
