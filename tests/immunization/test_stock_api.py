"""API tests of stock: transactions, lines, status table, stock card, completeness,
reporters, with refusals (both databases)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from krc.accounts.models import AuditEvent
from krc.immunization.stock import queries, services
from krc.immunization.stock.models import StockBalance, StockTransaction
from tests.conftest import World

H = "vacc_kati"
FAC = "ML0207-C01"


def txn(client: TestClient, world: World, kind: str, qty: int, day: str, product: str = "PENTA",
        user: str = H, facility: str = FAC, **over: Any) -> Any:
    body = {"facility": facility, "product": product, "kind": kind, "quantity": qty,
            "date": day, **over}
    return client.post("/api/v1/stock/transactions", json=body, headers=world.headers(user))


def ok(r: Any) -> dict[str, Any]:
    assert r.status_code in (200, 201), r.text
    out: dict[str, Any] = r.json()
    return out


def history(client: TestClient, world: World) -> None:
    """PENTA at Kati Central: count 100 on 1 Dec, monthly receipts and use; AMC 120."""
    ok(txn(client, world, "count", 100, "2025-12-01"))
    ok(txn(client, world, "receipt", 200, "2025-12-02"))
    ok(txn(client, world, "consumption", 90, "2025-12-28"))      # 210
    ok(txn(client, world, "receipt", 100, "2026-01-04"))         # 310
    ok(txn(client, world, "consumption", 120, "2026-01-30"))     # 190
    ok(txn(client, world, "loss", 10, "2026-02-02", reason="frozen"))  # 180
    ok(txn(client, world, "consumption", 150, "2026-02-27"))     # 30


def test_record_and_read_lines(client: TestClient, world: World) -> None:
    history(client, world)
    r = client.get("/api/v1/stock", params={"facility": FAC}, headers=world.headers(H))
    assert r.status_code == 200, r.text
    lines = r.json()
    assert [ln["vaccine"] for ln in lines] == ["PENTA"]
    line = lines[0]
    assert line["balance"] == 30 and line["amc"] == 120.0
    assert line["months_of_stock"] == 0.25 and line["status"] == "below_reorder"
    assert (line["min"], line["max"], line["reorder"]) == (30.0, 150.0, 90.0)
    assert line["last_count_on"] == "2025-12-01"
    # a physical count sets the balance and records book balance and discrepancy
    c = ok(txn(client, world, "count", 25, "2026-03-02"))
    assert (c["book_balance"], c["discrepancy"]) == (30, -5)
    ok(txn(client, world, "receipt", 200, "2026-03-03"))
    line = client.get("/api/v1/stock", params={"facility": FAC},
                      headers=world.headers(H)).json()[0]
    assert line["balance"] == 225 and line["status"] == "above_max"
    # the status of an earlier day comes from the ledger
    back = client.get("/api/v1/stock", params={"facility": FAC, "on": "2026-01-31"},
                      headers=world.headers(H)).json()[0]
    assert back["balance"] == 190 and back["amc"] == 90.0
    with world.db.session() as s:
        n = s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.entity == "stock_transaction"))
        assert n == 9


def test_replay_is_idempotent(client: TestClient, world: World) -> None:
    tid = str(uuid.uuid4())
    first = txn(client, world, "receipt", 50, "2026-03-01", id=tid)
    assert first.status_code == 201
    again = txn(client, world, "receipt", 50, "2026-03-01", id=tid)
    assert again.status_code == 200 and again.headers["Idempotent-Replay"] == "true"
    assert again.json()["id"] == tid
    line = client.get("/api/v1/stock", params={"facility": FAC},
                      headers=world.headers(H)).json()[0]
    assert line["balance"] == 50
    # the same id from another district's user is refused, not revealed
    other = txn(client, world, "receipt", 50, "2026-03-01", id=tid, user="vacc_mopti",
                facility="ML0501-C01")
    assert other.status_code == 422 and other.json()["code"] == "id_taken"


def test_backdated_transactions_keep_the_balance_exact(client: TestClient, world: World) -> None:
    ok(txn(client, world, "count", 100, "2026-03-01"))
    ok(txn(client, world, "consumption", 20, "2026-03-10"))          # 80
    ok(txn(client, world, "receipt", 500, "2026-02-15"))             # before the count: no effect
    ok(txn(client, world, "consumption", 5, "2026-03-05"))           # 75
    c = ok(txn(client, world, "count", 60, "2026-03-08"))            # backdated count
    assert (c["book_balance"], c["discrepancy"]) == (95, -35)
    line = client.get("/api/v1/stock", params={"facility": FAC},
                      headers=world.headers(H)).json()[0]
    assert line["balance"] == 40                                     # 60 − 20
    with world.db.session() as s:
        row = s.scalar(select(StockBalance))
        assert row is not None and row.last_count_on == date(2026, 3, 8)


def test_refusals(client: TestClient, world: World) -> None:
    body = {"facility": FAC, "product": "PENTA", "kind": "receipt", "quantity": 5,
            "date": "2026-03-01"}
    assert client.post("/api/v1/stock/transactions", json=body).status_code == 401
    assert client.get("/api/v1/stock", params={"facility": FAC}).status_code == 401
    r = txn(client, world, "receipt", 5, "2026-03-01", user="partner")
    assert r.status_code == 403 and r.json()["code"] == "role_forbidden"
    assert "Votre rôle (Partenaire, lecture seule)" in r.json()["title"]  # its label
    en = client.post("/api/v1/stock/transactions", json=body,
                     headers=world.headers("partner", "en"))
    assert "Your role (Read-only partner)" in en.json()["title"]
    r = txn(client, world, "receipt", 5, "2026-03-01", user="vacc_mopti")
    assert r.status_code == 404
    r = client.get("/api/v1/stock", params={"facility": FAC}, headers=world.headers("vacc_mopti"))
    assert r.status_code == 403
    r = client.get("/api/v1/stock", params={"facility": "NOPE"}, headers=world.headers(H))
    assert r.status_code == 404
    r = client.get("/api/v1/stock", params={"facility": "ML0207"}, headers=world.headers("kati"))
    assert r.status_code == 422 and r.json()["code"] == "org_unit_wrong_level"
    cases = [
        ({"product": "PENTO"}, "product_unknown"),
        ({"kind": "gift"}, "kind_unknown"),
        ({"date": "2026-03-17"}, "date_future"),
        ({"kind": "loss", "reason": "stolen"}, "reason_unknown"),
        ({"reason": "expired"}, "reason_not_loss"),
    ]
    for over, code in cases:
        r = client.post("/api/v1/stock/transactions", json={**body, **over},
                        headers=world.headers(H))
        assert r.status_code == 422, (over, r.text)
        assert r.json()["code"] == code, r.json()
    r = client.post("/api/v1/stock/transactions", json={**body, "facility": "ML0207"},
                    headers=world.headers("kati"))
    assert r.status_code == 422 and r.json()["code"] == "org_unit_wrong_level"
    r = client.post("/api/v1/stock/transactions", json={**body, "facility": "ML0207"},
                    headers=world.headers(H))
    assert r.status_code == 404  # above the vaccinator's facility: outside the scope
    r = client.post("/api/v1/stock/transactions", json={**body, "quantity": -1},
                    headers=world.headers(H))
    assert r.status_code == 422
    en = client.post("/api/v1/stock/transactions", json={**body, "product": "PENTO"},
                     headers=world.headers(H, "en"))
    assert en.json()["title"].startswith("Unknown product: PENTO; valid codes: BCG")
    with world.db.session() as s:
        assert s.scalar(select(func.count()).select_from(StockTransaction)) == 0


def test_an_outflow_beyond_the_balance_is_refused(client: TestClient, world: World) -> None:
    history(client, world)  # PENTA: 30 doses left on 27 Feb
    r = txn(client, world, "consumption", 31, "2026-03-01")
    assert r.status_code == 422 and r.json()["code"] == "stock_insufficient", r.text
    assert r.json()["errors"][0]["field"] == "quantity"
    assert "il manque 1 dose(s)" in r.json()["title"]
    en = client.post("/api/v1/stock/transactions", json={
        "facility": FAC, "product": "PENTA", "kind": "issue", "quantity": 40,
        "date": "2026-03-01"}, headers=world.headers(H, "en"))
    assert en.status_code == 422 and en.json()["title"].startswith(
        "Not enough PENTA at CSCom Kati Central on 2026-03-01: 10 dose(s) short")
    # A backdated use that every later day could bear on its own day, but not after the
    # uses recorded since: 190 on 30 Jan, only 30 left on 27 Feb.
    r = txn(client, world, "loss", 40, "2026-01-31", reason="broken")
    assert r.status_code == 422 and "il manque 10 dose(s)" in r.json()["title"]
    # What fits is recorded; a later count resets the line, so a backdated use before
    # it is judged up to the count only.
    ok(txn(client, world, "consumption", 30, "2026-03-01"))
    assert txn(client, world, "consumption", 1, "2026-03-02").status_code == 422
    ok(txn(client, world, "count", 500, "2026-03-05"))
    ok(txn(client, world, "consumption", 100, "2026-03-06"))
    r = txn(client, world, "consumption", 0, "2026-03-06")
    assert r.status_code == 422 and r.json()["code"] == "quantity_zero"
    ok(txn(client, world, "count", 0, "2026-03-07"))  # a count of zero is a stock-out
    lines = client.get("/api/v1/stock", params={"facility": FAC},
                       headers=world.headers(H)).json()
    assert [(ln["vaccine"], ln["balance"]) for ln in lines] == [("PENTA", 0)]


def test_status_table_alerts_and_scope(client: TestClient, world: World) -> None:
    history(client, world)
    ok(txn(client, world, "receipt", 10, "2026-03-01", product="BCG"))
    ok(txn(client, world, "consumption", 10, "2026-03-02", product="BCG"))   # stock-out
    r = client.get("/api/v1/stock/status", params={"org_unit": "ML0207"},
                   headers=world.headers("kati"))
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["report_period"] == "202602"
    by_code = {f["code"]: f for f in out["facilities"]}
    assert set(by_code) == {"ML0207-C01", "ML0207-C02"}
    c01 = by_code["ML0207-C01"]
    assert {ln["vaccine"]: ln["status"] for ln in c01["lines"]} == {
        "BCG": "stock_out", "PENTA": "below_reorder"}
    assert c01["report_missing"] is False                # February reported
    assert by_code["ML0207-C02"]["report_missing"] is True
    assert out["summary"] == {"stock_out": 1, "below_reorder": 1, "above_max": 0, "ok": 0,
                              "report_missing": 1}
    for user in ("national", "partner", "admin"):
        r = client.get("/api/v1/stock/status", params={"org_unit": "ML0207"},
                       headers=world.headers(user))
        assert r.status_code == 200
    r = client.get("/api/v1/stock/status", params={"org_unit": "ML0207"},
                   headers=world.headers("vacc_mopti"))
    assert r.status_code == 403
    own = client.get("/api/v1/stock/status", headers=world.headers("vacc_mopti")).json()
    assert [f["code"] for f in own["facilities"]] == ["ML0501-C01"]
    assert own["facilities"][0]["lines"] == []
    r = client.get("/api/v1/stock/status", params={"org_unit": "ML0207", "on": "x"},
                   headers=world.headers("kati"))
    assert r.status_code == 422


def test_stock_card(client: TestClient, world: World) -> None:
    history(client, world)
    ok(txn(client, world, "consumption", 30, "2026-03-01"))      # 0: stock-out from 1 March
    ok(txn(client, world, "count", 2, "2026-03-05"))             # +2 found
    r = client.get("/api/v1/stock/card", params={"facility": FAC, "product": "penta",
                                                 "start": "2026-02-01", "end": "2026-03-10"},
                   headers=world.headers(H))
    assert r.status_code == 200, r.text
    card = r.json()
    assert card["opening_balance"] == 190 and card["closing_balance"] == 2
    assert (card["received"], card["used"], card["lost"]) == (0, 180, 10)
    assert card["stockout_days"] == 4                            # 1-4 March
    assert [t["kind"] for t in card["transactions"]] == ["loss", "consumption", "consumption",
                                                         "count"]
    assert card["transactions"][0]["reason"] == "frozen"
    count = card["transactions"][-1]
    assert (count["book_before"], count["discrepancy"], count["discrepancy_rate"]) == (0, 2,
                                                                                       100.0)
    assert card["administered"] == 0 and card["wastage_rate"] == 100.0
    r = client.get("/api/v1/stock/card", params={"facility": FAC, "product": "PENTO"},
                   headers=world.headers(H))
    assert r.status_code == 422
    r = client.get("/api/v1/stock/card", params={"facility": FAC, "product": "PENTA"},
                   headers=world.headers("vacc_mopti"))
    assert r.status_code == 403


def test_card_wastage_uses_doses_given(client: TestClient, world: World) -> None:
    from tests.conftest import child_payload
    cid = client.post("/api/v1/children", json=child_payload(birth_date="2025-12-01"),
                      headers=world.headers(H)).json()["id"]
    for vaccine in ("PENTA", "OPV"):
        r = client.post(f"/api/v1/children/{cid}/vaccinations", headers=world.headers(H),
                        json={"vaccine": vaccine, "dose": 1, "date": "2026-01-20",
                              "facility": FAC})
        assert r.status_code == 201, r.text
    ok(txn(client, world, "receipt", 20, "2026-01-02"))
    ok(txn(client, world, "consumption", 10, "2026-01-20"))
    card = client.get("/api/v1/stock/card", params={"facility": FAC, "product": "PENTA",
                                                    "start": "2026-01-01", "end": "2026-01-31"},
                      headers=world.headers(H)).json()
    assert card["administered"] == 1
    assert (card["usage_rate"], card["wastage_rate"], card["wastage_factor"]) == (10.0, 90.0,
                                                                                  10.0)
    assert card["wastage_ok"] is False and card["acceptable_wastage"] == 15.0


def test_completeness_and_late_facilities(client: TestClient, world: World) -> None:
    from krc.immunization.stock.schemas import TransactionCreate
    vacc = world.actor(H)
    with world.db.session() as s:                                # C01: February, on 3 March
        services.record_transaction(s, vacc, TransactionCreate(
            facility=FAC, product="PENTA", kind="count", quantity=10,
            date=date(2026, 2, 27)), date(2026, 3, 3))
    # Mopti's February report arrives today, 16 March: late
    ok(txn(client, world, "count", 10, "2026-02-10", facility="ML0501-C01", user="vacc_mopti"))
    r = client.get("/api/v1/stock/completeness", params={"period": "202602"},
                   headers=world.headers("national"))
    assert r.status_code == 200, r.text
    out = r.json()
    assert (out["expected"], out["reported"], out["on_time"]) == (3, 2, 1)
    assert out["completeness"] == 66.7 and out["timeliness"] == 33.3
    assert out["due_date"] == "2026-03-05"
    status = {f["code"]: f["status"] for f in out["facilities"]}
    assert status == {"ML0207-C01": "on_time", "ML0207-C02": "missing", "ML0501-C01": "late"}
    districts = {d["code"]: d for d in out["districts"]}
    assert districts["ML0207"]["completeness"] == 50.0
    assert districts["ML0501"]["timeliness"] == 0.0
    kati = client.get("/api/v1/stock/completeness", params={"period": "202602"},
                      headers=world.headers("kati")).json()
    assert [f["code"] for f in kati["facilities"]] == ["ML0207-C02", "ML0207-C01"]  # by name
    march = client.get("/api/v1/stock/completeness", params={"period": "202603"},
                       headers=world.headers("kati")).json()
    assert {f["status"] for f in march["facilities"]} == {"pending"}
    for bad in ("2026-02", "202613", "x"):
        r = client.get("/api/v1/stock/completeness", params={"period": bad},
                       headers=world.headers("kati"))
        assert r.status_code == 422
    r = client.get("/api/v1/stock/completeness", params={"period": "202602",
                                                          "org_unit": "ML0501"},
                   headers=world.headers("kati"))
    assert r.status_code == 403
    ok(client.post("/api/v1/stock/reporters", headers=world.headers("kati"), json={
        "phone": "76 12 34 56", "facility": "ML0207-C02", "name": "Awa Diarra",
        "language": "bam"}))
    with world.db.session() as s:
        late = queries.late_facilities(s, "202602", date(2026, 3, 6))
        assert [f.facility_code for f in late] == ["ML0207-C02"]
        assert late[0].reporters == [("Awa Diarra", "+22376123456", "bam")]
        assert late[0].district_id == _fid(s, "ML0207")
        assert queries.late_facilities(s, "202602", date(2026, 3, 5)) == []


def _fid(s: Any, code: str) -> int:
    from krc.geo.queries import unit_by_code
    return unit_by_code(s, code).id


def test_reporters_crud(client: TestClient, world: World) -> None:
    body = {"phone": "+223 76 12 34 56", "facility": FAC, "name": "Moussa Keïta",
            "language": "fra"}
    r = client.post("/api/v1/stock/reporters", json=body, headers=world.headers("kati"))
    assert r.status_code == 201, r.text
    rep = r.json()
    assert rep["phone"] == "+22376123456" and rep["facility_name"] == "CSCom Kati Central"
    assert client.post("/api/v1/stock/reporters", json=body).status_code == 401
    r = client.post("/api/v1/stock/reporters", json=body, headers=world.headers(H))
    assert r.status_code == 403
    r = client.post("/api/v1/stock/reporters", json=body, headers=world.headers("kati"))
    assert r.status_code == 422 and r.json()["code"] == "phone_taken"
    r = client.post("/api/v1/stock/reporters", json={**body, "phone": "12"},
                    headers=world.headers("kati"))
    assert r.status_code == 422 and r.json()["code"] == "phone_invalid"
    r = client.post("/api/v1/stock/reporters", json={**body, "phone": "66 00 00 01",
                                                     "facility": "ML0501-C01"},
                    headers=world.headers("kati"))
    assert r.status_code == 404
    r = client.post("/api/v1/stock/reporters", json={**body, "phone": "66 00 00 01",
                                                     "language": "deu"},
                    headers=world.headers("kati"))
    assert r.status_code == 422
    listed = client.get("/api/v1/stock/reporters", headers=world.headers("kati")).json()
    assert [x["id"] for x in listed] == [rep["id"]]
    r = client.patch(f"/api/v1/stock/reporters/{rep['id']}", json={"language": "eng",
                                                                   "facility": "ML0207-C02"},
                     headers=world.headers("kati"))
    assert r.status_code == 200 and r.json()["language"] == "eng"
    assert r.json()["facility"] == "ML0207-C02"
    r = client.patch(f"/api/v1/stock/reporters/{rep['id']}", json={"name": "X"},
                     headers=world.headers("vacc_mopti"))
    assert r.status_code == 403
    admin_mopti = client.get("/api/v1/stock/reporters", params={"org_unit": "ML0501"},
                             headers=world.headers("admin")).json()
    assert admin_mopti == []
    r = client.delete(f"/api/v1/stock/reporters/{rep['id']}", headers=world.headers("kati"))
    assert r.status_code == 200 and r.json()["active"] is False
    r = client.delete("/api/v1/stock/reporters/999999", headers=world.headers("kati"))
    assert r.status_code == 404
    with world.db.session() as s:
        actions = s.scalars(select(AuditEvent.action).where(
            AuditEvent.entity == "stock_reporter").order_by(AuditEvent.id)).all()
        assert list(actions) == ["create", "update", "update"]


def test_settings_change_levels_and_due_day(client: TestClient, world: World) -> None:
    history(client, world)
    admin, kati = world.actor("admin"), world.actor("kati")
    with world.db.session() as s:
        services.set_setting(s, admin, "supply_months.4", "2")
        services.set_setting(s, admin, "report_due_day", "10")
    line = client.get("/api/v1/stock", params={"facility": FAC},
                      headers=world.headers(H)).json()[0]
    assert (line["min"], line["max"], line["reorder"]) == (60.0, 300.0, 120.0)
    out = client.get("/api/v1/stock/completeness", params={"period": "202602"},
                     headers=world.headers("kati")).json()
    assert out["due_date"] == "2026-03-10"
    import pytest

    from krc.errors import DomainError
    with world.db.session() as s:
        for key, value in [("supply_months.9", "1"), ("report_due_day", "31"),
                           ("supply_months.4", "0"), ("product_codes", "BCG"),
                           ("product_codes", "stk"), ("colour", "red")]:
            with pytest.raises(DomainError):
                services.set_setting(s, admin, key, value)
        with pytest.raises(DomainError):
            services.set_setting(s, kati, "report_due_day", "7")
        params = services.set_setting(s, admin, "product_codes", "sab, dilbcg")
        assert params.codes[-2:] == ("SAB", "DILBCG")
    ok(txn(client, world, "receipt", 100, "2026-03-01", product="sab"))
