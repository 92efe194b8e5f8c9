"""Pydantic models of the community nutrition API, in families (Create / Update / Read)."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel, ConfigDict, Field


class OrgUnitRef(BaseModel):
    """A reference to an org unit by code and name."""

    code: str
    name: str


# --------------------------------------------------------------------------- IYCF recalls

class RecallAnswers(BaseModel):
    """The answers of the standard previous-day recall (reference/nutrition.md §4).

    Food groups: grains (grains, roots, tubers, plantains), pulses (pulses, nuts, seeds),
    dairy, flesh (meat, fish, poultry, organ meat), eggs, vita_fv (vitamin-A-rich fruits and
    vegetables), other_fv (other fruits and vegetables); breast milk is `breastfed`.
    `other_liquids`: any liquid other than breast milk, ORS, drops or syrups."""

    model_config = ConfigDict(extra="forbid")

    breastfed: bool
    early_bf: bool | None = Field(
        default=None, description="put to the breast within 1 hour of birth (null: unknown)")
    other_liquids: bool = False
    grains: bool = False
    pulses: bool = False
    dairy: bool = False
    flesh: bool = False
    eggs: bool = False
    vita_fv: bool = False
    other_fv: bool = False
    solid_feeds: int = Field(default=0, ge=0, le=20,
                             description="times the child ate solid, semi-solid or soft food")
    milk_feeds: int = Field(default=0, ge=0, le=20,
                            description="milk feeds (formula, animal milk, yoghurt drinks)")


class RecallCreate(RecallAnswers):
    """A recall taken at a visit for a child of the register; `id` makes retries idempotent."""

    id: uuid.UUID | None = None
    child_id: uuid.UUID
    date: dt.date = Field(description="day of the interview (the recall is of the day before)")


class RecallRead(RecallAnswers):
    """A stored recall with the indicators the child counts in."""

    id: uuid.UUID
    source: str
    child_id: uuid.UUID | None
    org_unit: OrgUnitRef
    survey: str | None
    survey_row: str | None
    date: dt.date
    age_months: int
    food_groups: int
    denominators: list[str]
    numerators: list[str]


class SurveyImportResult(BaseModel):
    """The outcome of a survey file import (all or nothing)."""

    survey: str
    rows: int
    new: int
    unchanged: int


class IndicatorValue(BaseModel):
    """One indicator: percentage (null without denominator), numerator, denominator."""

    value: float | None
    numerator: int
    denominator: int


class IycfUnitRow(BaseModel):
    """The IYCF indicators of one org unit."""

    org_unit: OrgUnitRef
    recalls: int
    indicators: dict[str, IndicatorValue]


class IycfTable(BaseModel):
    """IYCF indicators of a unit and of each of its sub-units for a period."""

    org_unit: OrgUnitRef
    period: str
    source: str | None
    total: IycfUnitRow
    units: list[IycfUnitRow]


# --------------------------------------------------------------------------- support groups

class GroupCreate(BaseModel):
    """A support group (GASPA) of a village; `id` makes retries idempotent."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: uuid.UUID | None = None
    village: str = Field(min_length=1, description="org unit code of the village (level 5)")
    name: str | None = Field(default=None, max_length=200)
    founded_on: dt.date | None = None


class GroupUpdate(BaseModel):
    """A change of a group: its name, or closing it (`closed_on`) / re-opening it (null)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str | None = Field(default=None, min_length=1, max_length=200)
    closed_on: dt.date | None = None


class MemberCreate(BaseModel):
    """A member of a group. Roles: role_model (role-model mother), leader (community leader),
    member. Members and role-model mothers are women; a leader may be a man."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: uuid.UUID | None = None
    name: str = Field(min_length=1, max_length=200)
    phone: str | None = Field(default=None, max_length=30)
    sex: str = Field(default="F", pattern="^[FM]$")
    role: str = Field(default="member")
    joined_on: dt.date | None = None


class MemberUpdate(BaseModel):
    """A change of a member: role, phone, or leaving the group (`left_on`)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    role: str | None = None
    phone: str | None = Field(default=None, max_length=30)
    left_on: dt.date | None = None


class MemberRead(BaseModel):
    """A member as the API returns it."""

    id: uuid.UUID
    name: str
    phone: str | None
    sex: str
    role: str
    joined_on: dt.date
    left_on: dt.date | None
    sessions_attended: int


class GroupSessionCreate(BaseModel):
    """A session of a group: its day, topics (codes), a free-text topic, notes, and the ids
    of the members present."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: uuid.UUID | None = None
    date: dt.date
    topics: list[str] = Field(default_factory=list, max_length=20)
    other_topic: str | None = Field(default=None, max_length=200)
    notes: str | None = Field(default=None, max_length=1000)
    present: list[uuid.UUID] = Field(default_factory=list, max_length=500)


class AttendanceSet(BaseModel):
    """The members present at a session (replaces the list: a replay changes nothing)."""

    model_config = ConfigDict(extra="forbid")

    present: list[uuid.UUID] = Field(max_length=500)


class GroupSessionRead(BaseModel):
    """A session as the API returns it."""

    id: uuid.UUID
    date: dt.date
    topics: list[str]
    other_topic: str | None
    notes: str | None
    present: list[uuid.UUID]
    attendance: int


class GroupRead(BaseModel):
    """A group with its counts."""

    id: uuid.UUID
    name: str
    village: OrgUnitRef
    facility: OrgUnitRef
    founded_on: dt.date
    closed_on: dt.date | None
    members: int
    women: int
    role_models: int
    sessions: int
    last_session: dt.date | None


class GroupDetail(GroupRead):
    """A group with its members and sessions."""

    member_list: list[MemberRead]
    session_list: list[GroupSessionRead]


# --------------------------------------------------------------------------- MNP

class DistributionCreate(BaseModel):
    """Sachets of micronutrient powder given to a child 6–23 months (reference §5). The
    round (1–3) defaults to the child's age band; the facility to the child's."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: uuid.UUID | None = None
    child_id: uuid.UUID
    date: dt.date
    sachets: int = Field(ge=1, le=90)
    round: int | None = Field(default=None, ge=1, le=3)
    facility: str | None = Field(default=None, description="org unit code of the CSCom")


class FollowupCreate(BaseModel):
    """A follow-up: sachets consumed so far in a round (cumulative)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: uuid.UUID | None = None
    child_id: uuid.UUID
    date: dt.date
    round: int = Field(ge=1, le=3)
    consumed: int = Field(ge=0, le=90)


class DistributionRead(BaseModel):
    """A distribution as the API returns it."""

    id: uuid.UUID
    child_id: uuid.UUID
    facility: OrgUnitRef
    date: dt.date
    round: int
    sachets: int
    age_months: int


class FollowupRead(BaseModel):
    """A follow-up as the API returns it."""

    id: uuid.UUID
    child_id: uuid.UUID
    date: dt.date
    round: int
    consumed: int
    adherence: float


class RoundRead(BaseModel):
    """One round of a child: sachets distributed and consumed, adherence (%)."""

    round: int
    distributed: int
    consumed: int | None
    adherence: float | None


class ChildMnpRead(BaseModel):
    """A child's micronutrient powders: rounds, distributions, follow-ups."""

    child_id: uuid.UUID
    rounds: list[RoundRead]
    distributions: list[DistributionRead]
    followups: list[FollowupRead]


class StockLineCreate(BaseModel):
    """A line of a facility's sachet ledger: receipt, loss or physical count."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: uuid.UUID | None = None
    facility: str = Field(min_length=1, description="org unit code of the CSCom")
    kind: str = Field(description="receipt, loss or count")
    quantity: int = Field(ge=0, le=10_000_000)
    date: dt.date
    note: str | None = Field(default=None, max_length=200)


class StockLineRead(BaseModel):
    """A ledger line with the balance after it."""

    id: uuid.UUID
    facility: OrgUnitRef
    kind: str
    quantity: int
    date: dt.date
    note: str | None
    balance_after: int | None = None


class FacilityStock(BaseModel):
    """A facility's sachets: balance, and the movements of a period."""

    facility: OrgUnitRef
    balance: int
    received: int
    distributed: int
    lost: int
    last_count: dt.date | None
    months_left: float | None
