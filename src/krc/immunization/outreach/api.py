"""JSON routes of outreach (/api/v1): sessions, session reports, micro-plans."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Query, Request, Response

from krc.accounts.roles import Actor
from krc.db import Database
from krc.errors import invalid
from krc.geo.queries import unit_in_scope
from krc.immunization.outreach import queries, services
from krc.immunization.outreach.rules import STATUSES
from krc.immunization.outreach.schemas import (
    MicroPlanRead,
    SessionCreate,
    SessionRead,
    SessionReportRead,
    SessionUpdate,
)
from krc.immunization.params import load_params
from krc.web.deps import get_db, require_actor, today
from krc.web.problems import PROBLEM, REFUSALS, language_of

router = APIRouter(tags=["outreach"])



@router.post("/outreach/sessions", status_code=201, response_model=SessionRead,
             responses={**REFUSALS, 200: {"description": "Replay of an earlier create (same id)"},
                        409: {"description": "The id is used outside your area", **PROBLEM}})
def create_session(body: SessionCreate, request: Request, response: Response,
                   actor: Actor = Depends(require_actor), db: Database = Depends(get_db)
                   ) -> dict[str, Any]:
    """Plan an outreach session (reference/immunization.md §3); idempotent on `id`."""
    with db.session() as s:
        result = services.create_session(s, actor, body, today(request))
        out = queries.session_dict(s, result.session)
    if not result.created:
        response.status_code = 200
        response.headers["Idempotent-Replay"] = "true"
    response.headers["Location"] = f"/api/v1/outreach/sessions/{out['id']}"
    return out


@router.get("/outreach/sessions", response_model=list[SessionRead], responses=REFUSALS)
def list_sessions(request: Request, org_unit: str | None = None,
                  start: date | None = Query(None, alias="from"),
                  end: date | None = Query(None, alias="to"),
                  status: str | None = Query(None, description="planned, held or cancelled"),
                  limit: int = Query(500, ge=1, le=5000),
                  actor: Actor = Depends(require_actor), db: Database = Depends(get_db)
                  ) -> list[dict[str, Any]]:
    """Return the sessions of a unit (default: the caller's) between two dates, by date."""
    if status is not None and status not in STATUSES:
        raise invalid("status", "status_unknown", "Statut inconnu : {s} ; valides : {v}",
                      "Unknown status: {s}; valid: {v}", s=status, v=", ".join(STATUSES))
    if start and end and end < start:
        raise invalid("to", "range_reversed", "La date de fin précède la date de début",
                      "The end date is before the start date")
    with db.session(write=False) as s:
        unit = unit_in_scope(s, actor, org_unit)
        return queries.session_dicts(s, queries.list_sessions(s, unit, start, end, status,
                                                              limit))


@router.get("/outreach/sessions/{session_id}", response_model=SessionRead, responses=REFUSALS)
def get_session(session_id: uuid.UUID, actor: Actor = Depends(require_actor),
                db: Database = Depends(get_db)) -> dict[str, Any]:
    """Return one session (404 outside the caller's area)."""
    with db.session(write=False) as s:
        sess, _unit = services.session_for_read(s, actor, session_id)
        return queries.session_dict(s, sess)


@router.patch("/outreach/sessions/{session_id}", response_model=SessionRead,
              responses=REFUSALS)
def patch_session(session_id: uuid.UUID, body: SessionUpdate, request: Request,
                  actor: Actor = Depends(require_actor), db: Database = Depends(get_db)
                  ) -> dict[str, Any]:
    """Reschedule, cancel, mark held or correct a session; audited with before/after."""
    with db.session() as s:
        sess = services.update_session(s, actor, session_id, body, today(request))
        return queries.session_dict(s, sess)


@router.get("/outreach/sessions/{session_id}/report", response_model=SessionReportRead,
            responses=REFUSALS)
def session_report(session_id: uuid.UUID, actor: Actor = Depends(require_actor),
                   db: Database = Depends(get_db)) -> dict[str, Any]:
    """Return a session's report: children vaccinated, doses by antigen, zero-dose found
    (first PENTA / first vaccine ever given there, reference §3)."""
    with db.session(write=False) as s:
        sess, _unit = services.session_for_read(s, actor, session_id)
        return queries.report_dict(s, sess, load_params(s))


@router.get("/outreach/microplan", response_model=MicroPlanRead, responses=REFUSALS)
def microplan(request: Request, org_unit: str | None = None, on: date | None = None,
              actor: Actor = Depends(require_actor), db: Database = Depends(get_db)
              ) -> dict[str, Any]:
    """Return the micro-plan of a health district or area: per CSCom, villages ranked by
    zero-dose children then defaulters, with the next planned sessions near each. Children
    are listed for one health area only (the read is audited); a district gets counts."""
    day = on or today(request)
    with db.session() as s:
        unit = unit_in_scope(s, actor, org_unit)
        return queries.microplan(s, actor, unit, day, load_params(s), language_of(request))
