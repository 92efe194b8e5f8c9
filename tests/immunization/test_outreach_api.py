"""API tests of outreach sessions: plan, replay, refusals, scope, changes, dose links,
reports and micro-plans (both databases)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from krc.accounts.models import AuditEvent
from krc.geo.models import OrgUnit
from krc.immunization.outreach.queries import SessionInfo, upcoming_sessions
from tests.conftest import TODAY, World, child_payload

H = "vacc_kati"
URL = "/api/v1/outreach/sessions"


def body(**over: Any) -> dict[str, Any]:
    b: dict[str, Any] = {"facility": "ML0207-C01", "date": "2026-03-20", "strategy": "outreach",
                         "place_type": "market", "place_name": "Marché de Kati",
                         "latitude": 12.744, "longitude": -8.072,
                         "villages": ["ML0207-C01-V01"]}
    b.update(over)
    return b


def plan(client: TestClient, world: World, user: str = H, **over: Any) -> Any:
    return client.post(URL, json=body(**over), headers=world.headers(user))


def planned_id(client: TestClient, world: World, user: str = H, **over: Any) -> str:
    r = plan(client, world, user, **over)
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def new_child(client: TestClient, world: World, **over: Any) -> str:
    r = client.post("/api/v1/children", json=child_payload(**over), headers=world.headers(H))
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def dose(client: TestClient, world: World, cid: str, vaccine: str, n: int, day: str,
         user: str = H, **over: Any) -> Any:
    b = {"vaccine": vaccine, "dose": n, "date": day, "facility": "ML0207-C01", **over}
    return client.post(f"/api/v1/children/{cid}/vaccinations", json=b,
                       headers=world.headers(user))


# --------------------------------------------------------------------------- sessions

def test_plan_read_and_replay(client: TestClient, world: World) -> None:
    sid = str(uuid.uuid4())
    r = plan(client, world, id=sid)
    assert r.status_code == 201, r.text
    out = r.json()
    assert out["id"] == sid and out["status"] == "planned" and out["doses"] == 0
    assert out["facility"] == {"code": "ML0207-C01", "name": "CSCom Kati Central"}
    assert out["district"]["code"] == "ML0207"
    assert out["villages"] == [{"code": "ML0207-C01-V01", "name": "Kati Coro"}]
    assert r.headers["location"] == f"{URL}/{sid}"
    again = plan(client, world, id=sid)
    assert again.status_code == 200 and again.headers["idempotent-replay"] == "true"
    assert again.json()["id"] == sid
    got = client.get(f"{URL}/{sid}", headers=world.headers("kati"))
    assert got.status_code == 200 and got.json()["place_name"] == "Marché de Kati"
    with world.db.session() as s:
        events = s.scalars(select(AuditEvent).where(AuditEvent.entity == "outreach_session",
                                                    AuditEvent.entity_id == sid)).all()
        assert [e.action for e in events] == ["create"]
        assert events[0].detail["place_type"] == "market"


def test_fixed_session_needs_no_place(client: TestClient, world: World) -> None:
    r = plan(client, world, strategy="fixed", place_type=None, place_name=None,
             latitude=None, longitude=None, villages=[])
    assert r.status_code == 201, r.text
    assert r.json()["place_type"] is None


def test_invalid_input_names_the_fault(client: TestClient, world: World) -> None:
    cases = [
        ({"place_type": None}, "place_type_required", "place_type"),
        ({"place_type": "church"}, "place_type_unknown", "place_type"),
        ({"strategy": "door"}, "strategy_unknown", "strategy"),
        ({"place_name": ""}, "place_name_required", "place_name"),
        ({"latitude": 95.0}, "latitude_out_of_range", "latitude"),
        ({"longitude": None}, "coordinates_incomplete", "longitude"),
        ({"latitude": -8.07, "longitude": 12.74}, "coordinates_outside_mali", "latitude"),
        ({"date": "2028-01-01"}, "date_too_far", "date"),
        ({"date": "2024-01-01"}, "date_too_old", "date"),
        ({"status": "held"}, "held_in_future", "status"),
        ({"status": "cancelled"}, "status_on_create", "status"),
        ({"facility": "ML0207"}, "org_unit_wrong_level", "facility"),
        ({"facility": "NOPE"}, "org_unit_unknown", "facility"),
        ({"villages": ["ML0207-C02-V01"]}, "village_not_in_facility", "villages"),
        ({"villages": ["ML0207-C01"]}, "village_unknown", "villages"),
    ]
    for over, code, field in cases:
        r = plan(client, world, **over)
        assert r.status_code == 422, (over, r.text)
        assert r.json()["code"] == code, (over, r.json())
        assert r.json()["errors"][0]["field"] == field
    en = client.post(URL, json=body(place_type=None), headers=world.headers(H, "en"))
    assert en.json()["title"].startswith("Give the gathering place type")
    fr = plan(client, world, place_type=None)
    assert fr.json()["title"].startswith("Indiquez le type de lieu")
    two = plan(client, world, strategy="door", place_type="church")
    assert two.status_code == 422
    assert {e["code"] for e in two.json()["errors"]} == {"strategy_unknown",
                                                         "place_type_unknown"}
    bad = client.post(URL, json={**body(), "date": "20-03-2026"}, headers=world.headers(H))
    assert bad.status_code == 422


def test_refusals_auth_role_and_scope(client: TestClient, world: World) -> None:
    assert client.post(URL, json=body()).status_code == 401
    assert client.get(URL).status_code == 401
    r = plan(client, world, user="partner")
    assert r.status_code == 403 and r.json()["code"] == "role_forbidden"
    r = plan(client, world, user="national")
    assert r.status_code == 403
    r = plan(client, world, user="vacc_mopti")  # a Kati CSCom from Mopti
    assert r.status_code == 403 and r.json()["code"] == "out_of_scope"
    r = plan(client, world, user="vacc_kati", facility="ML0207-C02")  # the other Kati CSCom
    assert r.status_code == 403
    assert plan(client, world, user="kati", facility="ML0207-C02",
                villages=[]).status_code == 201
    sid = planned_id(client, world)
    assert client.get(f"{URL}/{sid}", headers=world.headers("vacc_mopti")).status_code == 404
    assert client.get(f"{URL}/{sid}/report",
                      headers=world.headers("vacc_mopti")).status_code == 404
    r = client.patch(f"{URL}/{sid}", json={"status": "cancelled"},
                     headers=world.headers("vacc_mopti"))
    assert r.status_code == 404
    r = client.patch(f"{URL}/{sid}", json={"status": "cancelled"},
                     headers=world.headers("partner"))
    assert r.status_code == 403
    assert client.get(f"{URL}/{uuid.uuid4()}", headers=world.headers(H)).status_code == 404
    # the same id replayed by someone of another district reveals nothing
    r = plan(client, world, user="vacc_mopti", id=sid, facility="ML0501-C01",
             villages=[])
    assert r.status_code == 409 and r.json()["code"] == "id_taken"
    # partners read sessions (not personal data) within their scope
    assert client.get(f"{URL}/{sid}", headers=world.headers("partner")).status_code == 200
    r = client.get(URL, params={"org_unit": "ML0207"}, headers=world.headers("vacc_mopti"))
    assert r.status_code == 403
    r = client.get(URL, params={"org_unit": "NOPE"}, headers=world.headers(H))
    assert r.status_code == 404


def test_list_by_unit_and_dates(client: TestClient, world: World) -> None:
    a = planned_id(client, world, date="2026-03-20")
    b = planned_id(client, world, date="2026-04-15", place_type="school",
                   place_name="École fondamentale de Kati Coro")
    c = planned_id(client, world, date="2026-03-10", status="held")
    r = client.post(URL, json=body(facility="ML0501-C01", villages=[], place_name="Gare "
                                   "routière de Sévaré", place_type="bus_station",
                                   latitude=None, longitude=None),
                    headers=world.headers("vacc_mopti"))
    assert r.status_code == 201
    mopti = r.json()["id"]
    got = client.get(URL, params={"org_unit": "ML0207"}, headers=world.headers("kati")).json()
    assert [s["id"] for s in got] == [c, a, b]
    got = client.get(URL, params={"org_unit": "ML0207", "from": "2026-03-15",
                                  "to": "2026-03-31"}, headers=world.headers("kati")).json()
    assert [s["id"] for s in got] == [a]
    got = client.get(URL, params={"status": "held"}, headers=world.headers(H)).json()
    assert [s["id"] for s in got] == [c]
    everything = client.get(URL, headers=world.headers("national")).json()
    assert {s["id"] for s in everything} == {a, b, c, mopti}
    own = client.get(URL, headers=world.headers("vacc_mopti")).json()
    assert [s["id"] for s in own] == [mopti]
    r = client.get(URL, params={"status": "done"}, headers=world.headers(H))
    assert r.status_code == 422
    r = client.get(URL, params={"from": "2026-04-01", "to": "2026-03-01"},
                   headers=world.headers(H))
    assert r.status_code == 422 and r.json()["code"] == "range_reversed"


def test_reschedule_cancel_hold_are_audited(client: TestClient, world: World) -> None:
    sid = planned_id(client, world)
    r = client.patch(f"{URL}/{sid}", json={"date": "2026-03-27", "reason": "marché déplacé"},
                     headers=world.headers(H))
    assert r.status_code == 200, r.text
    assert r.json()["date"] == "2026-03-27"
    r = client.patch(f"{URL}/{sid}", json={"status": "held"}, headers=world.headers(H))
    assert r.status_code == 422 and r.json()["code"] == "held_in_future"
    r = client.patch(f"{URL}/{sid}", json={"place_type": "theatre"}, headers=world.headers(H))
    assert r.status_code == 422 and r.json()["code"] == "place_type_unknown"
    r = client.patch(f"{URL}/{sid}", json={"villages": ["ML0207-C01-V02"], "notes": "Apporter "
                                           "les cartes"}, headers=world.headers(H))
    assert r.json()["villages"][0]["name"] == "Sébénikoro"
    r = client.patch(f"{URL}/{sid}", json={"status": "cancelled"}, headers=world.headers(H))
    assert r.status_code == 200 and r.json()["status"] == "cancelled"
    r = client.patch(f"{URL}/{sid}", json={"status": "held"}, headers=world.headers(H))
    assert r.status_code == 422 and r.json()["code"] == "session_cancelled"
    r = client.patch(f"{URL}/{sid}", json={"status": "planned", "date": "2026-03-16"},
                     headers=world.headers(H))
    assert r.status_code == 200
    r = client.patch(f"{URL}/{sid}", json={"status": "held"}, headers=world.headers(H))
    assert r.status_code == 200 and r.json()["status"] == "held"
    r = client.patch(f"{URL}/{sid}", json={"status": "held"}, headers=world.headers(H))
    assert r.status_code == 200  # a replay changes nothing
    r = client.patch(f"{URL}/{sid}", json={"colour": "red"}, headers=world.headers(H))
    assert r.status_code == 422
    with world.db.session() as s:
        events = s.scalars(select(AuditEvent).where(
            AuditEvent.entity == "outreach_session", AuditEvent.entity_id == sid)
            .order_by(AuditEvent.id)).all()
    assert [e.action for e in events] == ["create"] + ["update"] * 5
    assert events[1].detail == {"before": {"date": "2026-03-20"},
                                "after": {"date": "2026-03-27"}, "reason": "marché déplacé"}
    assert events[-1].detail["after"] == {"status": "held"}


def test_old_session_keeps_its_date_when_notes_change(client: TestClient, world: World) -> None:
    sid = planned_id(client, world, date="2025-04-01", status="held")
    r = client.patch(f"{URL}/{sid}", json={"notes": "corrigé"}, headers=world.headers(H))
    assert r.status_code == 200, r.text


# --------------------------------------------------------------------------- doses

def test_dose_links_to_session_and_marks_it_held(client: TestClient, world: World) -> None:
    sid = planned_id(client, world, date="2026-03-16")
    cid = new_child(client, world, birth_date="2025-11-03")
    r = dose(client, world, cid, "PENTA", 1, "2026-03-16", session=sid)
    assert r.status_code == 201, r.text
    assert r.json()["session"] == sid and r.json()["strategy"] == "outreach"
    got = client.get(f"{URL}/{sid}", headers=world.headers(H)).json()
    assert got["status"] == "held" and got["doses"] == 1
    # once doses are recorded the session cannot move or be cancelled
    r = client.patch(f"{URL}/{sid}", json={"date": "2026-03-17"}, headers=world.headers(H))
    assert r.status_code == 422 and r.json()["code"] == "session_has_doses"
    r = client.patch(f"{URL}/{sid}", json={"status": "cancelled"}, headers=world.headers(H))
    assert r.status_code == 422 and r.json()["code"] == "session_has_doses"
    r = client.patch(f"{URL}/{sid}", json={"strategy": "fixed"}, headers=world.headers(H))
    assert r.status_code == 422 and r.json()["code"] == "session_has_doses"
    r = client.patch(f"{URL}/{sid}", json={"place_name": "Marché central de Kati"},
                     headers=world.headers(H))
    assert r.status_code == 200  # the place may still be corrected
    # the session id in upper case or with spaces is the same session
    r = dose(client, world, cid, "OPV", 1, "2026-03-16", session=f" {sid.upper()} ")
    assert r.status_code == 201 and r.json()["session"] == sid


def test_dose_link_refusals(client: TestClient, world: World) -> None:
    sid = planned_id(client, world, date="2026-03-16")
    cancelled = planned_id(client, world, date="2026-03-16")
    client.patch(f"{URL}/{cancelled}", json={"status": "cancelled"}, headers=world.headers(H))
    other = planned_id(client, world, date="2026-03-16", facility="ML0207-C02", villages=[],
                       user="kati")
    r = client.post(URL, json=body(facility="ML0501-C01", villages=[], date="2026-03-16"),
                    headers=world.headers("vacc_mopti"))
    mopti = r.json()["id"]
    cid = new_child(client, world, birth_date="2025-11-03")
    cases = [
        ({"session": str(uuid.uuid4())}, "2026-03-16", "session_unknown"),
        ({"session": "séance du marché"}, "2026-03-16", "session_unknown"),
        ({"session": mopti}, "2026-03-16", "session_unknown"),  # out of scope: unknown
        ({"session": cancelled}, "2026-03-16", "session_cancelled"),
        ({"session": sid}, "2026-03-15", "session_date_mismatch"),
        ({"session": other}, "2026-03-16", "session_unknown"),  # the other CSCom's
        ({"session": sid, "strategy": "fixed"}, "2026-03-16", "session_strategy_mismatch"),
    ]
    for over, day, code in cases:
        r = dose(client, world, cid, "PENTA", 1, day, **over)
        assert r.status_code == 422, (code, r.text)
        assert r.json()["code"] == code, r.json()
        assert r.json()["errors"][0]["field"] in ("session", "strategy")
    # the district team sees both CSComs: the session belongs to the other one
    r = dose(client, world, cid, "PENTA", 1, "2026-03-16", user="kati", session=other)
    assert r.status_code == 422 and r.json()["code"] == "session_facility_mismatch"
    assert "CSCom Diago" in r.json()["title"]
    r = client.post(f"/api/v1/children/{cid}/vaccinations", headers=world.headers(H, "en"),
                    json={"vaccine": "PENTA", "dose": 1, "date": "2026-03-15",
                          "facility": "ML0207-C01", "session": sid})
    assert r.json()["title"] == "The dose is dated 2026-03-15 but the session is on 2026-03-16"
    assert client.get(f"{URL}/{sid}", headers=world.headers(H)).json()["status"] == "planned"


def test_correcting_a_linked_dose_keeps_the_link_valid(client: TestClient, world: World) -> None:
    sid = planned_id(client, world, date="2026-03-16")
    cid = new_child(client, world, birth_date="2025-11-03")
    vid = dose(client, world, cid, "PENTA", 1, "2026-03-16", session=sid).json()["id"]
    r = client.patch(f"/api/v1/vaccinations/{vid}", json={"date": "2026-03-15",
                                                           "reason": "erreur"},
                     headers=world.headers(H))
    assert r.status_code == 422 and r.json()["code"] == "session_date_mismatch"
    r = client.patch(f"/api/v1/vaccinations/{vid}", json={"session": "", "reason": "pas à la "
                                                          "séance", "strategy": "fixed"},
                     headers=world.headers(H))
    assert r.status_code == 200 and r.json()["session"] is None
    assert r.json()["strategy"] == "fixed"
    r = client.patch(f"/api/v1/vaccinations/{vid}", json={"session": sid, "reason": "si"},
                     headers=world.headers(H))
    assert r.status_code == 200 and r.json()["session"] == sid
    assert r.json()["strategy"] == "outreach"


# --------------------------------------------------------------------------- report

def test_session_report(client: TestClient, world: World) -> None:
    sid = planned_id(client, world, date="2026-03-10")
    # a: 5 months old, never vaccinated: first vaccine and first PENTA at the session
    a = new_child(client, world, given_name="Aminata", birth_date="2025-10-01")
    for v, n in (("BCG", 1), ("PENTA", 1), ("OPV", 1)):
        assert dose(client, world, a, v, n, "2026-03-10", session=sid).status_code == 201
    # b: had BCG at birth at the CSCom; first PENTA at the session
    b = new_child(client, world, given_name="Bakary", family_name="Coulibaly", sex="M",
                  birth_date="2025-10-05", caregiver_phone="76 00 00 01")
    assert dose(client, world, b, "BCG", 1, "2025-10-05").status_code == 201
    assert dose(client, world, b, "PENTA", 1, "2026-03-10", session=sid).status_code == 201
    # c: on schedule, PENTA2 at the session (not zero-dose)
    c = new_child(client, world, given_name="Cheick", family_name="Diarra", sex="M",
                  birth_date="2025-11-03", caregiver_phone="76 00 00 02")
    assert dose(client, world, c, "PENTA", 1, "2025-12-15").status_code == 201
    assert dose(client, world, c, "PENTA", 2, "2026-03-10", session=sid).status_code == 201
    # a dose given elsewhere the same day is not in the report
    assert dose(client, world, c, "OPV", 1, "2026-03-10").status_code == 201
    r = client.get(f"{URL}/{sid}/report", headers=world.headers("kati"))
    assert r.status_code == 200, r.text
    rep = r.json()
    assert rep["children"] == 3 and rep["doses"] == 5 and rep["valid_doses"] == 5
    assert [(x["vaccine"], x["dose"], x["doses"]) for x in rep["by_antigen"]] == [
        ("BCG", 1, 1), ("OPV", 1, 1), ("PENTA", 1, 2), ("PENTA", 2, 1)]
    assert rep["zero_dose_found"] == {"first_penta": 2, "first_vaccine": 1, "in_register": 2}
    assert rep["session"]["status"] == "held" and rep["session"]["doses"] == 5
    # partners see the counts (no names in a report)
    assert client.get(f"{URL}/{sid}/report", headers=world.headers("partner")).status_code == 200
    assert client.get(f"{URL}/{sid}/report").status_code == 401


# --------------------------------------------------------------------------- micro-plan

def test_microplan_ranks_villages_and_lists_sessions(client: TestClient, world: World) -> None:
    # Kati Coro (V01): two zero-dose children; Sébénikoro (V02): one defaulter with PENTA1
    for i, name in enumerate(("Awa", "Fanta")):
        new_child(client, world, given_name=name, birth_date="2025-09-01",
                  caregiver_phone=f"76 10 00 0{i}")
    late = new_child(client, world, given_name="Moussa", family_name="Keita", sex="M",
                     birth_date="2025-06-01", village="ML0207-C01-V02",
                     caregiver_phone="76 20 00 00")
    assert dose(client, world, late, "PENTA", 1, "2025-07-14").status_code == 201
    soon = planned_id(client, world, date="2026-03-25", villages=["ML0207-C01-V02"])
    later = planned_id(client, world, date="2026-03-18", villages=[])
    planned_id(client, world, date="2026-09-01", villages=[])  # beyond the horizon
    r = client.get("/api/v1/outreach/microplan", params={"org_unit": "ML0207-C01"},
                   headers=world.headers(H))
    assert r.status_code == 200, r.text
    plan_ = r.json()
    assert plan_["personal"] is True and plan_["on"] == TODAY.isoformat()
    [area] = plan_["areas"]
    assert area["defaulters"] == 3 and area["zero_dose"] == 2
    first, second = area["villages"]
    assert first["village"]["name"] == "Kati Coro" and first["rank"] == 1
    assert (first["defaulters"], first["zero_dose"], first["no_vaccine"]) == (2, 2, 2)
    assert {c["given_name"] for c in first["children"]} == {"Awa", "Fanta"}
    assert [s["id"] for s in first["sessions"]] == [later, soon]
    assert second["village"]["name"] == "Sébénikoro"
    assert [s["id"] for s in second["sessions"]] == [soon, later]  # targeted first
    assert "PENTA2" in second["children"][0]["overdue"]
    assert [s["id"] for s in area["upcoming"]] == [later, soon]
    with world.db.session() as s:
        events = s.scalars(select(AuditEvent).where(AuditEvent.entity == "microplan")).all()
        assert [(e.entity_id, e.detail["children"]) for e in events] == [("ML0207-C01", 3)]
    # district level: counts only, not audited as a personal read
    r = client.get("/api/v1/outreach/microplan", params={"org_unit": "ML0207"},
                   headers=world.headers("kati"))
    assert r.status_code == 200 and r.json()["personal"] is False
    areas = {a["facility"]["code"]: a for a in r.json()["areas"]}
    assert set(areas) == {"ML0207-C01", "ML0207-C02"}
    assert areas["ML0207-C01"]["villages"][0]["children"] is None
    assert areas["ML0207-C02"]["defaulters"] == 0
    # a partner gets counts only even for one area
    r = client.get("/api/v1/outreach/microplan", params={"org_unit": "ML0207-C01"},
                   headers=world.headers("partner"))
    assert r.status_code == 200 and r.json()["personal"] is False
    assert r.json()["areas"][0]["villages"][0]["children"] is None


def test_microplan_refusals(client: TestClient, world: World) -> None:
    url = "/api/v1/outreach/microplan"
    assert client.get(url, params={"org_unit": "ML0207-C01"}).status_code == 401
    r = client.get(url, params={"org_unit": "ML0207-C01"}, headers=world.headers("vacc_mopti"))
    assert r.status_code == 403
    r = client.get(url, params={"org_unit": "ML"}, headers=world.headers("national"))
    assert r.status_code == 422 and r.json()["code"] == "microplan_level"
    r = client.get(url, params={"org_unit": "ML0207-C01-V01"}, headers=world.headers(H))
    assert r.status_code == 422
    r = client.get(url, params={"org_unit": "NOPE"}, headers=world.headers(H))
    assert r.status_code == 404
    r = client.get(url, params={"org_unit": "ML0207-C01", "on": "demain"},
                   headers=world.headers(H))
    assert r.status_code == 422


# --------------------------------------------------------------------------- for messaging

def test_upcoming_sessions_for_broadcasts(client: TestClient, world: World) -> None:
    a = planned_id(client, world, date="2026-03-20")
    b = planned_id(client, world, date="2026-03-18", facility="ML0207-C02", villages=[],
                   place_type="place_of_worship", place_name="Grande mosquée de Diago",
                   user="kati")
    c = planned_id(client, world, date="2026-03-19")
    client.patch(f"{URL}/{c}", json={"status": "cancelled"}, headers=world.headers(H))
    planned_id(client, world, date="2026-05-01")
    client.post(URL, json=body(facility="ML0501-C01", villages=[], date="2026-03-19"),
                headers=world.headers("vacc_mopti"))
    with world.db.session() as s:
        kati_path = s.scalar(select(OrgUnit.path).where(OrgUnit.code == "ML0207"))
        assert kati_path is not None
        got = upcoming_sessions(s, date(2026, 3, 16), date(2026, 3, 31), kati_path)
        everywhere = upcoming_sessions(s, date(2026, 3, 16), date(2026, 3, 31))
    assert [g.id for g in got] == [b, a]
    assert isinstance(got[0], SessionInfo)
    assert got[0].facility_code == "ML0207-C02" and got[0].place_type == "place_of_worship"
    assert got[1].facility_name == "CSCom Kati Central" and got[1].date == date(2026, 3, 20)
    assert got[0].district_id == got[1].district_id
    assert len(everywhere) == 3


def test_a_non_number_is_refused_in_the_users_words(client: TestClient, world: World) -> None:
    r = client.post(URL, json=body(longitude="8,07 O"), headers=world.headers(H))
    assert r.status_code == 422
    (err,) = r.json()["errors"]
    assert err["field"] == "longitude" and err["code"] == "float_parsing"
    assert err["message"] == "Nombre attendu (par exemple 12,5)"  # not pydantic's English
    en = client.post(URL, json=body(longitude="8,07 O"), headers=world.headers(H, "en"))
    assert en.json()["errors"][0]["message"] == "Number expected (for example 12.5)"
