"""build_demo: a synthetic but realistic Mali in an empty krc database."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any, cast

import numpy as np
import psycopg
from sqlalchemy import Table, func, insert, select, text
from sqlalchemy.orm import Session

from krc.accounts.models import User
from krc.accounts.security import hash_password
from krc.accounts.services import audit, utcnow
from krc.db import Database, is_postgres
from krc.demo import geography as geo
from krc.demo.factsum import FactSums
from krc.demo.generate import AREAS, Plan, generate_chunk
from krc.demo.load import (
    BINARY_HEADER,
    BINARY_TRAILER,
    CHILD_COLUMNS,
    DOSE_COLUMNS,
    child_copy_text,
    dose_copy_binary,
    drop_constraints,
    insert_core,
    registry_numbers,
)
from krc.errors import DomainError, Message
from krc.geo.models import FACILITY, VILLAGE, OrgUnit, TargetPopulation
from krc.geo.rules import CRUDE_BIRTH_RATE, child_path, derive_targets, uid_for
from krc.geo.services import load_mali_seed, seed_data
from krc.immunization import facts
from krc.immunization.models import Child, Vaccination
from krc.immunization.params import load_params
from krc.immunization.schedule import (
    GivenDose,
    ScheduleParams,
    assess_doses,
    batch_slots,
    evaluate,
)

Progress = Callable[[str, int, int], None]

SCALES = ("small", "district", "national")
DEMO_PASSWORD = "demo-krc-2026"
SMALL_CHILDREN, SMALL_FLOOR = 4_500, 25
LOGIN_DISTRICTS = ("Kati", "Mopti", "Kidal")
DISTRICT_SCALE = "Kati"
CHUNK_CHILDREN = 60_000
YEARS_OF_TARGETS = 6  # the current year and the previous five


@dataclass
class DemoLogin:
    """One demo account (all share the demo password)."""

    username: str
    password: str
    role: str
    org_unit: str
    org_unit_name: str


@dataclass
class DemoSummary:
    """What build_demo made."""

    scale: str
    seed: int
    children: int
    doses: int
    facilities: int
    villages: int
    logins: list[DemoLogin] = field(default_factory=list)
    seconds: float = 0.0
    duplicates: int = 0
    stages: dict[str, float] = field(default_factory=dict)
    operations: dict[str, int] = field(default_factory=dict)


def _refuse(code: str, fr: str, en: str, **params: object) -> DomainError:
    return DomainError(code, Message(fr, en, dict(params)))


def build_demo(db: Database, scale: str = "small", seed: int = 1, today: date | None = None,
               progress: Progress | None = None) -> DemoSummary:
    """Fill an upgraded, empty database with a synthetic Mali; return what was made."""
    started = time.perf_counter()
    today = today or date.today()
    report: Progress = progress or (lambda _s, _d, _t: None)
    if scale not in SCALES:
        raise _refuse("demo_scale_unknown", "Échelle inconnue : {s} (small, district, national)",
                      "Unknown scale: {s} (small, district, national)", s=scale)
    postgres = is_postgres(db.engine)
    if scale == "national" and not postgres:
        raise _refuse("demo_needs_postgres",
                      "L'échelle nationale (≈ 4,5 millions d'enfants) exige PostgreSQL",
                      "The national scale (≈ 4.5 million children) needs PostgreSQL")
    stages: dict[str, float] = {}
    with db.session() as session:
        if session.scalar(select(func.count()).select_from(Child)):
            raise _refuse("demo_not_empty",
                          "La base contient déjà des enfants : la démo exige une base vide",
                          "The database already holds children: the demo needs an empty one")
        params = load_params(session)
        t = time.perf_counter()
        districts, units = _geography(session, scale, seed, today, report)
        plan = _plan(session, districts, units, seed, params)
        stages["geography"] = time.perf_counter() - t
        t = time.perf_counter()
        logins = _users(session, districts, units, scale, report)
        stages["targets_users"] = time.perf_counter() - t
        t = time.perf_counter()
        sums = FactSums(_ancestors(units), params.grace_days, batch_slots(params))
        children, doses, dups = _load_register(session, plan, seed, today, params, postgres,
                                               report, stages, sums)
        stages["register"] = time.perf_counter() - t
        _targets(session, units, today, report)
        t = time.perf_counter()
        report("agrégats", 0, 1)
        if postgres:  # same rows as facts.rebuild (tested), without joining 60 M doses twice
            _copy_facts(session, sums)
        else:
            facts.rebuild(session, params.grace_days)
        report("agrégats", 1, 1)
        stages["facts"] = time.perf_counter() - t
        t = time.perf_counter()
        _self_check(session, seed, today, params, children)
        stages["check"] = time.perf_counter() - t
        t = time.perf_counter()
        operations = _operations(session, districts, seed, today, report)
        stages["operations"] = time.perf_counter() - t
    if postgres:
        t = time.perf_counter()
        with db.engine.connect() as conn:
            conn = conn.execution_options(isolation_level="AUTOCOMMIT")
            conn.execute(text("ANALYZE"))
        stages["analyze"] = time.perf_counter() - t
    n_fac = sum(len(d.facilities) for d in districts)
    n_vil = sum(len(f.villages) for d in districts for f in d.facilities)
    return DemoSummary(scale, seed, children, doses, n_fac, n_vil, logins,
                       time.perf_counter() - started, dups, stages, operations)


def _operations(session: Session, districts: list[geo.DistrictSpec], seed: int, today: date,
                report: Progress) -> dict[str, int]:
    """Add stock, cold chain, outreach sessions, messaging and nutrition on top of the register.

    Each capability's demo hook bounds its own work (at most a few hundred facilities), so
    this stays seconds long at every scale; the login districts come first.
    """
    from krc.immunization.coldchain.demo import add_coldchain_demo
    from krc.immunization.outreach.demo import add_outreach_demo
    from krc.immunization.stock.demo import add_stock_demo
    from krc.messaging.demo import add_messaging_demo
    from krc.nutrition.community.demo import add_community_demo
    from krc.nutrition.register.demo import add_nutrition_demo

    first = [d for name in LOGIN_DISTRICTS for d in districts if d.name == name]
    ordered = first + [d for d in districts if d not in first]
    facility_codes = [f.code for d in ordered for f in d.facilities]
    district_codes = [d.code for d in ordered if d.facilities]
    out: dict[str, int] = {}
    hooks = (("stock", lambda: add_stock_demo(session, seed, today, facility_codes)),
             ("chaîne du froid", lambda: add_coldchain_demo(session, seed, today,
                                                            facility_codes)),
             ("séances", lambda: add_outreach_demo(session, seed, today, facility_codes)),
             ("messages", lambda: add_messaging_demo(session, seed, today, district_codes)),
             ("nutrition", lambda: add_nutrition_demo(session, seed, today, facility_codes)),
             ("nutrition communautaire", lambda: add_community_demo(session, seed, today,
                                                                    facility_codes)))
    for i, (label, hook) in enumerate(hooks):
        report("opérations", i, len(hooks))
        for key, value in hook().items():
            out[f"{label}: {key}"] = value
    report("opérations", len(hooks), len(hooks))
    return out


# --------------------------------------------------------------------------- geography


def _geography(session: Session, scale: str, seed: int, today: date, report: Progress
               ) -> tuple[list[geo.DistrictSpec], dict[str, OrgUnit]]:
    """Load the seed, plan and insert CSComs and villages; return districts and units by code."""
    report("géographie", 0, 1)
    load_mali_seed(session)
    districts = geo.districts_from_seed(seed_data())
    rng = random.Random(f"krc-demo-geo-{seed}")
    year = today.year
    for d in districts:
        pop = d.share * geo.population(year)
        if scale == "small":
            geo.plan_facilities(rng, d, 2, 3)
            d.children = 0
        elif scale == "district" and d.name != DISTRICT_SCALE:
            continue
        else:
            n_fac = max(2, round(pop / geo.PEOPLE_PER_CSCOM))
            geo.plan_facilities(rng, d, n_fac, None)
            d.children = round(pop * geo.UNDER_FIVE_SHARE)
    if scale == "small":
        counts = geo.split(SMALL_CHILDREN, [d.share for d in districts])
        for d, c in zip(districts, counts, strict=True):
            d.children = max(SMALL_FLOOR, c)
    units = {u.code: u for u in session.scalars(select(OrgUnit))}
    rows: list[dict[str, object]] = []
    next_id = (session.scalar(select(func.max(OrgUnit.id))) or 0) + 1
    for d in districts:
        parent = units[d.code]
        for f in d.facilities:
            fuid = uid_for(f.code)
            fpath = child_path(parent.path, fuid)
            rows.append({"id": next_id, "uid": fuid, "code": f.code, "name": f.name,
                         "level": FACILITY, "hierarchy": "health", "parent_id": parent.id,
                         "path": fpath, "admin_unit_id": None})
            fid = next_id
            next_id += 1
            for v in f.villages:
                vuid = uid_for(v.code)
                rows.append({"id": next_id, "uid": vuid, "code": v.code, "name": v.name,
                             "level": VILLAGE, "hierarchy": "health", "parent_id": fid,
                             "path": child_path(fpath, vuid), "admin_unit_id": None})
                next_id += 1
    for i in range(0, len(rows), 5000):
        session.execute(insert(cast(Table, OrgUnit.__table__)), rows[i:i + 5000])
    if is_postgres(session):
        session.execute(text("SELECT setval(pg_get_serial_sequence('org_unit', 'id'), "
                             "(SELECT max(id) FROM org_unit))"))
    units = {u.code: u for u in session.scalars(select(OrgUnit))}
    report("géographie", 1, 1)
    return districts, units


def _plan(session: Session, districts: list[geo.DistrictSpec], units: dict[str, OrgUnit],
          seed: int, params: ScheduleParams) -> Plan:
    """Return the village plan: children per village and each village's service rates."""
    rng = np.random.default_rng([seed, 7])
    cols: dict[str, list[np.ndarray]] = {k: [] for k in (
        "village_id", "facility_id", "district", "area", "access", "keep", "measles",
        "outreach", "phone", "children")}
    fac_start: list[int] = []
    fac_count: list[int] = []
    fac_flat: list[int] = []
    malaria: list[bool] = []
    for di, d in enumerate(districts):
        fac_start.append(len(fac_flat))
        fac_count.append(max(1, len(d.facilities)))
        fac_flat.extend(units[f.code].id for f in d.facilities)
        if not d.facilities:
            fac_flat.append(units[d.code].id)  # never used: the district has no children
        malaria.append(d.code in params.malaria_districts)
        villages = [(f, v) for f in d.facilities for v in f.villages]
        if not villages:
            continue
        weights = np.array([f.weight * v.weight for f, v in villages])
        counts = rng.multinomial(d.children, weights / weights.sum())
        rates = geo.village_rates(rng, d, len(villages), [v.zero_dose for _, v in villages])
        cols["village_id"].append(np.array([units[v.code].id for _, v in villages]))
        cols["facility_id"].append(np.array([units[f.code].id for f, _ in villages]))
        cols["district"].append(np.full(len(villages), di))
        cols["area"].append(np.full(len(villages), AREAS.index(d.area)))
        cols["children"].append(counts)
        for k, v in rates.items():
            cols[k].append(v)
    arrays = {k: np.concatenate(v) for k, v in cols.items()}
    return Plan(
        village_id=arrays["village_id"].astype(np.int64),
        facility_id=arrays["facility_id"].astype(np.int64),
        district=arrays["district"].astype(np.int64), area=arrays["area"].astype(np.int64),
        access=arrays["access"], keep=arrays["keep"], measles=arrays["measles"],
        outreach=arrays["outreach"], phone=arrays["phone"],
        children=arrays["children"].astype(np.int64),
        district_malaria=np.array(malaria, bool),
        district_fac_start=np.array(fac_start, np.int64),
        district_fac_count=np.array(fac_count, np.int64),
        district_facilities=np.array(fac_flat, np.int64),
    )


# --------------------------------------------------------------------------- targets, users


REGISTRATION_COMPLETENESS = 0.95  # share of births the synthetic register holds
GROWTH = 1.033  # population growth per year (reference/geography.md)


def _targets(session: Session, units: dict[str, OrgUnit], today: date,
             report: Progress) -> None:
    """Insert target populations consistent with the synthetic register, at every scale.

    Each CSCom's births per year are those registered in the last four full years divided by
    the registration completeness (so unregistered, zero-dose children exist in the
    aggregate figures too); population = births ÷ crude birth rate, grown 3.3 %/year;
    districts, regions and the country are the sums of their CSComs
    (reference/immunization.md §2 for the derived denominators).
    """
    years = list(range(today.year - YEARS_OF_TARGETS + 1, today.year + 1))
    report("populations cibles", 0, len(years))
    first, last = date(today.year - 4, 1, 1), date(today.year - 1, 12, 31)
    counts = dict(session.execute(
        select(Child.facility_id, func.count()).where(Child.birth_date.between(first, last))
        .group_by(Child.facility_id)).all())
    by_id = {u.id: u for u in units.values()}
    by_uid = {u.uid: u for u in units.values()}
    base = today.year - 2
    rows: list[dict[str, object]] = []
    for n, year in enumerate(years):
        pops: dict[int, int] = {}
        for fid, count in counts.items():
            births = count / 4 / REGISTRATION_COMPLETENESS * GROWTH ** (year - base)
            pop = round(births / CRUDE_BIRTH_RATE)
            for uid in by_id[fid].path.strip("/").split("/"):
                anc = by_uid[uid].id
                pops[anc] = pops.get(anc, 0) + pop
        for unit_id, pop in pops.items():
            t = derive_targets(pop)
            rows.append({"org_unit_id": unit_id, "year": year, "population": t.population,
                         "live_births": t.live_births, "surviving_infants": t.surviving_infants,
                         "cohort_12_23": t.cohort_12_23, "source": "derived"})
        report("populations cibles", n + 1, len(years))
    session.execute(insert(cast(Table, TargetPopulation.__table__)), rows)


def _users(session: Session, districts: list[geo.DistrictSpec], units: dict[str, OrgUnit],
           scale: str, report: Progress) -> list[DemoLogin]:
    """Create the demo accounts (one argon2 hash shared by all) and return their logins."""
    report("utilisateurs", 0, 1)
    wanted: list[tuple[str, str, str, str]] = [
        ("admin", "admin", "ML", "Administrateur de la démo"),
        ("national", "national", "ML", "Programme élargi de vaccination (national)"),
        ("partenaire", "partner", "ML", "Partenaire technique (lecture seule)"),
        ("rapidpro", "integration", "ML", "Intégration RapidPro / WhatsApp (webhooks)"),
    ]
    chosen = [d for name in LOGIN_DISTRICTS for d in districts
              if d.name == name and d.facilities]
    if chosen:
        r = chosen[0]
        wanted.append((f"region.{geo.slug(r.region_name)}", "regional", r.region_code,
                       f"Direction régionale de la santé de {r.region_name}"))
    for d in chosen:
        s = geo.slug(d.name)
        first = d.facilities[0]
        wanted += [
            (f"district.{s}", "district", d.code, f"Équipe cadre du district de {d.name}"),
            (f"cscom.{s}", "facility", first.code, f"Chef de poste, {first.name}"),
            (f"vaccinateur.{s}", "vaccinator", first.code, f"Vaccinateur, {first.name}"),
        ]
    password_hash = hash_password(DEMO_PASSWORD)
    existing = set(session.scalars(select(User.username)))
    logins: list[DemoLogin] = []
    now = utcnow()
    for username, role, code, full_name in wanted:
        unit = units[code]
        if username not in existing:
            user = User(username=username, full_name=full_name, password_hash=password_hash,
                        role=role, org_unit_id=unit.id, language="fr", active=True,
                        created_at=now)
            session.add(user)
            session.flush()
            audit(session, None, "create", "user", str(user.id),
                  {"username": username, "role": role, "org_unit": code, "demo": True})
            logins.append(DemoLogin(username, DEMO_PASSWORD, role, code, unit.name))
    report("utilisateurs", 1, 1)
    return logins


# --------------------------------------------------------------------------- the register


def _chunks(plan: Plan) -> list[tuple[int, int]]:
    """Return village ranges holding about CHUNK_CHILDREN children each."""
    out: list[tuple[int, int]] = []
    start, acc = 0, 0
    for i, c in enumerate(plan.children.tolist()):
        acc += c
        if acc >= CHUNK_CHILDREN:
            out.append((start, i + 1))
            start, acc = i + 1, 0
    if start < len(plan.children):
        out.append((start, len(plan.children)))
    return out


def _ancestors(units: dict[str, OrgUnit]) -> dict[int, list[int]]:
    """Return, for each CSCom and village id, the ids its facts roll up to (root first):
    a CSCom's path with itself, a village's path up to its CSCom (facts stop at level 4)."""
    by_uid = {u.uid: u.id for u in units.values()}
    return {u.id: [by_uid[x] for x in u.path.strip("/").split("/")[:FACILITY]]
            for u in units.values() if u.level in (FACILITY, VILLAGE)}


def _copy_facts(session: Session, sums: FactSums) -> None:
    """Replace dose_fact and delay_fact with the sums gathered while generating (COPY)."""
    session.execute(text("DELETE FROM dose_fact"))
    session.execute(text("DELETE FROM delay_fact"))
    raw = cast("psycopg.Connection[Any]", session.connection().connection.dbapi_connection)
    with raw.cursor() as cur:
        with cur.copy("COPY dose_fact (org_unit_id, period, vaccine, dose, basis, doses, "
                      "timely) FROM STDIN") as copy:
            for row in sums.dose_rows():
                copy.write_row(row)
        with cur.copy("COPY delay_fact (org_unit_id, period, delay, doses) FROM STDIN") as copy:
            for drow in sums.delay_rows():
                copy.write_row(drow)


def _load_register(session: Session, plan: Plan, seed: int, today: date,
                   params: ScheduleParams, postgres: bool, report: Progress,
                   stages: dict[str, float], sums: FactSums) -> tuple[int, int, int]:
    """Generate children and doses chunk by chunk and load them; return the counts."""
    slots = batch_slots(params)
    total = int(plan.children.sum())
    ranges = _chunks(plan)
    pk, dose_pk, done, dups = 1, 1, 0, 0
    report("enfants et doses", 0, total)
    restore: list[str] = []
    gen_time = 0.0
    if not postgres:
        for n, (v0, v1) in enumerate(ranges):
            t = time.perf_counter()
            chunk = generate_chunk(np.random.default_rng([seed, 1, n]), plan, v0, v1, pk,
                                   today, params)
            gen_time += time.perf_counter() - t
            insert_core(session, chunk, dose_pk, slots)
            pk, dose_pk = pk + chunk.children, dose_pk + chunk.doses
            done += int(plan.children[v0:v1].sum())
            dups += int((chunk.duplicate_of >= 0).sum())
            report("enfants et doses", done, total)
    else:
        from psycopg.copy import QueuedLibpqWriter

        restore = drop_constraints(session, ("vaccination", "child"))
        raw = cast("psycopg.Connection[Any]", session.connection().connection.dbapi_connection)
        cur = raw.cursor()
        child_rows: list[bytes] = []
        # One COPY for all doses: a writer thread streams a chunk to the server while the
        # next chunk is generated; children (smaller) are copied afterwards.
        with cur.copy(f"COPY vaccination ({', '.join(DOSE_COLUMNS)}) FROM STDIN "
                      "(FORMAT BINARY)", writer=QueuedLibpqWriter(cur)) as copy:
            copy.write(BINARY_HEADER)
            for n, (v0, v1) in enumerate(ranges):
                t = time.perf_counter()
                chunk = generate_chunk(np.random.default_rng([seed, 1, n]), plan, v0, v1, pk,
                                       today, params)
                child_rows.append(child_copy_text(chunk))
                dose_rows = dose_copy_binary(chunk, dose_pk, slots)
                sums.add(chunk, chunk.village_id, pk)
                gen_time += time.perf_counter() - t
                copy.write(dose_rows)
                pk, dose_pk = pk + chunk.children, dose_pk + chunk.doses
                done += int(plan.children[v0:v1].sum())
                dups += int((chunk.duplicate_of >= 0).sum())
                report("enfants et doses", done, total)
            copy.write(BINARY_TRAILER)
        t = time.perf_counter()
        with cur.copy(f"COPY child ({', '.join(CHILD_COLUMNS)}) FROM STDIN") as copy:
            for rows in child_rows:
                copy.write(rows)
        stages["copy_children"] = time.perf_counter() - t
    stages["generate"] = gen_time
    if postgres:
        t = time.perf_counter()
        report("index", 0, len(restore))
        session.execute(text("SET LOCAL maintenance_work_mem = '2GB'"))
        for i, sql in enumerate(restore):
            session.execute(text(sql))
            report("index", i + 1, len(restore))
        for table in ("child", "vaccination"):
            session.execute(text(f"SELECT setval(pg_get_serial_sequence('{table}', 'pk'), "
                                 f"(SELECT COALESCE(max(pk), 1) FROM {table}))"))
        stages["indexes"] = time.perf_counter() - t
    return pk - 1, dose_pk - 1, dups


def _self_check(session: Session, seed: int, today: date, params: ScheduleParams,
                children: int, sample: int = 200) -> None:
    """Check a sample of children against assess_doses/evaluate; raise when they disagree."""
    if children == 0:
        return
    rng = np.random.default_rng([seed, 99])
    pks = sorted({int(p) for p in rng.integers(1, children + 1, min(sample, children))})
    rows = session.execute(select(Child).where(Child.pk.in_(pks))).scalars().all()
    doses: dict[int, list[Vaccination]] = {}
    for v in session.scalars(select(Vaccination).where(Vaccination.child_pk.in_(pks))):
        doses.setdefault(v.child_pk, []).append(v)
    expected_rn = dict(zip(pks, registry_numbers(np.array(pks, np.int64)), strict=True))
    for child in rows:
        if child.registry_number != expected_rn[child.pk]:
            raise RuntimeError(f"demo: registry number of child {child.pk} is wrong")
        live = doses.get(child.pk, [])
        given = [GivenDose(v.vaccine, v.dose, v.given_on, str(v.pk)) for v in live]
        checks = {c.id: c for c in assess_doses(child.birth_date, given, params)}
        valid = [g for g in given if checks[g.id].valid]
        horizon = max([g.given_on for g in given] + [today])
        due = {(s.vaccine, s.dose): s.due_date
               for s in evaluate(child.birth_date, valid, horizon, None, params)
               if s.status == "given"}
        for v in live:
            c = checks[str(v.pk)]
            d = due.get((v.vaccine, v.dose)) if c.valid else None
            delay = (v.given_on - d).days if d is not None else None
            if (v.valid, v.invalid_reason, v.delay_days) != (c.valid, c.reason, delay):
                raise RuntimeError(
                    f"demo: dose {v.vaccine}{v.dose} of child {child.pk} disagrees with the "
                    f"rules: stored {(v.valid, v.invalid_reason, v.delay_days)}, "
                    f"expected {(c.valid, c.reason, delay)}")
        first = min((g.given_on for g in valid), default=None)
        if child.first_dose_on != first:
            raise RuntimeError(f"demo: first_dose_on of child {child.pk} is wrong")
