"""Pydantic models of the first 1,000 days register API, in families (Create / Update / Read)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class WomanCreate(_In):
    """A pregnant or breastfeeding woman to register; `id` (client UUID) makes retries
    idempotent. Give her birth date or, when unknown, her age in years."""

    id: uuid.UUID | None = None
    given_name: str = Field(min_length=1, max_length=100)
    family_name: str = Field(min_length=1, max_length=100)
    birth_date: dt.date | None = None
    age_years: int | None = Field(default=None, ge=10, le=60)
    phone: str | None = Field(default=None, max_length=30)
    facility: str = Field(min_length=1, description="org unit code of the health facility")
    village: str | None = Field(default=None, description="org unit code of the village")
    status: str = Field(default="pregnant", pattern="^(pregnant|breastfeeding)$")
    expected_delivery: dt.date | None = Field(
        default=None, description="expected delivery date (pregnant women)")
    child: uuid.UUID | None = Field(
        default=None, description="register child (breastfeeding women): the infant's id")


class WomanUpdate(_In):
    """The outcome of a pregnancy and the link to the newborn (a register child), or a
    change of status; audited with before/after."""

    status: str | None = Field(default=None, pattern="^(pregnant|breastfeeding|closed)$")
    expected_delivery: dt.date | None = None
    outcome: str | None = Field(default=None, pattern="^(live_birth|stillbirth|miscarriage)$")
    outcome_on: dt.date | None = None
    child: uuid.UUID | None = Field(default=None, description="the newborn's register id")
    phone: str | None = Field(default=None, max_length=30)


class ContactCreate(_In):
    """An antenatal (or postnatal) contact; one per woman and day."""

    id: uuid.UUID | None = None
    date: dt.date
    facility: str | None = Field(default=None, description="default: the woman's facility")
    iron_folic_acid: bool = False
    ifa_tablets: int | None = Field(default=None, ge=0, le=400)
    muac_mm: float | None = Field(default=None, description="MUAC in millimetres")
    counselling: bool = False


class ContactUpdate(_In):
    """A correction of a recorded contact (only the fields sent change); the reason is
    required and audited with the values before."""

    date: dt.date | None = None
    facility: str | None = None
    iron_folic_acid: bool | None = None
    ifa_tablets: int | None = Field(default=None, ge=0, le=400)
    muac_mm: float | None = Field(default=None, description="MUAC in millimetres")
    counselling: bool | None = None
    reason: str = Field(default="", max_length=200)


class OrgUnitRef(BaseModel):
    """A reference to an org unit by code and name."""

    code: str
    name: str


class ContactRead(BaseModel):
    """A recorded contact of a woman."""

    id: uuid.UUID
    woman: uuid.UUID
    kind: str
    number: int
    date: dt.date
    facility: OrgUnitRef | None
    iron_folic_acid: bool
    ifa_tablets: int | None
    muac_mm: float | None
    muac_at_risk: bool | None
    counselling: bool


class WomanRead(BaseModel):
    """A woman of the register."""

    id: uuid.UUID
    given_name: str
    family_name: str
    birth_date: dt.date | None
    age_years: int | None
    phone: str | None
    facility: OrgUnitRef | None
    village: OrgUnitRef | None
    status: str
    expected_delivery: dt.date | None
    outcome: str | None
    outcome_on: dt.date | None
    child: uuid.UUID | None
    contacts: int = 0
    last_muac_at_risk: bool | None = None


class WomanCard(WomanRead):
    """A woman with her contacts."""

    contact_list: list[ContactRead] = []


class VisitCreate(_In):
    """A growth-monitoring visit (reference/nutrition.md §5): weight (kg), length/height
    (cm) with how it was measured, MUAC (mm), oedema; `id` (client UUID) makes retries
    idempotent. One visit per child and day."""

    id: uuid.UUID | None = None
    date: dt.date
    facility: str | None = Field(default=None, description="default: the child's facility")
    weight: float | None = Field(default=None, description="weight in kg")
    lenhei: float | None = Field(default=None, description="length or height in cm")
    measure: str | None = Field(default=None, description="l (recumbent) or h (standing)")
    muac: float | None = Field(default=None, description="MUAC in mm")
    oedema: bool = False
    counselling: bool = False
    complications: bool | None = Field(
        default=None, description="medical complications found (SAM: stabilisation centre)")
    appetite_test: str | None = Field(default=None, pattern="^(passed|failed)$")


class ReferralRead(BaseModel):
    """A malnutrition referral and its follow-up."""

    id: uuid.UUID
    child: uuid.UUID
    child_name: str | None = None
    visit: uuid.UUID | None
    facility: OrgUnitRef | None
    reason: str
    criteria: list[str]
    destination: str
    status: str
    referred_on: dt.date
    attended_on: dt.date | None
    outcome: str | None
    outcome_on: dt.date | None
    discharge_met_on: dt.date | None
    notes: str | None
    created: bool = False


class VisitRead(BaseModel):
    """A visit with its z-scores rounded to 2 decimals, flags and classification."""

    id: uuid.UUID
    child: uuid.UUID
    date: dt.date
    facility: OrgUnitRef | None
    age_days: int
    weight: float | None
    lenhei: float | None
    measure: str | None
    muac: float | None
    oedema: bool
    counselling: bool
    zscores: dict[str, float | None]
    flags: dict[str, bool | None]
    clenhei: float | None
    cmeasure: str | None
    c9mo_flag: bool | None
    classification: dict[str, Any]
    faltering: list[str]
    referral: ReferralRead | None = None
    voided: bool = False
    voided_at: dt.datetime | None = None
    void_reason: str | None = None


class VisitVoid(_In):
    """Why a visit is voided (entered in error)."""

    reason: str = Field(default="", max_length=200)


class ReferralUpdate(_In):
    """A step of a referral's follow-up: attended, an outcome, a corrected destination after
    assessment (complications, appetite test); audited."""

    status: str | None = Field(default=None, pattern="^(attended|closed)$")
    attended_on: dt.date | None = None
    outcome: str | None = Field(
        default=None, pattern="^(recovered|defaulted|died|non_response|transferred)$")
    outcome_on: dt.date | None = None
    complications: bool | None = None
    appetite_test: str | None = Field(default=None, pattern="^(passed|failed)$")
    notes: str | None = Field(default=None, max_length=500)
