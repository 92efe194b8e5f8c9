"""HTML pages of the cold chain, over the same services and queries as the JSON API."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup

from krc.accounts.roles import OPERATIONS_WRITE, Actor
from krc.db import Database
from krc.errors import DomainError
from krc.geo.models import FACILITY, LEVEL_NAMES, REGION, OrgUnit
from krc.geo.queries import unit_in_scope
from krc.immunization.coldchain import queries, services
from krc.immunization.coldchain.api import now_of
from krc.immunization.coldchain.chart import Span, trace_svg
from krc.immunization.coldchain.csvformat import parse_csv
from krc.immunization.coldchain.params import load_params
from krc.immunization.coldchain.rules import STATUS_LABELS, STATUSES, TYPE_LABELS
from krc.web import charts
from krc.web.deps import Caller, checked_form, get_db
from krc.web.i18n import translations
from krc.web.problems import language_of
from krc.web.views import N_, PageRoute, page_caller, render

router = APIRouter(include_in_schema=False, route_class=PageRoute)

ALARM_LABELS = {"heat": N_("Alarme chaleur"), "freeze": N_("Alarme gel"),
                "data_gap": N_("Données manquantes"), "no_data": N_("Aucune donnée")}
ENERGY_LABELS = {"solar": ("solaire", "solar"), "electricity": ("électricité", "electricity"),
                 "gas": ("gaz", "gas"), "kerosene": ("pétrole", "kerosene"),
                 "other": ("autre", "other")}
TRACE_DAYS = 30


def _labels(lang: str) -> dict[str, Any]:
    tr = translations(lang).gettext
    pick = 1 if lang == "en" else 0
    return {"type_label": lambda t: TYPE_LABELS.get(t, (t, t))[pick],
            "eq_status_label": lambda s: STATUS_LABELS.get(s, (s, s))[pick],
            "energy_label": lambda e: ENERGY_LABELS.get(e, (e, e))[pick] if e else "—",
            "alarm_label": lambda a: tr(ALARM_LABELS[a]) if a in ALARM_LABELS else a,
            "duration": lambda m: f"{m // 60} h {m % 60:02d}" if m >= 60 else f"{m} min"}


def _can_write(actor: Actor) -> bool:
    return actor.role in OPERATIONS_WRITE


@router.get("/coldchain", response_class=HTMLResponse)
def coldchain_home(request: Request, org_unit: str | None = None,
                   caller: Caller = Depends(page_caller), db: Database = Depends(get_db)
                   ) -> Response:
    """Show the inventory of the caller's area, functionality rate, solar progress, alarms."""
    lang = language_of(request)
    actor = caller.actor
    now = now_of(request)
    with db.session(write=False) as s:
        unit = unit_in_scope(s, actor, org_unit)
        params = load_params(s)
        equipment = queries.equipment_list(s, actor, unit, limit=300)
        rates = queries.functionality(s, actor, unit)
        solar = queries.solar_progress(s, actor, unit)
        recent = queries.alarms(s, actor, now, params, unit=unit,
                                since=now - timedelta(days=TRACE_DAYS), limit=100)
        up = s.get(OrgUnit, unit.parent_id) if unit.parent_id else None
        up_ref = {"code": up.code, "name": up.name} if up and actor.covers(up.path) else None
    for r in rates:
        r["bar"] = Markup(charts.bar(r["rate"], threshold=80.0))
    for r in solar:
        r["bar"] = Markup(charts.bar(r["percent"], threshold=100.0, width=120))
    open_alarms = [a for a in recent if a["end"] is None]
    closed = [a for a in recent if a["end"] is not None]
    level_name = LEVEL_NAMES.get(unit.level, ("", ""))[1 if lang == "en" else 0]
    return render(request, "coldchain_home.html", {
        **_labels(lang), "unit": {"code": unit.code, "name": unit.name, "level": unit.level},
        "level_name": level_name, "equipment": equipment, "rates": rates, "solar": solar,
        "solar_total": {"installed": sum(r["installed"] for r in solar),
                        "target": sum(r["target"] for r in solar)},
        "open_alarms": open_alarms, "recent_alarms": closed[:30], "up": up_ref,
        "show_regions": unit.level < REGION + 1, "facility_level": FACILITY})


def _equipment_context(request: Request, s: Any, actor: Actor, serial: str
                       ) -> dict[str, Any]:
    lang = language_of(request)
    tr = translations(lang).gettext
    now = now_of(request)
    params = load_params(s)
    eq = queries.equipment_for_read(s, actor, serial)
    start = now - timedelta(days=TRACE_DAYS)
    devices = []
    for dev_serial in eq["devices"]:
        place = queries.device_for_read(s, actor, dev_serial)
        times, temps = queries.trace(s, place.device.id, start, now)
        alarms = queries.alarms(s, actor, now, params, device=dev_serial, limit=200)
        spans = [Span(a["type"], services.epoch(a["start"]),
                      services.epoch(a["end"] or now)) for a in alarms
                 if a["type"] in ("heat", "freeze", "data_gap")]
        last = queries.last_reading(s, place.device.id)
        devices.append({
            "serial": dev_serial, "kind": place.device.kind, "last": last,
            "count": int(times.size), "alarms": alarms,
            "chart": Markup(trace_svg(
                times, temps, services.epoch(start), services.epoch(now), spans,
                tr("Températures des %(d)s derniers jours") % {"d": TRACE_DAYS},
                tr("Aucune lecture sur la période"), params.max_gap_minutes * 60)),
        })
    return {**_labels(lang), "eq": eq, "devices": devices, "statuses": STATUSES,
            "can_write": _can_write(actor), "errors": {}, "message": None}


@router.get("/coldchain/equipment/{serial}", response_class=HTMLResponse)
def equipment_page(request: Request, serial: str, done: str | None = None,
                   caller: Caller = Depends(page_caller), db: Database = Depends(get_db)
                   ) -> Response:
    """Show an equipment: status and history, temperature trace with alarms, forms."""
    with db.session(write=False) as s:
        ctx = _equipment_context(request, s, caller.actor, serial)
    tr = translations(language_of(request)).gettext
    if done == "status":
        ctx["message"] = tr("Statut enregistré.")
    elif done and done.startswith("upload:"):
        parts = done.split(":")
        if len(parts) == 3:
            ctx["message"] = tr("Fichier importé : %(n)s nouvelle(s) lecture(s), "
                                "%(d)s déjà connue(s).") % {"n": parts[1], "d": parts[2]}
    return render(request, "coldchain_equipment.html", ctx)


@router.post("/coldchain/equipment/{serial}/status", response_class=HTMLResponse)
async def status_form(request: Request, serial: str, caller: Caller = Depends(page_caller),
                      db: Database = Depends(get_db)) -> Response:
    """Change an equipment's status through services.change_status."""
    form = await checked_form(request, caller)
    lang = language_of(request)
    try:
        with db.session() as s:
            services.change_status(s, caller.actor, serial, str(form.get("status") or ""),
                                   str(form.get("note") or "")[:500])
    except DomainError as exc:
        if exc.status != 422:
            raise
        with db.session(write=False) as s:
            ctx = _equipment_context(request, s, caller.actor, serial)
        ctx["errors"] = {"status": exc.text(lang)}
        return render(request, "coldchain_equipment.html", ctx, status=422)
    return RedirectResponse(f"/coldchain/equipment/{quote(serial)}?done=status", 303)


@router.post("/coldchain/devices/{device}/upload", response_class=HTMLResponse)
async def upload_form(request: Request, device: str, caller: Caller = Depends(page_caller),
                      db: Database = Depends(get_db)) -> Response:
    """Import a recorder's CSV file for a device (same service as the API)."""
    form = await checked_form(request, caller)
    lang = language_of(request)
    upload = form.get("file")
    if upload is None or isinstance(upload, str):
        data = (upload or "").encode()
    else:
        data = await upload.read()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = data.decode("cp1252", "replace")
    with db.session(write=False) as s:
        equipment_serial = queries.device_for_read(s, caller.actor, device).equipment.serial
    try:
        times, celsius = parse_csv(text)
        with db.session() as s:
            result = services.upload_readings(s, caller.actor, device, times, celsius,
                                              now_of(request), "csv", text)
    except DomainError as exc:
        if exc.status != 422:
            raise
        with db.session() as s:
            services.keep_refused_upload(s, caller.actor, device, "csv", text, exc)
        with db.session(write=False) as s:
            ctx = _equipment_context(request, s, caller.actor, equipment_serial)
        ctx["errors"] = {"file": exc.text(lang),
                         "lines": [e.message.text(lang) for e in exc.errors[:20]]}
        return render(request, "coldchain_equipment.html", ctx, status=422)
    return RedirectResponse(f"/coldchain/equipment/{quote(equipment_serial)}"
                            f"?done=upload:{result.new}:{result.duplicates}", 303)
