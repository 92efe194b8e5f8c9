"""Messaging JSON API on both databases: contacts, groups, templates, broadcasts, outbox,
announcements and the WhatsApp webhook, with every refusal (401, 403, 404, 422)."""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from krc.accounts.models import AuditEvent
from krc.messaging.models import Inbound
from tests.conftest import World, child_payload

API = "/api/v1/messaging"


def new_contact(client: TestClient, world: World, user: str = "kati", **over: Any) -> Any:
    body = {"kind": "women_leader", "name": "Mariam Coulibaly", "phone": "76 11 22 33",
            "org_unit": "ML0207-C01", "language": "bam"} | over
    return client.post(f"{API}/contacts", json=body, headers=world.headers(user))


def new_group(client: TestClient, world: World, user: str = "kati", **over: Any) -> Any:
    body = {"code": "FL-ML0207", "name": "Femmes leaders de Kati", "org_unit": "ML0207"} | over
    return client.post(f"{API}/groups", json=body, headers=world.headers(user))


def test_contacts_create_replay_list_and_opt_out(client: TestClient, world: World) -> None:
    r = new_contact(client, world)
    assert r.status_code == 201, r.text
    c = r.json()
    assert c["phone"] == "+22376112233" and c["language"] == "bam" and not c["opted_out"]
    again = new_contact(client, world)
    assert again.status_code == 200 and again.headers["Idempotent-Replay"] == "true"
    assert again.json()["id"] == c["id"]
    listed = client.get(f"{API}/contacts", headers=world.headers("kati")).json()
    assert [x["id"] for x in listed] == [c["id"]]
    assert client.get(f"{API}/contacts", headers=world.headers("vacc_mopti")).json() == []
    r = client.post(f"{API}/contacts/{c['id']}/opt-out", headers=world.headers("kati"))
    assert r.status_code == 200 and r.json()["opted_out"] is True


def test_caregiver_contact_from_child_and_audited_list(client: TestClient, world: World
                                                       ) -> None:
    r = client.post("/api/v1/children", json=child_payload(), headers=world.headers("vacc_kati"))
    child_id = r.json()["id"]
    r = new_contact(client, world, "vacc_kati", kind="caregiver", name="Fatoumata Traoré",
                    phone="76 12 34 56", org_unit=None, child=child_id, language="fra",
                    consent=True)
    assert r.status_code == 201, r.text
    assert r.json()["org_unit"]["code"] == "ML0207-C01"
    r = client.get(f"{API}/contacts", params={"kind": "caregiver"},
                   headers=world.headers("kati"))
    assert r.status_code == 200 and len(r.json()) == 1
    with world.db.session(write=False) as s:
        assert s.scalar(select(AuditEvent).where(AuditEvent.entity == "msg_contact_list"))
    # A child of another district: 404 (its id reveals nothing).
    r = new_contact(client, world, "vacc_mopti", kind="caregiver", name="X", phone="76000000",
                    org_unit=None, child=child_id)
    assert r.status_code == 404


def test_contact_refusals(client: TestClient, world: World) -> None:
    assert client.post(f"{API}/contacts", json={}).status_code == 401
    assert client.get(f"{API}/contacts").status_code == 401
    assert new_contact(client, world, "partner").status_code == 403
    assert new_contact(client, world, "vacc_kati").status_code == 403  # not a manager
    r = client.get(f"{API}/contacts", params={"kind": "caregiver"},
                   headers=world.headers("partner"))
    assert r.status_code == 403
    r = new_contact(client, world, org_unit="ML0501-C01")
    assert r.status_code == 403 and r.json()["code"] == "out_of_scope"
    cases = [({"phone": "12"}, "phone_invalid"), ({"language": "deu"}, "language_unknown"),
             ({"kind": "chief"}, "kind_unknown"), ({"org_unit": "NOPE"}, "org_unit_unknown")]
    for over, code in cases:
        r = new_contact(client, world, **over)
        assert r.status_code == 422 and r.json()["code"] == code, (over, r.text)
    en = client.post(f"{API}/contacts", headers=world.headers("kati", "en"), json={
        "kind": "women_leader", "name": "A", "phone": "76112233", "language": "deu",
        "org_unit": "ML0207"})
    assert en.json()["title"].startswith("Unknown language")
    mopti = new_contact(client, world, "admin", org_unit="ML0501-C01", phone="76998877")
    r = client.post(f"{API}/contacts/{mopti.json()['id']}/opt-out",
                    headers=world.headers("kati"))
    assert r.status_code == 404
    assert client.post(f"{API}/contacts/999999/opt-out",
                       headers=world.headers("kati")).status_code == 404


def test_groups_members_and_broadcast(client: TestClient, world: World) -> None:
    g = new_group(client, world)
    assert g.status_code == 201, g.text
    gid = g.json()["id"]
    assert new_group(client, world).status_code == 200
    ids = [new_contact(client, world, phone=f"7611223{i}", name=f"Leader {i}",
                       language=lang).json()["id"]
           for i, lang in enumerate(["bam", "fra", "eng"])]
    r = client.post(f"{API}/groups/{gid}/members", json={"contacts": ids},
                    headers=world.headers("kati"))
    assert r.json() == {"queued": 3}
    r = client.post(f"{API}/groups/{gid}/members", json={"contacts": ids},
                    headers=world.headers("kati"))
    assert r.json() == {"queued": 0}
    groups = client.get(f"{API}/groups", headers=world.headers("kati")).json()
    assert groups[0]["members"] == 3
    members = client.get(f"{API}/groups/{gid}/members", headers=world.headers("kati")).json()
    assert len(members) == 3
    bid = str(uuid.uuid4())
    body = {"id": bid, "group": gid, "text": {"fra": "Réunion lundi", "bam": "Ɲɔgɔnye tɛnɛn"}}
    r = client.post(f"{API}/broadcasts", json=body, headers=world.headers("kati"))
    assert r.status_code == 201 and r.json() == {"id": bid, "members": 3, "queued": 3}
    r = client.post(f"{API}/broadcasts", json=body, headers=world.headers("kati"))
    assert r.json()["queued"] == 0  # replay
    out = client.get(f"{API}/outbox", headers=world.headers("kati")).json()
    assert sorted(m["text"] for m in out) == ["Réunion lundi", "Réunion lundi", "Ɲɔgɔnye tɛnɛn"]
    counts = client.get(f"{API}/outbox/counts", headers=world.headers("kati")).json()
    assert counts == {"queued": {"log": 3}}
    assert client.get(f"{API}/outbox/counts", headers=world.headers("vacc_mopti")).json() == {}
    assert client.get(f"{API}/outbox", headers=world.headers("vacc_mopti")).json() == []


def test_group_refusals(client: TestClient, world: World) -> None:
    gid = new_group(client, world).json()["id"]
    assert client.get(f"{API}/groups").status_code == 401
    assert new_group(client, world, "partner", code="X").status_code == 403
    assert new_group(client, world, org_unit="ML0501", code="Y").status_code == 403
    assert new_group(client, world, kind="club", code="Z").status_code == 422
    mopti = new_contact(client, world, "admin", org_unit="ML0501-C01", phone="76998877")
    r = client.post(f"{API}/groups/{gid}/members", json={"contacts": [mopti.json()["id"]]},
                    headers=world.headers("kati"))
    assert r.status_code == 422 and r.json()["code"] == "contact_not_found"
    other = new_group(client, world, "admin", code="FL-ML0501", org_unit="ML0501").json()["id"]
    for path in (f"{API}/groups/{other}/members",):
        assert client.get(path, headers=world.headers("kati")).status_code == 404
    r = client.post(f"{API}/broadcasts", json={"group": other, "text": {"fra": "x"}},
                    headers=world.headers("kati"))
    assert r.status_code == 404
    r = client.post(f"{API}/broadcasts", json={"group": gid, "text": {"bam": "x"}},
                    headers=world.headers("kati"))
    assert r.status_code == 422 and r.json()["code"] == "text_required"
    r = client.post(f"{API}/broadcasts", json={"group": gid, "text": {"fra": "x"}},
                    headers=world.headers("partner"))
    assert r.status_code == 403
    r = client.get(f"{API}/outbox", params={"status": "lost"}, headers=world.headers("kati"))
    assert r.status_code == 422
    assert client.get(f"{API}/outbox", headers=world.headers("partner")).status_code == 403


def test_templates(client: TestClient, world: World) -> None:
    rows = client.get(f"{API}/templates", headers=world.headers("kati")).json()
    assert len(rows) == 15 and {r["language"] for r in rows} == {"fra", "bam", "eng"}
    body = {"text": "Rappel : {child} le {date}", "wa_name": "rappel_vaccin",
            "wa_language": "fr", "wa_params": ["child", "date"]}
    r = client.put(f"{API}/templates/dose_reminder/fra", json=body,
                   headers=world.headers("national"))
    assert r.status_code == 200 and r.json()["text"] == body["text"]
    assert client.put(f"{API}/templates/dose_reminder/fra", json=body,
                      headers=world.headers("kati")).status_code == 403
    assert client.put(f"{API}/templates/dose_reminder/fra", json=body).status_code == 401
    bad = client.put(f"{API}/templates/dose_reminder/fra", json={"text": "{nom}"},
                     headers=world.headers("national"))
    assert bad.status_code == 422 and bad.json()["code"] == "template_invalid"
    assert client.put(f"{API}/templates/nope/fra", json=body,
                      headers=world.headers("national")).status_code == 422


def test_announcements(client: TestClient, world: World) -> None:
    gid = new_group(client, world).json()["id"]
    cid = new_contact(client, world).json()["id"]
    client.post(f"{API}/groups/{gid}/members", json={"contacts": [cid]},
                headers=world.headers("kati"))
    body = {"facility": "ML0207-C01", "date": "2026-03-20", "place_name": "Marché de Kati"}
    r = client.post(f"{API}/announcements", json=body, headers=world.headers("kati"))
    assert r.status_code == 201 and r.json() == {"queued": 1}
    assert client.post(f"{API}/announcements", json=body,
                       headers=world.headers("kati")).json() == {"queued": 0}
    (msg,) = client.get(f"{API}/outbox", headers=world.headers("kati")).json()
    assert msg["language"] == "bam" and "Marché de Kati" in msg["text"]
    cases = [({"facility": "ML0207"}, 422), ({"date": "2026-03-01"}, 422),
             ({"strategy": "door"}, 422), ({"facility": "ML0501-C01"}, 403),
             ({"facility": "NOPE"}, 404)]
    for over, status in cases:
        r = client.post(f"{API}/announcements", json=body | over, headers=world.headers("kati"))
        assert r.status_code == status, (over, r.text)
    assert client.post(f"{API}/announcements", json=body,
                       headers=world.headers("vacc_kati")).status_code == 403
    assert client.post(f"{API}/announcements", json=body).status_code == 401


def _sign(body: bytes, secret: str = "app-secret") -> str:
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_whatsapp_webhook(client: TestClient, world: World, monkeypatch: pytest.MonkeyPatch
                          ) -> None:
    monkeypatch.setenv("KRC_WHATSAPP_APP_SECRET", "app-secret")
    monkeypatch.setenv("KRC_WHATSAPP_VERIFY_TOKEN", "verify-me")
    r = client.get("/api/v1/whatsapp/webhook", params={
        "hub.mode": "subscribe", "hub.verify_token": "verify-me", "hub.challenge": "1158201444"})
    assert r.status_code == 200 and r.text == "1158201444"
    r = client.get("/api/v1/whatsapp/webhook", params={
        "hub.mode": "subscribe", "hub.verify_token": "wrong", "hub.challenge": "1"})
    assert r.status_code == 403
    payload = json.dumps({"entry": [{"changes": [{"value": {"statuses": [
        {"id": "wamid.x", "status": "delivered", "timestamp": "1773650000"}]}}]}]}).encode()
    url = "/api/v1/whatsapp/webhook"
    assert client.post(url, content=payload).status_code == 401
    assert client.post(url, content=payload,
                       headers={"X-Hub-Signature-256": _sign(payload, "nope")}).status_code == 403
    r = client.post(url, content=payload, headers={"X-Hub-Signature-256": _sign(payload)})
    assert r.status_code == 200 and r.json()["unmatched"] == 1
    junk = b"not json"
    r = client.post(url, content=junk, headers={"X-Hub-Signature-256": _sign(junk)})
    assert r.status_code == 200
    with world.db.session(write=False) as s:
        bodies = [i.body for i in s.scalars(select(Inbound).order_by(Inbound.id))]
        errors = [i.error for i in s.scalars(select(Inbound).order_by(Inbound.id))]
    assert bodies == [payload.decode(), "not json"] and errors[1]


def test_whatsapp_webhook_malformed_parts_kept_not_500(client: TestClient, world: World,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    """A signed body whose parts are not objects is kept and answered 200, never a 500."""
    monkeypatch.setenv("KRC_WHATSAPP_APP_SECRET", "app-secret")
    url = "/api/v1/whatsapp/webhook"
    bodies = [{"entry": [{"changes": [{"value": "x"}]}]},
              {"entry": [{"changes": [{"value": {"statuses": ["x", 3]}}]}]},
              {"entry": [{"changes": [{"value": {"messages": [
                  {"from": "22376000001", "text": "STOP"}]}}]}]},
              {"entry": [{"changes": [{"value": {"statuses": [
                  {"id": "wamid.y", "status": "failed", "errors": ["boom"]}]}}]}]},
              [1, 2]]
    for body in bodies:
        raw = json.dumps(body).encode()
        r = client.post(url, content=raw, headers={"X-Hub-Signature-256": _sign(raw)})
        assert r.status_code == 200, (body, r.text)
    with world.db.session(write=False) as s:
        assert len(s.scalars(select(Inbound)).all()) == len(bodies)
