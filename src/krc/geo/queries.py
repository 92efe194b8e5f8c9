"""Reads of org units."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import select
from sqlalchemy.orm import Session

from krc.accounts.roles import Actor
from krc.cache import TTLCache
from krc.db import url_key
from krc.errors import Conflict, Forbidden, Message, NotFound, invalid
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


# The district code of a facility (id → code), cached per process (krc.cache); geo.services
# clears it on every change.
district_codes: TTLCache[int, str | None] = TTLCache(ttl=60.0)


@dataclass(frozen=True)
class UnitRow:
    """An org unit's identifying facts as a plain value (cacheable across requests)."""

    id: int
    uid: str
    code: str
    name: str
    level: int
    hierarchy: str
    parent_id: int | None
    path: str


Unit = OrgUnit | UnitRow  # what reads of an org unit's facts accept


_UNIT_COLUMNS = (OrgUnit.id, OrgUnit.uid, OrgUnit.code, OrgUnit.name, OrgUnit.level,
                 OrgUnit.hierarchy, OrgUnit.parent_id, OrgUnit.path)
# Org units by code and by id, for the register's writes and card reads (one query less
# per request). Unknown codes are not cached: a unit created by another process is known
# at once.
unit_rows: TTLCache[str | int, UnitRow] = TTLCache(ttl=60.0)


def unit_row(session: Session, code_or_id: str | int) -> UnitRow | None:
    """Return the org unit of a code (str) or id (int) from the per-process cache."""
    url = url_key(session)
    hit = unit_rows.peek(url, code_or_id)
    if hit is not None:
        return hit
    column = OrgUnit.id if isinstance(code_or_id, int) else OrgUnit.code
    since = unit_rows.generation
    found = session.execute(select(*_UNIT_COLUMNS).where(column == code_or_id)).first()
    if found is None:
        return None
    row = UnitRow(*found)
    unit_rows.put(url, row.code, row, since)
    unit_rows.put(url, row.id, row, since)
    return row


def unit_ref(session: Session, unit_id: int | None) -> dict[str, str] | None:
    """Return {code, name} of an org unit id (None for None or an unknown id), from the
    org-unit row cache."""
    row = unit_row(session, unit_id) if unit_id is not None else None
    return {"code": row.code, "name": row.name} if row is not None else None


def forget_units(session: Session) -> None:
    """Clear this process's org-unit caches now and when the session's transaction ends
    (called by every org-unit write)."""
    district_codes.forget(session)
    unit_rows.forget(session)


def unit_for_field(session: Session, code: str | None, field_name: str,
                   level: int | None = None) -> UnitRow:
    """Return the org unit of a code sent in a field, refusing (422, on that field) an unknown
    code or, when `level` is given, a unit of another level (CSCom or village)."""
    unit = unit_row(session, code or "")
    if unit is None:
        raise invalid(field_name, "org_unit_unknown", "Unité d'organisation inconnue : {code}",
                      "Unknown org unit: {code}", code=code)
    if level is not None and unit.level != level:
        what = ("un établissement de santé (CSCom)", "a health facility (CSCom)") \
            if level == FACILITY else ("un village", "a village")
        raise invalid(field_name, "org_unit_wrong_level", "{code} n'est pas " + what[0],
                      "{code} is not " + what[1], code=code)
    return unit


T = TypeVar("T")


def replay_in_scope(session: Session, actor: Actor, stored: T | None) -> T:
    """Return the stored row of a replayed client id (a create sent again) when its
    facility (`stored.facility_id`) is in the actor's scope; else 409 "id taken", revealing
    nothing of the row (also when it vanished: a concurrent delete)."""
    facility_id: Any = getattr(stored, "facility_id", None)
    unit = unit_row(session, facility_id) if facility_id is not None else None
    if stored is None or unit is None or not actor.covers(unit.path):
        raise Conflict("id_taken", Message("Cet identifiant est déjà utilisé",
                                           "This id is already used"), field="id")
    return stored
