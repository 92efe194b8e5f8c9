"""Demo growth monitoring for the demo register: monthly visits with realistic measurements
of children 0–23 months, referrals followed to outcomes, pregnant and breastfeeding women.

Measurements are drawn from the WHO curves themselves (a child keeps its own z-scores, which
drift month to month), with more stunting and wasting in the north and centre (Mopti,
Tombouctou, Gao, Kidal, Ménaka, Taoudénit), a few implausible values (kept and flagged, as
at entry) and a few oedema cases. Z-scores come from the engine in one vectorised call,
classification, faltering and referrals from the same pure rules as services.record_visit.
Bounded (at most MAX_CHILDREN children) and written in bulk, so it takes seconds.
Deterministic for a seed; a second run on the same children adds nothing.
"""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from datetime import date, timedelta
from typing import Any

import numpy as np
from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from krc.accounts.services import audit, utcnow
from krc.geo.models import FACILITY, REGION, OrgUnit
from krc.immunization.models import Child
from krc.immunization.schedule import add_months
from krc.nutrition import tables
from krc.nutrition.register import classify as rules
from krc.nutrition.register.chart import sd_value
from krc.nutrition.register.models import GrowthVisit, Referral, Woman, WomanContact

MAX_CHILDREN = 3000
MONTHS_BACK = 12
NAMESPACE = uuid.UUID("5d0a8f3c-2b7e-4d61-8c9a-3e4f5a6b7c80")
NORTH_CENTRE = frozenset({"ML05", "ML06", "ML07", "ML08", "ML10", "ML11"})
# Mean length-for-age and weight-for-length z of a child, by zone (DHS/SMART orders).
ZONE_MEANS = {True: (-1.35, -0.85), False: (-0.85, -0.35)}
OUTCOME_WEIGHTS = (("recovered", 70), ("defaulted", 15), ("non_response", 6),
                   ("transferred", 6), ("died", 3))


def _lms(name: str, sex: int, key: int) -> tuple[float, float, float] | None:
    t = tables.load(name)
    i = key - t.first
    if not 0 <= i < t.l.shape[1]:
        return None
    lms = (float(t.l[sex - 1, i]), float(t.m[sex - 1, i]), float(t.s[sex - 1, i]))
    return None if any(np.isnan(lms)) else lms


def _at(name: str, sex: int, key: int, z: float) -> float | None:
    lms = _lms(name, sex, key)
    if lms is None:
        return None
    return float(sd_value(np.array(lms[0]), np.array(lms[1]), np.array(lms[2]), z))


def _uid(seed: int, *parts: object) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, "/".join(str(p) for p in (seed, *parts)))


def add_nutrition_demo(session: Session, seed: int, today: date, facility_codes: list[str]
                       ) -> dict[str, int]:
    """Add growth-monitoring visits, referrals and women to the demo register's children
    0–23 months of the facilities (in the order given, at most MAX_CHILDREN children);
    return counts {"children", "visits", "flagged", "oedema", "referrals", "women",
    "contacts"} (reference/nutrition.md §2, §5)."""
    rng = random.Random(seed * 7919 + 11)
    empty = dict.fromkeys(("children", "visits", "flagged", "oedema", "referrals", "women",
                           "contacts"), 0)
    facilities = {u.code: u for u in session.scalars(select(OrgUnit).where(
        OrgUnit.code.in_(facility_codes), OrgUnit.level == FACILITY))}
    regions = {u.uid: u.code[:4] for u in session.scalars(select(OrgUnit).where(
        OrgUnit.level == REGION))}
    oldest = add_months(today, -24)
    children: list[tuple[Child, bool]] = []
    for code in facility_codes:
        unit = facilities.get(code)
        if unit is None:
            continue
        uids = unit.path.strip("/").split("/")
        north = regions.get(uids[REGION - 1], "") in NORTH_CENTRE if len(uids) >= REGION \
            else False
        for child in session.scalars(select(Child).where(
                Child.facility_id == unit.id, Child.birth_date > oldest,
                Child.birth_date <= today, Child.merged_into_pk.is_(None))
                .order_by(Child.pk).limit(MAX_CHILDREN - len(children))):
            children.append((child, north))
        if len(children) >= MAX_CHILDREN:
            break
    if not children:
        return empty
    pks = [c.pk for c, _ in children]
    done = session.scalar(select(func.count()).select_from(GrowthVisit).where(
        GrowthVisit.child_pk.in_(pks[:900])))
    if done:
        return empty
    plan = _plan_visits(rng, children, today, seed)
    if not plan:
        return empty
    _zscores(plan)
    visits, referrals, counts = _classify_and_refer(rng, plan, today, seed)
    now = utcnow()
    for v in visits:
        v["created_at"] = now
    for r in referrals:
        r["created_at"] = r["updated_at"] = now
    for i in range(0, len(visits), 2000):
        session.execute(insert(GrowthVisit), visits[i:i + 2000])
    if referrals:
        visit_pk: dict[uuid.UUID, int] = {}
        ids = [r["visit_id"] for r in referrals]
        for i in range(0, len(ids), 900):
            visit_pk.update(dict(session.execute(select(GrowthVisit.id, GrowthVisit.pk).where(
                GrowthVisit.id.in_(ids[i:i + 900]))).all()))
        for r in referrals:
            r["visit_pk"] = visit_pk[r.pop("visit_id")]
        session.execute(insert(Referral), referrals)
    women, contacts = _women(session, rng, children, today, seed)
    audit(session, None, "create", "nutrition_demo", str(seed),
          {"children": len(plan), "visits": len(visits), "referrals": len(referrals),
           "women": women})
    return {"children": len({v["child_pk"] for v in visits}), "visits": len(visits),
            "flagged": counts["flagged"],
            "oedema": counts["oedema"], "referrals": len(referrals), "women": women,
            "contacts": contacts}


def _plan_visits(rng: random.Random, children: list[tuple[Child, bool]], today: date,
                 seed: int) -> list[dict[str, Any]]:
    """Draw each child's monthly visits and measurements from its own drifting z-scores."""
    out: list[dict[str, Any]] = []
    start = add_months(today, -MONTHS_BACK)
    for child, north in children:
        sex = 1 if child.sex == "M" else 2
        mean_h, mean_w = ZONE_MEANS[north]
        zh, zw = rng.gauss(mean_h, 1.0), rng.gauss(mean_w, 0.9)
        faltering = rng.random() < (0.12 if north else 0.07)
        attend = rng.uniform(0.55, 0.95)
        day = max(start, child.birth_date + timedelta(days=rng.randint(20, 40)))
        visits = []
        while day <= today and (day - child.birth_date).days <= rules.MAX_AGE_DAYS:
            age = (day - child.birth_date).days
            if age > 730:
                break
            if rng.random() < attend:
                visits.append((day, age, zh, zw))
            zh += rng.gauss(-0.02, 0.08)
            zw += rng.gauss(-0.25 if faltering else 0.0, 0.25)
            zw = max(min(zw, 3.0), -4.5)
            day += timedelta(days=rng.randint(27, 34))
        for day, age, zh_, zw_ in visits:
            length = _at("lenanthro", sex, age, zh_)
            if length is None:
                continue
            length = round(length, 1)
            weight = _at("wflanthro", sex, round(length * 10), zw_) if length >= 45 else \
                _at("weianthro", sex, age, zw_)
            if weight is None:
                continue
            muac = None
            if age >= rules.MUAC_FROM_DAYS:
                cm = _at("acanthro", sex, age, 0.85 * zw_ + rng.gauss(0, 0.45))
                muac = round(cm * 10) if cm is not None else None
            oedema = rng.random() < (0.004 if north else 0.0015)
            flagged = rng.random() < 0.006
            if flagged:  # a typing slip: weight in the wrong place, kept and flagged by WHO
                weight = min(weight * rng.choice((1.9, 2.2)), 45.0)
            out.append({"child": child, "day": day, "age": age, "sex": sex,
                        "weight": round(weight, 1), "length": length,
                        "measure": "l", "muac": muac, "oedema": oedema,
                        "id": _uid(seed, "visit", child.pk, day.isoformat())})
    return out


def _zscores(plan: list[dict[str, Any]]) -> None:
    """Add the WHO z-scores, flags and corrections to each planned visit (one engine call)."""
    from krc.nutrition.growth import anthro_zscores
    res = anthro_zscores(
        [p["sex"] for p in plan], [p["age"] for p in plan], False,
        [p["weight"] for p in plan], [p["length"] for p in plan],
        [p["measure"] for p in plan], [np.nan] * len(plan),
        [np.nan if p["muac"] is None else p["muac"] / 10 for p in plan],
        oedema=[p["oedema"] for p in plan])

    def num(name: str, i: int) -> float | None:
        x = float(res[name][i])
        return None if np.isnan(x) else x

    for i, p in enumerate(plan):
        for z in ("zlen", "zwei", "zwfl", "zbmi", "zac", "clenhei"):
            p[z] = num(z, i)
        for f in ("flen", "fwei", "fwfl", "fbmi", "fac", "c9mo_flag"):
            x = num(f, i)
            p[f] = None if x is None else bool(x)
        cm = res["cmeasure"][i]
        p["cmeasure"] = cm if isinstance(cm, str) and cm in ("l", "h") else None


def _classify_and_refer(rng: random.Random, plan: list[dict[str, Any]], today: date,
                        seed: int) -> tuple[list[dict[str, Any]], list[dict[str, Any]],
                                            dict[str, int]]:
    """Classify each visit, detect faltering and raise referrals child by child (the rules
    of services.record_visit), giving past referrals an outcome."""
    by_child: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for p in plan:
        by_child[p["child"].pk].append(p)
    visits: list[dict[str, Any]] = []
    referrals: list[dict[str, Any]] = []
    counts = {"flagged": 0, "oedema": 0}
    for rows in by_child.values():
        rows.sort(key=lambda r: r["day"])
        history: list[rules.WeightPoint] = []
        open_ref: dict[str, Any] | None = None
        for p in rows:
            child: Child = p["child"]
            m = rules.Measures(p["age"], p["zlen"], bool(p["flen"]), p["zwei"],
                               bool(p["fwei"]), p["zwfl"], bool(p["fwfl"]), p["muac"],
                               p["oedema"])
            c = rules.classify(m)
            point = rules.WeightPoint(p["day"], p["weight"], rules.usable(p["zwei"], p["fwei"]))
            falter = rules.growth_faltering(history, point)
            history.append(point)
            counts["flagged"] += int(bool(p["flen"] or p["fwei"] or p["fwfl"]))
            counts["oedema"] += int(p["oedema"])
            visits.append({
                "id": p["id"], "child_pk": child.pk, "visit_on": p["day"],
                "facility_id": child.facility_id, "age_days": p["age"],
                "weight_kg": p["weight"], "lenhei_cm": p["length"], "measure": p["measure"],
                "muac_mm": p["muac"], "oedema": p["oedema"], "counselling": rng.random() < 0.7,
                "complications": None, "appetite_test": None,
                **{k: p[k] for k in ("zlen", "flen", "zwei", "fwei", "zwfl", "fwfl", "zbmi",
                                     "fbmi", "zac", "fac", "clenhei", "cmeasure",
                                     "c9mo_flag")},
                "status": c.status, "criteria": ",".join(c.criteria) or None,
                "faltering": ",".join(falter) or None, "created_by": None})
            reason = c.status if c.status in ("sam", "mam") else (
                "faltering" if falter else None)
            if open_ref is not None and open_ref["outcome_on"] is not None \
                    and open_ref["outcome_on"] <= p["day"]:
                open_ref = None
            if open_ref is not None and reason is not None and rules.SEVERITY[reason] > \
                    rules.SEVERITY[open_ref["reason"]]:
                open_ref.update(status="closed", outcome="transferred", outcome_on=p["day"])
                open_ref = None
            if reason is None or open_ref is not None:
                continue
            complications = reason == "sam" and rng.random() < 0.15
            ref = {"id": _uid(seed, "referral", p["id"]), "child_pk": child.pk,
                   "visit_id": p["id"], "facility_id": child.facility_id, "reason": reason,
                   "criteria": (",".join(c.criteria) if reason != "faltering"
                                else ",".join(falter)) or None,
                   "destination": rules.referral_destination(reason, complications),
                   "status": "open", "referred_on": p["day"], "attended_on": None,
                   "outcome": None, "outcome_on": None, "discharge_met_on": None,
                   "notes": None, "created_by": None, "updated_by": None}
            if rng.random() < 0.8:
                attended = p["day"] + timedelta(days=rng.randint(0, 7))
                if attended <= today:
                    ref.update(status="attended", attended_on=attended)
                    end = attended + timedelta(days=rng.randint(28, 75))
                    if end <= today:
                        outcome = rng.choices([o for o, _ in OUTCOME_WEIGHTS],
                                              [w for _, w in OUTCOME_WEIGHTS])[0]
                        ref.update(status="closed", outcome=outcome, outcome_on=end)
            elif p["day"] + timedelta(days=60) <= today:
                ref.update(status="closed", outcome="defaulted",
                           outcome_on=p["day"] + timedelta(days=60))
            referrals.append(ref)
            open_ref = ref
    return visits, referrals, counts


def _women(session: Session, rng: random.Random, children: list[tuple[Child, bool]],
           today: date, seed: int) -> tuple[int, int]:
    """Add breastfeeding mothers of the youngest children and pregnant women, with their
    contacts (iron–folic acid, MUAC, counselling); return (women, contacts)."""
    now = utcnow()
    women: list[dict[str, Any]] = []
    contacts: list[dict[str, Any]] = []
    for child, north in children:
        age = (today - child.birth_date).days
        names = child.caregiver_name.split(" ", 1)
        given, family = names[0], names[1] if len(names) > 1 else child.family_name
        if age < 365 and rng.random() < 0.35:
            women.append({"id": _uid(seed, "mother", child.pk), "given_name": given,
                          "family_name": family, "birth_date": None,
                          "age_years": rng.randint(17, 40), "phone": child.caregiver_phone,
                          "facility_id": child.facility_id, "village_id": child.village_id,
                          "status": "breastfeeding", "expected_delivery": None,
                          "outcome": "live_birth", "outcome_on": child.birth_date,
                          "child_pk": child.pk, "created_at": now, "updated_at": now,
                          "created_by": None})
        if rng.random() < 0.12:
            edd = today + timedelta(days=rng.randint(10, 270))
            wid = _uid(seed, "pregnant", child.pk)
            women.append({"id": wid, "given_name": given, "family_name": family,
                          "birth_date": None, "age_years": rng.randint(17, 42),
                          "phone": child.caregiver_phone, "facility_id": child.facility_id,
                          "village_id": child.village_id, "status": "pregnant",
                          "expected_delivery": edd, "outcome": None, "outcome_on": None,
                          "child_pk": None, "created_at": now, "updated_at": now,
                          "created_by": None})
            first = edd - timedelta(days=280 - rng.randint(70, 120))
            day = first
            while day <= today:
                muac = round(rng.gauss(236 if not north else 226, 14))
                contacts.append({"woman_id": wid, "kind": "antenatal", "contact_on": day,
                                 "facility_id": child.facility_id,
                                 "iron_folic_acid": rng.random() < 0.75, "ifa_tablets": None,
                                 "muac_mm": float(muac), "muac_at_risk": muac < 230,
                                 "counselling": rng.random() < 0.6,
                                 "id": _uid(seed, "contact", wid, day.isoformat()),
                                 "created_at": now, "created_by": None})
                day += timedelta(days=rng.randint(28, 56))
    if women:
        session.execute(insert(Woman), women)
    if contacts:
        pk_of = dict(session.execute(select(Woman.id, Woman.pk).where(
            Woman.id.in_(sorted({c["woman_id"] for c in contacts})))).all())
        for c in contacts:
            c["woman_pk"] = pk_of[c.pop("woman_id")]
            c["ifa_tablets"] = 90 if c["iron_folic_acid"] else None
        session.execute(insert(WomanContact), contacts)
    return len(women), len(contacts)
