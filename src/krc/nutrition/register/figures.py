"""Figures of the first 1,000 days per org unit and period (reference/nutrition.md §5
"Programme indicators"), for the API and the dashboard.

For now these read the visits and referrals of the period directly (one indexed scan of
`growth_visit` by facility × date, one of `nutrition_referral`), not pre-aggregated facts:
growth monitoring has two orders of magnitude fewer rows than doses. Figures are grouped by
the facility where the child was measured (monitoring %: by the child's register facility).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, aliased

from krc.geo.models import FACILITY, OrgUnit
from krc.immunization.models import Child
from krc.immunization.schedule import add_months
from krc.nutrition.register.classify import Measures, classify
from krc.nutrition.register.models import GrowthVisit, Referral, Woman, WomanContact
from krc.results.periods import Period

UNDER_24_DAYS = 730  # 0–23 months: age in months < 24, i.e. up to day 730
OUTCOMES = ("recovered", "defaulted", "died", "non_response", "transferred")
# A referral closed because its visit was voided (entered in error) never happened.
LIVE_REFERRAL = or_(Referral.outcome.is_(None), Referral.outcome != "entered_in_error")


def _pct(n: int, d: int) -> float | None:
    return None if d == 0 else round(100.0 * n / d, 1)


@dataclass
class _Group:
    """What one org unit accumulates while the rows are read."""

    monitored: set[int] = field(default_factory=set)
    visits: int = 0
    latest: dict[int, tuple[date, Measures]] = field(default_factory=dict)
    first_status: dict[str, dict[int, date]] = field(
        default_factory=lambda: {"sam": {}, "mam": {}})
    faltering: set[int] = field(default_factory=set)
    by_month: dict[int, set[int]] = field(default_factory=lambda: defaultdict(set))
    referrals: list[tuple[str, str, date | None, str | None]] = field(default_factory=list)


def _months(p: Period, on: date) -> list[date]:
    """Return the first day of each month of the period up to `on`'s month."""
    out = []
    for m in range(p.first, p.last + 1):
        first = date(p.year, m, 1)
        if first <= on:
            out.append(first)
    return out


def _month_end(first: date) -> date:
    return add_months(first, 1) - timedelta(days=1)


def nutrition_figures(session: Session, unit: OrgUnit, period: Period, on: date,
                      level: int | None = None) -> list[dict[str, Any]]:
    """Return the register figures of a unit for a period, or one row per descendant at
    `level` (≤ facility): children 0–23 months monitored and monitored monthly (%),
    stunting, wasting, underweight and overweight among those measured (each child's
    latest visit; flagged z-scores excluded, oedema counted as severe), SAM/MAM detected
    and referred, growth faltering, referral completion and outcomes, and the women's
    antenatal figures (reference/nutrition.md §2, §5)."""
    target_level = unit.level if level is None or level <= unit.level else min(level, FACILITY)
    targets = {u.uid: u for u in session.scalars(select(OrgUnit).where(
        OrgUnit.level == target_level, OrgUnit.hierarchy == "health",
        or_(OrgUnit.path == unit.path, OrgUnit.path.startswith(unit.path + "/"))))}
    if not targets:
        targets = {unit.uid: unit}

    def group_of(path: str) -> str | None:
        uids = path.strip("/").split("/")
        return uids[target_level - 1] if len(uids) >= target_level else None

    start, end = period.start, min(period.end, on)
    groups: dict[str, _Group] = {uid: _Group() for uid in targets}
    fac = aliased(OrgUnit)
    home = aliased(OrgUnit)
    in_unit = or_(fac.path == unit.path, fac.path.startswith(unit.path + "/"))
    rows = session.execute(
        select(GrowthVisit.child_pk, GrowthVisit.visit_on, GrowthVisit.age_days,
               GrowthVisit.zlen, GrowthVisit.flen, GrowthVisit.zwei, GrowthVisit.fwei,
               GrowthVisit.zwfl, GrowthVisit.fwfl, GrowthVisit.muac_mm, GrowthVisit.oedema,
               GrowthVisit.status, GrowthVisit.faltering, fac.path, home.path)
        .join(fac, fac.id == GrowthVisit.facility_id)
        .join(Child, Child.pk == GrowthVisit.child_pk)
        .join(home, home.id == Child.facility_id)
        .where(GrowthVisit.visit_on >= start, GrowthVisit.visit_on <= end, in_unit,
               GrowthVisit.voided_at.is_(None))
        .order_by(GrowthVisit.visit_on))
    for (child, day, age, zlen, flen, zwei, fwei, zwfl, fwfl, muac, oedema, status, falt,
         path, home_path) in rows:
        g = groups.get(group_of(path) or "")
        if g is None or age > UNDER_24_DAYS:
            continue
        g.monitored.add(child)
        g.visits += 1
        g.latest[child] = (day, Measures(age, zlen, bool(flen), zwei, bool(fwei), zwfl,
                                         bool(fwfl), muac, bool(oedema)))
        if status in g.first_status:
            g.first_status[status].setdefault(child, day)
        if falt:
            g.faltering.add(child)
        hg = groups.get(group_of(home_path) or "")
        if hg is not None:
            hg.by_month[day.month].add(child)
    for reason, status, attended_on, outcome, path in session.execute(
            select(Referral.reason, Referral.status,
                   Referral.attended_on, Referral.outcome, fac.path)
            .join(fac, fac.id == Referral.facility_id)
            .where(Referral.referred_on >= start, Referral.referred_on <= end, in_unit,
                   LIVE_REFERRAL)):
        g = groups.get(group_of(path) or "")
        if g is not None:
            g.referrals.append((reason, status, attended_on, outcome))
    referred = _referred_children(session, groups, end)
    denominators = _register_children(session, unit, _months(period, end), group_of)
    women = _women(session, unit, start, end, group_of)
    out = []
    for uid, g in groups.items():
        u = targets[uid]
        out.append(_row(u, period, g, referred, denominators.get(uid, {}),
                        women.get(uid, {})))
    out.sort(key=lambda r: r["org_unit"]["name"])
    return out


def _referred_children(session: Session, groups: dict[str, _Group], end: date
                       ) -> dict[int, list[tuple[str, date, date | None]]]:
    """Return the SAM/MAM referrals (reason, referred, closed) of the detected children."""
    detected = {c for g in groups.values() for s in ("sam", "mam") for c in g.first_status[s]}
    out: dict[int, list[tuple[str, date, date | None]]] = defaultdict(list)
    ids = sorted(detected)
    for i in range(0, len(ids), 900):
        for child, reason, referred_on, outcome_on in session.execute(
                select(Referral.child_pk, Referral.reason, Referral.referred_on,
                       Referral.outcome_on).where(Referral.child_pk.in_(ids[i:i + 900]),
                                                  Referral.reason.in_(("sam", "mam")),
                                                  Referral.referred_on <= end,
                                                  LIVE_REFERRAL)):
            out[child].append((reason, referred_on, outcome_on))
    return out


def _is_referred(refs: list[tuple[str, date, date | None]], status: str, day: date) -> bool:
    rank = {"mam": 1, "sam": 2}
    return any(rank[reason] >= rank[status] and referred_on <= day
               and (closed is None or closed >= day) for reason, referred_on, closed in refs)


def _register_children(session: Session, unit: OrgUnit, months: list[date],
                       group_of: Callable[[str], str | None]) -> dict[str, dict[int, int]]:
    """Return per group and month the register children aged 0–23 months at month end."""
    out: dict[str, dict[int, int]] = defaultdict(dict)
    for first in months:
        last = _month_end(first)
        oldest = add_months(last, -24)
        for path, n in session.execute(
                select(OrgUnit.path, func.count()).join(Child, Child.facility_id == OrgUnit.id)
                .where(Child.birth_date > oldest, Child.birth_date <= last,
                       Child.merged_into_pk.is_(None),
                       or_(OrgUnit.path == unit.path, OrgUnit.path.startswith(unit.path + "/")))
                .group_by(OrgUnit.path)):
            key = group_of(path)
            if key is not None:
                out[key][first.month] = out[key].get(first.month, 0) + int(n)
    return out


def _women(session: Session, unit: OrgUnit, start: date, end: date,
           group_of: Callable[[str], str | None]) -> dict[str, dict[str, int]]:
    """Return per group: pregnant and breastfeeding women registered now, antenatal
    contacts of the period, women seen, iron–folic acid given, MUAC measured and at risk."""
    out: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    in_unit = or_(OrgUnit.path == unit.path, OrgUnit.path.startswith(unit.path + "/"))
    for path, status, n in session.execute(
            select(OrgUnit.path, Woman.status, func.count())
            .join(Woman, Woman.facility_id == OrgUnit.id).where(in_unit)
            .group_by(OrgUnit.path, Woman.status)):
        key = group_of(path)
        if key is not None:
            out[key][f"{status}_registered"] += int(n)
    seen: dict[str, set[int]] = defaultdict(set)
    for path, woman, kind, ifa, muac, risk in session.execute(
            select(OrgUnit.path, WomanContact.woman_pk, WomanContact.kind,
                   WomanContact.iron_folic_acid, WomanContact.muac_mm, WomanContact.muac_at_risk)
            .join(WomanContact, WomanContact.facility_id == OrgUnit.id)
            .where(in_unit, WomanContact.contact_on >= start, WomanContact.contact_on <= end)):
        key = group_of(path)
        if key is None:
            continue
        g = out[key]
        g[f"{kind}_contacts"] += 1
        seen[key].add(woman)
        g["iron_folic_acid"] += int(bool(ifa))
        g["muac_measured"] += int(muac is not None)
        g["muac_at_risk"] += int(bool(risk))
    for key, women in seen.items():
        out[key]["women_seen"] = len(women)
    return out


def _row(u: OrgUnit, period: Period, g: _Group,
         referred: dict[int, list[tuple[str, date, date | None]]], register: dict[int, int],
         women: dict[str, int]) -> dict[str, Any]:
    counts: dict[str, list[int]] = {k: [0, 0, 0] for k in ("stunting", "wasting",
                                                         "underweight", "overweight")}
    for _day, m in g.latest.values():
        c = classify(m)
        for name, moderate, severe in (("stunting", c.stunting, c.severe_stunting),
                                       ("wasting", c.wasting, c.severe_wasting),
                                       ("underweight", c.underweight, c.severe_underweight),
                                       ("overweight", c.overweight, None)):
            if moderate is None:
                continue
            counts[name][0] += 1
            counts[name][1] += int(moderate)
            counts[name][2] += int(bool(severe))
    measured = {name: {"measured": d, "cases": n, "percent": _pct(n, d),
                       **({"severe": s, "severe_percent": _pct(s, d)}
                          if name != "overweight" else {})}
                for name, (d, n, s) in counts.items()}
    sam = g.first_status["sam"]
    mam = {c: d for c, d in g.first_status["mam"].items() if c not in sam}
    sam_ref = sum(1 for c, d in sam.items() if _is_referred(referred.get(c, []), "sam", d))
    mam_ref = sum(1 for c, d in mam.items() if _is_referred(referred.get(c, []), "mam", d))
    months: list[dict[str, Any]] = []
    for month, denominator in sorted(register.items()):
        n = len(g.by_month.get(month, set()))
        months.append({"period": f"{period.year}{month:02d}", "monitored": n,
                       "children_0_23": denominator, "percent": _pct(n, denominator)})
    monthly = [float(m["percent"]) for m in months if m["percent"] is not None]
    outcomes = dict.fromkeys(OUTCOMES, 0)
    attended = 0
    by_reason: dict[str, int] = {"sam": 0, "mam": 0, "faltering": 0}
    for reason, _status, attended_on, outcome in g.referrals:
        by_reason[reason] = by_reason.get(reason, 0) + 1
        attended += int(attended_on is not None)
        if outcome:
            outcomes[outcome] += 1
    total = len(g.referrals)
    return {
        "org_unit": {"code": u.code, "name": u.name, "level": u.level},
        "period": period.code,
        "children_monitored": len(g.monitored), "visits": g.visits,
        "monitored_monthly": {
            "percent": round(sum(monthly) / len(monthly), 1) if monthly else None,
            "months": months},
        **measured,
        "flagged_excluded": sum(1 for _d, m in g.latest.values()
                                if m.flen or m.fwei or m.fwfl),
        "sam": {"detected": len(sam), "referred": sam_ref, "percent_referred":
                _pct(sam_ref, len(sam))},
        "mam": {"detected": len(mam), "referred": mam_ref, "percent_referred":
                _pct(mam_ref, len(mam))},
        "faltering": len(g.faltering),
        "referrals": {"made": total, "by_reason": by_reason, "attended": attended,
                      "completion_percent": _pct(attended, total),
                      "open": sum(1 for r in g.referrals if r[1] == "open"),
                      "outcomes": outcomes},
        "women": {k: int(women.get(k, 0)) for k in (
            "pregnant_registered", "breastfeeding_registered", "antenatal_contacts",
            "postnatal_contacts", "women_seen", "iron_folic_acid", "muac_measured",
            "muac_at_risk")},
    }


def figures_with_community(session: Session, unit: OrgUnit, period: Period, on: date,
                           level: int | None = None) -> dict[str, Any]:
    """Return the unit's figures (and its sub-units' at `level`) plus the community figures
    (IYCF, micronutrient powders, support groups) of krc.nutrition.community when present."""
    total = nutrition_figures(session, unit, period, on)[0]
    subs = nutrition_figures(session, unit, period, on, level) \
        if level is not None and level > unit.level else []
    community: dict[str, Any] | None = None
    try:
        from krc.nutrition.community.queries import community_figures
    except ImportError:
        community = None
    else:
        community = community_figures(session, unit, period)
    return {"org_unit": total["org_unit"], "period": period.code, "totals": total,
            "rows": subs, "community": community}
