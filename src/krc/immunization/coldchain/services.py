"""Every write of the cold chain: equipment, status changes, devices, readings, alarms,
solar targets. Pages, API, CLI and the demo call these functions (one write path).

Reference: reference/immunization.md §5.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import and_, func, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from krc.accounts.roles import INTEGRATION, OPERATIONS_WRITE, Actor
from krc.accounts.services import audit
from krc.db import is_postgres
from krc.errors import Conflict, DomainError, Forbidden, Message, NotFound, invalid
from krc.geo.models import REGION, VILLAGE, OrgUnit
from krc.immunization.coldchain import alarms as rules_alarms
from krc.immunization.coldchain.alarms import AlarmParams
from krc.immunization.coldchain.models import (
    ColdChainAlarm,
    Equipment,
    EquipmentStatusChange,
    Reading,
    ReadingUpload,
    SolarTarget,
    TemperatureDevice,
)
from krc.immunization.coldchain.params import load_params
from krc.immunization.coldchain.rules import (
    DEVICE_KINDS,
    ENERGY_SOURCES,
    EQUIPMENT_TYPES,
    SOLAR_TARGET,
    STATUSES,
    split_target,
)
from krc.immunization.coldchain.schemas import EquipmentCreate

READINGS_WRITE = OPERATIONS_WRITE | INTEGRATION
MIN_CELSIUS, MAX_CELSIUS = -60.0, 80.0  # outside: a sensor fault, refused
FUTURE_TOLERANCE = timedelta(days=1)  # device clocks drift; later than this is refused
EARLIEST = datetime(2000, 1, 1, tzinfo=UTC)


# --------------------------------------------------------------------------- time helpers

def utc(dt: datetime) -> datetime:
    """Return an aware UTC datetime (SQLite returns naive values, stored as UTC)."""
    return dt.replace(tzinfo=UTC) if dt.tzinfo is None else dt.astimezone(UTC)


def epoch(dt: datetime) -> int:
    """Return epoch seconds of a datetime (naive means UTC)."""
    return int(utc(dt).timestamp())


def from_epoch(seconds: int) -> datetime:
    """Return the aware UTC datetime of epoch seconds."""
    return datetime.fromtimestamp(int(seconds), UTC)


# --------------------------------------------------------------------------- authorisation

def _role(actor: Actor, allowed: frozenset[str]) -> None:
    if actor.role not in allowed:
        raise Forbidden("role_forbidden", Message(
            "Votre rôle ({role}) ne permet pas de modifier la chaîne du froid",
            "Your role ({role}) may not change the cold chain", {"role": actor.role}))


def equipment_for_write(session: Session, actor: Actor, serial: str) -> Equipment:
    """Return an equipment the actor may change, or raise 403 (role) / 404 (also out of scope)."""
    _role(actor, OPERATIONS_WRITE)
    row = session.execute(select(Equipment, OrgUnit.path)
                          .join(OrgUnit, OrgUnit.id == Equipment.facility_id)
                          .where(Equipment.serial == serial)).first()
    if row is None or not actor.covers(row[1]):
        raise NotFound("equipment_not_found", Message(
            "Équipement introuvable : {s}", "Equipment not found: {s}", {"s": serial}),
            field="equipment")
    return row[0]


def device_for_write(session: Session, actor: Actor, serial: str) -> TemperatureDevice:
    """Return a device the actor may post readings for (row locked), or raise 403 / 404."""
    _role(actor, READINGS_WRITE)
    query = (select(TemperatureDevice, OrgUnit.path)
             .join(Equipment, Equipment.id == TemperatureDevice.equipment_id)
             .join(OrgUnit, OrgUnit.id == Equipment.facility_id)
             .where(TemperatureDevice.serial == serial))
    if is_postgres(session):
        # Uploads for one device are serialised, so concurrent re-detections never race.
        query = query.with_for_update(of=TemperatureDevice)
    row = session.execute(query).first()
    if row is None or not actor.covers(row[1]):
        raise NotFound("device_not_found", Message(
            "Appareil de température introuvable : {s}", "Temperature device not found: {s}",
            {"s": serial}), field="device")
    return row[0]


# --------------------------------------------------------------------------- equipment

@dataclass
class Registered:
    """An equipment and whether this call created it (False: a replay)."""

    equipment: Equipment
    created: bool


def _choice(value: str | None, allowed: tuple[str, ...], field_name: str) -> None:
    if value is not None and value not in allowed:
        raise invalid(field_name, f"{field_name}_unknown", "Valeur inconnue : {v} ; valides : {a}",
                      "Unknown value: {v}; valid: {a}", v=value, a=", ".join(allowed))


def register_equipment(session: Session, actor: Actor, data: EquipmentCreate, today: date
                       ) -> Registered:
    """Register an equipment (replay of the same serial at the same place returns it)."""
    _role(actor, OPERATIONS_WRITE)
    _choice(data.type, EQUIPMENT_TYPES, "type")
    _choice(data.status, STATUSES, "status")
    _choice(data.energy_source, ENERGY_SOURCES, "energy_source")
    _choice(data.device_kind, DEVICE_KINDS, "device_kind")
    if data.installed_on is not None and data.installed_on > today:
        raise invalid("installed_on", "date_future", "La date {d} est dans le futur",
                      "The date {d} is in the future", d=data.installed_on.isoformat())
    unit = session.scalar(select(OrgUnit).where(OrgUnit.code == data.facility))
    if unit is None:
        raise invalid("facility", "org_unit_unknown", "Unité d'organisation inconnue : {code}",
                      "Unknown org unit: {code}", code=data.facility)
    if not actor.covers(unit.path):
        raise Forbidden("out_of_scope", Message("{n} est hors de votre zone",
                                                "{n} is outside your area", {"n": unit.name}),
                        field="facility")
    if unit.level >= VILLAGE:
        raise invalid("facility", "org_unit_wrong_level",
                      "{code} est un village : l'équipement est dans un CSCom ou un dépôt",
                      "{code} is a village: equipment sits in a CSCom or a store",
                      code=data.facility)
    existing = session.scalar(select(Equipment).where(Equipment.serial == data.serial))
    if existing is not None:
        if existing.facility_id == unit.id and existing.type == data.type:
            return Registered(existing, False)
        raise Conflict("serial_taken", Message(
            "Le numéro de série {s} est déjà enregistré", "Serial {s} is already registered",
            {"s": data.serial}), field="serial")
    now = datetime.now(UTC)
    eq = Equipment(serial=data.serial, type=data.type, pqs_code=data.pqs_code or None,
                   model=data.model or None, facility_id=unit.id, installed_on=data.installed_on,
                   energy_source=data.energy_source, status=data.status, created_at=now,
                   updated_at=now)
    session.add(eq)
    session.flush()
    session.add(EquipmentStatusChange(equipment_id=eq.id, at=now, user_id=actor.user_id,
                                      username=actor.username, from_status=None,
                                      to_status=data.status, note="installation"))
    audit(session, actor, "create", "cc_equipment", data.serial,
          {"type": data.type, "facility": unit.code, "status": data.status})
    if data.device:
        attach_device(session, actor, data.serial, data.device, data.device_kind)
    return Registered(eq, True)


def change_status(session: Session, actor: Actor, serial: str, status: str, note: str = "",
                  at: datetime | None = None) -> Equipment:
    """Change an equipment's status (history row + audit); the same status is a no-op."""
    _choice(status, STATUSES, "status")
    eq = equipment_for_write(session, actor, serial)
    if eq.status == status:
        return eq
    now = at or datetime.now(UTC)
    session.add(EquipmentStatusChange(equipment_id=eq.id, at=now, user_id=actor.user_id,
                                      username=actor.username, from_status=eq.status,
                                      to_status=status, note=note.strip()))
    audit(session, actor, "update", "cc_equipment", serial,
          {"before": {"status": eq.status}, "status": status, "note": note})
    eq.status, eq.updated_at = status, now
    return eq


def attach_device(session: Session, actor: Actor, equipment_serial: str, serial: str,
                  kind: str = "30dtr") -> TemperatureDevice:
    """Attach a temperature device to an equipment (idempotent; moving one is refused)."""
    _choice(kind, DEVICE_KINDS, "kind")
    eq = equipment_for_write(session, actor, equipment_serial)
    dev = session.scalar(select(TemperatureDevice).where(TemperatureDevice.serial == serial))
    if dev is not None:
        if dev.equipment_id == eq.id:
            return dev
        raise Conflict("device_taken", Message(
            "L'appareil {s} est déjà attaché à un autre équipement",
            "Device {s} is already attached to another equipment", {"s": serial}),
            field="device")
    dev = TemperatureDevice(serial=serial, kind=kind, equipment_id=eq.id,
                            created_at=datetime.now(UTC))
    session.add(dev)
    session.flush()
    audit(session, actor, "create", "cc_device", serial,
          {"equipment": equipment_serial, "kind": kind})
    return dev


# --------------------------------------------------------------------------- readings

@dataclass
class Upload:
    """What an upload did (counts) and the device's open alarms afterwards."""

    device: TemperatureDevice
    received: int
    new: int
    duplicates: int
    conflicts: int
    open_alarms: list[ColdChainAlarm] = field(default_factory=list)


def _check_values(t: npt.NDArray[np.int64], c: npt.NDArray[np.float64], now: datetime) -> None:
    bad = np.flatnonzero((c < MIN_CELSIUS) | (c > MAX_CELSIUS))
    if bad.size:
        i = int(bad[0])
        raise invalid("readings", "reading_out_of_range",
                      "Lecture du {at} : {v} °C hors de la plage possible ({lo} à {hi} °C)",
                      "Reading at {at}: {v} °C outside the possible range ({lo} to {hi} °C)",
                      at=from_epoch(int(t[i])).isoformat(), v=float(c[i]), lo=MIN_CELSIUS,
                      hi=MAX_CELSIUS)
    late = epoch(now + FUTURE_TOLERANCE)
    if t.size and (int(t.max()) > late or int(t.min()) < epoch(EARLIEST)):
        i = int(np.argmax(t)) if int(t.max()) > late else int(np.argmin(t))
        raise invalid("readings", "reading_time_invalid",
                      "Lecture datée du {at} : date impossible (dans le futur ou avant 2000)",
                      "Reading dated {at}: impossible date (in the future or before 2000)",
                      at=from_epoch(int(t[i])).isoformat())


def _insert_readings(session: Session, device_id: int, t: npt.NDArray[np.int64],
                     c: npt.NDArray[np.float64]) -> None:
    rows = [{"device_id": device_id, "at": from_epoch(a), "celsius": v}
            for a, v in zip(t.tolist(), c.tolist(), strict=True)]
    if not rows:
        return
    insert = pg_insert if is_postgres(session) else sqlite_insert
    chunk = 5000
    for i in range(0, len(rows), chunk):
        session.execute(insert(Reading).on_conflict_do_nothing(), rows[i:i + chunk])


def upload_readings(session: Session, actor: Actor, serial: str, times: npt.ArrayLike,
                    celsius: npt.ArrayLike, now: datetime, fmt: str = "json",
                    raw: str | None = None, params: AlarmParams | None = None) -> Upload:
    """Store a device's readings (re-uploads change nothing), keep the raw payload, and
    re-detect its alarms from the last point the new readings can affect (§5)."""
    dev = device_for_write(session, actor, serial)
    received = int(np.asarray(times).size)
    t, c = rules_alarms.prepare(times, celsius)
    _check_values(t, c, now)
    stored: dict[int, float] = {}
    if t.size:
        stored = {epoch(a): v for a, v in session.execute(
            select(Reading.at, Reading.celsius).where(
                Reading.device_id == dev.id, Reading.at >= from_epoch(int(t[0])),
                Reading.at <= from_epoch(int(t[-1]))))}
    known = np.fromiter(stored.keys(), dtype=np.int64, count=len(stored))
    is_new = ~np.isin(t, known)
    conflicts = 0
    if (~is_new).any():
        old = np.asarray([stored[int(a)] for a in t[~is_new].tolist()], dtype=np.float64)
        conflicts = int((np.abs(old - c[~is_new]) > 1e-9).sum())
    new_t, new_c = t[is_new], c[is_new]
    _insert_readings(session, dev.id, new_t, new_c)
    session.add(ReadingUpload(device_serial=serial, device_id=dev.id, received_at=now,
                              user_id=actor.user_id, format=fmt, body=raw or "",
                              status="accepted", received=received, new=int(new_t.size),
                              error=None))
    audit(session, actor, "upload", "cc_device", serial,
          {"format": fmt, "received": received, "new": int(new_t.size), "conflicts": conflicts})
    params = params or load_params(session)
    if new_t.size:
        redetect(session, dev.id, params, int(new_t[0]), now)
    session.flush()
    open_rows = list(session.scalars(
        select(ColdChainAlarm).where(ColdChainAlarm.device_id == dev.id,
                                     ColdChainAlarm.end.is_(None),
                                     ColdChainAlarm.withdrawn.is_(False))
        .order_by(ColdChainAlarm.start)))
    return Upload(dev, received, int(new_t.size), received - int(new_t.size), conflicts,
                  open_rows)


def keep_refused_upload(session: Session, actor: Actor, serial: str, fmt: str, raw: str,
                        error: DomainError) -> None:
    """Keep the raw payload of a refused upload (its own transaction), so nothing is lost."""
    dev_id = session.scalar(select(TemperatureDevice.id).where(
        TemperatureDevice.serial == serial))
    session.add(ReadingUpload(device_serial=serial[:60], device_id=dev_id,
                              received_at=datetime.now(UTC), user_id=actor.user_id,
                              format=fmt, body=raw, status="refused", received=0, new=0,
                              error=json.dumps({"code": error.code, "message": error.text("en")}
                                               )[:1000]))


def _within(params: AlarmParams) -> Any:
    """Return the SQL condition of a reading within both limits (§5)."""
    not_frozen = Reading.celsius > params.freeze_at if params.freeze_inclusive \
        else Reading.celsius >= params.freeze_at
    return and_(Reading.celsius <= params.heat_above, not_frozen)


def redetect(session: Session, device_id: int, params: AlarmParams, since: int | None,
             now: datetime) -> int:
    """Recompute the device's heat/freeze alarms and data gaps from the last reading within
    both limits before `since` (every excursion after it is then seen whole), update the
    stored rows by (device, type, start), withdraw the ones that no longer hold, and close
    open no_data notices that readings now follow. Return the number of new rows."""
    cut: datetime | None = None
    if since is not None:
        cut = session.scalar(select(func.max(Reading.at)).where(
            Reading.device_id == device_id, Reading.at < from_epoch(since), _within(params)))
    query = select(Reading.at, Reading.celsius).where(Reading.device_id == device_id)
    if cut is not None:
        query = query.where(Reading.at >= cut)
    rows = session.execute(query.order_by(Reading.at)).all()
    times = np.fromiter((epoch(r[0]) for r in rows), dtype=np.int64, count=len(rows))
    temps = np.fromiter((r[1] for r in rows), dtype=np.float64, count=len(rows))
    events = rules_alarms.detect(times, temps, params)
    existing_q = select(ColdChainAlarm).where(
        ColdChainAlarm.device_id == device_id,
        ColdChainAlarm.type.in_((rules_alarms.HEAT, rules_alarms.FREEZE,
                                 rules_alarms.DATA_GAP)))
    if cut is not None:
        existing_q = existing_q.where(ColdChainAlarm.start >= cut)
    existing = {(a.type, epoch(a.start)): a for a in session.scalars(existing_q)}
    created = 0
    for e in events:
        row = existing.pop((e.type, e.start), None)
        end = from_epoch(e.end) if e.end is not None else None
        if row is None:
            session.add(ColdChainAlarm(
                device_id=device_id, type=e.type, start=from_epoch(e.start), end=end,
                duration_minutes=e.duration_minutes, min_celsius=e.min_celsius,
                max_celsius=e.max_celsius, withdrawn=False, detected_at=now, updated_at=now))
            created += 1
            continue
        changed = (row.withdrawn or row.duration_minutes != e.duration_minutes
                   or (row.end is None) != (end is None)
                   or (end is not None and row.end is not None and utc(row.end) != end)
                   or row.min_celsius != e.min_celsius or row.max_celsius != e.max_celsius)
        if changed:
            row.end, row.duration_minutes = end, e.duration_minutes
            row.min_celsius, row.max_celsius = e.min_celsius, e.max_celsius
            row.withdrawn, row.updated_at = False, now
    for row in existing.values():
        if not row.withdrawn:
            row.withdrawn, row.updated_at = True, now
    for nd in session.scalars(select(ColdChainAlarm).where(
            ColdChainAlarm.device_id == device_id, ColdChainAlarm.type == rules_alarms.NO_DATA,
            ColdChainAlarm.end.is_(None))):
        after = session.scalar(select(func.min(Reading.at)).where(
            Reading.device_id == device_id, Reading.at > nd.start))
        if after is not None:
            nd.end = utc(after)
            nd.duration_minutes = (epoch(after) - epoch(nd.start)) // 60
            nd.updated_at = now
    return created


def redetect_all(session: Session, now: datetime, params: AlarmParams | None = None) -> int:
    """Recompute every device's alarms from all its readings (after a threshold change)."""
    params = params or load_params(session)
    total = 0
    for device_id in session.scalars(select(TemperatureDevice.id).order_by(
            TemperatureDevice.id)):
        total += redetect(session, device_id, params, None, now)
    return total


def scan_no_data(session: Session, now: datetime, params: AlarmParams | None = None) -> int:
    """Open a `no_data` notice for each device silent for `no_data_hours` as of `now` (§5);
    a device that never sent anything counts from its registration. Returns new notices;
    open ones get their duration updated. Idempotent (unique device, type, start)."""
    params = params or load_params(session)
    last = dict(session.execute(select(Reading.device_id, func.max(Reading.at))
                                .group_by(Reading.device_id)).all())
    opened = {(a.device_id, epoch(a.start)): a for a in session.scalars(
        select(ColdChainAlarm).where(ColdChainAlarm.type == rules_alarms.NO_DATA))}
    new = 0
    now_s = epoch(now)
    for dev_id, created_at in session.execute(select(TemperatureDevice.id,
                                                     TemperatureDevice.created_at)):
        ref = epoch(last[dev_id]) if dev_id in last else epoch(created_at)
        notice = rules_alarms.no_data(ref, now_s, params)
        if notice is None:
            continue
        row = opened.get((dev_id, ref))
        if row is None:
            session.add(ColdChainAlarm(
                device_id=dev_id, type=rules_alarms.NO_DATA, start=from_epoch(ref), end=None,
                duration_minutes=notice.duration_minutes, min_celsius=None, max_celsius=None,
                withdrawn=False, detected_at=now, updated_at=now))
            new += 1
        elif row.end is None and row.duration_minutes != notice.duration_minutes:
            row.duration_minutes = notice.duration_minutes
    return new


# --------------------------------------------------------------------------- solar targets

def _regions(session: Session) -> list[OrgUnit]:
    return list(session.scalars(select(OrgUnit).where(OrgUnit.level == REGION,
                                                      OrgUnit.hierarchy == "health")
                                .order_by(OrgUnit.code)))


def default_targets(session: Session, total: int = SOLAR_TARGET) -> dict[str, int]:
    """Return the solar target by region code: `total` split in proportion to each region's
    number of CSComs (level 4), largest remainder; equal shares when no CSCom is known."""
    regions = _regions(session)
    facilities = list(session.scalars(select(OrgUnit.path).where(OrgUnit.level == 4)))
    weights = {}
    for r in regions:
        prefix = r.path + "/"
        weights[r.code] = sum(1 for p in facilities if p.startswith(prefix))
    return split_target(total, weights)


def set_solar_targets(session: Session, actor: Actor | None, targets: dict[str, int],
                      source: str = "official") -> int:
    """Store solar targets by region code (replacing those regions' targets); audited."""
    if actor is not None and actor.role not in ("admin", "national"):
        raise Forbidden("role_forbidden", Message(
            "Seuls l'administrateur et le programme national fixent les cibles",
            "Only the administrator and the national programme set targets"))
    by_code = {r.code: r for r in _regions(session)}
    for code, value in targets.items():
        if code not in by_code:
            raise invalid("targets", "region_unknown", "Région inconnue : {c}",
                          "Unknown region: {c}", c=code)
        if not isinstance(value, int) or value < 0:
            raise invalid("targets", "target_invalid", "Cible invalide pour {c} : {v}",
                          "Invalid target for {c}: {v}", c=code, v=value)
    for code, value in targets.items():
        row = session.get(SolarTarget, by_code[code].id)
        if row is None:
            session.add(SolarTarget(region_id=by_code[code].id, target=value, source=source))
        else:
            row.target, row.source = value, source
    audit(session, actor, "update", "cc_solar_target", "regions",
          {"targets": targets, "source": source})
    return len(targets)


def load_default_targets(session: Session, actor: Actor | None = None,
                         total: int = SOLAR_TARGET) -> dict[str, int]:
    """Store the default split of the solar target (see `default_targets`) and return it."""
    targets = default_targets(session, total)
    set_solar_targets(session, actor, targets, source="default")
    return targets
