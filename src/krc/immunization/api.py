"""JSON routes of the immunization register (/api/v1): parse, authorise, call, shape."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Query, Request

from krc.accounts.roles import Actor
from krc.db import Database
from krc.errors import invalid
from krc.geo.queries import unit_in_scope
from krc.immunization import figures, queries, services
from krc.immunization.indicators import WHO_APP_THRESHOLDS, RedRecThresholds
from krc.immunization.params import load_params
from krc.immunization.schemas import (
    ChildCard,
    ChildCreate,
    ChildRead,
    MergeRequest,
    ScheduleRead,
    VaccinationCreate,
    VaccinationRead,
    VaccinationUpdate,
)
from krc.results.periods import parse_period
from krc.web.deps import get_db, require_actor, today
from krc.web.problems import PROBLEM, REFUSALS, language_of
from krc.web.responses import FastJSONResponse

router = APIRouter(tags=["immunization"])



@router.post("/children", status_code=201, response_model=ChildRead,
             response_class=FastJSONResponse,
             responses={**REFUSALS, 200: {"description": "Replay of an earlier create (same id)"},
                        409: {"description": "Probable duplicate: `candidates` listed",
                              **PROBLEM}})
def create_child(body: ChildCreate, request: Request, actor: Actor = Depends(require_actor),
                 db: Database = Depends(get_db)) -> FastJSONResponse:
    """Register a child; 409 with candidates when a probable duplicate exists."""
    with db.session() as s:
        result = services.register_child(s, actor, body, today(request))
        out = queries.child_dict(s, result.child)
    headers = {"Location": f"/api/v1/children/{out['id']}"}
    if not result.created:
        return FastJSONResponse(out, 200, {**headers, "Idempotent-Replay": "true"})
    return FastJSONResponse(out, 201, headers)


@router.get("/children", response_model=list[ChildRead], responses=REFUSALS)
def list_children(q: str = "", facility: str | None = None,
                  limit: int = Query(50, ge=1, le=500), actor: Actor = Depends(require_actor),
                  db: Database = Depends(get_db)) -> list[dict[str, Any]]:
    """Search children by name (tolerant), phone or registry number, within scope."""
    with db.session(write=False) as s:
        rows = queries.search_children(s, actor, q, facility, limit)
        return [queries.child_dict(s, c) for c in rows]


@router.get("/children/{child_id}", response_model=ChildCard, responses=REFUSALS,
            response_class=FastJSONResponse)
def get_child(child_id: uuid.UUID, request: Request, on: date | None = None,
              actor: Actor = Depends(require_actor), db: Database = Depends(get_db)
              ) -> FastJSONResponse:
    """Return a child's card: record, doses and schedule (the read is audited)."""
    lang = language_of(request)
    with db.session() as s:
        child = queries.child_for_read(s, actor, child_id)
        params = load_params(s)
        recorded = queries.vaccinations_of(s, child)
        return FastJSONResponse({
            "child": queries.child_dict(s, child),
            "vaccinations": [queries.vaccination_dict(s, v, child.id, lang) for v in recorded],
            "schedule": queries.schedule_of(s, child, on or today(request), params, lang,
                                            recorded),
        })


@router.patch("/children/{child_id}", response_model=ChildRead, responses=REFUSALS)
def patch_child(child_id: uuid.UUID, body: dict[str, Any], request: Request,
                actor: Actor = Depends(require_actor), db: Database = Depends(get_db)
                ) -> dict[str, Any]:
    """Correct a child's facts (names, sex, birth date, caregiver); audited."""
    allowed = {"given_name", "family_name", "sex", "birth_date", "caregiver_name",
               "caregiver_phone", "national_id"}
    unknown = set(body) - allowed
    if unknown:
        raise invalid(sorted(unknown)[0], "extra_forbidden", "Champ inconnu", "Unknown field")
    if "birth_date" in body:
        try:
            body["birth_date"] = date.fromisoformat(str(body["birth_date"]))
        except ValueError:
            raise invalid("birth_date", "date_parsing", "Date invalide (format AAAA-MM-JJ)",
                          "Invalid date (format YYYY-MM-DD)") from None
    if body.get("sex") not in (None, "F", "M"):
        raise invalid("sex", "sex_invalid", "Sexe : F ou M", "Sex: F or M")
    with db.session() as s:
        child = services.update_child(s, actor, child_id, body, today(request))
        return queries.child_dict(s, child)


@router.post("/children/{child_id}/merge", response_model=ChildRead, responses=REFUSALS)
def merge_child(child_id: uuid.UUID, body: MergeRequest, request: Request,
                actor: Actor = Depends(require_actor), db: Database = Depends(get_db)
                ) -> dict[str, Any]:
    """Merge a duplicate record into this child, keeping both histories."""
    with db.session() as s:
        kept = services.merge_children(s, actor, child_id, body.duplicate, today(request))
        return queries.child_dict(s, kept)


@router.get("/children/{child_id}/schedule", response_model=ScheduleRead, responses=REFUSALS)
def child_schedule(child_id: uuid.UUID, request: Request, on: date | None = None,
                   actor: Actor = Depends(require_actor), db: Database = Depends(get_db)
                   ) -> dict[str, Any]:
    """Return the status of every scheduled dose on a date (default today)."""
    with db.session() as s:
        child = queries.child_for_read(s, actor, child_id)
        return queries.schedule_of(s, child, on or today(request), load_params(s),
                                   language_of(request))


@router.get("/children/{child_id}/vaccinations", response_model=list[VaccinationRead],
            responses=REFUSALS)
def child_vaccinations(child_id: uuid.UUID, request: Request,
                       actor: Actor = Depends(require_actor), db: Database = Depends(get_db)
                       ) -> list[dict[str, Any]]:
    """Return the child's recorded doses, deleted ones included (flagged)."""
    with db.session() as s:
        child = queries.child_for_read(s, actor, child_id)
        return [queries.vaccination_dict(s, v, child.id, language_of(request))
                for v in queries.vaccinations_of(s, child)]


@router.post("/children/{child_id}/vaccinations", status_code=201,
             response_model=VaccinationRead, response_class=FastJSONResponse,
             responses={**REFUSALS, 200: {"description": "Replay of an earlier create"}})
def record_vaccination(child_id: uuid.UUID, body: VaccinationCreate, request: Request,
                       actor: Actor = Depends(require_actor), db: Database = Depends(get_db)
                       ) -> FastJSONResponse:
    """Record a dose; an early dose is kept as invalid with the reason."""
    with db.session() as s:
        result = services.record_dose(s, actor, child_id, body, today(request))
        out = queries.vaccination_dict(s, result.vaccination, result.child.id,
                                       language_of(request))
    if not result.created:
        return FastJSONResponse(out, 200, {"Idempotent-Replay": "true"})
    return FastJSONResponse(out, 201)


@router.patch("/vaccinations/{vaccination_id}", response_model=VaccinationRead,
              responses=REFUSALS)
def correct_vaccination(vaccination_id: uuid.UUID, body: VaccinationUpdate, request: Request,
                        actor: Actor = Depends(require_actor), db: Database = Depends(get_db)
                        ) -> dict[str, Any]:
    """Correct a recorded dose; before/after and the reason are audited."""
    with db.session() as s:
        v = services.correct_dose(s, actor, vaccination_id, body, today(request))
        child_id = s.get(services.Child, v.child_pk).id  # type: ignore[union-attr]
        return queries.vaccination_dict(s, v, child_id, language_of(request))


@router.delete("/vaccinations/{vaccination_id}", response_model=VaccinationRead,
               responses=REFUSALS)
def delete_vaccination(vaccination_id: uuid.UUID, request: Request,
                       reason: str = Query(..., min_length=1),
                       actor: Actor = Depends(require_actor), db: Database = Depends(get_db)
                       ) -> dict[str, Any]:
    """Delete a dose (kept as deleted, audited with the reason)."""
    with db.session() as s:
        v = services.delete_dose(s, actor, vaccination_id, reason, today(request))
        child_id = s.get(services.Child, v.child_pk).id  # type: ignore[union-attr]
        return queries.vaccination_dict(s, v, child_id, language_of(request))


def _thresholds(variant: str) -> RedRecThresholds:
    return WHO_APP_THRESHOLDS if variant == "who_app" else RedRecThresholds()


@router.get("/immunization/coverage", responses=REFUSALS, response_model=None,
            response_class=FastJSONResponse)
def coverage(request: Request, org_unit: str, period: str, level: int | None = Query(None,
             ge=1, le=5), thresholds: str = Query("red_guide", pattern="^(red_guide|who_app)$"),
             monthly: bool = False, actor: Actor = Depends(require_actor),
             db: Database = Depends(get_db)) -> FastJSONResponse:
    """Return doses, coverage, dropout, zero-dose, RED/REC and timeliness for a unit/period.

    With `level`, one row per descendant at that level (e.g. level=3: every district).
    Coverage is cumulative from January with a prorated target (WHO IA app).
    """
    p = parse_period(period)
    with db.session(write=False) as s:
        unit = unit_in_scope(s, actor, org_unit)
        rows = figures.coverage(s, unit, p, level, load_params(s), _thresholds(thresholds),
                                monthly=monthly)
    return FastJSONResponse({"org_unit": org_unit, "period": p.code, "level": level,
                             "rows": rows})


@router.get("/immunization/table", responses=REFUSALS, response_model=None,
            response_class=FastJSONResponse)
def monthly_table(request: Request, org_unit: str, year: int = Query(..., ge=2000, le=2100),
                  level: int | None = Query(None, ge=1, le=5),
                  actor: Actor = Depends(require_actor), db: Database = Depends(get_db)
                  ) -> FastJSONResponse:
    """Return unit × month × every vaccine-dose doses and cumulative coverage, dropouts and
    zero-dose, read from the aggregates (e.g. level=3: all districts × 12 months)."""
    with db.session(write=False) as s:
        unit = unit_in_scope(s, actor, org_unit)
        rows = figures.monthly_table(s, unit, year, level, load_params(s))
    return FastJSONResponse({"org_unit": org_unit, "year": year, "level": level, "rows": rows})


@router.get("/immunization/defaulters", responses=REFUSALS, response_model=None,
            response_class=FastJSONResponse)
def defaulters(request: Request, org_unit: str, on: date | None = None,
               actor: Actor = Depends(require_actor), db: Database = Depends(get_db)
               ) -> FastJSONResponse:
    """Return the defaulters (≥ 1 overdue dose) and zero-dose children of a unit, by village."""
    day = on or today(request)
    with db.session() as s:
        unit = unit_in_scope(s, actor, org_unit)
        items = queries.defaulters(s, actor, unit, day, load_params(s), language_of(request))
    return FastJSONResponse({"org_unit": {"code": unit.code, "name": unit.name}, "on": day,
                             "count": len(items),
                             "zero_dose": sum(1 for i in items if i["zero_dose"]),
                             "children": items})


@router.get("/immunization/priority-districts", responses=REFUSALS)
def priority_districts(request: Request, period: str, limit: int = Query(11, ge=1, le=100),
                       basis: str = Query("aggregate", pattern="^(aggregate|register)$"),
                       org_unit: str | None = None, actor: Actor = Depends(require_actor),
                       db: Database = Depends(get_db)) -> dict[str, Any]:
    """Return districts ranked by number of zero-dose children (then under-immunized)."""
    p = parse_period(period)
    with db.session(write=False) as s:
        unit = unit_in_scope(s, actor, org_unit)
        rows = figures.priority_districts(s, unit, p, load_params(s), limit, basis)
    return {"period": p.code, "basis": basis, "limit": limit, "districts": rows}

