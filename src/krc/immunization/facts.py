"""Keeping the dose facts current: per-dose contributions, deltas, and the full rebuild.

Facts hold valid doses by org unit at every ancestor level (design: "aggregate once, read
fast"), so that any org unit's figures are one indexed read.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

from sqlalchemy import delete, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from krc.db import is_postgres
from krc.geo.models import OrgUnit
from krc.immunization.indicators import delay_bucket
from krc.immunization.models import DelayFact, DoseFact
from krc.results.periods import month_key

FACILITY_BASIS, RESIDENCE_BASIS = 1, 2


@dataclass(frozen=True)
class DoseView:
    """What a dose contributes to the facts: its place, date, key, and timeliness."""

    vaccine: str
    dose: int
    given_on: date
    facility_path: str
    residence_path: str
    delay_days: int | None


def is_timely(delay_days: int | None, grace_days: int) -> bool:
    """Return True when a dose was given within the grace window of its due date (§2)."""
    return delay_days is not None and delay_days < grace_days


def contributions(doses: Iterable[DoseView], uid_to_id: dict[str, int],
                  grace_days: int) -> tuple[Counter[tuple[int, int, str, int, int]],
                                            Counter[tuple[int, int, str, int, int]],
                                            Counter[tuple[int, int, int]]]:
    """Return (doses, timely, delay histogram) counters that these valid doses add."""
    n: Counter[tuple[int, int, str, int, int]] = Counter()
    t: Counter[tuple[int, int, str, int, int]] = Counter()
    h: Counter[tuple[int, int, int]] = Counter()
    for d in doses:
        period = month_key(d.given_on)
        timely = is_timely(d.delay_days, grace_days)
        for basis, path in ((FACILITY_BASIS, d.facility_path), (RESIDENCE_BASIS, d.residence_path)):
            for uid in path.strip("/").split("/"):
                key = (uid_to_id[uid], period, d.vaccine, d.dose, basis)
                n[key] += 1
                if timely:
                    t[key] += 1
                if basis == FACILITY_BASIS and d.delay_days is not None:
                    h[(uid_to_id[uid], period, delay_bucket(d.delay_days))] += 1
    return n, t, h


def uid_map(session: Session, paths: Iterable[str]) -> dict[str, int]:
    """Return uid → id for every uid in the given paths."""
    uids = {u for p in paths for u in p.strip("/").split("/") if u}
    if not uids:
        return {}
    rows = session.execute(select(OrgUnit.uid, OrgUnit.id).where(OrgUnit.uid.in_(uids)))
    return {uid: id_ for uid, id_ in rows}


def apply_delta(session: Session, before: Iterable[DoseView], after: Iterable[DoseView],
                grace_days: int) -> None:
    """Apply to the facts the difference between two sets of contributing doses."""
    before, after = list(before), list(after)
    ids = uid_map(session, [p for d in before + after for p in (d.facility_path, d.residence_path)])
    n0, t0, h0 = contributions(before, ids, grace_days)
    n1, t1, h1 = contributions(after, ids, grace_days)
    keys = set(n0) | set(n1)
    dose_rows = []
    for k in keys:
        dn, dt = n1[k] - n0[k], t1[k] - t0[k]
        if dn or dt:
            dose_rows.append({"org_unit_id": k[0], "period": k[1], "vaccine": k[2], "dose": k[3],
                              "basis": k[4], "doses": dn, "timely": dt})
    delay_rows = []
    for hk in set(h0) | set(h1):
        dh = h1[hk] - h0[hk]
        if dh:
            delay_rows.append({"org_unit_id": hk[0], "period": hk[1], "delay": hk[2], "doses": dh})
    insert = pg_insert if is_postgres(session) else sqlite_insert
    if dose_rows:
        stmt = insert(DoseFact).values(sorted(dose_rows, key=lambda r: tuple(r.values())))
        stmt = stmt.on_conflict_do_update(
            index_elements=["org_unit_id", "period", "vaccine", "dose", "basis"],
            set_={"doses": DoseFact.doses + stmt.excluded.doses,
                  "timely": DoseFact.timely + stmt.excluded.timely})
        session.execute(stmt)
    if delay_rows:
        dstmt = insert(DelayFact).values(sorted(delay_rows, key=lambda r: tuple(r.values())))
        dstmt = dstmt.on_conflict_do_update(
            index_elements=["org_unit_id", "period", "delay"],
            set_={"doses": DelayFact.doses + dstmt.excluded.doses})
        session.execute(dstmt)


def _month_sql(session: Session, column: str) -> str:
    if is_postgres(session):
        return f"(EXTRACT(YEAR FROM {column})::int * 100 + EXTRACT(MONTH FROM {column})::int)"
    return f"CAST(strftime('%Y%m', {column}) AS INTEGER)"


def _bucket_sql(column: str) -> str:
    # Same buckets as indicators.delay_bucket: 0–28 exact, then weeks up to 365.
    c = f"(CASE WHEN {column} < 0 THEN 0 WHEN {column} > 365 THEN 365 ELSE {column} END)"
    return (f"(CASE WHEN {c} <= 28 THEN {c} ELSE "
            f"(CASE WHEN 28 + 7 * (({c} - 28 + 6) / 7) > 365 THEN 365 "
            f"ELSE 28 + 7 * (({c} - 28 + 6) / 7) END) END)")


def rebuild(session: Session, grace_days: int) -> int:
    """Recompute every fact from the raw valid doses; return the number of dose facts."""
    session.execute(delete(DoseFact))
    session.execute(delete(DelayFact))
    session.execute(text("DROP TABLE IF EXISTS tmp_ancestor"))
    session.execute(text(
        "CREATE TEMPORARY TABLE tmp_ancestor (unit_id INTEGER, ancestor_id INTEGER)"))
    uid_to_id = {u: i for u, i in session.execute(select(OrgUnit.uid, OrgUnit.id))}
    pairs: list[dict[str, int]] = []
    for unit_id, path in session.execute(select(OrgUnit.id, OrgUnit.path)):
        pairs.extend({"u": unit_id, "a": uid_to_id[u]} for u in path.strip("/").split("/") if u)
    for i in range(0, len(pairs), 5000):
        session.execute(text("INSERT INTO tmp_ancestor VALUES (:u, :a)"), pairs[i:i + 5000])
    month = _month_sql(session, "v.given_on")
    live = "v.valid = TRUE AND v.deleted = FALSE" if is_postgres(session) else \
        "v.valid = 1 AND v.deleted = 0"
    timely = f"SUM(CASE WHEN v.delay_days IS NOT NULL AND v.delay_days < {int(grace_days)} " \
             "THEN 1 ELSE 0 END)"
    session.execute(text(f"""
        INSERT INTO dose_fact (org_unit_id, period, vaccine, dose, basis, doses, timely)
        SELECT a.ancestor_id, {month}, v.vaccine, v.dose, 1, COUNT(*), {timely}
        FROM vaccination v JOIN tmp_ancestor a ON a.unit_id = v.facility_id
        WHERE {live}
        GROUP BY a.ancestor_id, {month}, v.vaccine, v.dose"""))
    session.execute(text(f"""
        INSERT INTO dose_fact (org_unit_id, period, vaccine, dose, basis, doses, timely)
        SELECT a.ancestor_id, {month}, v.vaccine, v.dose, 2, COUNT(*), {timely}
        FROM vaccination v JOIN child c ON c.pk = v.child_pk
        JOIN tmp_ancestor a ON a.unit_id = COALESCE(c.village_id, c.facility_id)
        WHERE {live}
        GROUP BY a.ancestor_id, {month}, v.vaccine, v.dose"""))
    bucket = _bucket_sql("v.delay_days")
    session.execute(text(f"""
        INSERT INTO delay_fact (org_unit_id, period, delay, doses)
        SELECT a.ancestor_id, {month}, {bucket}, COUNT(*)
        FROM vaccination v JOIN tmp_ancestor a ON a.unit_id = v.facility_id
        WHERE {live} AND v.delay_days IS NOT NULL
        GROUP BY a.ancestor_id, {month}, {bucket}"""))
    session.execute(text("DROP TABLE tmp_ancestor"))
    return int(session.execute(text("SELECT COUNT(*) FROM dose_fact")).scalar_one())
