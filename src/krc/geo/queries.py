"""Reads of org units."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from krc.accounts.roles import Actor
from krc.cache import TTLCache
from krc.errors import Forbidden, Message, NotFound, invalid
from krc.geo.models import FACILITY, OrgUnit


def unit_by_code(session: Session, code: str) -> OrgUnit:
    """Return the org unit with this code or raise NotFound (404)."""
    unit = session.scalar(select(OrgUnit).where(OrgUnit.code == code))
    if unit is None:
        raise NotFound("org_unit_unknown", Message("Unité d'organisation inconnue : {code}",
                                                   "Unknown org unit: {code}", {"code": code}),
                       field="org_unit")
    return unit


def unit_in_scope(session: Session, actor: Actor, code: str | None) -> OrgUnit:
    """Return the org unit of `code` (default: the actor's own), or raise 404/403."""
    unit = unit_by_code(session, code) if code else session.get(OrgUnit, actor.org_unit_id)
    assert unit is not None
    if not actor.covers(unit.path):
        raise Forbidden("out_of_scope", Message("{n} est hors de votre zone",
                                                "{n} is outside your area", {"n": unit.name}))
    return unit


# Display references of org units (id → {code, name}) and the district code of a facility
# (id → code), cached per process (krc.cache); geo.services clears them on every change.
unit_refs: TTLCache[int, dict[str, str] | None] = TTLCache(ttl=60.0)
district_codes: TTLCache[int, str | None] = TTLCache(ttl=60.0)


def forget_units() -> None:
    """Clear this process's org-unit caches (called by every org-unit write)."""
    unit_refs.clear()
    district_codes.clear()


def unit_for_field(session: Session, code: str | None, field_name: str,
                   level: int | None = None) -> OrgUnit:
    """Return the org unit of a code sent in a field, refusing (422, on that field) an unknown
    code or, when `level` is given, a unit of another level (CSCom or village)."""
    unit = session.scalar(select(OrgUnit).where(OrgUnit.code == (code or "")))
    if unit is None:
        raise invalid(field_name, "org_unit_unknown", "Unité d'organisation inconnue : {code}",
                      "Unknown org unit: {code}", code=code)
    if level is not None and unit.level != level:
        what = ("un établissement de santé (CSCom)", "a health facility (CSCom)") \
            if level == FACILITY else ("un village", "a village")
        raise invalid(field_name, "org_unit_wrong_level", "{code} n'est pas " + what[0],
                      "{code} is not " + what[1], code=code)
    return unit
