"""JSON routes of nutrition.community (/api/v1): IYCF recalls, survey imports and indicators,
support groups (GASPA), micronutrient powders and the community figures
(reference/nutrition.md §4–§5)."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Body, Depends, Query, Request, Response

from krc.accounts.roles import Actor
from krc.db import Database
from krc.errors import DomainError, Forbidden, Message, invalid
from krc.geo.models import FACILITY, OrgUnit
from krc.geo.queries import unit_in_scope
from krc.nutrition.community import queries, services
from krc.nutrition.community.schemas import (
    AttendanceSet,
    ChildMnpRead,
    DistributionCreate,
    DistributionRead,
    FacilityStock,
    FollowupCreate,
    FollowupRead,
    GroupCreate,
    GroupDetail,
    GroupRead,
    GroupSessionCreate,
    GroupSessionRead,
    GroupUpdate,
    IycfTable,
    MemberCreate,
    MemberRead,
    MemberUpdate,
    RecallCreate,
    RecallRead,
    StockLineCreate,
    StockLineRead,
    SurveyImportResult,
)
from krc.results.periods import Period, parse_period
from krc.web.deps import get_db, require_actor, today
from krc.web.problems import PROBLEM, REFUSALS

router = APIRouter(tags=["nutrition"])

CREATED = {**REFUSALS, 200: {"description": "Replay of an earlier create (same id)"},
           409: {"description": "The id is used outside your area", **PROBLEM}}


def _answer(response: Response, created: bool, location: str) -> None:
    if not created:
        response.status_code = 200
        response.headers["Idempotent-Replay"] = "true"
    response.headers["Location"] = location


def _period(request: Request, code: str | None) -> Period:
    return parse_period(code or str(today(request).year))


def _personal(actor: Actor) -> None:
    if not actor.can_read_personal:
        raise Forbidden("role_forbidden", Message(
            "Votre rôle ({role}) ne donne pas accès aux dossiers individuels",
            "Your role ({role}) gives no access to individual records", {"role": actor.role}))


# --------------------------------------------------------------------------- IYCF

@router.post("/nutrition/iycf/recalls", status_code=201, response_model=RecallRead,
             responses=CREATED)
def create_recall(body: RecallCreate, request: Request, response: Response,
                  actor: Actor = Depends(require_actor), db: Database = Depends(get_db)
                  ) -> dict[str, Any]:
    """Record a previous-day feeding recall taken at a visit for a child of the register
    (reference/nutrition.md §4); idempotent on `id`. The answer lists the IYCF indicators
    the child counts in (denominators, numerators)."""
    with db.session() as s:
        result = services.record_recall(s, actor, body, today(request))
        out = queries.recall_dict(s, result.row)
    _answer(response, result.created, f"/api/v1/nutrition/iycf/recalls?child_id={body.child_id}")
    return out


@router.get("/nutrition/iycf/recalls", response_model=list[RecallRead], responses=REFUSALS)
def list_recalls(child_id: uuid.UUID, actor: Actor = Depends(require_actor),
                 db: Database = Depends(get_db)) -> list[dict[str, Any]]:
    """Return a child's recalls, newest first (404 outside the caller's area; audited)."""
    with db.session() as s:
        return queries.recalls_of_child(s, actor, str(child_id))


def _import(db: Database, actor: Actor, survey: str, text: str, request: Request,
            org_unit: str | None, filename: str | None) -> dict[str, Any]:
    try:
        with db.session() as s:
            r = services.import_survey(s, actor, survey, text, today(request), org_unit,
                                       filename)
            return {"survey": r.survey, "rows": r.rows, "new": r.new, "unchanged": r.unchanged}
    except DomainError as exc:
        if exc.status == 422:
            with db.session() as s:
                services.keep_refused_import(s, actor, survey, text, exc, filename)
        raise


@router.post("/nutrition/iycf/surveys/{survey}/import", response_model=SurveyImportResult,
             responses=REFUSALS, openapi_extra={"requestBody": {"required": True, "content": {
                 "text/csv": {"schema": {"type": "string"}}}}})
def import_survey(survey: str, request: Request, csv_text: str = Body(..., media_type="text/csv"),
                  org_unit: str | None = Query(None, description="unit of rows without one"),
                  filename: str | None = Query(None, max_length=200),
                  actor: Actor = Depends(require_actor), db: Database = Depends(get_db)
                  ) -> dict[str, Any]:
    """Import the recalls of a survey CSV, all or nothing (columns: row_id, org_unit, date,
    age_months or age_days, sex, breastfed, early_bf, other_liquids, grains, pulses, dairy,
    flesh, eggs, vita_fv, other_fv, solid_feeds, milk_feeds). Rows already imported (same
    survey and row_id) change nothing; every bad cell is named (line, column, why). The raw
    file is kept, also when refused."""
    return _import(db, actor, survey, csv_text, request, org_unit, filename)


@router.get("/nutrition/iycf/indicators", response_model=IycfTable, responses=REFUSALS)
def iycf_indicators(request: Request, org_unit: str | None = None, period: str | None = None,
                    source: str | None = Query(None, description="visit or survey (both)"),
                    actor: Actor = Depends(require_actor), db: Database = Depends(get_db)
                    ) -> dict[str, Any]:
    """Return the IYCF 2021 indicators (EIBF, EBF, CBF, ISSSF, MDD, MMF, MMFF, MAD, EFF,
    ZVF: value, numerator, denominator) of a unit and its sub-units for a period."""
    if source is not None and source not in queries.SOURCES:
        raise invalid("source", "source_unknown", "Source inconnue : {s} ; visit ou survey",
                      "Unknown source: {s}; visit or survey", s=source)
    p = _period(request, period)
    with db.session(write=False) as s:
        unit = unit_in_scope(s, actor, org_unit)
        return queries.iycf_table(s, unit, p, source)


@router.get("/nutrition/community/figures", responses=REFUSALS)
def figures(request: Request, org_unit: str | None = None, period: str | None = None,
            actor: Actor = Depends(require_actor), db: Database = Depends(get_db)
            ) -> dict[str, Any]:
    """Return the community nutrition figures of a unit and period: IYCF indicators, MNP
    coverage and adherence, support groups (women, villages covered, sessions)."""
    p = _period(request, period)
    with db.session(write=False) as s:
        unit = unit_in_scope(s, actor, org_unit)
        return queries.community_figures(s, unit, p)


# --------------------------------------------------------------------------- groups

@router.post("/nutrition/groups", status_code=201, response_model=GroupRead, responses=CREATED)
def create_group(body: GroupCreate, request: Request, response: Response,
                 actor: Actor = Depends(require_actor), db: Database = Depends(get_db)
                 ) -> dict[str, Any]:
    """Create a community nutrition support group (GASPA) in a village; idempotent on id."""
    with db.session() as s:
        result = services.create_group(s, actor, body, today(request))
        out = queries.group_dicts(s, [result.row])[0]
    _answer(response, result.created, f"/api/v1/nutrition/groups/{out['id']}")
    return out


@router.get("/nutrition/groups", response_model=list[GroupRead], responses=REFUSALS)
def list_groups(org_unit: str | None = None, include_closed: bool = True,
                actor: Actor = Depends(require_actor), db: Database = Depends(get_db)
                ) -> list[dict[str, Any]]:
    """Return the support groups of a unit's villages (default: the caller's area)."""
    with db.session(write=False) as s:
        unit = unit_in_scope(s, actor, org_unit)
        return queries.group_dicts(s, queries.list_groups(s, unit, include_closed))


@router.get("/nutrition/groups/{group_id}", response_model=GroupDetail, responses=REFUSALS)
def get_group(group_id: uuid.UUID, actor: Actor = Depends(require_actor),
              db: Database = Depends(get_db)) -> dict[str, Any]:
    """Return a group with its members (names, phones) and sessions; needs a role that reads
    personal records (404 outside the caller's area; the read is audited)."""
    _personal(actor)
    with db.session() as s:
        return queries.group_detail_for_read(s, actor, group_id)


@router.patch("/nutrition/groups/{group_id}", response_model=GroupRead, responses=REFUSALS)
def patch_group(group_id: uuid.UUID, body: GroupUpdate, request: Request,
                actor: Actor = Depends(require_actor), db: Database = Depends(get_db)
                ) -> dict[str, Any]:
    """Rename, close (`closed_on`) or re-open (`closed_on: null`) a group; audited."""
    with db.session() as s:
        group = services.update_group(s, actor, group_id, body, today(request))
        return queries.group_dicts(s, [group])[0]


@router.post("/nutrition/groups/{group_id}/members", status_code=201, response_model=MemberRead,
             responses=CREATED)
def add_member(group_id: uuid.UUID, body: MemberCreate, request: Request, response: Response,
               actor: Actor = Depends(require_actor), db: Database = Depends(get_db)
               ) -> dict[str, Any]:
    """Add a member: role_model (role-model mother), leader or member; idempotent on id."""
    with db.session() as s:
        result = services.add_member(s, actor, group_id, body, today(request))
        out = queries.member_dict(s, result.row)
    _answer(response, result.created, f"/api/v1/nutrition/groups/{group_id}")
    return out


@router.patch("/nutrition/groups/{group_id}/members/{member_id}", response_model=MemberRead,
              responses=REFUSALS)
def patch_member(group_id: uuid.UUID, member_id: uuid.UUID, body: MemberUpdate,
                 request: Request, actor: Actor = Depends(require_actor),
                 db: Database = Depends(get_db)) -> dict[str, Any]:
    """Change a member's role or phone, or record that she left (`left_on`); audited."""
    with db.session() as s:
        member = services.update_member(s, actor, group_id, member_id, body, today(request))
        return queries.member_dict(s, member)


@router.post("/nutrition/groups/{group_id}/sessions", status_code=201,
             response_model=GroupSessionRead, responses=CREATED)
def create_group_session(group_id: uuid.UUID, body: GroupSessionCreate, request: Request,
                         response: Response, actor: Actor = Depends(require_actor),
                         db: Database = Depends(get_db)) -> dict[str, Any]:
    """Record a group session: day, topics (breastfeeding, complementary_feeding, hygiene,
    mnp_use, growth_monitoring, family_planning, maternal_nutrition, sick_child_feeding,
    cooking_demo, wash), free-text topic, notes, members present; idempotent on id."""
    with db.session() as s:
        result = services.record_group_session(s, actor, group_id, body, today(request))
        group, _v = services.group_for_read(s, actor, group_id)
        out = queries.session_dicts(s, group, [result.row])[0]
    _answer(response, result.created, f"/api/v1/nutrition/groups/{group_id}")
    return out


@router.put("/nutrition/groups/{group_id}/sessions/{session_id}/attendance",
            response_model=GroupSessionRead, responses=REFUSALS)
def put_attendance(group_id: uuid.UUID, session_id: uuid.UUID, body: AttendanceSet,
                   actor: Actor = Depends(require_actor), db: Database = Depends(get_db)
                   ) -> dict[str, Any]:
    """Replace the list of members present at a session (a replay changes nothing)."""
    with db.session() as s:
        row = services.set_attendance(s, actor, group_id, session_id, body.present)
        group, _v = services.group_for_read(s, actor, group_id)
        return queries.session_dicts(s, group, [row])[0]


# --------------------------------------------------------------------------- MNP

@router.post("/nutrition/mnp/distributions", status_code=201, response_model=DistributionRead,
             responses=CREATED)
def create_distribution(body: DistributionCreate, request: Request, response: Response,
                        actor: Actor = Depends(require_actor), db: Database = Depends(get_db)
                        ) -> dict[str, Any]:
    """Record sachets of micronutrient powder given to a child 6–23 months (at most 90 per
    6-month round, WHO 2016), taken out of the facility's sachet stock; idempotent on id."""
    with db.session() as s:
        result = services.record_distribution(s, actor, body, today(request))
        out = queries.distribution_dict(s, result.row)
    _answer(response, result.created, f"/api/v1/nutrition/mnp/children/{out['child_id']}")
    return out


@router.post("/nutrition/mnp/followups", status_code=201, response_model=FollowupRead,
             responses=CREATED)
def create_followup(body: FollowupCreate, request: Request, response: Response,
                    actor: Actor = Depends(require_actor), db: Database = Depends(get_db)
                    ) -> dict[str, Any]:
    """Record the sachets a child consumed so far in a round (cumulative); adherence =
    consumed ÷ 90; idempotent on id."""
    with db.session() as s:
        result = services.record_followup(s, actor, body, today(request))
        out = queries.followup_dict(s, result.row)
    _answer(response, result.created, f"/api/v1/nutrition/mnp/children/{out['child_id']}")
    return out


@router.get("/nutrition/mnp/children/{child_id}", response_model=ChildMnpRead,
            responses=REFUSALS)
def child_mnp(child_id: uuid.UUID, actor: Actor = Depends(require_actor),
              db: Database = Depends(get_db)) -> dict[str, Any]:
    """Return a child's powders: rounds with adherence, distributions, follow-ups."""
    with db.session() as s:
        return queries.child_mnp(s, actor, str(child_id))


@router.post("/nutrition/mnp/stock", status_code=201, response_model=StockLineRead,
             responses=CREATED)
def create_stock_line(body: StockLineCreate, request: Request, response: Response,
                      actor: Actor = Depends(require_actor), db: Database = Depends(get_db)
                      ) -> dict[str, Any]:
    """Record a receipt, loss or physical count of MNP sachets at a CSCom; idempotent."""
    with db.session() as s:
        result = services.record_stock(s, actor, body, today(request))
        unit = s.get(OrgUnit, result.row.facility_id)
        assert unit is not None
        out = next(x for x in queries.stock_lines(s, unit) if x["id"] == result.row.id)
    _answer(response, result.created, f"/api/v1/nutrition/mnp/stock/{body.facility}")
    return out


@router.get("/nutrition/mnp/stock", response_model=list[FacilityStock], responses=REFUSALS)
def list_stock(request: Request, org_unit: str | None = None, period: str | None = None,
               actor: Actor = Depends(require_actor), db: Database = Depends(get_db)
               ) -> list[dict[str, Any]]:
    """Return each CSCom's sachet balance at the end of the period and its movements."""
    p = _period(request, period)
    with db.session(write=False) as s:
        unit = unit_in_scope(s, actor, org_unit)
        return queries.facility_stock(s, unit, p)


@router.get("/nutrition/mnp/stock/{facility}", response_model=list[StockLineRead],
            responses=REFUSALS)
def stock_card(facility: str, actor: Actor = Depends(require_actor),
               db: Database = Depends(get_db)) -> list[dict[str, Any]]:
    """Return a CSCom's sachet ledger in order, each line with the balance after it."""
    with db.session(write=False) as s:
        unit = unit_in_scope(s, actor, facility)
        if unit.level != FACILITY:
            raise invalid("facility", "org_unit_wrong_level",
                          "{code} n'est pas une aire de santé (CSCom)",
                          "{code} is not a health area (CSCom)", code=facility)
        return queries.stock_lines(s, unit)
