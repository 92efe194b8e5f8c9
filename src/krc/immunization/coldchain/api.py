"""JSON routes of the cold chain (/api/v1): parse, authorise, call a service or query, shape."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, time
from typing import Any

import numpy as np
from fastapi import APIRouter, Body, Depends, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import ValidationError

from krc.accounts.roles import Actor
from krc.db import Database
from krc.errors import DomainError, Message
from krc.geo.queries import unit_in_scope
from krc.immunization.coldchain import queries, services
from krc.immunization.coldchain.csvformat import parse_csv
from krc.immunization.coldchain.params import load_params, params_dict
from krc.immunization.coldchain.schemas import (
    AlarmRead,
    DeviceCreate,
    EquipmentCreate,
    EquipmentDetail,
    EquipmentRead,
    FunctionalityRow,
    ReadingsUpload,
    SolarRow,
    SolarTargets,
    StatusChange,
    UploadResult,
)
from krc.web.deps import get_db, require_actor, today
from krc.web.problems import PROBLEM, REFUSALS

router = APIRouter(tags=["coldchain"])



def now_of(request: Request) -> datetime:
    """Return "now" (UTC): `app.state.now()` when set (tests), noon of the fixed clock's day,
    or the real time."""
    fixed: Callable[[], datetime] | None = getattr(request.app.state, "now", None)
    if fixed is not None:
        return services.utc(fixed())
    if getattr(request.app.state, "clock", None) is not None:
        return datetime.combine(today(request), time(12, 0), UTC)
    return datetime.now(UTC)


def _inline(schema: dict[str, Any]) -> dict[str, Any]:
    """Return a JSON schema with its `$defs` references replaced by the definitions."""
    defs = schema.pop("$defs", {})

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref", "")
            if ref.startswith("#/$defs/"):
                return walk(defs[ref.rsplit("/", 1)[-1]])
            return {k: walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return node

    out: dict[str, Any] = walk(schema)
    return out


def _upload(db: Database, actor: Actor, serial: str, times: Any, celsius: Any,
            now: datetime, fmt: str, raw: str) -> dict[str, Any]:
    """Run an upload; when refused, keep its raw payload in a transaction of its own."""
    try:
        with db.session() as s:
            result = services.upload_readings(s, actor, serial, times, celsius, now, fmt, raw)
            facility = queries.device_for_read(s, actor, serial).facility.code
            return {"device": serial, "received": result.received, "new": result.new,
                    "duplicates": result.duplicates, "conflicts": result.conflicts,
                    "open_alarms": [queries.alarm_dict(a, serial, facility)
                                    for a in result.open_alarms]}
    except DomainError as exc:
        if exc.status == 422:
            with db.session() as s:
                services.keep_refused_upload(s, actor, serial, fmt, raw, exc)
        raise


@router.post("/coldchain/readings", response_model=UploadResult, responses=REFUSALS,
             openapi_extra={"requestBody": {"required": True, "content": {
                 "application/json": {"schema": _inline(
                     ReadingsUpload.model_json_schema())}}}})
async def post_readings(request: Request, actor: Actor = Depends(require_actor),
                        db: Database = Depends(get_db)) -> dict[str, Any]:
    """Store a device's readings `{"device": SERIAL, "readings": [{"at": ISO UTC, "celsius":
    4.2}]}` (re-sent readings change nothing) and re-detect its alarms (WHO PQS 30-DTR rules,
    reference/immunization.md §5); answer counts and the open alarms. The raw payload is kept,
    also when it is refused."""
    raw = (await request.body()).decode("utf-8", "replace")
    try:
        body = ReadingsUpload.model_validate_json(raw)
    except ValidationError as exc:
        if actor.role in services.READINGS_WRITE:
            serial = _serial_of(raw)
            await run_in_threadpool(_keep, db, actor, serial, "json", raw, DomainError(
                "validation_error", Message("Saisie invalide", "Invalid input")))
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])}
                                      for e in exc.errors()]) from None
    times = np.fromiter((int(services.utc(r.at).timestamp()) for r in body.readings),
                        dtype=np.int64, count=len(body.readings))
    celsius = np.fromiter((r.celsius for r in body.readings), dtype=np.float64,
                          count=len(body.readings))
    return await run_in_threadpool(_upload, db, actor, body.device, times, celsius,
                                   now_of(request), "json", raw)


def _serial_of(raw: str) -> str:
    """Return the device serial of a payload that failed validation, when readable."""
    try:
        value = json.loads(raw).get("device")
    except (ValueError, AttributeError):
        return ""
    return value[:60] if isinstance(value, str) else ""


def _keep(db: Database, actor: Actor, serial: str, fmt: str, raw: str,
          error: DomainError) -> None:
    with db.session() as s:
        services.keep_refused_upload(s, actor, serial, fmt, raw, error)


@router.post("/coldchain/readings.csv", response_model=UploadResult, responses=REFUSALS,
             openapi_extra={"requestBody": {"required": True, "content": {
                 "text/csv": {"schema": {"type": "string"}}}}})
async def post_readings_csv(request: Request, device: str = Query(..., min_length=1,
                                                                  max_length=60),
                            actor: Actor = Depends(require_actor),
                            db: Database = Depends(get_db)) -> dict[str, Any]:
    """Upload a 30-day recorder's CSV export for a device: header with a time and a
    temperature column, `,` `;` or tab separated, decimal comma accepted, ISO or
    DD/MM/YYYY HH:MM times (UTC). Errors name the line and column."""
    data = await request.body()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("cp1252", "replace")  # recorders' Windows exports
    try:
        times, celsius = parse_csv(text)
    except DomainError as exc:
        await run_in_threadpool(_keep_csv, db, actor, device, text, exc)
        raise
    return await run_in_threadpool(_upload, db, actor, device, times, celsius,
                                   now_of(request), "csv", text)


def _keep_csv(db: Database, actor: Actor, device: str, text: str, exc: DomainError) -> None:
    with db.session() as s:
        services.device_for_write(s, actor, device)  # 403/404 before keeping anything
        services.keep_refused_upload(s, actor, device, "csv", text, exc)


@router.get("/coldchain/alarms", response_model=list[AlarmRead], responses=REFUSALS)
def get_alarms(request: Request, device: str | None = None, org_unit: str | None = None,
               open: bool = False, since: datetime | None = None,
               limit: int = Query(500, ge=1, le=5000), actor: Actor = Depends(require_actor),
               db: Database = Depends(get_db)) -> list[dict[str, Any]]:
    """Return alarms (heat, freeze) and notices (data_gap, no_data) of a device or of an org
    unit's subtree (default: the caller's), newest first; `end` is null while open."""
    with db.session(write=False) as s:
        params = load_params(s)
        if device:
            return queries.alarms(s, actor, now_of(request), params, device=device,
                                  open_only=open, since=since, limit=limit)
        unit = unit_in_scope(s, actor, org_unit)
        return queries.alarms(s, actor, now_of(request), params, unit=unit, open_only=open,
                              since=since, limit=limit)


@router.post("/coldchain/equipment", status_code=201, response_model=EquipmentDetail,
             responses={**REFUSALS, 200: {"description": "Replay (same serial and place)"},
                        409: {"description": "Serial already registered elsewhere",
                              **PROBLEM}})
def create_equipment(body: EquipmentCreate, request: Request, response: Response,
                     actor: Actor = Depends(require_actor), db: Database = Depends(get_db)
                     ) -> dict[str, Any]:
    """Register a cold-chain equipment (optionally with its temperature device)."""
    with db.session() as s:
        result = services.register_equipment(s, actor, body, today(request))
        out = queries.equipment_for_read(s, actor, result.equipment.serial)
    if not result.created:
        response.status_code = 200
        response.headers["Idempotent-Replay"] = "true"
    return out


@router.get("/coldchain/equipment", response_model=list[EquipmentRead], responses=REFUSALS)
def list_equipment(org_unit: str | None = None, status: str | None = None,
                   type: str | None = None, actor: Actor = Depends(require_actor),
                   db: Database = Depends(get_db)) -> list[dict[str, Any]]:
    """Return the equipment inventory of an org unit's subtree (default: the caller's)."""
    with db.session(write=False) as s:
        unit = unit_in_scope(s, actor, org_unit)
        return queries.equipment_list(s, actor, unit, status, type)


@router.get("/coldchain/equipment/{serial}", response_model=EquipmentDetail,
            responses=REFUSALS)
def get_equipment(serial: str, actor: Actor = Depends(require_actor),
                  db: Database = Depends(get_db)) -> dict[str, Any]:
    """Return an equipment with its devices and status history."""
    with db.session(write=False) as s:
        return queries.equipment_for_read(s, actor, serial)


@router.post("/coldchain/equipment/{serial}/status", response_model=EquipmentDetail,
             responses=REFUSALS)
def post_status(serial: str, body: StatusChange, actor: Actor = Depends(require_actor),
                db: Database = Depends(get_db)) -> dict[str, Any]:
    """Change an equipment's status (kept in its history, audited)."""
    with db.session() as s:
        services.change_status(s, actor, serial, body.status, body.note)
        return queries.equipment_for_read(s, actor, serial)


@router.post("/coldchain/devices", status_code=201, response_model=EquipmentDetail,
             responses={**REFUSALS, 409: {"description": "Device attached elsewhere",
                                          **PROBLEM}})
def create_device(body: DeviceCreate, actor: Actor = Depends(require_actor),
                  db: Database = Depends(get_db)) -> dict[str, Any]:
    """Attach a temperature device (30-DTR or remote monitor) to an equipment."""
    with db.session() as s:
        services.attach_device(s, actor, body.equipment, body.serial, body.kind)
        return queries.equipment_for_read(s, actor, body.equipment)


@router.get("/coldchain/functionality", response_model=list[FunctionalityRow],
            responses=REFUSALS)
def get_functionality(org_unit: str | None = None, level: int | None = Query(None, ge=1, le=4),
                      actor: Actor = Depends(require_actor), db: Database = Depends(get_db)
                      ) -> list[dict[str, Any]]:
    """Return the functionality rate (functional ÷ installed × 100, decommissioned excluded)
    of the unit, then of its descendants at `level` (reference/immunization.md §5)."""
    with db.session(write=False) as s:
        unit = unit_in_scope(s, actor, org_unit)
        return queries.functionality(s, actor, unit, level)


@router.get("/coldchain/solar", response_model=list[SolarRow], responses=REFUSALS)
def get_solar(org_unit: str | None = None, actor: Actor = Depends(require_actor),
              db: Database = Depends(get_db)) -> list[dict[str, Any]]:
    """Return solar direct-drive refrigerators installed vs target by region (§5)."""
    with db.session(write=False) as s:
        unit = unit_in_scope(s, actor, org_unit)
        return queries.solar_progress(s, actor, unit)


@router.put("/coldchain/solar/targets", response_model=list[SolarRow], responses=REFUSALS)
def put_solar_targets(body: SolarTargets = Body(...), actor: Actor = Depends(require_actor),
                      db: Database = Depends(get_db)) -> list[dict[str, Any]]:
    """Set solar refrigerator targets by region code (admin, national programme)."""
    with db.session() as s:
        services.set_solar_targets(s, actor, body.targets)
        unit = unit_in_scope(s, actor, None)
        return queries.solar_progress(s, actor, unit)


@router.get("/coldchain/settings", responses=REFUSALS)
def get_settings(actor: Actor = Depends(require_actor), db: Database = Depends(get_db)
                 ) -> dict[str, Any]:
    """Return the alarm thresholds in force (set with `krc coldchain settings --set`)."""
    with db.session(write=False) as s:
        return params_dict(load_params(s))
