"""JSON routes of org units and target populations."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Body, Depends, Query
from sqlalchemy import or_, select

from krc.accounts.roles import MANAGE_USERS, Actor
from krc.accounts.services import audit
from krc.db import Database
from krc.errors import Forbidden, Message
from krc.geo import services
from krc.geo.models import OrgUnit, TargetPopulation
from krc.geo.queries import unit_by_code
from krc.web.deps import get_db, require_actor

router = APIRouter(tags=["org units"])


def unit_dict(u: OrgUnit) -> dict[str, Any]:
    """Return the API shape of an org unit (DHIS2-like keys)."""
    return {"id": u.uid, "code": u.code, "name": u.name, "level": u.level, "path": u.path,
            "hierarchy": u.hierarchy}


@router.get("/org-units")
def list_units(parent: str | None = None, level: int | None = Query(None, ge=1, le=5),
               q: str = "", limit: int = Query(500, ge=1, le=5000),
               actor: Actor = Depends(require_actor), db: Database = Depends(get_db)
               ) -> list[dict[str, Any]]:
    """Return org units (in the caller's subtree, plus its ancestors), filtered."""
    with db.session() as s:
        query = select(OrgUnit)
        if parent:
            query = query.where(OrgUnit.parent_id == unit_by_code(s, parent).id)
        if level:
            query = query.where(OrgUnit.level == level)
        if q:
            query = query.where(OrgUnit.name.ilike(f"%{q}%"))
        query = query.where(or_(OrgUnit.path == actor.path,
                                OrgUnit.path.startswith(actor.path + "/")))
        return [unit_dict(u) for u in s.scalars(query.order_by(OrgUnit.level, OrgUnit.name)
                                                 .limit(limit))]


@router.get("/org-units/{code}")
def get_unit(code: str, actor: Actor = Depends(require_actor), db: Database = Depends(get_db)
             ) -> dict[str, Any]:
    """Return one org unit with its target populations."""
    with db.session() as s:
        u = unit_by_code(s, code)
        targets = [{"year": t.year, "population": t.population, "live_births": t.live_births,
                    "surviving_infants": t.surviving_infants, "cohort_12_23": t.cohort_12_23,
                    "source": t.source}
                   for t in s.scalars(select(TargetPopulation).where(
                       TargetPopulation.org_unit_id == u.id).order_by(TargetPopulation.year))]
        return {**unit_dict(u), "targets": targets}


def _admin(actor: Actor) -> None:
    if actor.role not in MANAGE_USERS:
        raise Forbidden("role_forbidden", Message("Réservé aux administrateurs",
                                                  "Administrators only"))


@router.post("/org-units/import/dhis2")
def import_dhis2(payload: dict[str, Any] = Body(...), actor: Actor = Depends(require_actor),
                 db: Database = Depends(get_db)) -> dict[str, int]:
    """Import a DHIS2 organisationUnits JSON (administrators only); all-or-nothing."""
    _admin(actor)
    with db.session() as s:
        n = services.import_dhis2_org_units(s, payload)
        audit(s, actor, "import", "org_unit", "dhis2", {"units": n})
    return {"imported": n}


@router.post("/targets", openapi_extra={"requestBody": {"content": {"text/csv": {}}}})
def load_targets(csv_text: str = Body(..., media_type="text/csv"),
                 actor: Actor = Depends(require_actor), db: Database = Depends(get_db)
                 ) -> dict[str, int]:
    """Load official target populations from CSV (administrators only); all-or-nothing."""
    _admin(actor)
    with db.session() as s:
        n = services.load_targets_csv(s, csv_text)
        audit(s, actor, "import", "target_population", "csv", {"rows": n})
    return {"rows": n}
