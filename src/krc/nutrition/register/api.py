"""JSON routes of nutrition.register (/api/v1): women and their contacts, growth-monitoring
visits, referrals, figures (reference/nutrition.md §2, §5)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Body, Depends, Query, Request, Response
from sqlalchemy.orm import Session

from krc.accounts.roles import Actor
from krc.accounts.services import audit, utcnow
from krc.db import Database
from krc.errors import invalid
from krc.geo.queries import unit_in_scope
from krc.nutrition.register import figures, queries, services
from krc.nutrition.register.schemas import (
    ContactCreate,
    ContactRead,
    ContactUpdate,
    ReferralRead,
    ReferralUpdate,
    VisitCreate,
    VisitRead,
    VisitVoid,
    WomanCard,
    WomanCreate,
    WomanRead,
    WomanUpdate,
)
from krc.results.periods import parse_period
from krc.web.deps import get_db, require_actor, today
from krc.web.problems import PROBLEM, REFUSALS

router = APIRouter(tags=["nutrition"])

REPLAY: dict[int | str, dict[str, Any]] = {
    200: {"description": "Replay of an earlier create (same id)"},
    409: {"description": "The id is used elsewhere", **PROBLEM}}
WOMAN_STATUSES = ("pregnant", "breastfeeding", "closed")
REFERRAL_STATUSES = ("active", "open", "attended", "closed")


def _replayed(response: Response, created: bool) -> None:
    if not created:
        response.status_code = 200
        response.headers["Idempotent-Replay"] = "true"


@router.post("/nutrition/women", status_code=201, response_model=WomanRead,
             responses={**REFUSALS, **REPLAY})
def create_woman(body: WomanCreate, request: Request, response: Response,
                 actor: Actor = Depends(require_actor), db: Database = Depends(get_db)
                 ) -> dict[str, Any]:
    """Register a pregnant or breastfeeding woman (§5); idempotent on `id`."""
    with db.session() as s:
        result = services.register_woman(s, actor, body, today(request))
        out = queries.woman_dict(s, result.woman)
    _replayed(response, result.created)
    response.headers["Location"] = f"/api/v1/nutrition/women/{out['id']}"
    return out


@router.get("/nutrition/women", response_model=list[WomanRead], responses=REFUSALS)
def list_women(org_unit: str | None = None, status: str | None = None, q: str = "",
               limit: int = Query(200, ge=1, le=2000), actor: Actor = Depends(require_actor),
               db: Database = Depends(get_db)) -> list[dict[str, Any]]:
    """Return the women of a unit (default: the caller's), newest first; audited."""
    if status is not None and status not in WOMAN_STATUSES:
        raise invalid("status", "status_unknown", "Statut inconnu : {s} ; valides : {v}",
                      "Unknown status: {s}; valid: {v}", s=status, v=", ".join(WOMAN_STATUSES))
    with db.session() as s:
        unit = unit_in_scope(s, actor, org_unit)
        return [queries.woman_dict(s, w) for w in queries.list_women(s, actor, unit, status,
                                                                     q, limit)]


@router.get("/nutrition/women/{woman_id}", response_model=WomanCard, responses=REFUSALS)
def get_woman(woman_id: uuid.UUID, actor: Actor = Depends(require_actor),
              db: Database = Depends(get_db)) -> dict[str, Any]:
    """Return a woman with her contacts (the read is audited)."""
    with db.session() as s:
        return queries.woman_card(s, queries.woman_for_read(s, actor, woman_id))


@router.patch("/nutrition/women/{woman_id}", response_model=WomanRead, responses=REFUSALS)
def patch_woman(woman_id: uuid.UUID, body: WomanUpdate, request: Request,
                actor: Actor = Depends(require_actor), db: Database = Depends(get_db)
                ) -> dict[str, Any]:
    """Record the pregnancy outcome and link the newborn (a register child); audited."""
    with db.session() as s:
        w = services.update_woman(s, actor, woman_id, body, today(request))
        return queries.woman_dict(s, w)


@router.post("/nutrition/women/{woman_id}/contacts", status_code=201,
             response_model=ContactRead, responses={**REFUSALS, **REPLAY})
def create_contact(woman_id: uuid.UUID, body: ContactCreate, request: Request,
                   response: Response, actor: Actor = Depends(require_actor),
                   db: Database = Depends(get_db)) -> dict[str, Any]:
    """Record an antenatal (or postnatal) contact: iron–folic acid, MUAC, counselling."""
    with db.session() as s:
        result = services.record_contact(s, actor, woman_id, body, today(request))
        out = _contact_out(s, result)
    _replayed(response, result.created)
    return out


def _contact_out(s: Session, result: services.ContactResult) -> dict[str, Any]:
    rows = queries.contacts_of(s, result.woman)
    number = next(i for i, c in enumerate(rows, 1) if c.pk == result.contact.pk)
    return queries.contact_dict(s, result.contact, result.woman.id, number)


@router.patch("/nutrition/women/{woman_id}/contacts/{contact_id}", response_model=ContactRead,
              responses=REFUSALS)
def patch_contact(woman_id: uuid.UUID, contact_id: uuid.UUID, body: ContactUpdate,
                  request: Request, actor: Actor = Depends(require_actor),
                  db: Database = Depends(get_db)) -> dict[str, Any]:
    """Correct a contact (day, facility, iron–folic acid, MUAC, counselling) with a
    `reason`; the MUAC risk is re-derived and the values before are audited."""
    with db.session() as s:
        result = services.correct_contact(s, actor, woman_id, contact_id, body, today(request))
        return _contact_out(s, result)


@router.get("/nutrition/women/{woman_id}/contacts", response_model=list[ContactRead],
            responses=REFUSALS)
def list_contacts(woman_id: uuid.UUID, actor: Actor = Depends(require_actor),
                  db: Database = Depends(get_db)) -> list[dict[str, Any]]:
    """Return a woman's contacts, oldest first (the read is audited)."""
    with db.session() as s:
        w = queries.woman_for_read(s, actor, woman_id)
        return [queries.contact_dict(s, c, w.id, i)
                for i, c in enumerate(queries.contacts_of(s, w), 1)]


@router.post("/children/{child_id}/growth-visits", status_code=201, response_model=VisitRead,
             responses={**REFUSALS, **REPLAY})
def create_visit(child_id: uuid.UUID, body: VisitCreate, request: Request,
                 response: Response, actor: Actor = Depends(require_actor),
                 db: Database = Depends(get_db)) -> dict[str, Any]:
    """Record a growth-monitoring visit; answer its z-scores (2 decimals), flags,
    classification and any referral raised (SAM, MAM, growth faltering). Impossible
    measurements are refused with the reason; implausible ones are kept and flagged."""
    with db.session() as s:
        r = services.record_visit(s, actor, child_id, body, today(request))
        out = queries.visit_dict(s, r.visit, r.child, r.referral, r.referral_created)
    _replayed(response, r.created)
    return out


@router.get("/children/{child_id}/growth-visits", response_model=list[VisitRead],
            responses=REFUSALS)
def list_visits(child_id: uuid.UUID, actor: Actor = Depends(require_actor),
                db: Database = Depends(get_db)) -> list[dict[str, Any]]:
    """Return a child's growth-monitoring visits, oldest first (the read is audited)."""
    with db.session() as s:
        child, visits, refs = queries.child_nutrition(s, actor, child_id)
        by_visit = {r.visit_pk: r for r in refs}
        return [queries.visit_dict(s, v, child, by_visit.get(v.pk)) for v in visits]


@router.delete("/children/{child_id}/growth-visits/{visit_id}", response_model=VisitRead,
               responses=REFUSALS)
def void_visit(child_id: uuid.UUID, visit_id: uuid.UUID, request: Request,
               reason: str | None = Query(None, max_length=200),
               body: VisitVoid | None = Body(None),
               actor: Actor = Depends(require_actor), db: Database = Depends(get_db)
               ) -> dict[str, Any]:
    """Void a visit entered in error (`?reason=` as for a dose, or a JSON body
    `{"reason": …}`): kept, flagged `voided`, excluded from charts, growth faltering,
    discharge and figures; its referral still open with no follow-up is closed as
    `entered_in_error`. Audited; voiding again answers the same."""
    text = reason if reason is not None else (body.reason if body is not None else "")
    now = datetime.combine(today(request), utcnow().timetz())
    with db.session() as s:
        v = services.void_visit(s, actor, visit_id, text, now, child_id=child_id)
        child, ref = queries.visit_context(s, v)
        return queries.visit_dict(s, v, child, ref)


@router.get("/nutrition/referrals", response_model=list[ReferralRead], responses=REFUSALS)
def list_referrals(org_unit: str | None = None, status: str | None = None,
                   limit: int = Query(500, ge=1, le=5000),
                   actor: Actor = Depends(require_actor), db: Database = Depends(get_db)
                   ) -> list[dict[str, Any]]:
    """Return the referrals of a unit's children (default: the caller's unit), open ones
    first; `status`: active (open or attended), open, attended or closed. Audited."""
    if status is not None and status not in REFERRAL_STATUSES:
        raise invalid("status", "status_unknown", "Statut inconnu : {s} ; valides : {v}",
                      "Unknown status: {s}; valid: {v}", s=status,
                      v=", ".join(REFERRAL_STATUSES))
    with db.session() as s:
        unit = unit_in_scope(s, actor, org_unit)
        return queries.list_referrals(s, actor, unit, status, limit)


@router.get("/nutrition/referrals/{referral_id}", response_model=ReferralRead,
            responses=REFUSALS)
def get_referral(referral_id: uuid.UUID, actor: Actor = Depends(require_actor),
                 db: Database = Depends(get_db)) -> dict[str, Any]:
    """Return one referral (404 outside the caller's area; the read is audited)."""
    with db.session() as s:
        queries.require_personal(actor)
        ref, child = services.referral_place(s, actor, referral_id)
        audit(s, actor, "read", "nutrition_referral", str(ref.id))
        return queries.referral_dict(s, ref, child)


@router.patch("/nutrition/referrals/{referral_id}", response_model=ReferralRead,
              responses={**REFUSALS, 409: {"description": "The referral is closed", **PROBLEM}})
def patch_referral(referral_id: uuid.UUID, body: ReferralUpdate, request: Request,
                   actor: Actor = Depends(require_actor), db: Database = Depends(get_db)
                   ) -> dict[str, Any]:
    """Follow a referral: attended, outcome, or destination after assessment; audited."""
    with db.session() as s:
        ref = services.update_referral(s, actor, referral_id, body, today(request))
        return queries.referral_dict(s, ref)


@router.get("/nutrition/figures", responses=REFUSALS)
def nutrition_figures(request: Request, period: str, org_unit: str | None = None,
                      level: int | None = Query(None, ge=1, le=4),
                      actor: Actor = Depends(require_actor), db: Database = Depends(get_db)
                      ) -> dict[str, Any]:
    """Return the first 1,000 days figures of a unit for a DHIS2 period (2026, 2026Q1,
    202603…): children 0–23 months monitored (and monthly %), stunting, wasting,
    underweight among those measured (flagged excluded), SAM/MAM detected and referred,
    referral completion, women; with `level`, one row per sub-unit; and the community
    figures (IYCF, micronutrient powders, support groups)."""
    p = parse_period(period)
    with db.session(write=False) as s:
        unit = unit_in_scope(s, actor, org_unit)
        return figures.figures_with_community(s, unit, p, today(request), level)
