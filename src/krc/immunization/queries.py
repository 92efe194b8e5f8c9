"""Reads of the immunization register, always through the caller's org-unit scope."""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Select, and_, case, false, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.elements import ColumnElement

from krc.accounts.roles import Actor
from krc.accounts.services import audit
from krc.errors import DomainError, Forbidden, Message, NotFound
from krc.geo.models import DISTRICT, FACILITY, VILLAGE, OrgUnit
from krc.geo.queries import district_codes, unit_ref, unit_row
from krc.identifiers import format_registry_number, is_valid_registry_number, normalise_phone
from krc.immunization.models import Child, Vaccination
from krc.immunization.schedule import (
    GivenDose,
    ScheduleParams,
    add_months,
    describe,
    evaluate,
    is_defaulter,
)
from krc.matching import fold, name_key, similarity


def _personal(actor: Actor) -> None:
    if not actor.can_read_personal:
        raise Forbidden("role_forbidden", Message(
            "Votre rôle ({role}) ne donne pas accès aux dossiers individuels",
            "Your role ({role}) gives no access to individual records", {"role": actor.role}))


def scoped_units(actor: Actor) -> Select[Any]:
    """Return a select of the ids of the org units inside the actor's subtree."""
    return select(OrgUnit.id).where(
        or_(OrgUnit.path == actor.path, OrgUnit.path.startswith(actor.path + "/")))


def _facility_ids(session: Session, path: str) -> list[int]:
    """Return the ids of the health facilities in a subtree (children hang on facilities)."""
    return list(session.scalars(select(OrgUnit.id).where(
        OrgUnit.level == FACILITY,
        or_(OrgUnit.path == path, OrgUnit.path.startswith(path + "/")))))


def _child_query(session: Session, actor: Actor, facility: str | None) -> Select[Any]:
    """Return the unmerged children the actor may see, optionally in one unit's subtree.

    The subtree is resolved to an explicit list of facility ids, so the planner can use the
    (name key, facility) indexes instead of scanning every child with a common name.
    """
    q = select(Child).where(Child.merged_into_pk.is_(None))
    path = actor.path
    if facility:
        unit = session.scalar(select(OrgUnit).where(OrgUnit.code == facility))
        if unit is None:
            raise NotFound("org_unit_unknown", Message("Unité d'organisation inconnue : {c}",
                                                       "Unknown org unit: {c}", {"c": facility}))
        if not actor.covers(unit.path):
            return q.where(false())
        path = unit.path
    if path.count("/") > 1:  # below the country: restrict to the subtree's facilities
        q = q.where(Child.facility_id.in_(_facility_ids(session, path)))
    return q


_REGISTRY = re.compile(r"^[\d\s-]{10,16}$")
_PHONE = re.compile(r"^\+?[\d\s().-]{8,20}$")


def search_children(session: Session, actor: Actor, q: str = "", facility: str | None = None,
                    limit: int = 50) -> list[Child]:
    """Return children matching a name (tolerant), phone or registry number, in scope.

    Names are matched on phonetic keys (krc.matching.name_key) with a few LIMITed index
    lookups (full name first, then family name, then given name), ranked by similarity.
    """
    _personal(actor)
    query = _child_query(session, actor, facility)
    text = (q or "").strip()
    if not text:
        return list(session.scalars(query.order_by(Child.pk.desc()).limit(limit)))
    digits = re.sub(r"\D", "", text)
    if _REGISTRY.match(text) and len(digits) == 10 and is_valid_registry_number(digits):
        return list(session.scalars(query.where(Child.registry_number == digits)))
    if _PHONE.match(text) and len(digits) >= 8:
        try:
            phone = normalise_phone(text)
        except DomainError:
            phone = None
        if phone:
            return list(session.scalars(query.where(Child.caregiver_phone == phone)
                                        .order_by(Child.birth_date.desc()).limit(limit)))
    tokens = [t for t in fold(text).split() if t]
    keys = sorted({name_key(t) for t in tokens})
    want = limit * 4
    # Each lookup is ordered like its index, so the planner walks the index and stops at the
    # LIMIT (unordered, it chose a sequential scan that read 2.9 M rows for "Guindo").
    lookups: list[tuple[ColumnElement[bool], tuple[Any, ...]]] = [
        (Child.family_key.in_(keys), (Child.family_key, Child.facility_id)),
        (Child.given_key.in_(keys), (Child.given_key, Child.facility_id)),
    ]
    if len(keys) >= 2:
        # Both keys together are selective: no order (ordering made the planner walk the
        # family-key index for common names).
        lookups.insert(0, (and_(Child.family_key.in_(keys), Child.given_key.in_(keys)), ()))
    rows: dict[int, Child] = {}
    for cond, order in lookups:
        for c in session.scalars(query.where(cond).order_by(*order).limit(want)):
            rows.setdefault(c.pk, c)
        if len(rows) >= want or (len(keys) >= 2 and rows):
            break
    folded = " ".join(tokens)

    def score(c: Child) -> float:
        full = f"{c.given_name} {c.family_name}"
        rev = f"{c.family_name} {c.given_name}"
        return max(similarity(folded, full), similarity(folded, rev))

    return sorted(rows.values(), key=score, reverse=True)[:limit]


def child_for_read(session: Session, actor: Actor, child_id: uuid.UUID | str,
                   audit_read: bool = True) -> Child:
    """Return a child in the actor's scope (the read is audited), or raise 404."""
    _personal(actor)
    try:
        cid = child_id if isinstance(child_id, uuid.UUID) else uuid.UUID(str(child_id))
    except ValueError:
        raise NotFound("child_not_found", Message("Enfant introuvable", "Child not found")) \
            from None
    child = session.scalar(select(Child).where(Child.id == cid))
    if child is None:
        raise NotFound("child_not_found", Message("Enfant introuvable", "Child not found"))
    unit = unit_row(session, child.facility_id)
    if unit is None or not actor.covers(unit.path):
        raise NotFound("child_not_found", Message("Enfant introuvable", "Child not found"))
    if audit_read:
        audit(session, actor, "read", "child", str(child.id))
    return child


def child_dict(session: Session, child: Child) -> dict[str, Any]:
    """Return the API shape of a child."""
    merged = None
    if child.merged_into_pk is not None:
        merged = session.scalar(select(Child.id).where(Child.pk == child.merged_into_pk))
    return {
        "id": child.id, "registry_number": child.registry_number or "",
        "registry_display": format_registry_number(child.registry_number)
        if child.registry_number else "",
        "given_name": child.given_name, "family_name": child.family_name, "sex": child.sex,
        "birth_date": child.birth_date, "caregiver_name": child.caregiver_name,
        "caregiver_phone": child.caregiver_phone, "national_id": child.national_id,
        "facility": unit_ref(session, child.facility_id),
        "village": unit_ref(session, child.village_id), "merged_into": merged,
    }


def vaccinations_of(session: Session, child: Child, include_deleted: bool = True
                    ) -> list[Vaccination]:
    """Return the child's recorded doses, oldest first."""
    q = select(Vaccination).where(Vaccination.child_pk == child.pk)
    if not include_deleted:
        q = q.where(Vaccination.deleted.is_(False))
    return list(session.scalars(q.order_by(Vaccination.given_on, Vaccination.pk)))


def vaccination_dict(session: Session, v: Vaccination, child_id: uuid.UUID,
                     lang: str = "fr") -> dict[str, Any]:
    """Return the API shape of a dose."""
    return {
        "id": v.id, "child": child_id, "vaccine": v.vaccine, "dose": v.dose, "date": v.given_on,
        "facility": unit_ref(session, v.facility_id), "strategy": v.strategy,
        "session": v.session, "lot": v.lot, "valid": v.valid, "reason": v.invalid_reason,
        "reason_text": _reason_text(v.invalid_reason, lang), "deleted": v.deleted,
    }


def _reason_text(reason: str | None, lang: str) -> str | None:
    if reason is None:
        return None
    if reason == "merged_duplicate_dose":
        return ("Dose en double après fusion d'enregistrements" if lang == "fr"
                else "Duplicate dose after merging records")
    try:
        return describe(reason, lang)
    except KeyError:
        return reason


def district_code_of(session: Session, child: Child) -> str | None:
    """Return the code of the health district the child's facility belongs to (cached)."""
    def load() -> str | None:
        path = session.scalar(select(OrgUnit.path).where(OrgUnit.id == child.facility_id))
        uids = path.strip("/").split("/") if path else []
        if len(uids) < DISTRICT:
            return None
        return session.scalar(select(OrgUnit.code).where(OrgUnit.uid == uids[DISTRICT - 1]))
    return district_codes.get(session, child.facility_id, load)


def schedule_of(session: Session, child: Child, on: date, params: ScheduleParams,
                lang: str = "fr", recorded: list[Vaccination] | None = None) -> dict[str, Any]:
    """Return the child's schedule on a date (reference/immunization.md §1).

    `recorded` may pass the child's doses already read (vaccinations_of), saving a query.
    """
    rows = recorded if recorded is not None else vaccinations_of(session, child)
    doses = [GivenDose(v.vaccine, v.dose, v.given_on, str(v.pk)) for v in rows if not v.deleted]
    statuses = evaluate(child.birth_date, doses, on, district_code_of(session, child), params)
    return {
        "child": child.id, "on": on, "defaulter": is_defaulter(statuses),
        "doses": [{"vaccine": s.vaccine, "dose": s.dose, "status": s.status,
                   "due_date": s.due_date, "given_date": s.given_date, "reason": s.reason,
                   "reason_text": _reason_text(s.reason, lang)} for s in statuses],
    }


# --------------------------------------------------------------------------- defaulters

def defaulters(session: Session, actor: Actor, unit: OrgUnit, on: date,
               params: ScheduleParams, lang: str = "fr") -> list[dict[str, Any]]:
    """Return children under 5 in the unit with an overdue dose, or zero-dose, by area/village.

    Each item carries the overdue doses, the zero-dose flag (no valid PENTA at ≥ 10 weeks,
    reference/immunization.md §2) and the caregiver's contact for the outreach day. The
    read of this list of personal records is audited.
    """
    _personal(actor)
    if not actor.covers(unit.path):
        raise Forbidden("out_of_scope", Message("{n} est hors de votre zone",
                                                "{n} is outside your area", {"n": unit.name}))
    from krc.immunization.batch import overdue_children
    items = overdue_children(session, unit, on, params, lang)
    audit(session, actor, "read", "defaulter_list", unit.code,
          {"on": on.isoformat(), "children": len(items)})
    return items


def _age_window(on: date, min_weeks: int) -> tuple[date, date]:
    """Return (oldest exclusive, youngest inclusive) birth dates of children 10 weeks–5 years."""
    return add_months(on, -60), on - timedelta(weeks=min_weeks)


def zero_dose_register_by(session: Session, level: int, root: OrgUnit, on: date,
                          min_weeks: int = 10) -> dict[int, dict[str, int]]:
    """Return register counts on a date for every unit of a level under root: zero-dose
    (no valid PENTA) and no vaccine at all, children aged ≥ `min_weeks` weeks and < 5 years
    (reference/immunization.md §2). Counted per facility in SQL, rolled up in Python."""
    oldest, youngest = _age_window(on, min_weeks)
    zero = func.sum(case((or_(Child.penta1_on.is_(None), Child.penta1_on > on), 1), else_=0))
    none = func.sum(case((or_(Child.first_dose_on.is_(None), Child.first_dose_on > on), 1),
                         else_=0))
    query = (select(Child.facility_id, zero, none)
             .where(Child.birth_date <= youngest, Child.birth_date > oldest,
                    Child.merged_into_pk.is_(None))
             .group_by(Child.facility_id))
    if root.path.count("/") > 1:
        query = query.where(Child.facility_id.in_(_facility_ids(session, root.path)))
    per_facility = {fid: (int(z or 0), int(n or 0)) for fid, z, n in session.execute(query)}
    paths = dict(session.execute(select(OrgUnit.id, OrgUnit.path).where(
        OrgUnit.id.in_(list(per_facility)))).all()) if per_facility else {}
    targets = {u.uid: u.id for u in session.scalars(select(OrgUnit).where(
        OrgUnit.level == level, OrgUnit.hierarchy == "health",
        or_(OrgUnit.path == root.path, OrgUnit.path.startswith(root.path + "/"))))}
    out: dict[int, dict[str, int]] = {}
    for fid, (z, n) in per_facility.items():
        uids = paths[fid].strip("/").split("/")
        if len(uids) >= level and uids[level - 1] in targets:
            slot = out.setdefault(targets[uids[level - 1]], {"zero_dose": 0, "no_vaccine": 0})
            slot["zero_dose"] += z
            slot["no_vaccine"] += n
    return out


def villages_of(session: Session, facility: OrgUnit) -> list[OrgUnit]:
    """Return the villages of a facility, by name."""
    return list(session.scalars(select(OrgUnit).where(OrgUnit.parent_id == facility.id,
                                                      OrgUnit.level == VILLAGE)
                                .order_by(OrgUnit.name)))


def facilities_in_scope(session: Session, actor: Actor) -> list[OrgUnit]:
    """Return the health facilities the actor may register children at, by name."""
    return list(session.scalars(select(OrgUnit).where(
        OrgUnit.level == FACILITY, OrgUnit.id.in_(scoped_units(actor))).order_by(OrgUnit.name)))


def grouped(items: list[dict[str, Any]], *keys: str) -> dict[Any, list[dict[str, Any]]]:
    """Return items grouped by a tuple of their keys, in first-seen order."""
    out: dict[Any, list[dict[str, Any]]] = defaultdict(list)
    for it in items:
        out[tuple(it[k] for k in keys)].append(it)
    return dict(out)
