"""API tests of doses: recording, refusals, early doses, corrections, deletions (both DBs)."""

from __future__ import annotations

import typing
import uuid
from typing import Any

from fastapi.testclient import TestClient
from pydantic import BaseModel
from sqlalchemy import select

from krc.accounts.models import AuditEvent
from krc.immunization import facts
from krc.immunization.models import DoseFact
from krc.immunization.schemas import ChildCard, ChildRead, VaccinationRead
from tests.conftest import World, child_payload

H = "vacc_kati"


def new_child(client: TestClient, world: World, **over: Any) -> str:
    r = client.post("/api/v1/children", json=child_payload(**over), headers=world.headers(H))
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def dose(client: TestClient, world: World, cid: str, vaccine: str, n: int, day: str,
         user: str = H, **over: Any) -> Any:
    body = {"vaccine": vaccine, "dose": n, "date": day, "facility": "ML0207-C01", **over}
    return client.post(f"/api/v1/children/{cid}/vaccinations", json=body,
                       headers=world.headers(user))


def test_record_dose_and_schedule(client: TestClient, world: World) -> None:
    cid = new_child(client, world, birth_date="2025-11-03")
    r = dose(client, world, cid, "BCG", 1, "2025-11-03", lot="B123", strategy="fixed")
    assert r.status_code == 201, r.text
    assert r.json()["valid"] is True and r.json()["lot"] == "B123"
    sched = client.get(f"/api/v1/children/{cid}/schedule", params={"on": "2025-12-20"},
                       headers=world.headers(H)).json()
    status = {(d["vaccine"], d["dose"]): d for d in sched["doses"]}
    assert status[("BCG", 1)]["status"] == "given"
    assert status[("BCG", 1)]["given_date"] == "2025-11-03"
    assert status[("PENTA", 1)]["status"] == "due"
    assert status[("PENTA", 1)]["due_date"] == "2025-12-15"
    assert status[("OPV", 0)]["status"] == "expired"
    assert status[("PENTA", 2)]["status"] == "upcoming"
    assert status[("PENTA", 2)]["due_date"] is None
    assert sched["defaulter"] is False


def test_refusals_name_the_reason(client: TestClient, world: World) -> None:
    cid = new_child(client, world, birth_date="2025-11-03")
    cases = [
        (("BCG", 1, "2025-11-01"), "date_before_birth"),
        (("BCG", 1, "2026-03-17"), "date_future"),
        (("PENTO", 1, "2025-12-20"), "vaccine_unknown"),
        (("PENTA", 4, "2025-12-20"), "dose_unknown"),
    ]
    for (v, n, d), code in cases:
        r = dose(client, world, cid, v, n, d)
        assert r.status_code == 422, (code, r.text)
        assert r.json()["code"] == code, r.json()
        assert r.json()["errors"][0]["message"]
    assert dose(client, world, cid, "BCG", 1, "2025-11-04").status_code == 201
    r = dose(client, world, cid, "BCG", 1, "2025-11-05")
    assert r.status_code == 422 and r.json()["code"] == "dose_already_recorded"
    assert "2025-11-04" in r.json()["title"]
    r = dose(client, world, cid, "BCG", 1, "2025-11-04", strategy="door")
    assert r.status_code == 422
    en = client.post(f"/api/v1/children/{cid}/vaccinations", headers=world.headers(H, "en"),
                     json={"vaccine": "PENTO", "dose": 1, "date": "2025-12-20",
                           "facility": "ML0207-C01"})
    assert en.json()["title"].startswith("Unknown vaccine: PENTO")


def test_early_dose_kept_invalid_and_slot_stays_due(client: TestClient, world: World) -> None:
    cid = new_child(client, world, birth_date="2025-11-03")
    r = dose(client, world, cid, "PENTA", 1, "2025-12-01")  # 4 weeks: before 6 weeks
    assert r.status_code == 201
    assert r.json()["valid"] is False
    assert r.json()["reason"] == "before_minimum_age"
    assert r.json()["reason_text"]
    card = client.get(f"/api/v1/children/{cid}", params={"on": "2025-12-20"},
                      headers=world.headers(H)).json()
    statuses = [(d["vaccine"], d["dose"], d["status"]) for d in card["schedule"]["doses"]]
    assert ("PENTA", 1, "due") in statuses and ("PENTA", 1, "invalid") in statuses
    with world.db.session() as s:
        assert s.scalar(select(DoseFact.doses).where(DoseFact.vaccine == "PENTA")) is None


def test_idempotent_dose_create(client: TestClient, world: World) -> None:
    cid = new_child(client, world, birth_date="2025-11-03")
    vid = str(uuid.uuid4())
    first = dose(client, world, cid, "BCG", 1, "2025-11-03", id=vid)
    again = dose(client, world, cid, "BCG", 1, "2025-11-03", id=vid)
    assert first.status_code == 201 and again.status_code == 200
    assert again.json()["id"] == vid
    listed = client.get(f"/api/v1/children/{cid}/vaccinations", headers=world.headers(H)).json()
    assert len(listed) == 1
    with world.db.session() as s:
        assert sum(s.scalars(select(DoseFact.doses).where(DoseFact.basis == 1))) == 4  # 4 levels


def test_correction_and_deletion_are_audited_and_facts_follow(client: TestClient,
                                                              world: World) -> None:
    cid = new_child(client, world, birth_date="2025-11-03")
    vid = dose(client, world, cid, "PENTA", 1, "2025-12-01").json()["id"]  # early -> invalid
    r = client.patch(f"/api/v1/vaccinations/{vid}", headers=world.headers(H),
                     json={"date": "2025-12-16", "reason": "date mal saisie"})
    assert r.status_code == 200 and r.json()["valid"] is True
    with world.db.session() as s:
        doses = {(f.org_unit_id, f.period): f.doses for f in s.scalars(
            select(DoseFact).where(DoseFact.vaccine == "PENTA", DoseFact.basis == 1))}
        assert set(p for _, p in doses) == {202512} and set(doses.values()) == {1}
    r = client.delete(f"/api/v1/vaccinations/{vid}", headers=world.headers(H))
    assert r.status_code == 422  # the reason is required
    r = client.delete(f"/api/v1/vaccinations/{vid}", params={"reason": "doublon"},
                      headers=world.headers(H))
    assert r.status_code == 200 and r.json()["deleted"] is True
    with world.db.session() as s:
        assert sum(s.scalars(select(DoseFact.doses).where(DoseFact.vaccine == "PENTA"))) == 0
        actions = s.execute(select(AuditEvent.action, AuditEvent.detail).where(
            AuditEvent.entity == "vaccination", AuditEvent.entity_id == vid)
            .order_by(AuditEvent.id)).all()
    assert [a for a, _ in actions] == ["create", "update", "delete"]
    assert actions[1][1]["before"]["date"] == "2025-12-01"
    assert actions[1][1]["reason"] == "date mal saisie"
    listed = client.get(f"/api/v1/children/{cid}/vaccinations", headers=world.headers(H)).json()
    assert listed[0]["deleted"] is True
    # A deleted dose can be recorded again.
    assert dose(client, world, cid, "PENTA", 1, "2025-12-16").status_code == 201


def test_incremental_facts_equal_a_full_rebuild(client: TestClient, world: World) -> None:
    a = new_child(client, world, birth_date="2025-06-01")
    b = new_child(client, world, given_name="Seydou", sex="M", birth_date="2025-07-20",
                  caregiver_phone="70 00 00 01", village="ML0207-C01-V02")
    for cid, day in ((a, "2025-07-14"), (b, "2025-09-01")):
        for v in ("OPV", "PENTA", "PCV", "ROTA"):
            assert dose(client, world, cid, v, 1, day).status_code == 201
    dose(client, world, a, "PENTA", 2, "2025-08-20", facility="ML0207-C02")
    vid = dose(client, world, b, "BCG", 1, "2025-07-21").json()["id"]
    client.patch(f"/api/v1/vaccinations/{vid}", headers=world.headers(H),
                 json={"facility": "ML0207-C02", "reason": "lieu"})
    with world.db.session() as s:
        before = sorted((f.org_unit_id, f.period, f.vaccine, f.dose, f.basis, f.doses, f.timely)
                        for f in s.scalars(select(DoseFact)) if f.doses)
        facts.rebuild(s, 28)
    with world.db.session() as s:
        after = sorted((f.org_unit_id, f.period, f.vaccine, f.dose, f.basis, f.doses, f.timely)
                       for f in s.scalars(select(DoseFact)))
    assert before == after


def test_merge_keeps_both_histories(client: TestClient, world: World) -> None:
    keep = new_child(client, world, birth_date="2025-06-01")
    drop = client.post("/api/v1/children", headers=world.headers(H), json=child_payload(
        family_name="Traore", birth_date="2025-06-03", confirm_new=True)).json()["id"]
    dose(client, world, keep, "BCG", 1, "2025-06-01")
    assert dose(client, world, drop, "BCG", 1, "2025-06-04").status_code == 201
    assert dose(client, world, drop, "OPV", 1, "2025-07-16").status_code == 201
    r = client.post(f"/api/v1/children/{keep}/merge", json={"duplicate": drop},
                    headers=world.headers("vacc_kati"))
    assert r.status_code == 403  # vaccinators may not merge
    r = client.post(f"/api/v1/children/{keep}/merge", json={"duplicate": drop},
                    headers=world.headers("kati"))
    assert r.status_code == 200, r.text
    listed = client.get(f"/api/v1/children/{keep}/vaccinations", headers=world.headers(H)).json()
    assert len(listed) == 3
    assert sum(1 for v in listed if v["deleted"]) == 1  # the repeated BCG, kept as deleted
    merged = client.get(f"/api/v1/children/{drop}", headers=world.headers(H)).json()
    assert merged["child"]["merged_into"] == keep
    names = client.get("/api/v1/children", params={"q": "Awa"}, headers=world.headers(H)).json()
    assert [c["id"] for c in names] == [keep]
    r = dose(client, world, drop, "PCV", 1, "2025-07-14")
    assert r.status_code == 409 and r.json()["code"] == "child_merged"
    with world.db.session() as s:
        bcg = sum(s.scalars(select(DoseFact.doses).where(DoseFact.vaccine == "BCG",
                                                         DoseFact.basis == 1)))
    assert bcg == 4  # one BCG counted at country, region, district and facility


def _fields_of(model: type[BaseModel], value: Any, where: str) -> None:
    """Assert that a JSON value has exactly the fields of a model, recursively."""
    assert isinstance(value, dict), where
    assert set(value) == set(model.model_fields), (where, set(value) ^ set(model.model_fields))
    for name, info in model.model_fields.items():
        inner = [a for a in typing.get_args(info.annotation) or (info.annotation,)
                 if isinstance(a, type) and issubclass(a, BaseModel)]
        listed = typing.get_origin(info.annotation) is list
        if listed:
            inner = [typing.get_args(info.annotation)[0]]
        if inner and value[name] is not None:
            for i, item in enumerate(value[name] if listed else [value[name]]):
                _fields_of(inner[0], item, f"{where}.{name}[{i}]")


def test_hot_calls_answer_exactly_their_declared_models(client: TestClient,
                                                        world: World) -> None:
    """The card, registration and dose build their JSON without pydantic's response
    validation (web/responses.py): each answer, replays included, still validates against
    its response_model and carries exactly its fields, and the OpenAPI names those models."""
    h = world.headers("vacc_kati")
    cid = str(uuid.uuid4())
    for expected in (201, 200):
        r = client.post("/api/v1/children", json=child_payload(id=cid), headers=h)
        assert r.status_code == expected, r.text
        assert r.headers["location"] == f"/api/v1/children/{cid}"
        assert (r.headers.get("idempotent-replay") == "true") == (expected == 200)
        ChildRead.model_validate(r.json())
        _fields_of(ChildRead, r.json(), "child")
    assert r.json()["registry_display"].replace("-", "") == r.json()["registry_number"]
    vid = str(uuid.uuid4())
    for expected in (201, 200):
        r = client.post(f"/api/v1/children/{cid}/vaccinations", headers=h,
                        json={"id": vid, "vaccine": "BCG", "dose": 1, "date": "2025-09-02",
                              "facility": "ML0207-C01"})
        assert r.status_code == expected, r.text
        VaccinationRead.model_validate(r.json())
        _fields_of(VaccinationRead, r.json(), "vaccination")
    card = client.get(f"/api/v1/children/{cid}", headers=h)
    assert card.status_code == 200 and card.headers["content-type"] == "application/json"
    ChildCard.model_validate(card.json())
    _fields_of(ChildCard, card.json(), "card")
    assert card.json()["vaccinations"][0]["id"] == vid
    spec = client.get("/openapi.json").json()["paths"]
    for path, method, code, model in (("/api/v1/children", "post", "201", "ChildRead"),
                                      ("/api/v1/children/{child_id}", "get", "200", "ChildCard"),
                                      ("/api/v1/children/{child_id}/vaccinations", "post",
                                       "201", "VaccinationRead")):
        schema = spec[path][method]["responses"][code]["content"]["application/json"]["schema"]
        assert schema["$ref"].endswith("/" + model), (path, schema)
