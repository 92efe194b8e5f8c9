"""HTML pages of outreach: the sessions of an area with the planning form, a session with its
report and its actions, and the printable micro-plan of a health area.

The pages call the same services and queries as the JSON API (French first, English through
`locale/en/LC_MESSAGES/outreach.po`).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, timedelta
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from krc.accounts.roles import OPERATIONS_WRITE, Actor
from krc.db import Database
from krc.errors import DomainError, invalid
from krc.geo.models import DISTRICT, FACILITY, OrgUnit
from krc.geo.queries import unit_in_scope
from krc.immunization import queries as imm_queries
from krc.immunization.outreach import queries, services
from krc.immunization.outreach.rules import PLACE_TYPES, STRATEGIES
from krc.immunization.outreach.schemas import SessionCreate, SessionUpdate
from krc.immunization.params import load_params
from krc.web.deps import Caller, checked_form, get_db, today
from krc.web.i18n import translations
from krc.web.problems import language_of
from krc.web.views import N_, PageRoute, _form_values, field_errors, page_caller, render

router = APIRouter(include_in_schema=False, route_class=PageRoute)

PLACE_LABELS = {
    "market": N_("Marché"), "school": N_("École"), "place_of_worship": N_("Lieu de culte"),
    "bus_station": N_("Gare routière"), "other": N_("Autre lieu"),
}
SESSION_STATUS_LABELS = {"planned": N_("prévue"), "held": N_("tenue"),
                         "cancelled": N_("annulée")}
FORM_FIELDS = ("facility", "date", "strategy", "place_type", "place_name", "latitude",
               "longitude", "notes")
PAST_DAYS = 90  # past sessions shown on the sessions page


def _labels(lang: str) -> dict[str, Any]:
    tr = translations(lang).gettext

    def place(code: str | None) -> str:
        return tr(PLACE_LABELS[code]) if code in PLACE_LABELS else (code or "")

    def status(code: str) -> str:
        return tr(SESSION_STATUS_LABELS[code]) if code in SESSION_STATUS_LABELS else code

    return {"place_label": place, "session_status": status, "place_types": PLACE_TYPES,
            "strategies": STRATEGIES}


def _date(text: str | None, default: date, name: str) -> date:
    if not text:
        return default
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise invalid(name, "date_parsing", "Date invalide (format AAAA-MM-JJ)",
                      "Invalid date (format YYYY-MM-DD)") from None


def _can_plan(actor: Actor) -> bool:
    return actor.role in OPERATIONS_WRITE


def _area_context(db: Database, actor: Actor, org_unit: str | None, on: date
                  ) -> dict[str, Any]:
    with db.session(write=False) as s:
        unit = unit_in_scope(s, actor, org_unit)
        sessions = queries.session_dicts(s, queries.list_sessions(
            s, unit, on - timedelta(days=PAST_DAYS), on + timedelta(days=366)))
        facilities = [f for f in imm_queries.facilities_in_scope(s, actor)
                      if f.path == unit.path or f.path.startswith(unit.path + "/")]
        villages = {f.code: [(v.code, v.name) for v in imm_queries.villages_of(s, f)]
                    for f in facilities}
        unit_ref = {"code": unit.code, "name": unit.name, "level": unit.level}
    upcoming = [x for x in sessions if x["date"] >= on and x["status"] != "cancelled"]
    past = sorted([x for x in sessions if x not in upcoming], key=lambda x: x["date"],
                  reverse=True)
    return {"unit": unit_ref, "upcoming": upcoming, "past": past,
            "facilities": [(f.code, f.name) for f in facilities], "villages": villages,
            "can_plan": _can_plan(actor) and bool(facilities),
            "microplan_ok": unit.level in (DISTRICT, FACILITY)}


def _defaults(ctx: Mapping[str, Any], on: date) -> dict[str, Any]:
    first = ctx["facilities"][0][0] if ctx["facilities"] else ""
    return {"facility": first, "date": (on + timedelta(days=7)).isoformat(),
            "strategy": "outreach", "place_type": "market", "place_name": "", "latitude": "",
            "longitude": "", "notes": "", "villages": []}


@router.get("/outreach", response_class=HTMLResponse)
def sessions_page(request: Request, org_unit: str | None = None,
                  caller: Caller = Depends(page_caller), db: Database = Depends(get_db)
                  ) -> Response:
    """Show the sessions of the caller's area (upcoming and past) and the planning form."""
    lang = language_of(request)
    on = today(request)
    ctx = _area_context(db, caller.actor, org_unit, on)
    return render(request, "outreach_sessions.html", {
        **ctx, **_labels(lang), "on": on, "values": _defaults(ctx, on), "errors": {},
        "form_id": uuid.uuid4()})


@router.post("/outreach", response_class=HTMLResponse)
async def plan_session(request: Request, caller: Caller = Depends(page_caller),
                       db: Database = Depends(get_db)) -> Response:
    """Plan a session through services.create_session; show the form again on errors."""
    form = await checked_form(request, caller)
    lang = language_of(request)
    on = today(request)
    values: dict[str, Any] = dict(_form_values(form, FORM_FIELDS))
    values["villages"] = [str(v) for v in form.getlist("villages") if v]
    try:
        form_id = uuid.UUID(str(form.get("id") or ""))
    except ValueError:
        form_id = uuid.uuid4()
    errors: dict[str, str] = {}
    try:
        data = SessionCreate.model_validate(
            {"id": str(form_id), **{k: v for k, v in values.items() if v not in ("", None)}})
    except ValidationError as exc:
        errors = field_errors(exc, lang)
    else:
        try:
            with db.session() as s:
                result = services.create_session(s, caller.actor, data, on)
                sid = result.session.id
        except DomainError as exc:
            if not exc.errors or exc.status != 422:
                raise
            errors = field_errors(exc, lang)
        else:
            return RedirectResponse(f"/outreach/sessions/{sid}", 303)
    ctx = _area_context(db, caller.actor, None, on)
    return render(request, "outreach_sessions.html", {
        **ctx, **_labels(lang), "on": on, "values": values, "errors": errors,
        "form_id": form_id}, status=422)


def _session_context(db: Database, actor: Actor, session_id: str) -> dict[str, Any]:
    with db.session(write=False) as s:
        sess, _unit = services.session_for_read(s, actor, session_id)
        report = queries.report_dict(s, sess, load_params(s))
    return {"report": report, "s": report["session"], "can_plan": _can_plan(actor)}


@router.get("/outreach/sessions/{session_id}", response_class=HTMLResponse)
def session_page(request: Request, session_id: str, caller: Caller = Depends(page_caller),
                 db: Database = Depends(get_db)) -> Response:
    """Show a session, its report and (for planners) the reschedule / held / cancel forms."""
    lang = language_of(request)
    ctx = _session_context(db, caller.actor, session_id)
    return render(request, "outreach_session.html", {
        **ctx, **_labels(lang), "on": today(request), "errors": {}})


@router.post("/outreach/sessions/{session_id}", response_class=HTMLResponse)
async def change_session(request: Request, session_id: str,
                         caller: Caller = Depends(page_caller), db: Database = Depends(get_db)
                         ) -> Response:
    """Reschedule, mark held, cancel or re-plan a session through services.update_session."""
    form = await checked_form(request, caller)
    lang = language_of(request)
    on = today(request)
    action = str(form.get("action") or "")
    changes: dict[str, Any] = {"reason": str(form.get("reason") or "").strip() or None}
    if action in ("held", "cancelled", "planned"):
        changes["status"] = action
    if form.get("date"):
        changes["date"] = str(form.get("date"))
    errors: dict[str, str] = {}
    try:
        data = SessionUpdate.model_validate(changes)
        with db.session() as s:
            services.update_session(s, caller.actor, session_id, data, on)
    except ValidationError as exc:
        errors = field_errors(exc, lang)
    except DomainError as exc:
        if exc.status != 422:
            raise
        errors = field_errors(exc, lang)
    if not errors:
        return RedirectResponse(f"/outreach/sessions/{session_id}", 303)
    ctx = _session_context(db, caller.actor, session_id)
    return render(request, "outreach_session.html", {
        **ctx, **_labels(lang), "on": on, "errors": errors}, status=422)


@router.get("/outreach/microplan", response_class=HTMLResponse)
def microplan_page(request: Request, org_unit: str | None = None, on: str | None = None,
                   caller: Caller = Depends(page_caller), db: Database = Depends(get_db)
                   ) -> Response:
    """Show the printable micro-plan of a health area (or a district's counts)."""
    lang = language_of(request)
    actor = caller.actor
    day = _date(on, today(request), "on")
    with db.session() as s:
        unit = unit_in_scope(s, actor, org_unit)
        if org_unit is None and unit.level < DISTRICT:
            # a national or regional user chooses a district or a health area first
            raise invalid("org_unit", "microplan_level",
                          "Choisissez un district sanitaire ou une aire de santé",
                          "Choose a health district or a health area")
        plan = queries.microplan(s, actor, unit, day, load_params(s), lang)
        areas = [(f.code, f.name) for f in imm_queries.facilities_in_scope(s, actor)
                 if f.path.startswith(_district_path(unit) + "/")]
    return render(request, "outreach_microplan.html", {
        **_labels(lang), "plan": plan, "on": day, "areas": areas,
        "is_area": unit.level == FACILITY})


def _district_path(unit: OrgUnit) -> str:
    return "/" + "/".join(unit.path.strip("/").split("/")[:DISTRICT])
