"""Tables of nutrition.community (migration 0011): IYCF recalls and survey imports, support
groups (GASPA) with members, sessions and attendance, micronutrient powder distributions,
follow-ups and the sachet ledger (reference/nutrition.md §4–§5).

Every row created through the API carries a public UUID `id` (client-supplied for
idempotent creates); survey rows are also unique by (survey, row id).
"""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from krc.db import Base


class IycfSurveyImport(Base):
    """One survey file received (kept raw, also when refused) and its outcome."""

    __tablename__ = "iycf_survey_import"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    survey: Mapped[str] = mapped_column(String(60))
    filename: Mapped[str | None] = mapped_column(String(200))
    raw: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(10))  # applied | refused
    rows: Mapped[int] = mapped_column(Integer, default=0)
    new: Mapped[int] = mapped_column(Integer, default=0)
    errors: Mapped[list[Any]] = mapped_column(JSON, default=list)
    received_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    received_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))


class IycfRecall(Base):
    """One previous-day feeding recall (reference/nutrition.md §4), from a visit (linked to a
    child of the register) or a survey row; `answers` keeps the answers as received."""

    __tablename__ = "iycf_recall"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    source: Mapped[str] = mapped_column(String(8))  # visit | survey
    child_pk: Mapped[int | None] = mapped_column(ForeignKey("child.pk"))
    org_unit_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    survey: Mapped[str | None] = mapped_column(String(60))
    survey_row: Mapped[str | None] = mapped_column(String(60))
    import_pk: Mapped[int | None] = mapped_column(ForeignKey("iycf_survey_import.pk"))
    recalled_on: Mapped[date] = mapped_column(Date)
    age_months: Mapped[int] = mapped_column(SmallInteger)
    age_days: Mapped[int | None] = mapped_column(Integer)
    sex: Mapped[str | None] = mapped_column(String(1))
    breastfed: Mapped[bool] = mapped_column(Boolean)
    early_bf: Mapped[bool | None] = mapped_column(Boolean)
    other_liquids: Mapped[bool] = mapped_column(Boolean)
    grains: Mapped[bool] = mapped_column(Boolean)
    pulses: Mapped[bool] = mapped_column(Boolean)
    dairy: Mapped[bool] = mapped_column(Boolean)
    flesh: Mapped[bool] = mapped_column(Boolean)
    eggs: Mapped[bool] = mapped_column(Boolean)
    vita_fv: Mapped[bool] = mapped_column(Boolean)
    other_fv: Mapped[bool] = mapped_column(Boolean)
    solid_feeds: Mapped[int] = mapped_column(SmallInteger)
    milk_feeds: Mapped[int] = mapped_column(SmallInteger)
    answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))

    __table_args__ = (
        UniqueConstraint("survey", "survey_row", name="uq_iycf_recall_survey_row"),
        Index("ix_iycf_recall_unit_day", "org_unit_id", "recalled_on"),
        Index("ix_iycf_recall_child", "child_pk"),
    )


class SupportGroup(Base):
    """A community nutrition support group (GASPA) of one village (reference §5)."""

    __tablename__ = "support_group"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    name: Mapped[str] = mapped_column(String(200))
    village_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    facility_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    founded_on: Mapped[date] = mapped_column(Date)
    closed_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))

    __table_args__ = (
        Index("ix_support_group_facility", "facility_id"),
        Index("ix_support_group_village", "village_id"),
    )


class SupportGroupMember(Base):
    """A member of a group: role-model mother, community leader or member (reference §5)."""

    __tablename__ = "support_group_member"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    group_pk: Mapped[int] = mapped_column(ForeignKey("support_group.pk"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(16))
    sex: Mapped[str] = mapped_column(String(1))
    role: Mapped[str] = mapped_column(String(20))  # role_model | leader | member
    joined_on: Mapped[date] = mapped_column(Date)
    left_on: Mapped[date | None] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))


class SupportGroupSession(Base):
    """A session of a group: its day, topics (codes), free-text topic and notes."""

    __tablename__ = "support_group_session"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    group_pk: Mapped[int] = mapped_column(ForeignKey("support_group.pk"))
    held_on: Mapped[date] = mapped_column(Date)
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    other_topic: Mapped[str | None] = mapped_column(String(200))
    notes: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))

    __table_args__ = (Index("ix_support_group_session_group_day", "group_pk", "held_on"),)


class SupportGroupAttendance(Base):
    """A member present at a session."""

    __tablename__ = "support_group_attendance"

    session_pk: Mapped[int] = mapped_column(
        ForeignKey("support_group_session.pk", ondelete="CASCADE"), primary_key=True)
    member_pk: Mapped[int] = mapped_column(ForeignKey("support_group_member.pk"),
                                           primary_key=True)


class MnpDistribution(Base):
    """Sachets of micronutrient powder given to a child 6–23 months (reference §5)."""

    __tablename__ = "mnp_distribution"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    child_pk: Mapped[int] = mapped_column(ForeignKey("child.pk"))
    facility_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    given_on: Mapped[date] = mapped_column(Date)
    round: Mapped[int] = mapped_column(SmallInteger)
    sachets: Mapped[int] = mapped_column(Integer)
    age_months: Mapped[int] = mapped_column(SmallInteger)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))

    __table_args__ = (
        Index("ix_mnp_distribution_child_round", "child_pk", "round"),
        Index("ix_mnp_distribution_facility_day", "facility_id", "given_on"),
        CheckConstraint("sachets > 0", name="sachets_positive"),
    )


class MnpFollowup(Base):
    """A follow-up visit: sachets consumed so far in a round (cumulative, reference §5)."""

    __tablename__ = "mnp_followup"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)
    id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    child_pk: Mapped[int] = mapped_column(ForeignKey("child.pk"))
    facility_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    round: Mapped[int] = mapped_column(SmallInteger)
    followed_on: Mapped[date] = mapped_column(Date)
    consumed: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))

    __table_args__ = (
        Index("ix_mnp_followup_child_round", "child_pk", "round"),
        Index("ix_mnp_followup_facility_day", "facility_id", "followed_on"),
        CheckConstraint("consumed >= 0", name="consumed_non_negative"),
    )


class MnpStockLine(Base):
    """One line of a facility's MNP sachet ledger; distributions link their line."""

    __tablename__ = "mnp_stock_line"

    pk: Mapped[int] = mapped_column(Integer, primary_key=True)  # recording order
    id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    facility_id: Mapped[int] = mapped_column(ForeignKey("org_unit.id"))
    kind: Mapped[str] = mapped_column(String(12))  # receipt | distribution | loss | count
    quantity: Mapped[int] = mapped_column(Integer)
    occurred_on: Mapped[date] = mapped_column(Date)
    distribution_pk: Mapped[int | None] = mapped_column(
        ForeignKey("mnp_distribution.pk", ondelete="CASCADE"), unique=True)
    note: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    created_by: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"))

    __table_args__ = (
        Index("ix_mnp_stock_line_facility_day", "facility_id", "occurred_on"),
        CheckConstraint("quantity >= 0", name="quantity_non_negative"),
        CheckConstraint("kind IN ('receipt', 'distribution', 'loss', 'count')",
                        name="kind_known"),
    )
