"""Batch schedule evaluation over a unit's register: defaulter and zero-dose lists.

Loads the children under five of an org unit with their valid dose days (one read of the
child table, krc.immunization.dose_days), then evaluates every child at once with the
vectorised schedule (schedule.evaluate_batch).
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import numpy as np
from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from krc.db import fetch_rows
from krc.gcpause import paused_gc
from krc.geo.models import DISTRICT, OrgUnit
from krc.immunization import dose_days
from krc.immunization.models import Child
from krc.immunization.schedule import (
    STATUSES,
    ScheduleParams,
    add_months,
    batch_slots,
    evaluate_batch,
    from_epoch_day,
    to_epoch_day,
)

OVERDUE = STATUSES.index("overdue")


def overdue_children(session: Session, unit: OrgUnit, on: date, params: ScheduleParams,
                     lang: str = "fr", zero_dose_weeks: int = 10) -> list[dict[str, Any]]:
    """Return the unit's defaulters (≥ 1 overdue dose) under five, by area, village, name
    (built with the cyclic garbage collector paused: `krc.gcpause`)."""
    with paused_gc():
        return _overdue_children(session, unit, on, params, zero_dose_weeks)


def _overdue_children(session: Session, unit: OrgUnit, on: date, params: ScheduleParams,
                      zero_dose_weeks: int) -> list[dict[str, Any]]:
    units = {u.id: u for u in session.scalars(select(OrgUnit).where(
        or_(OrgUnit.path == unit.path, OrgUnit.path.startswith(unit.path + "/"))))}
    district_code = {u.uid: u.code for u in session.scalars(
        select(OrgUnit).where(OrgUnit.level == DISTRICT))}
    oldest = add_months(on, -60)
    in_units = Child.facility_id.in_(list(units))
    # Plain driver rows (krc.db.fetch_rows): tens of thousands of children per district.
    children = fetch_rows(session,
        select(Child.pk, Child.id, Child.registry_number, Child.given_name, Child.family_name,
               Child.sex, Child.birth_date, Child.caregiver_name, Child.caregiver_phone,
               Child.facility_id, Child.village_id, Child.dose_days)
        .where(in_units, Child.birth_date > oldest, Child.birth_date <= on,
               Child.merged_into_pk.is_(None)))
    if not children:
        return []
    slots = batch_slots(params)
    col = {s: i for i, s in enumerate(slots)}
    n = len(children)
    epoch = date(1970, 1, 1).toordinal()
    birth = np.fromiter((r[6].toordinal() for r in children), dtype=np.int64,
                        count=n) - epoch
    given = dose_days.decode([r[11] for r in children], len(slots))
    # Per unit once (a district has tens of facilities, not 55,000 children): the malaria
    # eligibility and the JSON of its code and name (shared by the rows, read-only).
    malaria: dict[int, bool] = {}
    ref: dict[int, dict[str, str]] = {}
    for uid_, u in units.items():
        uids = u.path.strip("/").split("/")
        malaria[uid_] = bool(params.malaria_districts) and len(uids) >= DISTRICT and \
            district_code.get(uids[DISTRICT - 1]) in params.malaria_districts
        ref[uid_] = {"code": u.code, "name": u.name}
    eligible = np.fromiter((malaria[r[9]] for r in children), dtype=bool, count=n)
    _, status, due = evaluate_batch(birth, given, on, eligible, params)
    overdue = status == OVERDUE
    penta = [col[s] for s in slots if s[0] == "PENTA"]
    zero_cut = to_epoch_day(on - timedelta(weeks=zero_dose_weeks))
    zero_mask = np.asarray((given[:, penta] < 0).all(axis=1) & (birth <= zero_cut), dtype=bool)
    none_mask = np.asarray((given < 0).all(axis=1), dtype=bool)
    zero: list[bool] = [bool(x) for x in zero_mask]
    none_at_all: list[bool] = [bool(x) for x in none_mask]
    late_by_row: dict[int, list[dict[str, Any]]] = {}
    row_idx, slot_idx = np.nonzero(overdue)
    due_days = due[row_idx, slot_idx].tolist()
    dates = {d: from_epoch_day(d) for d in set(due_days)}
    # One (read-only) dict per dose and due date, shared by the children it applies to:
    # a district's list holds ~100,000 overdue doses but far fewer distinct ones.
    late_dose: dict[tuple[int, int], dict[str, Any]] = {}
    for i, j, day in zip(row_idx.tolist(), slot_idx.tolist(), due_days, strict=True):
        entry = late_dose.get((j, day))
        if entry is None:
            entry = late_dose[(j, day)] = {"vaccine": slots[j][0], "dose": slots[j][1],
                                           "due_date": dates[day]}
        late_by_row.setdefault(i, []).append(entry)
    keyed: list[tuple[tuple[str, str, str, str], dict[str, Any]]] = []
    for i, late in late_by_row.items():
        r = children[i]
        facility = ref[r[9]]
        village = ref.get(r[10]) if r[10] is not None else None
        keyed.append(((facility["name"], village["name"] if village else "", r[4], r[3]), {
            "id": r[1], "registry_number": r[2], "given_name": r[3], "family_name": r[4],
            "sex": r[5], "birth_date": r[6], "caregiver_name": r[7], "caregiver_phone": r[8],
            "facility": facility, "village": village,
            "overdue": late, "zero_dose": zero[i], "no_vaccine": none_at_all[i],
        }))
    keyed.sort(key=lambda kd: kd[0])
    return [d for _, d in keyed]
