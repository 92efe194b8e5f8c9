"""Reads of org units."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from krc.errors import Message, NotFound
from krc.geo.models import OrgUnit


def unit_by_code(session: Session, code: str) -> OrgUnit:
    """Return the org unit with this code or raise NotFound (404)."""
    unit = session.scalar(select(OrgUnit).where(OrgUnit.code == code))
    if unit is None:
        raise NotFound("org_unit_unknown", Message("Unité d'organisation inconnue : {code}",
                                                   "Unknown org unit: {code}", {"code": code}),
                       field="org_unit")
    return unit
