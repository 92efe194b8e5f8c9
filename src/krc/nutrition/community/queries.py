"""Reads of community nutrition: recalls, IYCF tables, groups, MNP of a child, sachet stock
and the figures of an org unit and period (reference/nutrition.md §4–§5).

Routes resolve the org unit through the caller's scope first (`unit_in_scope`); reads of
personal records (a child's recalls and powders, a group's members) take the caller's Actor
and are audited. Aggregates (indicators, figures, stock) carry no personal data.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date
from typing import Any

from sqlalchemy import Select, case, func, or_, select
from sqlalchemy.orm import Session

from krc.accounts.roles import Actor
from krc.accounts.services import audit
from krc.geo.models import FACILITY, VILLAGE, OrgUnit
from krc.immunization.models import Child
from krc.immunization.queries import child_for_read
from krc.nutrition.community import iycf, mnp
from krc.nutrition.community.models import (
    IycfRecall,
    MnpDistribution,
    MnpFollowup,
    MnpStockLine,
    SupportGroup,
    SupportGroupAttendance,
    SupportGroupMember,
    SupportGroupSession,
)
from krc.results.periods import Period

SOURCES = ("visit", "survey")


def _subtree(path: str) -> Any:
    return or_(OrgUnit.path == path, OrgUnit.path.startswith(path + "/"))


def _unit_ids(path: str, level: int | None = None) -> Select[Any]:
    q = select(OrgUnit.id).where(_subtree(path))
    return q.where(OrgUnit.level == level) if level is not None else q


def _ref(unit: OrgUnit) -> dict[str, str]:
    return {"code": unit.code, "name": unit.name}


def _units(session: Session, ids: set[int]) -> dict[int, OrgUnit]:
    if not ids:
        return {}
    return {u.id: u for u in session.scalars(select(OrgUnit).where(OrgUnit.id.in_(ids)))}


def share_dict(s: iycf.Share) -> dict[str, Any]:
    """Return the API shape of one indicator (value rounded to 1 decimal)."""
    return {"value": None if s.value is None else round(s.value, 1),
            "numerator": s.numerator, "denominator": s.denominator}


# --------------------------------------------------------------------------- IYCF

def recall_of_row(r: IycfRecall) -> iycf.Recall:
    """Return the pure Recall of a stored row."""
    return iycf.Recall(
        age_months=r.age_months, breastfed=r.breastfed, early_bf=r.early_bf,
        other_liquids=r.other_liquids, grains=r.grains, pulses=r.pulses, dairy=r.dairy,
        flesh=r.flesh, eggs=r.eggs, vita_fv=r.vita_fv, other_fv=r.other_fv,
        solid_feeds=r.solid_feeds, milk_feeds=r.milk_feeds)


def recall_dict(session: Session, r: IycfRecall) -> dict[str, Any]:
    """Return the API shape of a recall with the indicators the child counts in."""
    unit = session.get(OrgUnit, r.org_unit_id)
    assert unit is not None
    child_id = session.scalar(select(Child.id).where(Child.pk == r.child_pk)) \
        if r.child_pk is not None else None
    pure = recall_of_row(r)
    member = iycf.membership(pure)
    return {
        "id": r.id, "source": r.source, "child_id": child_id, "org_unit": _ref(unit),
        "survey": r.survey, "survey_row": r.survey_row, "date": r.recalled_on,
        "age_months": r.age_months, "food_groups": iycf.groups_eaten(pure),
        "denominators": [c for c, (d, _n) in member.items() if d],
        "numerators": [c for c, (_d, n) in member.items() if n],
        "breastfed": r.breastfed, "early_bf": r.early_bf, "other_liquids": r.other_liquids,
        "grains": r.grains, "pulses": r.pulses, "dairy": r.dairy, "flesh": r.flesh,
        "eggs": r.eggs, "vita_fv": r.vita_fv, "other_fv": r.other_fv,
        "solid_feeds": r.solid_feeds, "milk_feeds": r.milk_feeds,
    }


def recalls_of_child(session: Session, actor: Actor, child_id: str) -> list[dict[str, Any]]:
    """Return a child's recalls, newest first (the read of the child is audited)."""
    child = child_for_read(session, actor, child_id)
    rows = session.scalars(select(IycfRecall).where(IycfRecall.child_pk == child.pk)
                           .order_by(IycfRecall.recalled_on.desc(), IycfRecall.pk.desc()))
    return [recall_dict(session, r) for r in rows]


def _recall_rows(session: Session, unit: OrgUnit, start: date, end: date,
                 source: str | None = None) -> list[tuple[str, IycfRecall]]:
    q = (select(OrgUnit.path, IycfRecall).join(OrgUnit, OrgUnit.id == IycfRecall.org_unit_id)
         .where(_subtree(unit.path), IycfRecall.recalled_on.between(start, end)))
    if source:
        q = q.where(IycfRecall.source == source)
    return [(p, r) for p, r in session.execute(q)]


def iycf_table(session: Session, unit: OrgUnit, period: Period,
               source: str | None = None) -> dict[str, Any]:
    """Return the IYCF indicators of a unit and of each sub-unit for a period (§4), from
    visit recalls, survey recalls or both (`source` None)."""
    rows = _recall_rows(session, unit, period.start, period.end, source)
    subs = list(session.scalars(select(OrgUnit).where(OrgUnit.parent_id == unit.id)
                                .order_by(OrgUnit.name)))
    by_uid = {s.uid: s for s in subs}
    buckets: dict[int, list[iycf.Recall]] = defaultdict(list)
    everything: list[iycf.Recall] = []
    for path, r in rows:
        pure = recall_of_row(r)
        everything.append(pure)
        uids = path.strip("/").split("/")
        if len(uids) > unit.level:
            sub = by_uid.get(uids[unit.level])
            if sub is not None:
                buckets[sub.id].append(pure)

    def row(u: OrgUnit, recalls: list[iycf.Recall]) -> dict[str, Any]:
        return {"org_unit": _ref(u), "recalls": len(recalls),
                "indicators": {c: share_dict(s) for c, s in iycf.indicators(recalls).items()}}

    return {"org_unit": _ref(unit), "period": period.code, "source": source,
            "total": row(unit, everything),
            "units": [row(s, buckets.get(s.id, [])) for s in subs]}


# --------------------------------------------------------------------------- groups

def list_groups(session: Session, unit: OrgUnit, include_closed: bool = True
                ) -> list[SupportGroup]:
    """Return the support groups of the villages under `unit`, by village then name."""
    q = (select(SupportGroup).join(OrgUnit, OrgUnit.id == SupportGroup.village_id)
         .where(_subtree(unit.path)))
    if not include_closed:
        q = q.where(SupportGroup.closed_on.is_(None))
    return list(session.scalars(q.order_by(OrgUnit.name, SupportGroup.name, SupportGroup.pk)))


def group_dicts(session: Session, groups: list[SupportGroup]) -> list[dict[str, Any]]:
    """Return the API shape of groups with their counts (few queries for the list)."""
    if not groups:
        return []
    pks = [g.pk for g in groups]
    units = _units(session, {g.village_id for g in groups} | {g.facility_id for g in groups})
    members: dict[int, list[tuple[str, str]]] = defaultdict(list)
    for gpk, sex, role in session.execute(
            select(SupportGroupMember.group_pk, SupportGroupMember.sex, SupportGroupMember.role)
            .where(SupportGroupMember.group_pk.in_(pks), SupportGroupMember.left_on.is_(None))):
        members[gpk].append((sex, role))
    sessions = {gpk: (int(n), last) for gpk, n, last in session.execute(
        select(SupportGroupSession.group_pk, func.count(), func.max(SupportGroupSession.held_on))
        .where(SupportGroupSession.group_pk.in_(pks)).group_by(SupportGroupSession.group_pk))}
    return [{
        "id": g.id, "name": g.name, "village": _ref(units[g.village_id]),
        "facility": _ref(units[g.facility_id]), "founded_on": g.founded_on,
        "closed_on": g.closed_on, "members": len(members[g.pk]),
        "women": sum(1 for sex, _r in members[g.pk] if sex == "F"),
        "role_models": sum(1 for _s, role in members[g.pk] if role == "role_model"),
        "sessions": sessions.get(g.pk, (0, None))[0],
        "last_session": sessions.get(g.pk, (0, None))[1],
    } for g in groups]


def member_dicts(session: Session, group: SupportGroup) -> list[dict[str, Any]]:
    """Return the members of a group (current first, then by name) with attendance."""
    attended = {pk: n for pk, n in session.execute(
        select(SupportGroupAttendance.member_pk, func.count())
        .join(SupportGroupMember, SupportGroupMember.pk == SupportGroupAttendance.member_pk)
        .where(SupportGroupMember.group_pk == group.pk)
        .group_by(SupportGroupAttendance.member_pk))}
    rows = session.scalars(select(SupportGroupMember).where(
        SupportGroupMember.group_pk == group.pk))
    order = {"role_model": 0, "leader": 1, "member": 2}
    out = [{"id": m.id, "name": m.name, "phone": m.phone, "sex": m.sex, "role": m.role,
            "joined_on": m.joined_on, "left_on": m.left_on,
            "sessions_attended": int(attended.get(m.pk, 0))} for m in rows]
    return sorted(out, key=lambda m: (m["left_on"] is not None, order.get(m["role"], 9),
                                      m["name"]))


def member_dict(session: Session, m: SupportGroupMember) -> dict[str, Any]:
    """Return the API shape of one member with her attendance."""
    n = session.scalar(select(func.count()).select_from(SupportGroupAttendance).where(
        SupportGroupAttendance.member_pk == m.pk)) or 0
    return {"id": m.id, "name": m.name, "phone": m.phone, "sex": m.sex, "role": m.role,
            "joined_on": m.joined_on, "left_on": m.left_on, "sessions_attended": int(n)}


def session_dicts(session: Session, group: SupportGroup,
                  rows: list[SupportGroupSession] | None = None) -> list[dict[str, Any]]:
    """Return the sessions of a group, newest first, with the members present."""
    if rows is None:
        rows = list(session.scalars(select(SupportGroupSession).where(
            SupportGroupSession.group_pk == group.pk).order_by(
            SupportGroupSession.held_on.desc(), SupportGroupSession.pk.desc())))
    present: dict[int, list[Any]] = defaultdict(list)
    if rows:
        for spk, mid in session.execute(
                select(SupportGroupAttendance.session_pk, SupportGroupMember.id)
                .join(SupportGroupMember,
                      SupportGroupMember.pk == SupportGroupAttendance.member_pk)
                .where(SupportGroupAttendance.session_pk.in_([r.pk for r in rows]))):
            present[spk].append(mid)
    return [{"id": r.id, "date": r.held_on, "topics": list(r.topics or []),
             "other_topic": r.other_topic, "notes": r.notes,
             "present": sorted(present[r.pk], key=str), "attendance": len(present[r.pk])}
            for r in rows]


def group_detail(session: Session, group: SupportGroup) -> dict[str, Any]:
    """Return a group with its members and sessions."""
    return {**group_dicts(session, [group])[0], "member_list": member_dicts(session, group),
            "session_list": session_dicts(session, group)}


def group_detail_for_read(session: Session, actor: Actor, group_id: Any) -> dict[str, Any]:
    """Return a group in the actor's scope with its members (women's names and phones) and
    sessions, or raise 404; the read of these personal records is audited."""
    from krc.nutrition.community.services import group_for_read
    group, _village = group_for_read(session, actor, group_id)
    detail = group_detail(session, group)
    audit(session, actor, "read", "support_group", str(group.id),
          {"members": len(detail["member_list"])})
    return detail


# --------------------------------------------------------------------------- MNP

def distribution_dict(session: Session, d: MnpDistribution) -> dict[str, Any]:
    """Return the API shape of a distribution."""
    unit = session.get(OrgUnit, d.facility_id)
    assert unit is not None
    return {"id": d.id, "child_id": session.scalar(select(Child.id).where(
        Child.pk == d.child_pk)), "facility": _ref(unit), "date": d.given_on,
        "round": d.round, "sachets": d.sachets, "age_months": d.age_months}


def followup_dict(session: Session, f: MnpFollowup) -> dict[str, Any]:
    """Return the API shape of a follow-up."""
    return {"id": f.id, "child_id": session.scalar(select(Child.id).where(
        Child.pk == f.child_pk)), "date": f.followed_on, "round": f.round,
        "consumed": f.consumed, "adherence": round(mnp.adherence(f.consumed), 1)}


def child_mnp(session: Session, actor: Actor, child_id: str) -> dict[str, Any]:
    """Return a child's powders: rounds (distributed, consumed, adherence), distributions
    and follow-ups (the read of the child is audited)."""
    child = child_for_read(session, actor, child_id)
    dists = list(session.scalars(select(MnpDistribution).where(
        MnpDistribution.child_pk == child.pk).order_by(MnpDistribution.given_on,
                                                        MnpDistribution.pk)))
    fups = list(session.scalars(select(MnpFollowup).where(
        MnpFollowup.child_pk == child.pk).order_by(MnpFollowup.followed_on, MnpFollowup.pk)))
    rounds = sorted({d.round for d in dists} | {f.round for f in fups})
    out_rounds = []
    for n in rounds:
        st = mnp.round_status(n, [d.sachets for d in dists if d.round == n],
                              [(f.followed_on, f.pk, f.consumed) for f in fups if f.round == n])
        out_rounds.append({"round": n, "distributed": st.distributed, "consumed": st.consumed,
                           "adherence": None if st.adherence is None
                           else round(st.adherence, 1)})
    return {"child_id": child.id, "rounds": out_rounds,
            "distributions": [distribution_dict(session, d) for d in dists],
            "followups": [followup_dict(session, f) for f in fups]}


def stock_lines(session: Session, facility: OrgUnit) -> list[dict[str, Any]]:
    """Return a facility's sachet ledger in order, each line with the balance after it."""
    rows = list(session.scalars(select(MnpStockLine).where(
        MnpStockLine.facility_id == facility.id)))
    by_pk = {r.pk: r for r in rows}
    card = mnp.stock_card(mnp.Line(r.occurred_on, r.kind, r.quantity, r.pk) for r in rows)
    return [{"id": by_pk[line.seq].id, "facility": _ref(facility), "kind": line.kind,
             "quantity": line.quantity, "date": line.on, "note": by_pk[line.seq].note,
             "balance_after": bal} for line, bal in card]


def facility_stock(session: Session, unit: OrgUnit, period: Period) -> list[dict[str, Any]]:
    """Return, for each facility under `unit`, its sachet balance at the end of the period,
    the period's receipts, distributions and losses, the last count and the months of stock
    left at the period's rate of distribution."""
    facilities = list(session.scalars(select(OrgUnit).where(
        OrgUnit.level == FACILITY, _subtree(unit.path)).order_by(OrgUnit.name)))
    if not facilities:
        return []
    lines: dict[int, list[mnp.Line]] = defaultdict(list)
    for fid, pk, on, kind, q in session.execute(
            select(MnpStockLine.facility_id, MnpStockLine.pk, MnpStockLine.occurred_on,
                   MnpStockLine.kind, MnpStockLine.quantity)
            .where(MnpStockLine.facility_id.in_([f.id for f in facilities]),
                   MnpStockLine.occurred_on <= period.end)):
        lines[fid].append(mnp.Line(on, kind, q, pk))
    out = []
    for f in facilities:
        mine = lines.get(f.id, [])
        inside = [x for x in mine if x.on >= period.start]

        def total(kind: str, inside: list[mnp.Line] = inside) -> int:
            return sum(x.quantity for x in inside if x.kind == kind)

        bal = mnp.balance(mine)
        used = total("distribution")
        counts = [x.on for x in mine if x.kind == "count"]
        out.append({"facility": _ref(f), "balance": bal, "received": total("receipt"),
                    "distributed": used, "lost": total("loss"),
                    "last_count": max(counts) if counts else None,
                    "months_left": round(bal / (used / period.months), 1) if used else None})
    return out


# --------------------------------------------------------------------------- figures

def _children_6_23(start: date, end: date) -> Any:
    """Return the condition "aged 6–23 completed months on some day of [start, end]"."""
    return (Child.birth_date <= iycf.latest_birth(end, mnp.MIN_AGE_MONTHS),
            Child.birth_date > iycf.latest_birth(start, mnp.MAX_AGE_MONTHS))


def mnp_figures(session: Session, unit: OrgUnit, period: Period) -> dict[str, Any]:
    """Return MNP coverage and adherence for the unit's subtree and period (§5).

    Coverage: children of the register (by their facility) aged 6–23 months at some day of
    the period with ≥ 1 distribution in the period ÷ those children. Adherence: over the
    rounds followed up in the period (latest follow-up of each child and round in the
    period), Σ consumed ÷ (90 × rounds).
    """
    facilities = _unit_ids(unit.path, FACILITY)
    window = _children_6_23(period.start, period.end)
    den = int(session.scalar(select(func.count()).select_from(Child).where(
        Child.merged_into_pk.is_(None), Child.facility_id.in_(facilities), *window)) or 0)
    num = int(session.scalar(select(func.count(func.distinct(MnpDistribution.child_pk)))
                             .join(Child, Child.pk == MnpDistribution.child_pk)
                             .where(Child.facility_id.in_(facilities),
                                    Child.merged_into_pk.is_(None), *window,
                                    MnpDistribution.given_on.between(period.start, period.end)))
              or 0)
    sachets = int(session.scalar(
        select(func.coalesce(func.sum(MnpDistribution.sachets), 0))
        .join(Child, Child.pk == MnpDistribution.child_pk)
        .where(Child.facility_id.in_(facilities),
               MnpDistribution.given_on.between(period.start, period.end))) or 0)
    latest: dict[tuple[int, int], tuple[date, int, int]] = {}
    for cpk, rnd, on, pk, consumed in session.execute(
            select(MnpFollowup.child_pk, MnpFollowup.round, MnpFollowup.followed_on,
                   MnpFollowup.pk, MnpFollowup.consumed)
            .join(Child, Child.pk == MnpFollowup.child_pk)
            .where(Child.facility_id.in_(facilities),
                   MnpFollowup.followed_on.between(period.start, period.end))):
        key = (cpk, rnd)
        if key not in latest or (on, pk) > latest[key][:2]:
            latest[key] = (on, pk, consumed)
    consumed_total, rounds, adherence = mnp.overall_adherence(v[2] for v in latest.values())
    return {"children_6_23": den, "children_covered": num,
            "coverage": round(100.0 * num / den, 1) if den else None,
            "sachets_distributed": sachets, "rounds_followed": rounds,
            "sachets_consumed": consumed_total,
            "adherence": None if adherence is None else round(adherence, 1)}


def group_figures(session: Session, unit: OrgUnit, period: Period) -> dict[str, Any]:
    """Return support-group figures for the unit's subtree (§5): groups active at the end of
    the period, the villages they cover, women members then, role-model mothers, sessions
    held in the period and their attendance."""
    end, start = period.end, period.start
    villages = _unit_ids(unit.path, VILLAGE)
    active = (SupportGroup.village_id.in_(villages), SupportGroup.founded_on <= end,
              or_(SupportGroup.closed_on.is_(None), SupportGroup.closed_on > end))
    groups = int(session.scalar(select(func.count()).select_from(SupportGroup)
                                .where(*active)) or 0)
    covered = int(session.scalar(select(func.count(func.distinct(SupportGroup.village_id)))
                                 .where(*active)) or 0)
    total_villages = int(session.scalar(select(func.count()).select_from(OrgUnit).where(
        OrgUnit.level == VILLAGE, _subtree(unit.path))) or 0)
    member_now = (SupportGroupMember.joined_on <= end,
                  or_(SupportGroupMember.left_on.is_(None), SupportGroupMember.left_on > end))
    women, role_models = session.execute(
        select(func.count(), func.coalesce(func.sum(
            case((SupportGroupMember.role == "role_model", 1), else_=0)), 0))
        .join(SupportGroup, SupportGroup.pk == SupportGroupMember.group_pk)
        .where(*active, *member_now, SupportGroupMember.sex == "F")).one()
    held = (SupportGroup.village_id.in_(villages),
            SupportGroupSession.held_on.between(start, end))
    sessions = int(session.scalar(
        select(func.count()).select_from(SupportGroupSession)
        .join(SupportGroup, SupportGroup.pk == SupportGroupSession.group_pk).where(*held)) or 0)
    attendance = int(session.scalar(
        select(func.count()).select_from(SupportGroupAttendance)
        .join(SupportGroupSession, SupportGroupSession.pk == SupportGroupAttendance.session_pk)
        .join(SupportGroup, SupportGroup.pk == SupportGroupSession.group_pk)
        .where(*held)) or 0)
    return {"groups": groups, "villages_covered": covered, "villages": total_villages,
            "village_coverage": round(100.0 * covered / total_villages, 1)
            if total_villages else None,
            "women": int(women), "role_models": int(role_models), "sessions": sessions,
            "attendance": attendance}


def community_figures(session: Session, unit: OrgUnit, period: Period) -> dict[str, Any]:
    """Return the community nutrition figures of the unit's subtree for a period
    (reference/nutrition.md §4–§5): IYCF indicators (value, numerator, denominator) from
    visit and survey recalls, MNP coverage and adherence, women in support groups and
    villages covered. The caller checks the unit is in scope; no personal data."""
    rows = _recall_rows(session, unit, period.start, period.end)
    pure = [recall_of_row(r) for _p, r in rows]
    by_source = {s: sum(1 for _p, r in rows if r.source == s) for s in SOURCES}
    return {
        "org_unit": _ref(unit), "period": period.code,
        "iycf": {"recalls": len(pure), **by_source,
                 "indicators": {c: share_dict(s) for c, s in iycf.indicators(pure).items()}},
        "mnp": mnp_figures(session, unit, period),
        "groups": group_figures(session, unit, period),
    }
