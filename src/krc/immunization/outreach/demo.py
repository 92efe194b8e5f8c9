"""Demo outreach: past sessions built from the demo's outreach doses, and planned sessions at
Malian gathering places (markets, schools, places of worship, bus stations).

Like the demo register loader it writes in bulk (one INSERT of sessions, one UPDATE per
past session) and respects the rules by construction: every linked dose has the session's
date, facility and strategy, and past sessions are `held`. Deterministic for a seed, and
idempotent: session ids derive from the seed, facility, date and strategy, and doses already
linked are left alone.
"""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from datetime import date, timedelta
from typing import Any, cast

from sqlalchemy import Table, bindparam, func, insert, select
from sqlalchemy.orm import Session

from krc.accounts.services import audit, utcnow
from krc.geo.models import DISTRICT, FACILITY, VILLAGE, OrgUnit
from krc.immunization.models import Vaccination
from krc.immunization.outreach.models import OutreachSession, OutreachSessionVillage

PAST_DAYS = 365  # past sessions come from the outreach doses of the last year
MAX_PAST_PER_FACILITY = 12  # the busiest outreach days of each facility
PLANNED_PER_FACILITY = 4  # planned sessions over the next eight weeks
MAX_FACILITIES = 200  # bounded work at the national scale (login districts come first)
DEMO_NAMESPACE = uuid.UUID("6f1c7f0e-1d7b-4f4e-9a57-0c8b5e1f0a01")

PLACES = {  # place type → name patterns ({v}: a village of the health area)
    "market": ("Marché de {v}", "Foire hebdomadaire de {v}", "Grand marché de {v}"),
    "school": ("École fondamentale de {v}", "École communautaire de {v}",
               "Médersa de {v}"),
    "place_of_worship": ("Grande mosquée de {v}", "Mosquée du vendredi de {v}",
                         "Église catholique de {v}"),
    "bus_station": ("Gare routière de {v}", "Autogare de {v}"),
    "other": ("Place publique de {v}", "Maison du chef de village de {v}"),
}
TYPES = tuple(PLACES)


def _place(rng: random.Random, village: str, kind: str | None = None) -> tuple[str, str]:
    kind = kind or rng.choices(TYPES, weights=(4, 3, 3, 2, 1))[0]
    return kind, rng.choice(PLACES[kind]).format(v=village)


def _sid(seed: int, facility: str, day: date, strategy: str) -> uuid.UUID:
    return uuid.uuid5(DEMO_NAMESPACE, f"{seed}/{facility}/{day.isoformat()}/{strategy}")


def add_outreach_demo(session: Session, seed: int, today: date, facility_codes: list[str]
                      ) -> dict[str, int]:
    """Add demo sessions to the facilities and link their recent outreach doses; return
    counts {"held", "planned", "doses_linked"} (reference/immunization.md §3)."""
    facilities = list(session.scalars(select(OrgUnit).where(
        OrgUnit.code.in_(facility_codes[:MAX_FACILITIES]), OrgUnit.level == FACILITY)
        .order_by(OrgUnit.code)))
    if not facilities:
        return {"held": 0, "planned": 0, "doses_linked": 0}
    fids = [f.id for f in facilities]
    district_of = _districts(session, facilities)
    villages: dict[int, list[tuple[int, str]]] = defaultdict(list)
    for vid, parent, name in session.execute(
            select(OrgUnit.id, OrgUnit.parent_id, OrgUnit.name).where(
                OrgUnit.level == VILLAGE, OrgUnit.parent_id.in_(fids)).order_by(OrgUnit.id)):
        villages[int(parent or 0)].append((vid, name))
    # The outreach days of each facility over the last year (one query).
    days: dict[int, list[tuple[date, str, int]]] = defaultdict(list)
    for fid, day, strategy, n in session.execute(
            select(Vaccination.facility_id, Vaccination.given_on, Vaccination.strategy,
                   func.count())
            .where(Vaccination.facility_id.in_(fids),
                   Vaccination.strategy.in_(("outreach", "mobile")),
                   Vaccination.given_on > today - timedelta(days=PAST_DAYS),
                   Vaccination.given_on <= today, Vaccination.deleted.is_(False),
                   Vaccination.session.is_(None))
            .group_by(Vaccination.facility_id, Vaccination.given_on, Vaccination.strategy)):
        days[int(fid)].append((day, strategy, int(n)))
    existing = set(session.scalars(select(OutreachSession.id).where(
        OutreachSession.facility_id.in_(fids))))
    now = utcnow()
    rows: list[dict[str, Any]] = []
    targets: list[tuple[uuid.UUID, int]] = []
    links: list[tuple[uuid.UUID, int, date, str]] = []
    planned = 0
    for fac in facilities:
        # the same choices on every run (planned sessions do not depend on past ones)
        rng, rng_plan = random.Random(f"{seed}/{fac.code}"), random.Random(f"{seed}/{fac.code}/p")
        local = villages.get(fac.id) or [(0, fac.name.removeprefix("CSCom ").strip())]
        # the busiest outreach days of the year, so that session reports show real numbers
        recent = sorted(days.get(fac.id, []), key=lambda d: (-d[2], d[0], d[1])
                        )[:MAX_PAST_PER_FACILITY]
        for day, strategy, _n in recent:
            sid = _sid(seed, fac.code, day, strategy)
            kind, name = _place(rng, rng.choice(local)[1])
            if sid not in existing:
                rows.append(_row(sid, fac, district_of[fac.id], day, strategy, kind, name,
                                 "held", now))
            links.append((sid, fac.id, day, strategy))
        for k in range(PLANNED_PER_FACILITY):
            day = today + timedelta(days=3 + 14 * k + rng_plan.randrange(0, 7))
            sid = _sid(seed, fac.code, day, "outreach")
            target = rng_plan.choice(local)
            kind, name = _place(rng_plan, target[1], TYPES[k % 4])
            if sid in existing or any(r["id"] == sid for r in rows):
                continue
            rows.append(_row(sid, fac, district_of[fac.id], day, "outreach", kind, name,
                             "planned", now))
            if target[0]:
                targets.append((sid, target[0]))
            planned += 1
    if rows:
        session.execute(insert(cast(Table, OutreachSession.__table__)), rows)
    pk_of = dict(session.execute(select(OutreachSession.id, OutreachSession.pk).where(
        OutreachSession.id.in_([sid for sid, _ in targets]))).all()) if targets else {}
    if targets:
        session.execute(insert(cast(Table, OutreachSessionVillage.__table__)),
                        [{"session_pk": pk_of[sid], "village_id": vid}
                         for sid, vid in targets])
    # One read of the candidate doses, then one executemany by primary key (an UPDATE per
    # session day scanned a whole day of national doses each time).
    wanted = {(fid, day, strategy): str(sid) for sid, fid, day, strategy in links}
    linked = 0
    if wanted:
        pks = [{"p": pk, "s": wanted[(int(fid), day, strategy)]}
               for pk, fid, day, strategy in session.execute(
                   select(Vaccination.pk, Vaccination.facility_id, Vaccination.given_on,
                          Vaccination.strategy)
                   .where(Vaccination.facility_id.in_({k[0] for k in wanted}),
                          Vaccination.given_on.in_({k[1] for k in wanted}),
                          Vaccination.strategy.in_(("outreach", "mobile")),
                          Vaccination.session.is_(None), Vaccination.deleted.is_(False)))
               if (int(fid), day, strategy) in wanted]
        table = cast(Table, Vaccination.__table__)
        for i in range(0, len(pks), 5000):
            session.execute(table.update().where(table.c.pk == bindparam("p"))
                            .values(session=bindparam("s")), pks[i:i + 5000])
        linked = len(pks)
    held = len(rows) - planned
    audit(session, None, "create", "outreach_demo", str(seed),
          {"held": held, "planned": planned, "doses_linked": linked,
           "facilities": len(facilities)})
    return {"held": held, "planned": planned, "doses_linked": linked}


def _districts(session: Session, facilities: list[OrgUnit]) -> dict[int, int]:
    uids = {f.id: f.path.strip("/").split("/")[DISTRICT - 1] for f in facilities}
    ids = dict(session.execute(select(OrgUnit.uid, OrgUnit.id).where(
        OrgUnit.uid.in_(set(uids.values())))).all())
    return {fid: ids[uid] for fid, uid in uids.items()}


def _row(sid: uuid.UUID, fac: OrgUnit, district_id: int, day: date, strategy: str, kind: str,
         name: str, status: str, now: Any) -> dict[str, Any]:
    return {"id": sid, "facility_id": fac.id, "district_id": district_id, "session_date": day,
            "strategy": strategy, "place_type": kind, "place_name": name, "latitude": None,
            "longitude": None, "status": status, "notes": None, "created_at": now,
            "updated_at": now, "created_by": None, "updated_by": None}
