"""Geography: the shipped seed, DHIS2 org-unit import and target populations (both DBs)."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from krc.errors import DomainError
from krc.geo import services
from krc.geo.models import DISTRICT, REGION, OrgUnit, TargetPopulation
from krc.geo.queries import unit_by_code
from krc.geo.rules import derive_targets, is_uid, uid_for
from tests.conftest import World


def test_seed_has_regions_and_districts_with_accents(world: World) -> None:
    with world.db.session() as s:
        districts = {u.name for u in s.scalars(select(OrgUnit).where(OrgUnit.level == DISTRICT))}
        regions = {u.name for u in s.scalars(select(OrgUnit).where(
            OrgUnit.level == REGION, OrgUnit.hierarchy == "health"))}
        admin = s.scalar(select(func.count()).select_from(OrgUnit).where(
            OrgUnit.hierarchy == "admin"))
        kati = unit_by_code(s, "ML0207")
        country = unit_by_code(s, "ML")
        region = unit_by_code(s, "ML02")
        mapped = s.get(OrgUnit, kati.admin_unit_id)
    assert len(districts) == 73
    assert {"Ségou", "Tombouctou", "Ménaka", "Taoudénit", "Kidal", "Bamako"} <= regions
    assert {"Diéma", "Kéniéba", "Ouéléssébougou", "Abeïbara", "Commune VI"} <= districts
    assert admin == 20
    assert kati.path == f"/{country.uid}/{region.uid}/{kati.uid}"
    assert mapped is not None and mapped.name == "Koulikoro"


def test_uid_rules() -> None:
    assert is_uid(uid_for("ML0207")) and uid_for("ML0207") == uid_for("ML0207")
    assert not is_uid("1abcdefghij") and not is_uid("short")


def test_derive_targets() -> None:
    t = derive_targets(100_000)
    assert (t.live_births, t.surviving_infants, t.cohort_12_23) == (4100, 3879, 3879)


DHIS2 = {"organisationUnits": [
    {"id": "Vil0000001a", "code": "ML0207-C02-V09", "name": "Niaréla", "level": 5,
     "parent": {"id": "Fac0000001a"}},
    {"id": "Fac0000001a", "code": "ML0207-C09", "name": "CSCom Ségou-Coura", "level": 4,
     "parent": {"id": "PLACEHOLDER"}},
]}


def test_dhis2_import_parents_in_any_order(world: World) -> None:
    with world.db.session() as s:
        kati = unit_by_code(s, "ML0207")
        payload = {"organisationUnits": [dict(u) for u in DHIS2["organisationUnits"]]}
        payload["organisationUnits"][1]["parent"] = {"id": kati.uid}
        assert services.import_dhis2_org_units(s, payload) == 2
        village = unit_by_code(s, "ML0207-C02-V09")
        assert village.path == kati.path + "/Fac0000001a/Vil0000001a"
        assert village.name == "Niaréla"


def test_dhis2_import_is_all_or_nothing(world: World) -> None:
    bad = {"organisationUnits": [
        {"id": "Fac0000002a", "name": "A", "level": 4, "parent": {"id": "Nope0000000"}}]}
    with pytest.raises(DomainError) as e, world.db.session() as s:
        services.import_dhis2_org_units(s, bad)
    assert e.value.code == "parent_unknown"
    with pytest.raises(DomainError) as e, world.db.session() as s:
        services.import_dhis2_org_units(s, {"organisationUnits": [{"id": "x", "name": "A"}]})
    assert e.value.code == "uid_invalid"
    with world.db.session() as s:
        assert s.scalar(select(OrgUnit).where(OrgUnit.uid == "Fac0000002a")) is None


def test_targets_csv(world: World) -> None:
    csv_text = ("org_unit,year,population,live_births,surviving_infants\n"
                "ML0207,2027,650000,27000,\nML0501,2027,460000,,\n")
    with world.db.session() as s:
        assert services.load_targets_csv(s, csv_text) == 2
        rows = {t.org_unit_id: t for t in s.scalars(select(TargetPopulation).where(
            TargetPopulation.year == 2027))}
        kati, mopti = rows[unit_by_code(s, "ML0207").id], rows[unit_by_code(s, "ML0501").id]
    assert (kati.live_births, kati.source) == (27000, "official")
    assert kati.surviving_infants == round(round(650000 * 0.041) * 0.946)
    assert mopti.live_births == round(460000 * 0.041)


@pytest.mark.parametrize(("csv_text", "code"), [
    ("org_unit,population\nML0207,1\n", "columns_missing"),
    ("org_unit,year,population\nNOPE,2027,1\n", "org_unit_unknown"),
    ("org_unit,year,population\nML0207,2027,many\n", "number_invalid"),
])
def test_targets_csv_refusals(world: World, csv_text: str, code: str) -> None:
    with pytest.raises(DomainError) as e, world.db.session() as s:
        services.load_targets_csv(s, csv_text)
    assert e.value.code == code


def test_org_units_api(client: TestClient, world: World) -> None:
    rows = client.get("/api/v1/org-units", params={"parent": "ML0207"},
                      headers=world.headers("kati")).json()
    assert {r["code"] for r in rows} == {"ML0207-C01", "ML0207-C02"}
    one = client.get("/api/v1/org-units/ML0207", headers=world.headers("kati")).json()
    assert one["targets"][0]["year"] == 2025
    r = client.post("/api/v1/targets", content="org_unit,year,population\nML0207,2030,1\n",
                    headers={**world.headers("admin"), "Content-Type": "text/csv"})
    assert r.status_code == 200 and r.json() == {"rows": 1}
    r = client.post("/api/v1/org-units/import/dhis2", json={"organisationUnits": []},
                    headers=world.headers("kati"))
    assert r.status_code == 403


def test_unit_rows_are_cached_and_forgotten_on_change(world: World) -> None:
    from sqlalchemy import event, text

    from krc.geo.queries import unit_row

    statements: list[str] = []

    def count(*args: object) -> None:
        statements.append(str(args[2]))

    event.listen(world.db.engine, "before_cursor_execute", count)
    try:
        with world.db.session() as s:
            kati = unit_row(s, "ML0207")
            assert kati is not None and kati.name == "Kati" and kati.level == DISTRICT
            statements.clear()
            assert unit_row(s, "ML0207") == kati
            assert unit_row(s, kati.id) == kati  # by id as well, from the same load
            assert statements == []  # no query
            assert unit_row(s, "NO-SUCH-UNIT") is None
            # An unknown code is not remembered: a unit created elsewhere is found at once.
            region = unit_by_code(s, "ML02")
            s.execute(text("INSERT INTO org_unit (uid, code, name, level, hierarchy, parent_id, "
                           "path) VALUES ('Zz000000001', 'NO-SUCH-UNIT', 'Nouveau', 3, "
                           "'health', :p, :path)"),
                      {"p": region.id, "path": region.path + "/Zz000000001"})
            created = unit_row(s, "NO-SUCH-UNIT")
            assert created is not None and created.name == "Nouveau"
            # A change through geo.services forgets the cached rows of this process.
            services.add_unit(s, "ML0207", "Kati (nouveau nom)", DISTRICT, region)
            renamed = unit_row(s, "ML0207")
            assert renamed is not None and renamed.name == "Kati (nouveau nom)"
            assert renamed.id == kati.id
            s.rollback()
        # The rollback forgot what this transaction cached: neither the new name nor the
        # inserted unit outlives it.
        with world.db.session(write=False) as s:
            again = unit_row(s, "ML0207")
            assert again is not None and again.name == "Kati"
            assert unit_row(s, "NO-SUCH-UNIT") is None
        # A committed change: a read between the change and the commit (here another
        # session's, of the committed name) is forgotten by the commit.
        with world.db.session() as s:
            services.add_unit(s, "ML0207", "Kati-Ville", DISTRICT, unit_by_code(s, "ML02"))
            with world.db.session(write=False) as other:
                before = unit_row(other, "ML0207")
                assert before is not None and before.name == "Kati"
        with world.db.session(write=False) as s:
            after = unit_row(s, "ML0207")
            assert after is not None and after.name == "Kati-Ville"
    finally:
        event.remove(world.db.engine, "before_cursor_execute", count)
