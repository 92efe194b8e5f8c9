"""Pydantic models of the outreach API, in families (Create / Update / Read)."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel, ConfigDict, Field


class OrgUnitRef(BaseModel):
    """A reference to an org unit by code and name."""

    code: str
    name: str


class SessionCreate(BaseModel):
    """A session to plan (or record after the fact); `id` (client UUID) makes retries
    idempotent. Strategies: fixed, outreach, mobile, campaign; place types: market, school,
    place_of_worship, bus_station, other (reference/immunization.md §3)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: uuid.UUID | None = None
    facility: str = Field(min_length=1, description="org unit code of the health area (CSCom)")
    date: dt.date
    strategy: str = Field(min_length=1, max_length=10)
    place_type: str | None = Field(default=None, max_length=20)
    place_name: str | None = Field(default=None, max_length=200)
    latitude: float | None = None
    longitude: float | None = None
    villages: list[str] = Field(default_factory=list, max_length=200,
                                description="org unit codes of the target villages")
    status: str = Field(default="planned", description="planned or held")
    notes: str | None = Field(default=None, max_length=1000)


class SessionUpdate(BaseModel):
    """A change of a session: reschedule (date), cancel or mark held (status), or correct
    its place, villages or notes. Absent fields are unchanged; `null` clears an optional
    field."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    date: dt.date | None = None
    strategy: str | None = Field(default=None, max_length=10)
    place_type: str | None = Field(default=None, max_length=20)
    place_name: str | None = Field(default=None, max_length=200)
    latitude: float | None = None
    longitude: float | None = None
    villages: list[str] | None = Field(default=None, max_length=200)
    status: str | None = None
    notes: str | None = Field(default=None, max_length=1000)
    reason: str | None = Field(default=None, max_length=200, description="why (audited)")


class SessionRead(BaseModel):
    """A session as the API returns it."""

    id: uuid.UUID
    facility: OrgUnitRef
    district: OrgUnitRef
    date: dt.date
    strategy: str
    place_type: str | None
    place_name: str | None
    latitude: float | None
    longitude: float | None
    villages: list[OrgUnitRef]
    status: str
    notes: str | None
    doses: int
    created_at: dt.datetime
    updated_at: dt.datetime


class AntigenRead(BaseModel):
    """Doses of one vaccine-dose recorded at a session."""

    vaccine: str
    dose: int
    doses: int
    valid: int


class ZeroDoseFound(BaseModel):
    """Zero-dose children found at a session, by each definition of reference §3."""

    first_penta: int = Field(description="children whose first valid PENTA was given there")
    first_vaccine: int = Field(description="children whose first valid vaccine ever was")
    in_register: int = Field(description="first PENTA there while aged 10 weeks to 5 years "
                                      "(zero-dose in the register the day before, §2)")


class SessionReportRead(BaseModel):
    """The report of a session: children vaccinated, by antigen, zero-dose found."""

    session: SessionRead
    children: int
    doses: int
    valid_doses: int
    by_antigen: list[AntigenRead]
    zero_dose_found: ZeroDoseFound


class SessionNear(BaseModel):
    """A planned session near a village (distance in km when both have coordinates)."""

    id: uuid.UUID
    date: dt.date
    strategy: str
    place_name: str | None
    distance_km: float | None


class MicroPlanChild(BaseModel):
    """A child to catch up (personal data: health-area micro-plans only)."""

    id: uuid.UUID
    registry_number: str | None
    given_name: str
    family_name: str
    birth_date: dt.date
    caregiver_name: str
    caregiver_phone: str | None
    overdue: list[str]
    zero_dose: bool


class MicroPlanVillage(BaseModel):
    """One village of a health area with its needs and the sessions near it."""

    village: OrgUnitRef | None
    rank: int
    defaulters: int
    zero_dose: int
    no_vaccine: int
    sessions: list[SessionNear]
    children: list[MicroPlanChild] | None = None


class MicroPlanArea(BaseModel):
    """One health area (CSCom) of a micro-plan."""

    facility: OrgUnitRef
    defaulters: int
    zero_dose: int
    villages: list[MicroPlanVillage]
    upcoming: list[SessionNear]


class MicroPlanRead(BaseModel):
    """A micro-plan: per health area, villages ranked by need and the next sessions."""

    org_unit: OrgUnitRef
    on: dt.date
    personal: bool
    areas: list[MicroPlanArea]
