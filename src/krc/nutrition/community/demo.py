"""Demo community nutrition: support groups (GASPA) in a share of villages with role-model
mothers, members and monthly sessions with attendance; IYCF recalls for a sample of
children 0–23 months (EBF near 40 %, MAD low); MNP sachet stock, distributions and
follow-ups with imperfect adherence (reference/nutrition.md §4–§5).

Like the other demo hooks it writes in bulk and respects the rules by construction (ages,
90 sachets a round, consumed ≤ given, stock never negative). Deterministic for a seed and
idempotent: ids derive from the seed and a second run adds nothing. Bounded: at most
`MAX_FACILITIES` facilities and a sample of children per facility.
"""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from datetime import date, timedelta
from typing import Any, cast

from sqlalchemy import Table, insert, select
from sqlalchemy.orm import Session

from krc.accounts.services import audit, utcnow
from krc.geo.models import FACILITY, VILLAGE, OrgUnit
from krc.immunization.models import Child
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
from krc.nutrition.community.services import TOPICS

MAX_FACILITIES = 120
GROUP_SHARE = 0.45  # share of villages with a GASPA
SESSION_MONTHS = 6
RECALLS_PER_FACILITY = 30
MNP_CHILDREN_PER_FACILITY = 25
NS = uuid.UUID("3a0c1f5e-8d5b-4a4a-b3f1-6c2e9d7a4b11")
GIVEN = ("Awa", "Fatoumata", "Mariam", "Aminata", "Kadiatou", "Oumou", "Djeneba", "Hawa",
         "Assitan", "Rokia", "Salimata", "Nana", "Fanta", "Bintou", "Korotoumou", "Sitan")
FAMILY = ("Traoré", "Coulibaly", "Diarra", "Keïta", "Koné", "Sangaré", "Dembélé", "Diallo",
          "Sidibé", "Touré", "Camara", "Doumbia", "Samaké", "Konaté")
MEN = ("Bakary", "Moussa", "Seydou", "Mamadou", "Adama", "Souleymane")


def _id(seed: int, *parts: object) -> uuid.UUID:
    return uuid.uuid5(NS, "/".join([str(seed), *map(str, parts)]))


def _months_back(today: date, n: int, day: int) -> date:
    total = today.year * 12 + today.month - 1 - n
    return date(total // 12, total % 12 + 1, min(day, 28))


def add_community_demo(session: Session, seed: int, today: date, facility_codes: list[str]
                       ) -> dict[str, int]:
    """Add demo groups, members, sessions, IYCF recalls, MNP stock, distributions and
    follow-ups to the facilities; return the counts of what was added."""
    facilities = list(session.scalars(select(OrgUnit).where(
        OrgUnit.code.in_(facility_codes[:MAX_FACILITIES]), OrgUnit.level == FACILITY)
        .order_by(OrgUnit.code)))
    out = dict.fromkeys(("groups", "members", "sessions", "recalls", "distributions",
                         "followups"), 0)
    if not facilities:
        return out
    fids = [f.id for f in facilities]
    done = set(session.scalars(select(SupportGroup.id).where(
        SupportGroup.facility_id.in_(fids))))
    villages: dict[int, list[OrgUnit]] = defaultdict(list)
    for v in session.scalars(select(OrgUnit).where(OrgUnit.level == VILLAGE,
                                                   OrgUnit.parent_id.in_(fids))
                             .order_by(OrgUnit.code)):
        villages[int(v.parent_id or 0)].append(v)
    oldest = iycf.latest_birth(today, 24) + timedelta(days=1)
    children: dict[int, list[tuple[int, date, int | None, str]]] = defaultdict(list)
    for pk, fid, birth, village, sex in session.execute(
            select(Child.pk, Child.facility_id, Child.birth_date, Child.village_id, Child.sex)
            .where(Child.facility_id.in_(fids), Child.merged_into_pk.is_(None),
                   Child.birth_date >= oldest, Child.birth_date <= today)
            .order_by(Child.pk)):
        children[int(fid)].append((int(pk), birth, village, sex))
    now = utcnow()
    for fac in facilities:
        # one generator per part and village, so that a re-run makes the same choices
        _groups(session, seed, today, fac, villages.get(fac.id, []), done, now, out)
        kids = children.get(fac.id, [])
        _recalls(session, random.Random(f"community/{seed}/{fac.code}/iycf"), seed, today,
                 fac, kids, now, out)
        _mnp(session, random.Random(f"community/{seed}/{fac.code}/mnp"), seed, today, fac,
             kids, now, out)
    audit(session, None, "create", "community_demo", str(seed),
          {**out, "facilities": len(facilities)})
    return out


def _insert(session: Session, model: Any, rows: list[dict[str, Any]]) -> None:
    if rows:
        session.execute(insert(cast(Table, model.__table__)), rows)


def _groups(session: Session, seed: int, today: date, fac: OrgUnit,
            villages: list[OrgUnit], done: set[uuid.UUID], now: Any,
            out: dict[str, int]) -> None:
    for v in villages:
        rng = random.Random(f"community/{seed}/{v.code}/group")
        if rng.random() > GROUP_SHARE:
            continue
        gid = _id(seed, "group", v.code)
        if gid in done:
            continue
        founded = today - timedelta(days=rng.randint(200, 900))
        g = SupportGroup(id=gid, name=f"GASPA {v.name}", village_id=v.id, facility_id=fac.id,
                         founded_on=founded, created_at=now, created_by=None)
        session.add(g)
        session.flush()
        out["groups"] += 1
        members: list[dict[str, Any]] = []
        size = rng.randint(10, 18)
        for k in range(size):
            role = "role_model" if k < 2 else ("leader" if k == 2 else "member")
            man = role == "leader" and rng.random() < 0.5
            name = f"{rng.choice(MEN if man else GIVEN)} {rng.choice(FAMILY)}"
            joined = founded + timedelta(days=rng.randint(0, 120) if k > 2 else 0)
            left = (joined + timedelta(days=rng.randint(60, 400))
                    if role == "member" and rng.random() < 0.12 else None)
            if left is not None and left > today:
                left = None
            phone = f"+2237{rng.randint(0, 9)}{rng.randint(100000, 999999)}" \
                if rng.random() < 0.6 else None
            members.append({"id": _id(seed, "member", v.code, k), "group_pk": g.pk,
                            "name": name, "phone": phone, "sex": "M" if man else "F",
                            "role": role, "joined_on": min(joined, today), "left_on": left,
                            "created_at": now, "created_by": None})
        _insert(session, SupportGroupMember, members)
        out["members"] += len(members)
        pk_of = dict(session.execute(select(SupportGroupMember.id, SupportGroupMember.pk)
                                     .where(SupportGroupMember.group_pk == g.pk)).all())
        day_of_month = rng.randint(3, 25)
        sessions, attendance = [], []
        for m in range(SESSION_MONTHS, 0, -1):
            held = _months_back(today, m - 1, day_of_month)
            if held > today or held < founded or rng.random() < 0.15:
                continue
            sid = _id(seed, "session", v.code, held.isoformat())
            topics = rng.sample(TOPICS[:6], rng.randint(1, 3))
            sessions.append({"id": sid, "group_pk": g.pk, "held_on": held, "topics": topics,
                             "other_topic": None, "notes": None, "created_at": now,
                             "created_by": None})
            rate = rng.uniform(0.5, 0.9)
            present = [x for x in members if x["joined_on"] <= held
                       and (x["left_on"] is None or x["left_on"] >= held)
                       and rng.random() < rate]
            attendance.append((sid, [pk_of[x["id"]] for x in present]))
        _insert(session, SupportGroupSession, sessions)
        out["sessions"] += len(sessions)
        spk = dict(session.execute(select(SupportGroupSession.id, SupportGroupSession.pk)
                                   .where(SupportGroupSession.group_pk == g.pk)).all())
        _insert(session, SupportGroupAttendance,
                [{"session_pk": spk[sid], "member_pk": mpk}
                 for sid, mpks in attendance for mpk in mpks])


def _answers(rng: random.Random, age: int) -> iycf.Recall:
    """Return realistic answers: EBF near 40 % under 6 months, MAD low (Mali DHS-like)."""
    if age < 6:
        breastfed = rng.random() < 0.97
        exclusive = breastfed and rng.random() < 0.42
        if exclusive:
            return iycf.Recall(age, True, early_bf=_early(rng))
        dairy = rng.random() < 0.1
        return iycf.Recall(age, breastfed, early_bf=_early(rng),
                           other_liquids=rng.random() < 0.85 or not dairy, dairy=dairy,
                           grains=age >= 4 and rng.random() < 0.2,
                           solid_feeds=1 if age >= 4 and rng.random() < 0.2 else 0,
                           milk_feeds=0 if breastfed else rng.randint(1, 4))
    breastfed = rng.random() < (0.96 if age < 12 else 0.82 if age < 18 else 0.6)
    eats = rng.random() < (0.6 if age < 9 else 0.92)
    flags = {"grains": eats, "pulses": eats and rng.random() < 0.4,
             "dairy": rng.random() < 0.25, "flesh": eats and rng.random() < 0.4,
             "eggs": eats and rng.random() < 0.12, "vita_fv": eats and rng.random() < 0.45,
             "other_fv": eats and rng.random() < 0.35}
    feeds = rng.choice((0, 1, 1, 2, 2, 2, 3, 3, 4)) if any(flags.values()) else 0
    return iycf.Recall(age, breastfed, early_bf=_early(rng), other_liquids=True,
                       solid_feeds=feeds, milk_feeds=0 if breastfed else rng.randint(0, 3),
                       **flags)


def _early(rng: random.Random) -> bool | None:
    x = rng.random()
    return None if x < 0.05 else x < 0.6


def _recalls(session: Session, rng: random.Random, seed: int, today: date, fac: OrgUnit,
             kids: list[tuple[int, date, int | None, str]], now: Any,
             out: dict[str, int]) -> None:
    sample = rng.sample(kids, min(RECALLS_PER_FACILITY, len(kids)))
    done = set(session.scalars(select(IycfRecall.id).where(
        IycfRecall.id.in_([_id(seed, "recall", k[0]) for k in sample])))) if sample else set()
    rows = []
    for pk, birth, village, sex in sample:
        crng = random.Random(f"community/{seed}/recall/{pk}")  # the same on a re-run
        day = today - timedelta(days=crng.randint(0, 80))
        if day < birth:
            continue
        age = iycf.completed_months(birth, day)
        rid = _id(seed, "recall", pk)
        if age >= 24 or rid in done:
            continue
        r = _answers(crng, age)
        cols = {k: getattr(r, k) for k in ("breastfed", "early_bf", "other_liquids", "grains",
                                          "pulses", "dairy", "flesh", "eggs", "vita_fv",
                                          "other_fv", "solid_feeds", "milk_feeds")}
        rows.append({"id": rid, "source": "visit", "child_pk": pk,
                     "org_unit_id": village or fac.id, "survey": None, "survey_row": None,
                     "import_pk": None, "recalled_on": day, "age_months": age,
                     "age_days": (day - birth).days, "sex": sex, "answers": dict(cols),
                     "created_at": now, "created_by": None, **cols})
    _insert(session, IycfRecall, rows)
    out["recalls"] += len(rows)


def _mnp(session: Session, rng: random.Random, seed: int, today: date, fac: OrgUnit,
         kids: list[tuple[int, date, int | None, str]], now: Any,
         out: dict[str, int]) -> None:
    receipt_id = _id(seed, "mnp-receipt", fac.code)
    if session.scalar(select(MnpStockLine.pk).where(MnpStockLine.id == receipt_id)):
        return
    start = today - timedelta(days=100)
    plans: list[tuple[int, date, int, int]] = []  # child, day, round, sachets
    eligible = [k for k in kids if mnp.eligible(iycf.completed_months(k[1], today))]
    for pk, birth, _v, _s in rng.sample(eligible, min(MNP_CHILDREN_PER_FACILITY,
                                                      len(eligible))):
        given: dict[int, int] = defaultdict(int)
        for month in range(3):
            day = start + timedelta(days=10 + 30 * month + rng.randint(0, 5))
            if day > today or rng.random() < 0.15:
                continue
            age = iycf.completed_months(birth, day)
            rnd = mnp.round_for_age(age)
            if rnd is None or given[rnd] + 30 > mnp.SACHETS_PER_ROUND:
                continue
            given[rnd] += 30
            plans.append((pk, day, rnd, 30))
    need = sum(p[3] for p in plans)
    stock = [{"id": receipt_id, "facility_id": fac.id, "kind": "receipt",
              "quantity": need + rng.randint(2, 12) * 100, "occurred_on": start,
              "distribution_pk": None, "note": "Demo", "created_at": now, "created_by": None}]
    _insert(session, MnpStockLine, stock)
    dists = [{"id": _id(seed, "mnp", pk, day.isoformat()), "child_pk": pk,
              "facility_id": fac.id, "given_on": day, "round": rnd, "sachets": n,
              "age_months": iycf.completed_months(birth_of, day), "created_at": now,
              "created_by": None}
             for pk, day, rnd, n in plans
             for birth_of in [next(k[1] for k in kids if k[0] == pk)]]
    _insert(session, MnpDistribution, dists)
    out["distributions"] += len(dists)
    if dists:
        pk_of = dict(session.execute(select(MnpDistribution.id, MnpDistribution.pk).where(
            MnpDistribution.id.in_([d["id"] for d in dists]))).all())
        _insert(session, MnpStockLine, [
            {"id": _id(seed, "mnp-line", d["id"]), "facility_id": fac.id,
             "kind": "distribution", "quantity": d["sachets"], "occurred_on": d["given_on"],
             "distribution_pk": pk_of[d["id"]], "note": None, "created_at": now,
             "created_by": None} for d in dists])
    # follow-ups: about 25 days after each distribution, cumulative consumption in the round
    fups = []
    adherence_of: dict[int, float] = {}
    cumulative: dict[tuple[int, int], tuple[int, int]] = {}
    for pk, day, rnd, n in sorted(plans, key=lambda p: (p[0], p[1])):
        when = day + timedelta(days=25)
        if when > today:
            continue
        rate = adherence_of.setdefault(pk, min(1.0, max(0.1, rng.gauss(0.62, 0.22))))
        got, eaten = cumulative.get((pk, rnd), (0, 0))
        got += n
        eaten = min(got, eaten + round(n * rate))
        cumulative[(pk, rnd)] = (got, eaten)
        fups.append({"id": _id(seed, "fup", pk, when.isoformat()), "child_pk": pk,
                     "facility_id": fac.id, "round": rnd, "followed_on": when,
                     "consumed": eaten, "created_at": now, "created_by": None})
    _insert(session, MnpFollowup, fups)
    out["followups"] += len(fups)
