"""Reads of the cold chain, always through the caller's org-unit scope (reference §5).

`alarms_to_notify` is the one unscoped read: the messaging capability sends each notice to
the facility and its district (a machine job, not a caller's request).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from krc.accounts.roles import Actor
from krc.errors import Message, NotFound
from krc.geo.models import DISTRICT, FACILITY, REGION, OrgUnit
from krc.immunization.coldchain import alarms as rules_alarms
from krc.immunization.coldchain.alarms import AlarmParams
from krc.immunization.coldchain.models import (
    ColdChainAlarm,
    Equipment,
    EquipmentStatusChange,
    Reading,
    SolarTarget,
    TemperatureDevice,
)
from krc.immunization.coldchain.rules import SOLAR, SOLAR_TARGET, functionality_rate, split_target
from krc.immunization.coldchain.services import epoch, from_epoch, utc


def _subtree(unit: OrgUnit) -> Any:
    return (OrgUnit.path == unit.path) | OrgUnit.path.startswith(unit.path + "/")


# --------------------------------------------------------------------------- equipment

def equipment_list(session: Session, actor: Actor, unit: OrgUnit, status: str | None = None,
                   type_: str | None = None, limit: int = 2000) -> list[dict[str, Any]]:
    """Return the equipment of a unit's subtree (the unit must be in the caller's scope)."""
    assert actor.covers(unit.path)
    query = (select(Equipment, OrgUnit).join(OrgUnit, OrgUnit.id == Equipment.facility_id)
             .where(_subtree(unit)))
    if status:
        query = query.where(Equipment.status == status)
    if type_:
        query = query.where(Equipment.type == type_)
    rows = session.execute(query.order_by(OrgUnit.name, Equipment.serial).limit(limit)).all()
    ids = [eq.id for eq, _ in rows]
    devices: dict[int, list[str]] = {}
    for i in range(0, len(ids), 500):
        for eq_id, serial in session.execute(
                select(TemperatureDevice.equipment_id, TemperatureDevice.serial)
                .where(TemperatureDevice.equipment_id.in_(ids[i:i + 500]))
                .order_by(TemperatureDevice.serial)):
            devices.setdefault(eq_id, []).append(serial)
    return [equipment_dict(eq, ou, devices.get(eq.id, [])) for eq, ou in rows]


def equipment_dict(eq: Equipment, unit: OrgUnit, devices: list[str]) -> dict[str, Any]:
    """Return the API shape of an equipment."""
    return {"serial": eq.serial, "type": eq.type, "pqs_code": eq.pqs_code, "model": eq.model,
            "facility": unit.code, "facility_name": unit.name, "installed_on": eq.installed_on,
            "energy_source": eq.energy_source, "status": eq.status, "devices": devices}


def equipment_for_read(session: Session, actor: Actor, serial: str) -> dict[str, Any]:
    """Return an equipment with devices and status history, or 404 (also out of scope)."""
    row = session.execute(select(Equipment, OrgUnit)
                          .join(OrgUnit, OrgUnit.id == Equipment.facility_id)
                          .where(Equipment.serial == serial)).first()
    if row is None or not actor.covers(row[1].path):
        raise NotFound("equipment_not_found", Message(
            "Équipement introuvable : {s}", "Equipment not found: {s}", {"s": serial}))
    eq, unit = row
    devices = list(session.scalars(select(TemperatureDevice.serial).where(
        TemperatureDevice.equipment_id == eq.id).order_by(TemperatureDevice.serial)))
    history = [{"at": utc(h.at), "username": h.username, "from_status": h.from_status,
                "to_status": h.to_status, "note": h.note}
               for h in session.scalars(select(EquipmentStatusChange).where(
                   EquipmentStatusChange.equipment_id == eq.id)
                   .order_by(EquipmentStatusChange.at.desc(), EquipmentStatusChange.id.desc()))]
    return {**equipment_dict(eq, unit, devices), "history": history}


@dataclass
class DevicePlace:
    """A device with its equipment and facility."""

    device: TemperatureDevice
    equipment: Equipment
    facility: OrgUnit


def device_for_read(session: Session, actor: Actor, serial: str) -> DevicePlace:
    """Return a device in the caller's scope, or raise 404 (also when out of scope)."""
    row = session.execute(
        select(TemperatureDevice, Equipment, OrgUnit)
        .join(Equipment, Equipment.id == TemperatureDevice.equipment_id)
        .join(OrgUnit, OrgUnit.id == Equipment.facility_id)
        .where(TemperatureDevice.serial == serial)).first()
    if row is None or not actor.covers(row[2].path):
        raise NotFound("device_not_found", Message(
            "Appareil de température introuvable : {s}", "Temperature device not found: {s}",
            {"s": serial}), field="device")
    return DevicePlace(row[0], row[1], row[2])


# --------------------------------------------------------------------------- alarms

def alarm_dict(a: ColdChainAlarm, device: str, facility: str) -> dict[str, Any]:
    """Return the API shape of an alarm or notice."""
    return {"id": a.id, "type": a.type, "device": device, "facility": facility,
            "start": utc(a.start), "end": utc(a.end) if a.end is not None else None,
            "duration_minutes": a.duration_minutes, "min_celsius": a.min_celsius,
            "max_celsius": a.max_celsius}


def _live_no_data(session: Session, devices: dict[int, tuple[str, str, datetime]],
                  stored_open: set[int], now: datetime, params: AlarmParams
                  ) -> list[dict[str, Any]]:
    """Return no_data notices due as of `now` that the periodic scan has not stored yet."""
    if not devices:
        return []
    last: dict[int, datetime] = {}
    ids = list(devices)
    for i in range(0, len(ids), 500):
        last.update(dict(session.execute(
            select(Reading.device_id, func.max(Reading.at))
            .where(Reading.device_id.in_(ids[i:i + 500])).group_by(Reading.device_id)).all()))
    out = []
    for dev_id, (serial, facility, created) in devices.items():
        if dev_id in stored_open:
            continue
        ref = epoch(last[dev_id]) if dev_id in last else epoch(created)
        notice = rules_alarms.no_data(ref, epoch(now), params)
        if notice is not None:
            out.append({"id": None, "type": rules_alarms.NO_DATA, "device": serial,
                        "facility": facility, "start": from_epoch(ref), "end": None,
                        "duration_minutes": notice.duration_minutes, "min_celsius": None,
                        "max_celsius": None})
    return out


def alarms(session: Session, actor: Actor, now: datetime, params: AlarmParams,
           unit: OrgUnit | None = None, device: str | None = None, open_only: bool = False,
           since: datetime | None = None, limit: int = 1000) -> list[dict[str, Any]]:
    """Return alarms and notices of one device or of a unit's subtree, newest first.

    Withdrawn rows are left out; a device silent for `no_data_hours` as of `now` shows an
    open no_data notice even before the periodic scan stores it (id null).
    """
    query = (select(ColdChainAlarm, TemperatureDevice.serial, OrgUnit.code)
             .join(TemperatureDevice, TemperatureDevice.id == ColdChainAlarm.device_id)
             .join(Equipment, Equipment.id == TemperatureDevice.equipment_id)
             .join(OrgUnit, OrgUnit.id == Equipment.facility_id)
             .where(ColdChainAlarm.withdrawn.is_(False)))
    dev_query = (select(TemperatureDevice.id, TemperatureDevice.serial, OrgUnit.code,
                        TemperatureDevice.created_at)
                 .join(Equipment, Equipment.id == TemperatureDevice.equipment_id)
                 .join(OrgUnit, OrgUnit.id == Equipment.facility_id))
    if device is not None:
        place = device_for_read(session, actor, device)
        query = query.where(ColdChainAlarm.device_id == place.device.id)
        dev_query = dev_query.where(TemperatureDevice.id == place.device.id)
    else:
        assert unit is not None and actor.covers(unit.path)
        query = query.where(_subtree(unit))
        dev_query = dev_query.where(_subtree(unit))
    if open_only:
        query = query.where(ColdChainAlarm.end.is_(None))
    if since is not None:
        since = utc(since)
        query = query.where((ColdChainAlarm.end.is_(None)) | (ColdChainAlarm.end >= since))
    rows = session.execute(query.order_by(ColdChainAlarm.start.desc(), ColdChainAlarm.id.desc())
                           .limit(limit)).all()
    out = [alarm_dict(a, serial, code) for a, serial, code in rows]
    stored_open = {a.device_id for a, _, _ in rows if a.type == rules_alarms.NO_DATA
                   and a.end is None}
    devices = {i: (s, c, created) for i, s, c, created in session.execute(dev_query)}
    out = _live_no_data(session, devices, stored_open, now, params) + out
    out.sort(key=lambda a: a["start"], reverse=True)
    return out[:limit]


@dataclass(frozen=True)
class AlarmNotice:
    """An alarm or notice to send to the facility and its district (dedupe: id + type)."""

    alarm_id: int
    type: str
    device: str
    facility_id: int
    facility_code: str
    facility_name: str
    district_id: int
    start: datetime
    end: datetime | None
    duration_minutes: int
    min_celsius: float | None
    max_celsius: float | None


def alarms_to_notify(session: Session, since: datetime | None = None) -> list[AlarmNotice]:
    """Return the stored alarms and notices created or updated since `since` (all when None),
    not withdrawn, oldest first. `district_id` is the facility's district (level 3); for
    equipment in a district, regional or national store it is that store's own unit. Call
    `services.scan_no_data` first so that silent devices are included."""
    query = (select(ColdChainAlarm, TemperatureDevice.serial, OrgUnit)
             .join(TemperatureDevice, TemperatureDevice.id == ColdChainAlarm.device_id)
             .join(Equipment, Equipment.id == TemperatureDevice.equipment_id)
             .join(OrgUnit, OrgUnit.id == Equipment.facility_id)
             .where(ColdChainAlarm.withdrawn.is_(False)))
    if since is not None:
        query = query.where(ColdChainAlarm.updated_at >= since)
    out = []
    for a, serial, unit in session.execute(query.order_by(ColdChainAlarm.id)):
        district_id = unit.id
        if unit.level > DISTRICT and unit.parent_id is not None:
            parent = session.get(OrgUnit, unit.parent_id)
            while parent is not None and parent.level > DISTRICT and parent.parent_id:
                parent = session.get(OrgUnit, parent.parent_id)
            district_id = parent.id if parent is not None else unit.id
        out.append(AlarmNotice(a.id, a.type, serial, unit.id, unit.code, unit.name, district_id,
                               utc(a.start), utc(a.end) if a.end is not None else None,
                               a.duration_minutes, a.min_celsius, a.max_celsius))
    return out


# --------------------------------------------------------------------------- readings

def trace(session: Session, device_id: int, start: datetime, end: datetime
          ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.float64]]:
    """Return a device's readings between two times as (epoch seconds, °C) arrays."""
    rows = session.execute(select(Reading.at, Reading.celsius).where(
        Reading.device_id == device_id, Reading.at >= start, Reading.at <= end)
        .order_by(Reading.at)).all()
    return (np.fromiter((epoch(r[0]) for r in rows), dtype=np.int64, count=len(rows)),
            np.fromiter((r[1] for r in rows), dtype=np.float64, count=len(rows)))


def last_reading(session: Session, device_id: int) -> datetime | None:
    """Return the time of a device's newest reading."""
    at = session.scalar(select(func.max(Reading.at)).where(Reading.device_id == device_id))
    return utc(at) if at is not None else None


# --------------------------------------------------------------------------- figures

def _ancestor(path: str, level: int) -> str:
    return "/".join(path.split("/")[: level + 1])


def functionality(session: Session, actor: Actor, unit: OrgUnit, level: int | None = None
                  ) -> list[dict[str, Any]]:
    """Return functional, installed (decommissioned excluded) and the functionality rate
    (§5) for the unit itself, then for each of its descendants at `level` that holds any
    equipment (default: the level below, at most the facility level)."""
    assert actor.covers(unit.path)
    level = level or min(unit.level + 1, FACILITY)
    level = max(level, unit.level)
    rows = session.execute(select(OrgUnit.path, Equipment.status)
                           .join(OrgUnit, OrgUnit.id == Equipment.facility_id)
                           .where(_subtree(unit))).all()
    counts: dict[str, list[int]] = {}
    total = [0, 0, 0]
    for path, status in rows:
        key = _ancestor(path, level) if path.count("/") >= level else None
        slots = [total] + ([counts.setdefault(key, [0, 0, 0])] if key else [])
        for c in slots:
            if status == "decommissioned":
                c[2] += 1
            else:
                c[1] += 1
                c[0] += status == "functional"

    def row(u: OrgUnit, c: list[int]) -> dict[str, Any]:
        return {"code": u.code, "name": u.name, "level": u.level, "functional": c[0],
                "installed": c[1], "decommissioned": c[2],
                "rate": functionality_rate(c[0], c[1])}

    out = [row(unit, total)]
    if level > unit.level and counts:
        uid_of = {p.split("/")[-1]: p for p in counts}
        units = session.scalars(select(OrgUnit).where(OrgUnit.uid.in_(list(uid_of)))).all()
        out += sorted((row(u, counts[u.path]) for u in units if u.path in counts),
                      key=lambda r: str(r["name"]))
    return out


def solar_progress(session: Session, actor: Actor, unit: OrgUnit) -> list[dict[str, Any]]:
    """Return solar direct-drive refrigerators installed (not decommissioned) and functional
    vs the target, by region within the unit (empty below the region level). Regions
    without a stored target use the default split (2,000 by CSCom count)."""
    assert actor.covers(unit.path)
    if unit.level > REGION:
        return []
    regions = list(session.scalars(select(OrgUnit).where(
        OrgUnit.level == REGION, OrgUnit.hierarchy == "health", _subtree(unit))
        .order_by(OrgUnit.name)))
    stored = {t.region_id: t for t in session.scalars(select(SolarTarget))}
    defaults: dict[str, int] = {}
    if any(r.id not in stored for r in regions):
        all_regions = session.scalars(select(OrgUnit).where(
            OrgUnit.level == REGION, OrgUnit.hierarchy == "health")).all()
        paths = list(session.scalars(select(OrgUnit.path).where(OrgUnit.level == FACILITY)))
        weights = {r.code: sum(1 for p in paths if p.startswith(r.path + "/"))
                   for r in all_regions}
        defaults = split_target(SOLAR_TARGET, weights)
    rows = session.execute(select(OrgUnit.path, Equipment.status)
                           .join(OrgUnit, OrgUnit.id == Equipment.facility_id)
                           .where(Equipment.type == SOLAR,
                                  Equipment.status != "decommissioned", _subtree(unit))).all()
    out = []
    for r in regions:
        mine = [s for p, s in rows if p.startswith(r.path + "/") or p == r.path]
        target = stored[r.id].target if r.id in stored else defaults.get(r.code, 0)
        out.append({"code": r.code, "name": r.name, "installed": len(mine),
                    "functional": sum(1 for s in mine if s == "functional"), "target": target,
                    "target_source": stored[r.id].source if r.id in stored else "default",
                    "percent": round(100.0 * len(mine) / target, 1) if target else None})
    return out
