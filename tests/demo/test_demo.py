"""The demo generator (krc.demo): a small Mali on SQLite and on PostgreSQL."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import psycopg
import pytest
from sqlalchemy import func, select, text

from krc.accounts.models import User
from krc.accounts.security import verify_password
from krc.db import Database
from krc.demo import DemoSummary, build_demo
from krc.errors import DomainError
from krc.geo.models import DISTRICT, FACILITY, VILLAGE, OrgUnit
from krc.identifiers import is_valid_phone, registry_number
from krc.immunization import facts
from krc.immunization.models import Child, DelayFact, DoseFact, Vaccination
from krc.immunization.schedule import GivenDose, ScheduleParams, assess_doses, evaluate
from krc.matching import PersonFacts, is_probable_duplicate
from krc.migrations import upgrade

TODAY = date(2026, 3, 15)
PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"


def _sqlite(tmp: Path, name: str) -> Database:
    url = f"sqlite:///{tmp / name}"
    upgrade(url)
    return Database(url)


@pytest.fixture(scope="module")
def sqlite_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Database,
                                                                              DemoSummary]]:
    db = _sqlite(tmp_path_factory.mktemp("demo"), "demo.db")
    summary = build_demo(db, "small", seed=1, today=TODAY)
    yield db, summary
    db.dispose()


@pytest.fixture(scope="module")
def pg_demo() -> Iterator[tuple[Database, DemoSummary]]:
    name = f"krc_demo_test_{secrets.token_hex(4)}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    url = f"postgresql://postgres@127.0.0.1:5432/{name}"
    try:
        upgrade(url)
        db = Database(url)
        summary = build_demo(db, "small", seed=1, today=TODAY)
        yield db, summary
        db.dispose()
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


@pytest.fixture(params=["sqlite", "postgresql"])
def demo(request: pytest.FixtureRequest) -> tuple[Database, DemoSummary]:
    fixture = "sqlite_demo" if request.param == "sqlite" else "pg_demo"
    result: tuple[Database, DemoSummary] = request.getfixturevalue(fixture)
    return result


def digest(db: Database) -> str:
    """Return a digest of the children's identities (registry number, names, birth date)."""
    h = hashlib.sha256()
    with db.session() as s:
        rows = s.execute(select(Child.registry_number, Child.given_name, Child.family_name,
                                Child.birth_date, Child.caregiver_phone).order_by(Child.pk))
        for row in rows:
            h.update(repr(tuple(row)).encode())
        doses = s.execute(select(Vaccination.child_pk, Vaccination.vaccine, Vaccination.dose,
                                 Vaccination.given_on).order_by(Vaccination.pk))
        for row in doses:
            h.update(repr(tuple(row)).encode())
    return h.hexdigest()


def test_summary_and_sizes(demo: tuple[Database, DemoSummary]) -> None:
    db, summary = demo
    assert 3_000 <= summary.children <= 6_000
    assert summary.doses > 10 * summary.children
    assert summary.duplicates > 0
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Child)) == summary.children
        assert s.scalar(select(func.count()).select_from(Vaccination)) == summary.doses
        assert s.scalar(select(func.count()).where(OrgUnit.level == FACILITY)) \
            == summary.facilities
        assert s.scalar(select(func.count()).where(OrgUnit.level == VILLAGE)) == summary.villages


def test_every_district_exists_and_has_children(demo: tuple[Database, DemoSummary]) -> None:
    db, _ = demo
    with db.session() as s:
        districts = s.scalar(select(func.count()).where(OrgUnit.level == DISTRICT,
                                                        OrgUnit.hierarchy == "health"))
        assert districts == 73
        with_children = s.scalar(text(
            "SELECT COUNT(DISTINCT f.parent_id) FROM child c "
            "JOIN org_unit f ON f.id = c.facility_id"))
        assert with_children == 73
        # villages belong to the child's CSCom, codes follow the convention
        bad = s.scalar(text(
            "SELECT COUNT(*) FROM child c JOIN org_unit v ON v.id = c.village_id "
            "WHERE v.parent_id <> c.facility_id"))
        assert bad == 0
        codes = s.execute(select(OrgUnit.code, OrgUnit.name).where(OrgUnit.level == FACILITY,
                                                                   OrgUnit.code.like("ML0207%")))
        for code, name in codes:
            assert code.startswith("ML0207-C") and name.startswith("CSCom ")
        villages = s.scalars(select(OrgUnit.code).where(OrgUnit.code.like("ML0207-C01-%")))
        assert sorted(villages) == ["ML0207-C01-V01", "ML0207-C01-V02", "ML0207-C01-V03"]


def test_targets_cover_six_years(demo: tuple[Database, DemoSummary]) -> None:
    db, _ = demo
    with db.session() as s:
        years = s.scalars(text("SELECT DISTINCT year FROM target_population ORDER BY year")).all()
        assert list(years) == list(range(TODAY.year - 5, TODAY.year + 1))
        country = s.scalar(text("SELECT t.population FROM target_population t JOIN org_unit o "
                                "ON o.id = t.org_unit_id WHERE o.code = 'ML' AND t.year = "
                                f"{TODAY.year - 1}"))
        # Targets follow the register: its births ÷ completeness ÷ crude birth rate.
        assert country and country > 0
        # districts add up to their region
        gap = s.scalar(text(
            "SELECT COUNT(*) FROM (SELECT r.id, MAX(tr.population) AS p, SUM(td.population) AS s "
            "FROM org_unit r JOIN target_population tr ON tr.org_unit_id = r.id "
            "JOIN org_unit d ON d.parent_id = r.id AND d.level = 3 "
            "JOIN target_population td ON td.org_unit_id = d.id AND td.year = tr.year "
            "WHERE r.level = 2 AND r.hierarchy = 'health' GROUP BY r.id, tr.year) x "
            "WHERE p <> s"))
        assert gap == 0


def test_same_seed_same_data(sqlite_demo: tuple[Database, DemoSummary],
                             pg_demo: tuple[Database, DemoSummary], tmp_path: Path) -> None:
    again = _sqlite(tmp_path, "again.db")
    build_demo(again, "small", seed=1, today=TODAY)
    other = _sqlite(tmp_path, "other.db")
    build_demo(other, "small", seed=2, today=TODAY)
    first = digest(sqlite_demo[0])
    assert digest(again) == first
    assert digest(pg_demo[0]) == first  # same data on both back ends
    assert digest(other) != first
    again.dispose()
    other.dispose()


def test_doses_agree_with_the_rules(demo: tuple[Database, DemoSummary]) -> None:
    db, summary = demo
    params = ScheduleParams()
    with db.session() as s:
        pks = list(range(1, summary.children + 1, max(1, summary.children // 200)))[:200]
        children = {c.pk: c for c in s.scalars(select(Child).where(Child.pk.in_(pks)))}
        doses: dict[int, list[Vaccination]] = {}
        for v in s.scalars(select(Vaccination).where(Vaccination.child_pk.in_(pks))):
            doses.setdefault(v.child_pk, []).append(v)
    invalid_seen = 0
    for pk in pks:
        child = children[pk]
        assert child.registry_number == registry_number(pk)
        live = doses.get(pk, [])
        given = [GivenDose(v.vaccine, v.dose, v.given_on, str(v.pk)) for v in live]
        checks = {c.id: c for c in assess_doses(child.birth_date, given, params)}
        valid = [g for g in given if checks[g.id].valid]
        due = {(x.vaccine, x.dose): x.due_date
               for x in evaluate(child.birth_date, valid, TODAY, None, params)
               if x.status == "given"}
        for v in live:
            c = checks[str(v.pk)]
            assert v.given_on <= TODAY and v.given_on >= child.birth_date
            assert (v.valid, v.invalid_reason) == (c.valid, c.reason)
            d = due.get((v.vaccine, v.dose))
            assert v.delay_days == ((v.given_on - d).days if c.valid and d else None)
            invalid_seen += not v.valid
        valid_rows = [v for v in live if checks[str(v.pk)].valid]
        assert child.first_dose_on == min((v.given_on for v in valid_rows), default=None)
        p1 = [v.given_on for v in valid_rows if v.vaccine == "PENTA"]
        assert child.penta1_on == (min(p1) if p1 else None)
        p3 = [v.given_on for v in valid_rows if (v.vaccine, v.dose) == ("PENTA", 3)]
        assert child.penta3_on == (p3[0] if p3 else None)
        m1 = [v.given_on for v in valid_rows if (v.vaccine, v.dose) == ("MCV", 1)]
        assert child.mcv1_on == (m1[0] if m1 else None)
        assert child.caregiver_phone is None or is_valid_phone(child.caregiver_phone)
    with db.session() as s:
        reasons = set(s.scalars(select(Vaccination.invalid_reason).distinct()))
    assert {"before_minimum_age", "previous_dose_missing", "interval_too_short"} <= reasons
    assert not any(v.vaccine == "MALARIA" for vs in doses.values() for v in vs)


def test_facts_equal_a_fresh_rebuild(demo: tuple[Database, DemoSummary]) -> None:
    db, _ = demo

    def snapshot() -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
        with db.session() as s:
            d = [tuple(r) for r in s.execute(select(
                DoseFact.org_unit_id, DoseFact.period, DoseFact.vaccine, DoseFact.dose,
                DoseFact.basis, DoseFact.doses, DoseFact.timely).order_by(
                DoseFact.org_unit_id, DoseFact.period, DoseFact.vaccine, DoseFact.dose,
                DoseFact.basis))]
            h = [tuple(r) for r in s.execute(select(
                DelayFact.org_unit_id, DelayFact.period, DelayFact.delay, DelayFact.doses)
                .order_by(DelayFact.org_unit_id, DelayFact.period, DelayFact.delay))]
        return d, h

    before = snapshot()
    assert before[0] and before[1]
    with db.sessions() as s:
        s.begin()
        facts.rebuild(s, ScheduleParams().grace_days)
        s.flush()
        d = [tuple(r) for r in s.execute(select(
            DoseFact.org_unit_id, DoseFact.period, DoseFact.vaccine, DoseFact.dose,
            DoseFact.basis, DoseFact.doses, DoseFact.timely).order_by(
            DoseFact.org_unit_id, DoseFact.period, DoseFact.vaccine, DoseFact.dose,
            DoseFact.basis))]
        h = [tuple(r) for r in s.execute(select(
            DelayFact.org_unit_id, DelayFact.period, DelayFact.delay, DelayFact.doses)
            .order_by(DelayFact.org_unit_id, DelayFact.period, DelayFact.delay))]
        s.rollback()
    assert d == before[0]
    assert h == before[1]


def _coverage(db: Database, region: str) -> float:
    with db.session() as s:
        row = s.execute(text(
            "SELECT COUNT(*), SUM(CASE WHEN c.penta3_on IS NOT NULL THEN 1 ELSE 0 END) "
            "FROM child c JOIN org_unit f ON f.id = c.facility_id "
            "JOIN org_unit d ON d.id = f.parent_id JOIN org_unit r ON r.id = d.parent_id "
            "WHERE r.name = :r AND c.birth_date <= :cut"),
            {"r": region, "cut": date(TODAY.year - 1, TODAY.month, 1)}).one()
    return float(row[1] or 0) / float(row[0])


def test_coverage_lower_in_the_north(demo: tuple[Database, DemoSummary]) -> None:
    db, _ = demo
    kidal, sikasso = _coverage(db, "Kidal"), _coverage(db, "Sikasso")
    assert kidal < sikasso - 0.3
    assert 0.75 <= sikasso <= 0.97


def test_duplicates_present(demo: tuple[Database, DemoSummary]) -> None:
    db, _ = demo
    with db.session() as s:
        rows = s.execute(select(Child, OrgUnit.code).join(
            OrgUnit, OrgUnit.id == Child.village_id)).all()
    by_village: dict[str, list[PersonFacts]] = {}
    for child, village in rows:
        by_village.setdefault(village, []).append(PersonFacts(
            child.given_name, child.family_name, child.birth_date, child.sex,
            child.caregiver_name, child.caregiver_phone, village))
    pairs = spelled = 0
    for people in by_village.values():
        for i, a in enumerate(people):
            for b in people[i + 1:]:
                if abs((a.birth_date - b.birth_date).days) <= 31 and is_probable_duplicate(a, b):
                    pairs += 1
                    spelled += (a.family_name, a.given_name) != (b.family_name, b.given_name)
    assert pairs >= 20
    assert spelled >= 5


def test_logins(demo: tuple[Database, DemoSummary]) -> None:
    db, summary = demo
    roles = {login.role for login in summary.logins}
    assert {"admin", "national", "partner", "regional", "district", "facility",
            "vaccinator"} <= roles
    names = {login.username for login in summary.logins}
    assert {"admin", "national", "partenaire", "district.kati", "cscom.kati",
            "vaccinateur.kati", "district.kidal", "district.mopti", "region.koulikoro"} <= names
    assert len({login.password for login in summary.logins}) == 1
    with db.session() as s:
        users = {u.username: u for u in s.scalars(select(User))}
        assert len({u.password_hash for u in users.values()}) == 1
        assert verify_password(users["admin"].password_hash, summary.logins[0].password)
        cscom = s.get(OrgUnit, users["cscom.kati"].org_unit_id)
        assert cscom is not None and cscom.code.endswith("-C01") and cscom.level == FACILITY


def test_refuses_a_database_with_children(sqlite_demo: tuple[Database, DemoSummary]) -> None:
    with pytest.raises(DomainError) as err:
        build_demo(sqlite_demo[0], "small", seed=1, today=TODAY)
    assert err.value.code == "demo_not_empty"


def test_national_needs_postgres_and_scale_is_checked(tmp_path: Path) -> None:
    db = _sqlite(tmp_path, "n.db")
    with pytest.raises(DomainError) as err:
        build_demo(db, "national", today=TODAY)
    assert err.value.code == "demo_needs_postgres"
    with pytest.raises(DomainError):
        build_demo(db, "huge", today=TODAY)
    db.dispose()


def test_figures_look_like_mali(demo: tuple[Database, DemoSummary]) -> None:
    """Targets follow the register, so last year's national coverage is plausible (§2)."""
    from krc.geo.queries import unit_by_code
    from krc.immunization.figures import coverage
    from krc.immunization.params import load_params
    from krc.results.periods import parse_period

    db, _ = demo
    with db.session() as s:
        row = coverage(s, unit_by_code(s, "ML"), parse_period(str(TODAY.year - 1)), None,
                       load_params(s))[0]
    cov = {(d["vaccine"], d["dose"]): d["coverage"] for d in row["doses"]}
    assert 60 < cov[("PENTA", 1)] < 100
    assert 45 < cov[("PENTA", 3)] < cov[("PENTA", 1)]
    assert row["zero_dose"]["aggregate"] > 0
    assert row["red_rec"]["category"] in (1, 2, 3, 4)
