"""API tests of child registration, search, the card, scope isolation (both databases)."""

from __future__ import annotations

import uuid

from fastapi.testclient import TestClient
from sqlalchemy import select

from krc.accounts.models import AuditEvent
from krc.identifiers import is_valid_registry_number, registry_number
from krc.immunization.models import Child
from tests.conftest import World, child_payload


def register(client: TestClient, world: World, user: str = "vacc_kati", **over: object) -> dict:
    r = client.post("/api/v1/children", json=child_payload(**over), headers=world.headers(user))
    assert r.status_code == 201, r.text
    return r.json()


def test_register_returns_id_and_registry_number(client: TestClient, world: World) -> None:
    body = register(client, world)
    assert uuid.UUID(body["id"])
    assert len(body["registry_number"]) == 10
    assert body["caregiver_phone"] == "+22376123456"
    assert body["facility"] == {"code": "ML0207-C01", "name": "CSCom Kati Central"}
    assert body["village"]["code"] == "ML0207-C01-V01"


def test_registry_number_is_written_with_the_row(client: TestClient, world: World) -> None:
    """The serial is drawn before the INSERT (db.next_pk), so each registration writes its
    registry number in the row it inserts: serial + check digit of its own primary key."""
    numbers = [register(client, world, given_name=g)["registry_number"]
               for g in ("Awa", "Fanta", "Kadia")]
    with world.db.session() as s:
        rows = s.execute(select(Child.pk, Child.registry_number).where(
            Child.registry_number.in_(numbers))).all()
    assert sorted(numbers) == sorted(n for _, n in rows) and len(set(numbers)) == 3
    assert all(n == registry_number(pk) and is_valid_registry_number(n) for pk, n in rows)


def test_register_is_idempotent_on_client_id(client: TestClient, world: World) -> None:
    cid = str(uuid.uuid4())
    first = register(client, world, id=cid)
    again = client.post("/api/v1/children", json=child_payload(id=cid),
                        headers=world.headers("vacc_kati"))
    assert again.status_code == 200
    assert again.json()["registry_number"] == first["registry_number"]
    listed = client.get("/api/v1/children", params={"q": "Awa Traoré"},
                        headers=world.headers("vacc_kati")).json()
    assert len(listed) == 1


def test_probable_duplicate_answers_409_with_candidates(client: TestClient, world: World) -> None:
    first = register(client, world)
    r = client.post("/api/v1/children", headers=world.headers("vacc_kati"),
                    json=child_payload(family_name="Traore", birth_date="2025-09-08"))
    assert r.status_code == 409
    problem = r.json()
    assert r.headers["content-type"].startswith("application/problem+json")
    assert problem["code"] == "probable_duplicate"
    assert [c["id"] for c in problem["candidates"]] == [first["id"]]
    assert "name" in problem["candidates"][0]["reasons"]
    ok = client.post("/api/v1/children", headers=world.headers("vacc_kati"),
                     json=child_payload(family_name="Traore", birth_date="2025-09-08",
                                        confirm_new=True))
    assert ok.status_code == 201


def test_duplicate_outside_scope_is_masked(client: TestClient, world: World) -> None:
    register(client, world, user="kati", facility="ML0207-C02", village="ML0207-C02-V01")
    r = client.post("/api/v1/children", headers=world.headers("vacc_kati"),
                    json=child_payload(village=None))
    assert r.status_code == 409
    cand = r.json()["candidates"][0]
    assert cand["in_scope"] is False and cand["id"] is None
    assert cand["given_name"] == "A." and cand["birth_date"] is None


def test_validation_errors_are_field_level_in_both_languages(client: TestClient,
                                                             world: World) -> None:
    bad = child_payload(sex="X", birth_date="2025-13-01")
    del bad["given_name"]
    r = client.post("/api/v1/children", json=bad, headers=world.headers("vacc_kati"))
    assert r.status_code == 422
    fields = {e["field"]: e["message"] for e in r.json()["errors"]}
    assert fields["given_name"] == "Champ obligatoire"
    assert "AAAA-MM-JJ" in fields["birth_date"]
    assert "sex" in fields
    r = client.post("/api/v1/children", json=bad, headers=world.headers("vacc_kati", "en"))
    assert {e["field"]: e["message"] for e in r.json()["errors"]}["given_name"] == \
        "Field required"


def test_domain_refusals(client: TestClient, world: World) -> None:
    h = world.headers("vacc_kati")
    cases = [
        (child_payload(birth_date="2026-04-01"), "birth_date_future"),
        (child_payload(caregiver_phone="12"), "phone_invalid"),
        (child_payload(facility="NOPE"), "org_unit_unknown"),
        (child_payload(facility="ML0207"), "org_unit_wrong_level"),
        (child_payload(village="ML0207-C02-V01"), "village_not_in_facility"),
    ]
    for body, code in cases:
        r = client.post("/api/v1/children", json=body, headers=h)
        assert r.status_code == 422, (code, r.text)
        assert r.json()["code"] == code
    r = client.post("/api/v1/children", json=child_payload(facility="ML0501-C01", village=None),
                    headers=h)
    assert r.status_code == 403 and r.json()["code"] == "out_of_scope"


def test_unauthenticated_and_partner_refused(client: TestClient, world: World) -> None:
    assert client.get("/api/v1/children").status_code == 401
    r = client.get("/api/v1/children", headers={"Authorization": "Bearer nope"})
    assert r.status_code == 401 and r.json()["code"] == "token_invalid"
    assert client.get("/api/v1/children", headers=world.headers("partner")).status_code == 403
    r = client.post("/api/v1/children", json=child_payload(), headers=world.headers("national"))
    assert r.status_code == 403


def test_scope_isolation_with_guessed_ids(client: TestClient, world: World) -> None:
    kati_child = register(client, world)
    mopti = world.headers("vacc_mopti")
    cid = kati_child["id"]
    assert client.get(f"/api/v1/children/{cid}", headers=mopti).status_code == 404
    assert client.get(f"/api/v1/children/{cid}/schedule", headers=mopti).status_code == 404
    r = client.post(f"/api/v1/children/{cid}/vaccinations", headers=mopti,
                    json={"vaccine": "BCG", "dose": 1, "date": "2025-09-02",
                          "facility": "ML0501-C01"})
    assert r.status_code == 404
    assert client.get("/api/v1/children", params={"q": "Traoré"}, headers=mopti).json() == []
    r = client.get("/api/v1/children", params={"q": kati_child["registry_number"]},
                   headers=mopti)
    assert r.json() == []
    # The district and the nation see it.
    for user in ("kati", "national", "admin"):
        assert client.get(f"/api/v1/children/{cid}", headers=world.headers(user)).status_code \
            == 200


def test_search_is_accent_and_spelling_tolerant(client: TestClient, world: World) -> None:
    register(client, world, given_name="Moussa", family_name="Coulibaly", sex="M",
             caregiver_phone="+223 66 00 11 22", birth_date="2024-01-10")
    h = world.headers("vacc_kati")
    for q in ("Kulibali", "moussa koulibaly", "Musa Coulibali", "66001122"):
        names = [c["family_name"] for c in client.get("/api/v1/children", params={"q": q},
                                                      headers=h).json()]
        assert names == ["Coulibaly"], q
    r = client.get("/api/v1/children", params={"q": "Diarra"}, headers=h)
    assert r.json() == []


def test_reading_a_card_is_audited(client: TestClient, world: World) -> None:
    child = register(client, world)
    r = client.get(f"/api/v1/children/{child['id']}", headers=world.headers("kati"))
    assert r.status_code == 200
    card = r.json()
    assert card["child"]["id"] == child["id"]
    assert {d["status"] for d in card["schedule"]["doses"]} >= {"overdue", "upcoming"}
    with world.db.session() as s:
        events = s.execute(select(AuditEvent.username, AuditEvent.action).where(
            AuditEvent.entity_id == child["id"])).all()
    assert ("vacc_kati", "create") in events and ("kati", "read") in events
