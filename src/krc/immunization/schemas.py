"""Pydantic models of the immunization API, in families (Create / Read)."""

from __future__ import annotations

import datetime as dt
import uuid
from datetime import date

from pydantic import BaseModel, ConfigDict, Field


class ChildCreate(BaseModel):
    """A child to register; `id` (client UUID) makes retries idempotent."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: uuid.UUID | None = None
    given_name: str = Field(min_length=1, max_length=100)
    family_name: str = Field(min_length=1, max_length=100)
    sex: str = Field(pattern="^[FM]$", description="F or M")
    birth_date: date
    caregiver_name: str = Field(min_length=1, max_length=200)
    caregiver_phone: str | None = Field(default=None, max_length=30)
    facility: str = Field(min_length=1, description="org unit code of the health facility")
    village: str | None = Field(default=None, description="org unit code of the village")
    national_id: str | None = Field(default=None, max_length=40)
    confirm_new: bool = False


class OrgUnitRef(BaseModel):
    """A reference to an org unit by code and name."""

    code: str
    name: str


class ChildRead(BaseModel):
    """A child's record as the API returns it."""

    id: uuid.UUID
    registry_number: str
    registry_display: str = ""  # the same number grouped for reading: "NNN-NNN-NNN-C"
    given_name: str
    family_name: str
    sex: str
    birth_date: date
    caregiver_name: str
    caregiver_phone: str | None
    national_id: str | None
    facility: OrgUnitRef
    village: OrgUnitRef | None
    merged_into: uuid.UUID | None = None


class Candidate(BaseModel):
    """A probable duplicate; outside the caller's scope only masked facts are shown."""

    id: uuid.UUID | None
    registry_number: str
    given_name: str
    family_name: str
    birth_date: date | None
    birth_year: int
    facility: OrgUnitRef
    score: float
    reasons: list[str]
    in_scope: bool


class VaccinationCreate(BaseModel):
    """A dose to record; `id` (client UUID) makes retries idempotent."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    id: uuid.UUID | None = None
    vaccine: str = Field(min_length=1, max_length=10)
    dose: int = Field(ge=0, le=9)
    date: dt.date
    facility: str = Field(min_length=1)
    strategy: str = "fixed"
    session: str | None = Field(
        default=None, max_length=64,
        description="id (UUID) of the outreach session the dose is given at: same date and "
                    "facility, not cancelled; the dose takes the session's strategy")
    lot: str | None = Field(default=None, max_length=40)


class VaccinationUpdate(BaseModel):
    """A correction of a recorded dose; every change is audited with before and after."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    vaccine: str | None = None
    dose: int | None = Field(default=None, ge=0, le=9)
    date: dt.date | None = None
    facility: str | None = None
    strategy: str | None = None
    session: str | None = Field(default=None, max_length=64,
                                description="outreach session id; empty string unlinks")
    lot: str | None = None
    reason: str = Field(min_length=1, max_length=200, description="why the correction is made")


class VaccinationRead(BaseModel):
    """A recorded dose; an early dose is kept with valid=false and the reason."""

    id: uuid.UUID
    child: uuid.UUID
    vaccine: str
    dose: int
    date: dt.date
    facility: OrgUnitRef
    strategy: str
    session: str | None
    lot: str | None
    valid: bool
    reason: str | None
    reason_text: str | None
    deleted: bool


class DoseStatusRead(BaseModel):
    """The status of one scheduled dose on a date (reference/immunization.md §1)."""

    vaccine: str
    dose: int
    status: str
    due_date: date | None
    given_date: date | None
    reason: str | None
    reason_text: str | None = None


class ScheduleRead(BaseModel):
    """Every scheduled dose of a child on a date."""

    child: uuid.UUID
    on: date
    defaulter: bool
    doses: list[DoseStatusRead]


class ChildCard(BaseModel):
    """A child's record with its doses and schedule."""

    child: ChildRead
    vaccinations: list[VaccinationRead]
    schedule: ScheduleRead


class MergeRequest(BaseModel):
    """Merge `duplicate` into the child of the URL, keeping both histories."""

    model_config = ConfigDict(extra="forbid")

    duplicate: uuid.UUID
