"""Pydantic models of the cold-chain API, in families (Create / Read)."""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field


class ReadingIn(BaseModel):
    """One reading: a UTC time (ISO 8601; no offset means UTC) and a temperature in °C."""

    model_config = ConfigDict(extra="forbid")

    at: dt.datetime
    celsius: float


class ReadingsUpload(BaseModel):
    """Readings of one device; re-sending readings already stored changes nothing."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    device: str = Field(min_length=1, max_length=60, description="serial of the device")
    readings: list[ReadingIn] = Field(max_length=200_000)


class AlarmRead(BaseModel):
    """An alarm (heat, freeze) or notice (data_gap, no_data); `end` is null while open."""

    id: int | None = Field(description="null for a no_data notice not yet stored by the scan")
    type: str
    device: str
    facility: str
    start: dt.datetime
    end: dt.datetime | None
    duration_minutes: int
    min_celsius: float | None
    max_celsius: float | None


class UploadResult(BaseModel):
    """What an upload did: readings received, new, already stored, and the open alarms."""

    device: str
    received: int
    new: int
    duplicates: int
    conflicts: int = Field(description="duplicates whose temperature differs from the stored "
                                       "one (the stored reading is kept)")
    open_alarms: list[AlarmRead]


class EquipmentCreate(BaseModel):
    """A cold-chain equipment to register; the serial is its natural key (replay-safe)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    serial: str = Field(min_length=1, max_length=60)
    type: str = Field(description="solar_direct_drive, ice_lined, absorption, freezer, "
                                  "cold_room")
    facility: str = Field(min_length=1, description="org unit code (levels 1–4)")
    pqs_code: str | None = Field(default=None, max_length=30)
    model: str | None = Field(default=None, max_length=100)
    installed_on: dt.date | None = None
    energy_source: str | None = Field(default=None, description="solar, electricity, gas, "
                                                                "kerosene, other")
    status: str = "functional"
    device: str | None = Field(default=None, max_length=60,
                               description="serial of a temperature device to attach")
    device_kind: str = Field(default="30dtr", description="30dtr or rtm")


class StatusChange(BaseModel):
    """A new status for an equipment, with a note (audited, kept in its history)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    status: str
    note: str = Field(default="", max_length=500)


class DeviceCreate(BaseModel):
    """A temperature device to attach to an equipment."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    serial: str = Field(min_length=1, max_length=60)
    equipment: str = Field(min_length=1, description="serial of the equipment")
    kind: str = "30dtr"


class StatusChangeRead(BaseModel):
    """One entry of an equipment's status history."""

    at: dt.datetime
    username: str
    from_status: str | None
    to_status: str
    note: str


class EquipmentRead(BaseModel):
    """An equipment as the API returns it."""

    serial: str
    type: str
    pqs_code: str | None
    model: str | None
    facility: str
    facility_name: str
    installed_on: dt.date | None
    energy_source: str | None
    status: str
    devices: list[str]


class EquipmentDetail(EquipmentRead):
    """An equipment with its status history."""

    history: list[StatusChangeRead]


class FunctionalityRow(BaseModel):
    """Functional and installed equipment of one unit (installed excludes decommissioned)."""

    code: str
    name: str
    level: int
    functional: int
    installed: int
    decommissioned: int
    rate: float | None


class SolarRow(BaseModel):
    """Solar direct-drive refrigerators installed vs target in one region."""

    code: str
    name: str
    installed: int
    functional: int
    target: int
    target_source: str
    percent: float | None


class SolarTargets(BaseModel):
    """Solar targets by region code (replaces the stored targets of those regions)."""

    model_config = ConfigDict(extra="forbid")

    targets: dict[str, int]
