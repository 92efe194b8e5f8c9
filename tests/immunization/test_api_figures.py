"""API tests of coverage, dropout, zero-dose, defaulters and priority districts (both DBs).

Expected values are computed by hand from the world's targets (tests/conftest.py) and
reference/immunization.md §2.
"""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from tests.conftest import World, child_payload

H = "vacc_kati"


def child(client: TestClient, world: World, i: int, birth: str = "2025-11-03") -> str:
    body = child_payload(given_name=["Awa", "Oumar", "Kadiatou", "Issa"][i], sex="F",
                         birth_date=birth, caregiver_phone=f"7600000{i}", confirm_new=True)
    r = client.post("/api/v1/children", json=body, headers=world.headers(H))
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def dose(client: TestClient, world: World, cid: str, v: str, n: int, day: str) -> None:
    r = client.post(f"/api/v1/children/{cid}/vaccinations", headers=world.headers(H),
                    json={"vaccine": v, "dose": n, "date": day, "facility": "ML0207-C01"})
    assert r.status_code == 201 and r.json()["valid"], r.text


@pytest.fixture
def three(client: TestClient, world: World) -> list[str]:
    ids = [child(client, world, i) for i in range(3)]
    for cid in ids:
        dose(client, world, cid, "PENTA", 1, "2026-01-05")
    dose(client, world, ids[0], "PENTA", 2, "2026-02-05")
    dose(client, world, ids[0], "PENTA", 3, "2026-03-06")
    return ids


def row_for(body: dict[str, Any], code: str) -> dict[str, Any]:
    return next(r for r in body["rows"] if r["org_unit"]["code"] == code)


def test_coverage_by_hand(client: TestClient, world: World, three: list[str]) -> None:
    r = client.get("/api/v1/immunization/coverage", headers=world.headers("kati"),
                   params={"org_unit": "ML0207-C01", "period": "2026Q1"})
    assert r.status_code == 200, r.text
    row = row_for(r.json(), "ML0207-C01")
    # 24,000 people × 0.041 = 984 live births; × (1 − 0.054) = 931 surviving infants.
    assert row["targets"]["surviving_infants"] == 931
    doses = {(d["vaccine"], d["dose"]): d for d in row["doses"]}
    assert doses[("PENTA", 1)]["cumulative_doses"] == 3
    assert doses[("PENTA", 1)]["target"] == pytest.approx(232.8, abs=0.05)  # 931 / 12 × 3
    assert doses[("PENTA", 1)]["coverage"] == pytest.approx(1.3)  # 3 / 232.75
    assert row["dropout"]["PENTA1_PENTA3"]["percent"] == pytest.approx(66.7)
    assert row["zero_dose"]["aggregate"] == 230  # 232.75 − 3
    assert row["zero_dose"]["under_immunized"] == 232  # 232.75 − 1
    assert row["red_rec"]["category"] == 4
    assert row["timeliness"]["doses"] == 5


def test_monthly_periods_and_levels(client: TestClient, world: World, three: list[str]) -> None:
    r = client.get("/api/v1/immunization/coverage", headers=world.headers("kati"),
                   params={"org_unit": "ML0207", "period": "202602", "level": 4})
    rows = r.json()["rows"]
    assert [x["org_unit"]["name"] for x in rows] == ["CSCom Diago", "CSCom Kati Central"]
    c01 = {(d["vaccine"], d["dose"]): d for d in rows[1]["doses"]}
    assert c01[("PENTA", 2)]["doses"] == 1 and c01[("PENTA", 1)]["doses"] == 0
    assert c01[("PENTA", 1)]["cumulative_doses"] == 3
    monthly = client.get("/api/v1/immunization/coverage", headers=world.headers("kati"),
                         params={"org_unit": "ML0207-C01", "period": "2026",
                                 "monthly": "true"}).json()["rows"][0]["monthly"]
    assert [m["period"] for m in monthly][:3] == ["202601", "202602", "202603"]
    assert monthly[0]["PENTA1"] == pytest.approx(3 / (931 / 12) * 100, abs=0.05)


def test_over_100_is_flagged_not_capped(client: TestClient, world: World) -> None:
    with world.db.session() as s:
        from krc.geo.queries import unit_by_code
        from krc.geo.services import set_targets
        set_targets(s, unit_by_code(s, "ML0207-C01"), 2026, 100, 4, 4, 4)
    ids = [child(client, world, i) for i in range(2)]
    for cid in ids:
        dose(client, world, cid, "PENTA", 1, "2026-01-05")
    row = client.get("/api/v1/immunization/coverage", headers=world.headers("kati"),
                     params={"org_unit": "ML0207-C01", "period": "202601"}).json()["rows"][0]
    penta1 = next(d for d in row["doses"] if (d["vaccine"], d["dose"]) == ("PENTA", 1))
    assert penta1["coverage"] == pytest.approx(600.0) and penta1["over_100"] is True


def test_register_zero_dose(client: TestClient, world: World, three: list[str]) -> None:
    child(client, world, 3, birth="2025-06-01")  # no dose at all: zero-dose
    row = client.get("/api/v1/immunization/coverage", headers=world.headers("kati"),
                     params={"org_unit": "ML0207", "period": "2026Q1"}).json()["rows"][0]
    assert row["zero_dose"]["register"] == {"zero_dose": 1, "no_vaccine": 1}


def test_defaulters_before_and_after(client: TestClient, world: World) -> None:
    cid = child(client, world, 0, birth="2025-09-01")
    h = world.headers(H)
    body = client.get("/api/v1/immunization/defaulters", headers=h,
                      params={"org_unit": "ML0207-C01"}).json()
    assert body["on"] == "2026-03-16"
    found = [c for c in body["children"] if c["id"] == cid]
    assert found and found[0]["zero_dose"] is True
    overdue = {(d["vaccine"], d["dose"]) for d in found[0]["overdue"]}
    # IPV1 is due at 14 weeks (2025-12-08) whatever the other series: overdue too.
    assert overdue == {("BCG", 1), ("OPV", 1), ("PENTA", 1), ("PCV", 1), ("ROTA", 1), ("IPV", 1)}
    assert found[0]["village"]["code"] == "ML0207-C01-V01"
    for v, n in sorted(overdue):
        dose(client, world, cid, v, n, "2026-03-16")
    body = client.get("/api/v1/immunization/defaulters", headers=h,
                      params={"org_unit": "ML0207-C01"}).json()
    assert cid not in [c["id"] for c in body["children"]]


def test_defaulters_scope_and_role(client: TestClient, world: World) -> None:
    params = {"org_unit": "ML0207-C01"}
    r = client.get("/api/v1/immunization/defaulters", headers=world.headers("vacc_mopti"),
                   params=params)
    assert r.status_code == 403
    r = client.get("/api/v1/immunization/defaulters", headers=world.headers("partner"),
                   params=params)
    assert r.status_code == 403
    r = client.get("/api/v1/immunization/coverage", headers=world.headers("partner"),
                   params={"org_unit": "ML0207", "period": "2026"})
    assert r.status_code == 200
    r = client.get("/api/v1/immunization/coverage", headers=world.headers("vacc_mopti"),
                   params={"org_unit": "ML0207", "period": "2026"})
    assert r.status_code == 403


def test_priority_districts(client: TestClient, world: World, three: list[str]) -> None:
    r = client.get("/api/v1/immunization/priority-districts", headers=world.headers("national"),
                   params={"period": "2026Q1", "limit": 11})
    assert r.status_code == 200
    body = r.json()
    # Only Kati and Mopti have a target population in this world: the other districts
    # count no zero-dose child and are not ranked (no "priority" for lack of data).
    assert len(body["districts"]) == 2
    top = body["districts"][:2]
    assert [d["org_unit"]["code"] for d in top] == ["ML0207", "ML0501"]
    # Kati: 600,000 × 0.041 = 24,600 births; × 0.946 = 23,272 surviving; / 4 = 5,818 − 3.
    assert top[0]["zero_dose"]["aggregate"] == 5815
    assert top[1]["zero_dose"]["aggregate"] == 4364  # 17,454 / 4, no PENTA1
    assert [d["rank"] for d in top] == [1, 2]
    # On the register basis only districts with zero-dose children in their registers are
    # ranked; here every registered child has had PENTA1, so no district is.
    r = client.get("/api/v1/immunization/priority-districts", headers=world.headers("national"),
                   params={"period": "2026Q1", "limit": 11, "basis": "register"})
    assert r.status_code == 200 and r.json()["districts"] == []


def test_figure_refusals(client: TestClient, world: World) -> None:
    h = world.headers("national")
    r = client.get("/api/v1/immunization/coverage", headers=h,
                   params={"org_unit": "ML0207", "period": "2026W3"})
    assert r.status_code == 422 and r.json()["code"] == "period_invalid"
    r = client.get("/api/v1/immunization/coverage", headers=h,
                   params={"org_unit": "NOPE", "period": "2026"})
    assert r.status_code == 404
    r = client.get("/api/v1/immunization/coverage", headers=h, params={"period": "2026"})
    assert r.status_code == 422
    assert client.get("/api/v1/immunization/coverage",
                      params={"org_unit": "ML", "period": "2026"}).status_code == 401


def test_monthly_table(client: TestClient, world: World, three: list[str]) -> None:
    r = client.get("/api/v1/immunization/table", headers=world.headers("national"),
                   params={"org_unit": "ML", "year": 2026, "level": 3})
    assert r.status_code == 200
    rows = r.json()["rows"]
    assert len(rows) == 73 * 12
    kati = {x["period"]: x for x in rows if x["org_unit"] == "ML0207"}
    assert kati["202601"]["doses"]["PENTA1"] == {"doses": 3, "cumulative": 3,
                                                 "coverage": pytest.approx(0.2, abs=0.05)}
    assert kati["202603"]["doses"]["PENTA3"]["cumulative"] == 1
    assert kati["202603"]["dropout"]["PENTA1_PENTA3"] == pytest.approx(66.7)
    assert kati["202612"]["zero_dose"] == 23272 - 3


def test_monthly_series_compares_with_a_flat_goal(client: TestClient, world: World,
                                                  three: list[str]) -> None:
    monthly = client.get("/api/v1/immunization/coverage", headers=world.headers("kati"),
                         params={"org_unit": "ML0207-C01", "period": "2026",
                                 "monthly": "true"}).json()["rows"][0]["monthly"]
    # Coverage is cumulated with a prorated target, so the goal is the same every month.
    assert {m["target"] for m in monthly} == {90.0}


def test_reading_a_defaulter_list_is_audited(client: TestClient, world: World) -> None:
    from sqlalchemy import select

    from krc.accounts.models import AuditEvent
    child(client, world, 0, birth="2025-09-01")
    client.get("/api/v1/immunization/defaulters", headers=world.headers(H),
               params={"org_unit": "ML0207-C01"})
    with world.db.session() as s:
        event = s.scalar(select(AuditEvent).where(AuditEvent.entity == "defaulter_list"))
    assert event is not None and event.entity_id == "ML0207-C01"
    assert event.username == H and event.detail["children"] == 1
