"""Keeping the dose facts current: per-dose contributions, deltas, and the full rebuild.

Facts hold valid doses by org unit at every ancestor level (design: "aggregate once, read
fast"), so that any org unit's figures are one indexed read.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import delete, select, text
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from krc.db import RESET_HOOKS, is_postgres
from krc.geo.models import FACILITY, OrgUnit
from krc.immunization.indicators import delay_bucket
from krc.immunization.models import DelayFact, DoseFact
from krc.results.periods import month_key

FACILITY_BASIS, RESIDENCE_BASIS = 1, 2
# Facts are kept down to the health facility (level 4): a village's residents count in its
# CSCom and above; village lists come from the register (batch.py), not from facts.
FACT_LEVELS = FACILITY


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
            for uid in path.strip("/").split("/")[:FACT_LEVELS]:
                key = (uid_to_id[uid], period, d.vaccine, d.dose, basis)
                n[key] += 1
                if timely:
                    t[key] += 1
                if basis == FACILITY_BASIS and d.delay_days is not None:
                    h[(uid_to_id[uid], period, delay_bucket(d.delay_days))] += 1
    return n, t, h


# uid → id per database: an org unit's id never changes once created, so entries stay true;
# `krc.db.reset` clears the cache of a database it erases.
_UID_CACHE: dict[str, dict[str, int]] = {}
RESET_HOOKS.append(_UID_CACHE.clear)


def uid_map(session: Session, paths: Iterable[str]) -> dict[str, int]:
    """Return uid → id for every uid in the given paths (cached per database)."""
    bind = session.get_bind()
    cache = _UID_CACHE.setdefault(str(bind.engine.url), {})
    uids = {u for p in paths for u in p.strip("/").split("/") if u}
    missing = uids - cache.keys()
    if missing:
        rows = session.execute(select(OrgUnit.uid, OrgUnit.id).where(OrgUnit.uid.in_(missing)))
        cache.update({uid: id_ for uid, id_ in rows})
    return {u: cache[u] for u in uids if u in cache}


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
    pg = is_postgres(session)
    if dose_rows:
        session.execute(_DOSE_UPSERT[pg], sorted(dose_rows, key=lambda r: tuple(r.values())))
    if delay_rows:
        session.execute(_DELAY_UPSERT[pg], sorted(delay_rows, key=lambda r: tuple(r.values())))


def _upserts() -> tuple[dict[bool, Any], dict[bool, Any]]:
    """Build once the cached add-to-count upserts (executemany) for each dialect."""
    doses: dict[bool, Any] = {}
    delays: dict[bool, Any] = {}
    for pg, insert in ((True, pg_insert), (False, sqlite_insert)):
        d = insert(DoseFact)
        doses[pg] = d.on_conflict_do_update(
            index_elements=["org_unit_id", "period", "vaccine", "dose", "basis"],
            set_={"doses": DoseFact.doses + d.excluded.doses,
                  "timely": DoseFact.timely + d.excluded.timely})
        h = insert(DelayFact)
        delays[pg] = h.on_conflict_do_update(
            index_elements=["org_unit_id", "period", "delay"],
            set_={"doses": DelayFact.doses + h.excluded.doses})
    return doses, delays


_DOSE_UPSERT, _DELAY_UPSERT = _upserts()


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
    """Recompute every fact from the raw valid doses; return the number of dose facts.

    One pass over the doses aggregates them by leaf (vaccinating facility, residence unit)
    and month; the leaves are then rolled up to their ancestors (levels 1–4). On PostgreSQL
    the pass is a single scan with GROUPING SETS.
    """
    pg = is_postgres(session)
    session.execute(delete(DoseFact))
    session.execute(delete(DelayFact))
    for t in ("tmp_ancestor", "tmp_leaf"):
        session.execute(text(f"DROP TABLE IF EXISTS {t}"))
    session.execute(text(
        "CREATE TEMPORARY TABLE tmp_ancestor (unit_id INTEGER, ancestor_id INTEGER)"))
    uid_to_id = {u: i for u, i in session.execute(select(OrgUnit.uid, OrgUnit.id))}
    pairs: list[dict[str, int]] = []
    for unit_id, path in session.execute(select(OrgUnit.id, OrgUnit.path)):
        pairs.extend({"u": unit_id, "a": uid_to_id[u]}
                     for u in path.strip("/").split("/")[:FACT_LEVELS] if u)
    for i in range(0, len(pairs), 5000):
        session.execute(text("INSERT INTO tmp_ancestor VALUES (:u, :a)"), pairs[i:i + 5000])
    month = _month_sql(session, "given_on")
    bucket = _bucket_sql("delay_days")
    live = "valid AND NOT deleted" if pg else "valid = 1 AND deleted = 0"
    timely = f"CASE WHEN delay_days IS NOT NULL AND delay_days < {int(grace_days)} THEN 1 " \
             "ELSE 0 END"
    leaf = ("CREATE TEMPORARY TABLE tmp_leaf (kind INTEGER, unit_id INTEGER, period INTEGER, "
            "vaccine VARCHAR(10), dose INTEGER, delay INTEGER, n INTEGER, t INTEGER)")
    session.execute(text(leaf))
    if pg:
        session.execute(text("SET LOCAL work_mem = '256MB'"))
        session.execute(text(f"""
            INSERT INTO tmp_leaf
            SELECT CASE WHEN GROUPING(facility_id) = 0 AND GROUPING(bucket) = 1 THEN 1
                        WHEN GROUPING(residence_id) = 0 THEN 2 ELSE 3 END,
                   COALESCE(facility_id, residence_id), m, vaccine, dose, bucket,
                   COUNT(*), SUM(timely)
            FROM (SELECT facility_id, residence_id, {month} AS m, vaccine, dose,
                         CASE WHEN delay_days IS NULL THEN NULL ELSE {bucket} END AS bucket,
                         {timely} AS timely
                  FROM vaccination WHERE {live}) v
            GROUP BY GROUPING SETS ((facility_id, m, vaccine, dose),
                                    (residence_id, m, vaccine, dose),
                                    (facility_id, m, bucket))"""))
        session.execute(text("DELETE FROM tmp_leaf WHERE kind = 3 AND delay IS NULL"))
    else:
        for kind, unit, extra in ((1, "facility_id", "vaccine, dose, NULL"),
                                  (2, "residence_id", "vaccine, dose, NULL")):
            session.execute(text(f"""
                INSERT INTO tmp_leaf SELECT {kind}, {unit}, {month}, {extra}, COUNT(*),
                       SUM({timely}) FROM vaccination WHERE {live}
                GROUP BY {unit}, {month}, vaccine, dose"""))
        session.execute(text(f"""
            INSERT INTO tmp_leaf SELECT 3, facility_id, {month}, NULL, NULL, {bucket}, COUNT(*),
                   0 FROM vaccination WHERE {live} AND delay_days IS NOT NULL
            GROUP BY facility_id, {month}, {bucket}"""))
    session.execute(text("""
        INSERT INTO dose_fact (org_unit_id, period, vaccine, dose, basis, doses, timely)
        SELECT a.ancestor_id, l.period, l.vaccine, l.dose, l.kind, SUM(l.n), SUM(l.t)
        FROM tmp_leaf l JOIN tmp_ancestor a ON a.unit_id = l.unit_id
        WHERE l.kind IN (1, 2)
        GROUP BY a.ancestor_id, l.period, l.vaccine, l.dose, l.kind"""))
    session.execute(text("""
        INSERT INTO delay_fact (org_unit_id, period, delay, doses)
        SELECT a.ancestor_id, l.period, l.delay, SUM(l.n)
        FROM tmp_leaf l JOIN tmp_ancestor a ON a.unit_id = l.unit_id
        WHERE l.kind = 3
        GROUP BY a.ancestor_id, l.period, l.delay"""))
    for t in ("tmp_ancestor", "tmp_leaf"):
        session.execute(text(f"DROP TABLE {t}"))
    return int(session.execute(text("SELECT COUNT(*) FROM dose_fact")).scalar_one())
