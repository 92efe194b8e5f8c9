"""Reads of outreach: session lists, session reports, micro-plans and upcoming sessions.

Routes resolve the org unit through the caller's scope first (`unit_in_scope`); the reads
of personal data (micro-plan children) take the caller's Actor and are audited.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from krc.accounts.roles import Actor
from krc.accounts.services import audit
from krc.errors import invalid
from krc.geo.models import DISTRICT, FACILITY, VILLAGE, OrgUnit
from krc.immunization.models import Child, Vaccination
from krc.immunization.outreach import rules
from krc.immunization.outreach.models import OutreachSession, OutreachSessionVillage
from krc.immunization.schedule import ScheduleParams, batch_slots

MICROPLAN_DAYS = 90  # horizon of the next sessions shown in a micro-plan


def _subtree(path: str) -> Any:
    return or_(OrgUnit.path == path, OrgUnit.path.startswith(path + "/"))


@dataclass(frozen=True)
class SessionInfo:
    """A planned session as other capabilities see it (messaging broadcasts these)."""

    id: str
    facility_id: int
    facility_code: str
    facility_name: str
    district_id: int
    date: date
    strategy: str
    place_type: str | None
    place_name: str | None


def upcoming_sessions(session: Session, start: date, end: date,
                      org_unit_path: str | None = None) -> list[SessionInfo]:
    """Return the planned sessions from `start` to `end` (inclusive), in the subtree of
    `org_unit_path` when given, by date then facility name."""
    q = (select(OutreachSession, OrgUnit.code, OrgUnit.name)
         .join(OrgUnit, OrgUnit.id == OutreachSession.facility_id)
         .where(OutreachSession.status == "planned",
                OutreachSession.session_date.between(start, end)))
    if org_unit_path:
        q = q.where(_subtree(org_unit_path))
    q = q.order_by(OutreachSession.session_date, OrgUnit.name, OutreachSession.pk)
    return [SessionInfo(str(s.id), s.facility_id, code, name, s.district_id, s.session_date,
                        s.strategy, s.place_type, s.place_name)
            for s, code, name in session.execute(q)]


def list_sessions(session: Session, root: OrgUnit, start: date | None = None,
                  end: date | None = None, status: str | None = None, limit: int = 500
                  ) -> list[OutreachSession]:
    """Return the sessions of the health areas under `root` in a date range, by date."""
    q = (select(OutreachSession).join(OrgUnit, OrgUnit.id == OutreachSession.facility_id)
         .where(_subtree(root.path)))
    if start is not None:
        q = q.where(OutreachSession.session_date >= start)
    if end is not None:
        q = q.where(OutreachSession.session_date <= end)
    if status:
        q = q.where(OutreachSession.status == status)
    q = q.order_by(OutreachSession.session_date, OutreachSession.pk).limit(limit)
    return list(session.scalars(q))


def dose_counts(session: Session, sessions: list[OutreachSession]) -> dict[str, int]:
    """Return the number of live doses recorded at each session (by id text)."""
    ids = [str(s.id) for s in sessions]
    if not ids:
        return {}
    rows = session.execute(
        select(Vaccination.session, func.count()).where(
            Vaccination.session.in_(ids), Vaccination.deleted.is_(False))
        .group_by(Vaccination.session))
    return {str(k): int(n) for k, n in rows}


def session_dicts(session: Session, sessions: list[OutreachSession]) -> list[dict[str, Any]]:
    """Return the API shape of sessions (few queries for the whole list)."""
    if not sessions:
        return []
    unit_ids = {s.facility_id for s in sessions} | {s.district_id for s in sessions}
    pks = [s.pk for s in sessions]
    villages: dict[int, list[int]] = defaultdict(list)
    for spk, vid in session.execute(select(OutreachSessionVillage.session_pk,
                                           OutreachSessionVillage.village_id)
                                    .where(OutreachSessionVillage.session_pk.in_(pks))):
        villages[spk].append(vid)
        unit_ids.add(vid)
    units = {u.id: u for u in session.scalars(select(OrgUnit).where(OrgUnit.id.in_(unit_ids)))}
    counts = dose_counts(session, sessions)

    def ref(uid: int) -> dict[str, str]:
        return {"code": units[uid].code, "name": units[uid].name}

    return [{
        "id": s.id, "facility": ref(s.facility_id), "district": ref(s.district_id),
        "date": s.session_date, "strategy": s.strategy, "place_type": s.place_type,
        "place_name": s.place_name, "latitude": s.latitude, "longitude": s.longitude,
        "villages": sorted((ref(v) for v in villages[s.pk]), key=lambda r: r["name"]),
        "status": s.status, "notes": s.notes, "doses": counts.get(str(s.id), 0),
        "created_at": s.created_at, "updated_at": s.updated_at,
    } for s in sessions]


def session_dict(session: Session, sess: OutreachSession) -> dict[str, Any]:
    """Return the API shape of one session."""
    return session_dicts(session, [sess])[0]


def session_report(session: Session, sess: OutreachSession, params: ScheduleParams
                   ) -> rules.SessionReport:
    """Return the report of a session (reference/immunization.md §3) from its live doses."""
    rows = session.execute(
        select(Child.id, Vaccination.vaccine, Vaccination.dose, Vaccination.valid,
               Child.birth_date, Child.penta1_on, Child.first_dose_on)
        .join(Child, Child.pk == Vaccination.child_pk)
        .where(Vaccination.session == str(sess.id), Vaccination.deleted.is_(False)))
    doses = [rules.SessionDose(str(cid), vac, int(n), bool(ok), birth, p1, first)
             for cid, vac, n, ok, birth, p1, first in rows]
    return rules.session_report(sess.session_date, doses, batch_slots(params))


def report_dict(session: Session, sess: OutreachSession, params: ScheduleParams
                ) -> dict[str, Any]:
    """Return the API shape of a session's report."""
    r = session_report(session, sess, params)
    return {
        "session": session_dict(session, sess), "children": r.children, "doses": r.doses,
        "valid_doses": r.valid_doses,
        "by_antigen": [{"vaccine": a.vaccine, "dose": a.dose, "doses": a.doses,
                        "valid": a.valid} for a in r.by_antigen],
        "zero_dose_found": {"first_penta": r.zero_dose_first_penta,
                            "first_vaccine": r.zero_dose_first_vaccine,
                            "in_register": r.zero_dose_register},
    }


# --------------------------------------------------------------------------- micro-plan

def microplan(session: Session, actor: Actor, unit: OrgUnit, on: date, params: ScheduleParams,
              lang: str = "fr", days: int = MICROPLAN_DAYS) -> dict[str, Any]:
    """Return the micro-plan of a health area or district on a date.

    Per health area: its villages ranked by zero-dose children then defaulters
    (`rules.rank_villages`, from the register's defaulter machinery `overdue_children`),
    each with the next planned sessions near it (`rules.sessions_near`). The children's
    names are given for one health area to a caller who may read personal records, and
    that read is audited like the defaulter list; at district level, counts only.
    The caller's scope over `unit` is checked by the route (`unit_in_scope`).
    """
    if unit.level not in (DISTRICT, FACILITY):
        raise invalid("org_unit", "microplan_level",
                      "Le micro-plan se prépare pour un district sanitaire ou une aire de "
                      "santé ; {n} n'en est pas un",
                      "A micro-plan is made for a health district or a health area; {n} is "
                      "neither", n=unit.name)
    from krc.immunization.batch import overdue_children
    personal = unit.level == FACILITY and actor.can_read_personal
    items = overdue_children(session, unit, on, params, lang)
    facilities = list(session.scalars(select(OrgUnit).where(
        OrgUnit.level == FACILITY, _subtree(unit.path)).order_by(OrgUnit.name)))
    fids = [f.id for f in facilities]
    village_rows = list(session.scalars(select(OrgUnit).where(
        OrgUnit.level == VILLAGE, OrgUnit.parent_id.in_(fids)).order_by(OrgUnit.name))) \
        if fids else []
    code_of = {v.id: v.code for v in village_rows}
    planned = list(session.scalars(
        select(OutreachSession).where(OutreachSession.facility_id.in_(fids),
                                      OutreachSession.status == "planned",
                                      OutreachSession.session_date.between(
                                          on, on + timedelta(days=days)))
        .order_by(OutreachSession.session_date, OutreachSession.pk))) if fids else []
    targets: dict[int, set[int]] = defaultdict(set)
    if planned:
        for spk, vid in session.execute(select(OutreachSessionVillage.session_pk,
                                               OutreachSessionVillage.village_id).where(
                OutreachSessionVillage.session_pk.in_([s.pk for s in planned]))):
            targets[spk].add(vid)
    kids: dict[tuple[str, str | None], list[dict[str, Any]]] = defaultdict(list)
    for it in items:
        village = it["village"]["code"] if it["village"] else None
        kids[(it["facility"]["code"], village)].append(it)
    areas: list[dict[str, Any]] = []
    for fac in facilities:
        points = [rules.PlannedSession(str(s.id), s.session_date, s.latitude, s.longitude,
                                       frozenset(targets[s.pk]))
                  for s in planned if s.facility_id == fac.id]
        by_id = {str(s.id): s for s in planned if s.facility_id == fac.id}
        needs = []
        for v in [v for v in village_rows if v.parent_id == fac.id]:
            rows = kids.get((fac.code, v.code), [])
            needs.append(_need(v.id, v.name, rows))
        if kids.get((fac.code, None)):
            needs.append(_need(None, "", kids[(fac.code, None)]))
        ranked = rules.rank_villages(needs)
        villages_out = []
        for rank, need in enumerate(ranked, 1):
            code = code_of.get(need.village_id) if need.village_id is not None else None
            entry: dict[str, Any] = {
                "village": {"code": code, "name": need.name} if code else None,
                "rank": rank, "defaulters": need.defaulters, "zero_dose": need.zero_dose,
                "no_vaccine": need.no_vaccine,
                "sessions": [_near(by_id[p.id], d) for p, d in rules.sessions_near(need, points)],
            }
            if personal:
                entry["children"] = [_child(c) for c in kids.get((fac.code, code), [])]
            villages_out.append(entry)
        areas.append({
            "facility": {"code": fac.code, "name": fac.name},
            "defaulters": sum(n.defaulters for n in needs),
            "zero_dose": sum(n.zero_dose for n in needs),
            "villages": villages_out,
            "upcoming": [_near(s, None) for s in planned if s.facility_id == fac.id],
        })
    if personal:
        audit(session, actor, "read", "microplan", unit.code,
              {"on": on.isoformat(), "children": len(items)})
    return {"org_unit": {"code": unit.code, "name": unit.name}, "on": on,
            "personal": personal, "areas": areas}


def _need(village_id: int | None, name: str, rows: list[dict[str, Any]]) -> rules.VillageNeed:
    return rules.VillageNeed(village_id, name, len(rows), sum(1 for r in rows if r["zero_dose"]),
                             sum(1 for r in rows if r["no_vaccine"]))


def _near(s: OutreachSession, distance: float | None) -> dict[str, Any]:
    return {"id": s.id, "date": s.session_date, "strategy": s.strategy,
            "place_name": s.place_name,
            "distance_km": round(distance, 1) if distance is not None else None}


def _child(item: dict[str, Any]) -> dict[str, Any]:
    return {"id": item["id"], "registry_number": item["registry_number"],
            "given_name": item["given_name"], "family_name": item["family_name"],
            "birth_date": item["birth_date"], "caregiver_name": item["caregiver_name"],
            "caregiver_phone": item["caregiver_phone"],
            "overdue": [f"{d['vaccine']}{d['dose']}" for d in item["overdue"]],
            "zero_dose": item["zero_dose"]}
