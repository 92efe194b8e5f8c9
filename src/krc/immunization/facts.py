"""Keeping the dose facts current: per-dose contributions, deltas, and the full rebuild.

Facts hold valid doses by org unit at every ancestor level (design: "aggregate once, read
fast"), so that any org unit's figures are one indexed read.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any, cast

from sqlalchemy import Table, delete, select, text
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from krc.db import RESET_HOOKS, is_postgres, url_key
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
    cache = _UID_CACHE.setdefault(url_key(session), {})
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
    dose_rows.sort(key=lambda r: tuple(r.values()))  # rows locked in one order: no deadlock
    delay_rows.sort(key=lambda r: tuple(r.values()))
    if is_postgres(session):
        # One statement per table, whatever the number of rows: the rows travel as arrays.
        # The ORM's bulk executemany of the same rows cost ~2 ms of CPU per dose recorded.
        if dose_rows:
            session.execute(_PG_DOSE_UPSERT, _columns(dose_rows))
        if delay_rows:
            session.execute(_PG_DELAY_UPSERT, _columns(delay_rows))
        return
    if dose_rows:
        session.execute(_DOSE_UPSERT, dose_rows)
    if delay_rows:
        session.execute(_DELAY_UPSERT, delay_rows)


def _columns(rows: list[dict[str, Any]]) -> dict[str, list[Any]]:
    """Return the rows as one list per column (the arrays of an unnest)."""
    return {k: [r[k] for r in rows] for k in rows[0]}


def _upserts() -> tuple[Any, Any]:
    """Build once the add-to-count upserts of SQLite (Core executemany)."""
    facts, delays_t = cast(Table, DoseFact.__table__), cast(Table, DelayFact.__table__)
    d = sqlite_insert(facts)
    doses = d.on_conflict_do_update(
        index_elements=["org_unit_id", "period", "vaccine", "dose", "basis"],
        set_={"doses": facts.c.doses + d.excluded.doses,
              "timely": facts.c.timely + d.excluded.timely})
    h = sqlite_insert(delays_t)
    delays = h.on_conflict_do_update(
        index_elements=["org_unit_id", "period", "delay"],
        set_={"doses": delays_t.c.doses + h.excluded.doses})
    return doses, delays


_DOSE_UPSERT, _DELAY_UPSERT = _upserts()
# PostgreSQL: the same upserts over unnested arrays, in the rows' (sorted) order.
_PG_DOSE_UPSERT = text("""
    INSERT INTO dose_fact AS f (org_unit_id, period, vaccine, dose, basis, doses, timely)
    SELECT * FROM unnest(CAST(:org_unit_id AS INTEGER[]), CAST(:period AS INTEGER[]),
                         CAST(:vaccine AS VARCHAR[]), CAST(:dose AS SMALLINT[]),
                         CAST(:basis AS SMALLINT[]), CAST(:doses AS INTEGER[]),
                         CAST(:timely AS INTEGER[]))
    ON CONFLICT (org_unit_id, period, vaccine, dose, basis)
    DO UPDATE SET doses = f.doses + excluded.doses, timely = f.timely + excluded.timely""")
_PG_DELAY_UPSERT = text("""
    INSERT INTO delay_fact AS f (org_unit_id, period, delay, doses)
    SELECT * FROM unnest(CAST(:org_unit_id AS INTEGER[]), CAST(:period AS INTEGER[]),
                         CAST(:delay AS INTEGER[]), CAST(:doses AS INTEGER[]))
    ON CONFLICT (org_unit_id, period, delay) DO UPDATE SET doses = f.doses + excluded.doses""")


def _month_sql(session: Session, column: str) -> tuple[str, str]:
    """The month of a date column for the dose scans, and the SQL turning that month into a
    fact period (YYYYMM) once the scans are reduced to leaves.

    On PostgreSQL the scans group by `date_trunc('month', given_on::timestamp)`, and only
    the leaves (~4 M rows, not 56 M) are formatted: on the national dataset the first scan
    took 45 s with `to_char` in it, 39 s with two EXTRACTs and 32 s with `date_trunc`
    (timestamp without time zone, so the session's time zone plays no part)."""
    if is_postgres(session):
        return (f"date_trunc('month', CAST({column} AS timestamp))",
                "CAST(to_char({}, 'YYYYMM') AS INTEGER)")
    return f"CAST(strftime('%Y%m', {column}) AS INTEGER)", "{}"


def _bucket_sql(column: str) -> str:
    # Same buckets as indicators.delay_bucket: 0–28 exact, then weeks up to 365.
    c = f"(CASE WHEN {column} < 0 THEN 0 WHEN {column} > 365 THEN 365 ELSE {column} END)"
    return (f"(CASE WHEN {c} <= 28 THEN {c} ELSE "
            f"(CASE WHEN 28 + 7 * (({c} - 28 + 6) / 7) > 365 THEN 365 "
            f"ELSE 28 + 7 * (({c} - 28 + 6) / 7) END) END)")


def rebuild(session: Session, grace_days: int) -> int:
    """Recompute every fact from the raw valid doses; return the number of dose facts.

    Two scans of the doses aggregate the leaves: (vaccinating facility, residence facility,
    month, vaccine, dose) and (facility, month, delay bucket). Facility rows come from the
    leaves; each higher level is then summed from the level below (district from its
    facilities, region from its districts, country from its regions), so no step handles
    more rows than the facility level. On PostgreSQL the scans write UNLOGGED tables with
    CREATE TABLE AS, which may use parallel workers (INSERT … SELECT may not).
    """
    pg = is_postgres(session)
    if pg:  # bulk load without index upkeep, then build each index once (PG manual §14.4)
        session.execute(text("TRUNCATE dose_fact, delay_fact"))
        for sql in _INDEX_DROPS:
            session.execute(text(sql))
    else:
        session.execute(delete(DoseFact))
        session.execute(delete(DelayFact))
    tables = ("krc_tmp_facility", "krc_tmp_leaf", "krc_tmp_delay", "krc_tmp_facts")
    for t in tables:
        session.execute(text(f"DROP TABLE IF EXISTS {t}"))
    kind = "UNLOGGED" if pg else "TEMPORARY"
    # Each unit at or below a facility, with the facility it belongs to.
    session.execute(text(
        f"CREATE {kind} TABLE krc_tmp_facility (unit_id INTEGER, facility_id INTEGER)"))
    uid_to_id = {u: i for u, i in session.execute(select(OrgUnit.uid, OrgUnit.id))}
    pairs = [{"u": unit_id, "f": uid_to_id[path.strip("/").split("/")[FACT_LEVELS - 1]]}
             for unit_id, path, level in session.execute(
                 select(OrgUnit.id, OrgUnit.path, OrgUnit.level)
                 .where(OrgUnit.level >= FACT_LEVELS, OrgUnit.hierarchy == "health"))]
    for i in range(0, len(pairs), 5000):
        session.execute(text("INSERT INTO krc_tmp_facility VALUES (:u, :f)"), pairs[i:i + 5000])
    if pg:
        # The scans' partial hash aggregates (~2 M groups per process) are finished by
        # PostgreSQL with a sort and a merge unless sorting is off; a final hash aggregate
        # in memory took the leaf scan from 33.8 to 26.4 s (EXPLAIN ANALYZE, national data).
        session.execute(text("SET LOCAL work_mem = '512MB'"))
        session.execute(text("SET LOCAL enable_sort = off"))
    month, period = _month_sql(session, "given_on")
    live = "valid AND NOT deleted" if pg else "valid = 1 AND deleted = 0"
    timely = f"CASE WHEN delay_days IS NOT NULL AND delay_days < {int(grace_days)} THEN 1 " \
             "ELSE 0 END"
    session.execute(text(f"""
        CREATE {kind} TABLE krc_tmp_leaf AS
        SELECT facility_id, residence_id, {month} AS period, vaccine, dose,
               CAST(COUNT(*) AS INTEGER) AS n, CAST(SUM({timely}) AS INTEGER) AS t
        FROM vaccination WHERE {live}
        GROUP BY facility_id, residence_id, {month}, vaccine, dose"""))
    bucket = _bucket_sql("delay_days")
    session.execute(text(f"""
        CREATE {kind} TABLE krc_tmp_delay AS
        SELECT facility_id, {month} AS period, {bucket} AS delay, COUNT(*) AS n
        FROM vaccination WHERE {live} AND delay_days IS NOT NULL
        GROUP BY facility_id, {month}, {bucket}"""))
    if pg:
        session.execute(text("SET LOCAL enable_sort = on"))
    # Facility rows of both bases, aggregated by CREATE TABLE AS (parallel on PostgreSQL),
    # then copied into dose_fact without further work.
    session.execute(text(f"""
        CREATE {kind} TABLE krc_tmp_facts AS
        SELECT m.facility_id AS org_unit_id, {period.format("l.period")} AS period,
               l.vaccine, l.dose, {FACILITY_BASIS} AS basis, SUM(l.n) AS doses,
               SUM(l.t) AS timely
        FROM krc_tmp_leaf l JOIN krc_tmp_facility m ON m.unit_id = l.facility_id
        GROUP BY m.facility_id, l.period, l.vaccine, l.dose
        UNION ALL
        SELECT m.facility_id, {period.format("l.period")}, l.vaccine, l.dose,
               {RESIDENCE_BASIS}, SUM(l.n), SUM(l.t)
        FROM krc_tmp_leaf l JOIN krc_tmp_facility m ON m.unit_id = l.residence_id
        GROUP BY m.facility_id, l.period, l.vaccine, l.dose"""))
    session.execute(text("""
        INSERT INTO dose_fact (org_unit_id, period, vaccine, dose, basis, doses, timely)
        SELECT org_unit_id, period, vaccine, dose, basis, doses, timely FROM krc_tmp_facts"""))
    # Doses are given at facilities (level 4), so the delay leaves are facility rows already.
    session.execute(text(f"""
        INSERT INTO delay_fact (org_unit_id, period, delay, doses)
        SELECT facility_id, {period.format("period")}, delay, n FROM krc_tmp_delay"""))
    for level in range(FACT_LEVELS - 1, 0, -1):
        session.execute(text(f"""
            INSERT INTO dose_fact (org_unit_id, period, vaccine, dose, basis, doses, timely)
            SELECT u.parent_id, f.period, f.vaccine, f.dose, f.basis, SUM(f.doses),
                   SUM(f.timely)
            FROM dose_fact f JOIN org_unit u ON u.id = f.org_unit_id
            WHERE u.level = {level + 1} AND u.hierarchy = 'health' AND u.parent_id IS NOT NULL
            GROUP BY u.parent_id, f.period, f.vaccine, f.dose, f.basis"""))
        session.execute(text(f"""
            INSERT INTO delay_fact (org_unit_id, period, delay, doses)
            SELECT u.parent_id, f.period, f.delay, SUM(f.doses)
            FROM delay_fact f JOIN org_unit u ON u.id = f.org_unit_id
            WHERE u.level = {level + 1} AND u.hierarchy = 'health' AND u.parent_id IS NOT NULL
            GROUP BY u.parent_id, f.period, f.delay"""))
    for t in tables:
        session.execute(text(f"DROP TABLE {t}"))
    if pg:
        for sql in _INDEX_BUILDS:
            session.execute(text(sql))
    return int(session.execute(text("SELECT COUNT(*) FROM dose_fact")).scalar_one())


# The fact tables' indexes (as migration 0001 names them), dropped and rebuilt around a
# PostgreSQL rebuild; the rebuild holds its tables' locks until it commits.
_INDEX_DROPS = (
    "ALTER TABLE dose_fact DROP CONSTRAINT pk_dose_fact",
    "DROP INDEX ix_dose_fact_period",
    "ALTER TABLE delay_fact DROP CONSTRAINT pk_delay_fact",
)
_INDEX_BUILDS = (
    "SET LOCAL maintenance_work_mem = '512MB'",
    "ALTER TABLE dose_fact ADD CONSTRAINT pk_dose_fact "
    "PRIMARY KEY (org_unit_id, period, vaccine, dose, basis)",
    "CREATE INDEX ix_dose_fact_period ON dose_fact (period, basis)",
    "ALTER TABLE delay_fact ADD CONSTRAINT pk_delay_fact PRIMARY KEY (org_unit_id, period, delay)",
)
