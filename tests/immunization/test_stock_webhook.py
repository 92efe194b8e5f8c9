"""RapidPro stock webhook (interop.md §2, immunization.md §4): both payload shapes,
all-or-nothing, raw messages kept, idempotent replays also under concurrency (both DBs)."""

from __future__ import annotations

import json
import threading
import uuid
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from krc.accounts import services as accounts
from krc.accounts.models import User
from krc.accounts.queries import actor_for
from krc.immunization.stock import services
from krc.immunization.stock.models import StockMessage, StockTransaction
from krc.immunization.stock.schemas import ReporterCreate
from tests.conftest import PASSWORD, TODAY, World

PHONE = "+22376123456"
URL = "/api/v1/rapidpro/webhook"


def full(text: str, phone: str = PHONE, input_uuid: str | None = None,
         run_uuid: str | None = None) -> dict[str, Any]:
    """The full/legacy RapidPro webhook body (also resthooks)."""
    node = str(uuid.uuid4())
    return {
        "contact": {"uuid": str(uuid.uuid4()), "name": "Moussa", "urn": f"tel:{phone}"},
        "flow": {"uuid": "f0000000-0000-4000-8000-000000000001", "name": "Stock"},
        "path": [{"node_uuid": node, "arrived_on": "2026-03-16T08:00:00Z",
                  "exit_uuid": str(uuid.uuid4())}],
        "results": {"report": {"name": "report", "value": text, "category": "Has Text",
                               "node_uuid": node, "input": text,
                               "created_on": "2026-03-16T08:00:01Z"}},
        "run": {"uuid": run_uuid or str(uuid.uuid4()), "created_on": "2026-03-16T08:00:00Z"},
        "input": {"uuid": input_uuid or str(uuid.uuid4()), "type": "msg", "text": text,
                  "attachments": [], "channel": {"uuid": str(uuid.uuid4()), "name": "Orange"},
                  "created_on": "2026-03-16T08:00:00Z",
                  "urn": {"scheme": "tel", "path": phone, "display": ""}},
        "channel": {"uuid": str(uuid.uuid4()), "name": "Orange"},
    }


def default(text: str, phone: str = PHONE) -> dict[str, Any]:
    """The default RapidPro webhook body (contact, flow, results)."""
    return {"contact": {"uuid": "c0000000-0000-4000-8000-000000000009", "name": "Moussa",
                        "urn": f"tel:{phone}"},
            "flow": {"uuid": "f0000000-0000-4000-8000-000000000001", "name": "Stock"},
            "results": {"report": {"value": text, "category": "Has Text"}}}


def integration(world: World, username: str = "rapidpro", org_unit: str = "ML") -> str:
    with world.db.session() as s:
        user = accounts.create_user(s, username, PASSWORD, "integration", org_unit)
        return accounts.create_token(s, user, "rapidpro")


def reporter(world: World, phone: str = PHONE, facility: str = "ML0207-C01",
             language: str = "fra") -> int:
    kati = world.actor("kati")
    with world.db.session() as s:
        return services.add_reporter(s, kati, ReporterCreate(
            phone=phone, facility=facility, name="Moussa Keïta", language=language)).id


def post(client: TestClient, token: str, body: Any, scheme: str = "Token") -> Any:
    raw = body if isinstance(body, bytes) else json.dumps(body).encode()
    return client.post(URL, content=raw, headers={"Authorization": f"{scheme} {token}",
                                                  "Content-Type": "application/json"})


def counts(world: World) -> tuple[int, int]:
    with world.db.session() as s:
        return (s.scalar(select(func.count()).select_from(StockMessage)) or 0,
                s.scalar(select(func.count()).select_from(StockTransaction)) or 0)


def balance(client: TestClient, world: World, product: str) -> int | None:
    lines = client.get("/api/v1/stock", params={"facility": "ML0207-C01"},
                       headers=world.headers("kati")).json()
    return next((ln["balance"] for ln in lines if ln["vaccine"] == product), None)


def test_both_shapes_apply_and_answer(client: TestClient, world: World) -> None:
    token = integration(world)
    reporter(world)
    r = post(client, token, full("STK BCG 20 PENTA 30"))
    assert r.status_code == 200, r.text
    assert r.json() == {"status": "ok", "reply": "Enregistré pour CSCom Kati Central : "
                        "stock compté : BCG 20, PENTA 30. Merci."}
    r = post(client, token, default("rec penta=100, bcg:20"))
    assert r.json()["status"] == "ok" and "réception : PENTA 100, BCG 20" in r.json()["reply"]
    r = post(client, token, full("UTL PENTA 12"), scheme="Bearer")
    assert r.json()["status"] == "ok"
    r = post(client, token, full("PRT GEL PENTA 8"))
    assert r.json()["status"] == "ok"
    assert balance(client, world, "PENTA") == 30 + 100 - 12 - 8
    assert balance(client, world, "BCG") == 40
    r = post(client, token, full("STK PENTA 105"))                 # count: book 110
    assert r.json()["status"] == "ok"
    assert balance(client, world, "PENTA") == 105
    with world.db.session() as s:
        count = s.scalars(select(StockTransaction).order_by(StockTransaction.pk.desc())).first()
        assert count is not None and (count.book_balance, count.discrepancy) == (110, -5)
    with world.db.session() as s:
        txns = s.scalars(select(StockTransaction).order_by(StockTransaction.pk)).all()
        assert [(t.product, t.kind, t.quantity, t.source) for t in txns][:2] == [
            ("BCG", "count", 20, "sms"), ("PENTA", "count", 30, "sms")]
        assert txns[-2].reason == "frozen" and txns[-2].occurred_on == TODAY
        assert all(t.message_pk is not None for t in txns)
        msgs = s.scalars(select(StockMessage).order_by(StockMessage.pk)).all()
        assert [m.status for m in msgs] == ["ok"] * 5
        assert msgs[0].key.startswith("input:") and msgs[1].key.startswith("body:")
        assert json.loads(msgs[0].payload)["input"]["text"] == "STK BCG 20 PENTA 30"


def test_replays_return_the_same_answer_and_apply_nothing(client: TestClient,
                                                          world: World) -> None:
    token = integration(world)
    reporter(world)
    for body in (full("REC PENTA 50"), default("REC PENTA 50")):
        first = post(client, token, body)
        again = post(client, token, body)
        assert again.json() == first.json()
        assert again.headers.get("Idempotent-Replay") == "true"
        assert "Idempotent-Replay" not in first.headers
    # run.uuid + node identifies a call without an input (e.g. a resthook)
    body = full("REC PENTA 5")
    body["input"] = None
    assert post(client, token, body).json()["status"] == "ok"
    assert post(client, token, body).headers.get("Idempotent-Replay") == "true"
    assert balance(client, world, "PENTA") == 105
    assert counts(world) == (3, 3)


def test_errors_record_nothing_but_keep_the_message(client: TestClient, world: World) -> None:
    token = integration(world)
    reporter(world)
    cases = [
        ("STK BCG 20 PENTO 30", "code inconnu : PENTO ; codes valides : BCG, OPV"),
        ("STK BCG 20 BCG 30", "code en double : BCG"),
        ("STK BCG -3", "quantité invalide pour BCG : -3"),
        ("BONJOUR", "mot-clé inconnu : BONJOUR"),
        ("", "Message vide"),
    ]
    for text, reply in cases:
        r = post(client, token, full(text))
        assert r.status_code == 200
        assert r.json()["status"] == "error" and reply in r.json()["reply"], r.json()
    r = post(client, token, full("STK BCG 20", phone="+22366000001"))
    assert r.json()["status"] == "error" and "Numéro non enregistré" in r.json()["reply"]
    body = full("STK BCG 20")
    body["input"] = None
    body["contact"].pop("urn")
    r = post(client, token, body)
    assert r.json()["status"] == "error"
    r = post(client, token, b"{not json")
    assert r.status_code == 200 and r.json()["status"] == "error"
    assert counts(world) == (8, 0)
    with world.db.session() as s:
        codes = [m.error_code for m in s.scalars(select(StockMessage).order_by(StockMessage.pk))]
        assert codes == ["sms_code_unknown", "sms_code_duplicate", "sms_quantity_invalid",
                         "sms_keyword_unknown", "sms_empty", "phone_unknown", "phone_missing",
                         "phone_missing"]
        raw = s.scalar(select(StockMessage.payload).where(StockMessage.pk == s.scalar(
            select(func.max(StockMessage.pk)))))
        assert raw == "{not json"


def test_reply_in_the_reporters_language(client: TestClient, world: World) -> None:
    token = integration(world)
    reporter(world, language="eng")
    reporter(world, phone="+22366112233", language="bam")
    r = post(client, token, full("STK PENTO 3"))
    assert r.json()["reply"].startswith("unknown code: PENTO; valid codes: BCG")
    r = post(client, token, full("STK BCG 3"))
    assert r.json()["reply"] == "Recorded for CSCom Kati Central: stock count: BCG 3. Thank you."
    r = post(client, token, full("STK PENTO 3", phone="+22366112233"))
    assert r.json()["reply"].startswith("code inconnu : PENTO")


def test_authentication_role_and_scope(client: TestClient, world: World) -> None:
    token = integration(world)
    mopti_token = integration(world, "rapidpro_mopti", "ML0501")
    rid = reporter(world)
    assert client.post(URL, json=full("STK BCG 1")).status_code == 401
    assert post(client, "wrong", full("STK BCG 1")).status_code == 401
    assert post(client, "", full("STK BCG 1")).status_code == 401
    r = client.post(URL, json=full("STK BCG 1"), headers={"Authorization": f"Basic {token}"})
    assert r.status_code == 401
    r = post(client, world.tokens["vacc_kati"], full("STK BCG 1"))
    assert r.status_code == 403
    assert post(client, world.tokens["admin"], full("STK BCG 1")).json()["status"] == "ok"
    r = post(client, mopti_token, full("STK BCG 2"))
    assert r.json() == {"status": "error",
                        "reply": "CSCom Kati Central est hors de la zone de cette intégration"}
    # a deactivated reporter is refused
    kati = world.actor("kati")
    from krc.immunization.stock.schemas import ReporterUpdate
    with world.db.session() as s:
        services.update_reporter(s, kati, rid, ReporterUpdate(active=False))
    r = post(client, token, full("STK BCG 3"))
    assert r.json()["status"] == "error" and "plus rapporteur actif" in r.json()["reply"]
    assert balance(client, world, "BCG") == 1
    # integration accounts read nothing
    r = client.get("/api/v1/stock", params={"facility": "ML0207-C01"},
                   headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 403


def test_failed_call_is_kept_and_reprocessed_on_retry(client: TestClient, world: World) -> None:
    token = integration(world)
    reporter(world)
    body = json.dumps(full("REC PENTA 7")).encode()
    with world.db.session() as s:
        user = s.scalar(select(User).where(User.username == "rapidpro"))
        assert user is not None
        actor = actor_for(s, user)
        services.record_failure(s, actor, body, TODAY, "RuntimeError('boom')")
    assert counts(world) == (1, 0)
    r = post(client, token, body)
    assert r.json()["status"] == "ok" and "Idempotent-Replay" not in r.headers
    assert counts(world) == (1, 1)
    assert post(client, token, body).headers.get("Idempotent-Replay") == "true"
    assert counts(world) == (1, 1)


@pytest.mark.parametrize("same", [True, False])
def test_concurrent_retries_apply_once(world: World, same: bool) -> None:
    integration(world)
    reporter(world)
    with world.db.session() as s:
        user = s.scalar(select(User).where(User.username == "rapidpro"))
        assert user is not None
        actor = actor_for(s, user)
    bodies = [json.dumps(full(f"REC PENTA {i + 1}", input_uuid=str(uuid.uuid4()))).encode()
              for i in range(8)]
    if same:
        bodies = [bodies[0]] * 8
    answers: list[services.Answer] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(bodies))

    def call(raw: bytes) -> None:
        try:
            barrier.wait()
            with world.db.session() as s:
                answers.append(services.receive_report(s, actor, raw, date(2026, 3, 16)))
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=call, args=(b,)) for b in bodies]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len(answers) == 8 and {a.status for a in answers} == {"ok"}
    n_msgs, n_txns = counts(world)
    if same:
        assert (n_msgs, n_txns) == (1, 1)
        assert sum(not a.replay for a in answers) == 1
        assert len({a.reply for a in answers}) == 1
    else:
        assert (n_msgs, n_txns) == (8, 8)
        with world.db.session() as s:
            from krc.immunization.stock.models import StockBalance
            assert s.scalar(select(StockBalance.balance)) == sum(range(1, 9))


def test_whatsapp_urn_and_refused_report_resent_after_registration(client: TestClient,
                                                                   world: World) -> None:
    """A `whatsapp:` URN names the sender; a default-shape report refused because the phone
    was unknown is applied (once) when resent the same day after the district registers it."""
    token = integration(world)
    body = default("REC PENTA 40")
    body["contact"]["urn"] = "whatsapp:" + PHONE.lstrip("+")
    r = post(client, token, body)
    assert r.json()["status"] == "error" and "Numéro non enregistré : +22376123456" in \
        r.json()["reply"]
    assert post(client, token, body).headers.get("Idempotent-Replay") == "true"
    reporter(world)
    r = post(client, token, body)
    assert r.json()["status"] == "ok", r.json()
    assert "Idempotent-Replay" not in r.headers
    again = post(client, token, body)
    assert again.json() == r.json() and again.headers.get("Idempotent-Replay") == "true"
    assert balance(client, world, "PENTA") == 40
    assert counts(world) == (1, 1)
