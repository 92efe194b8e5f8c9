"""API tests of the cold chain: equipment, readings (JSON and CSV), alarms, figures, refusals,
scope (both databases)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from krc.accounts import services as accounts
from krc.accounts.models import AuditEvent
from krc.immunization.coldchain import queries, services
from krc.immunization.coldchain.models import ColdChainAlarm, Reading, ReadingUpload
from tests.conftest import World

H = "vacc_kati"
DAY = datetime(2026, 3, 15, tzinfo=UTC)  # the day before TODAY; "now" is TODAY at noon


def equipment(client: TestClient, world: World, serial: str = "SDD-KATI-1",
              facility: str = "ML0207-C01", user: str = H, **over: Any) -> Any:
    body = {"serial": serial, "type": "solar_direct_drive", "facility": facility,
            "pqs_code": "E003/070", "model": "VC200SDD", "installed_on": "2024-05-02",
            "energy_source": "solar", "device": "DTR-" + serial, **over}
    return client.post("/api/v1/coldchain/equipment", json=body, headers=world.headers(user))


def readings(start: datetime, minutes: int, celsius: float, step: int = 10
             ) -> list[dict[str, Any]]:
    return [{"at": (start + timedelta(minutes=m)).isoformat().replace("+00:00", "Z"),
             "celsius": celsius} for m in range(0, minutes, step)]


def post(client: TestClient, world: World, device: str, rows: list[dict[str, Any]],
         user: str = H) -> Any:
    return client.post("/api/v1/coldchain/readings", json={"device": device, "readings": rows},
                       headers=world.headers(user))


def setup_two(client: TestClient, world: World) -> None:
    assert equipment(client, world).status_code == 201
    r = equipment(client, world, "SDD-MOPTI-1", "ML0501-C01", user="vacc_mopti")
    assert r.status_code == 201, r.text


# ---------------------------------------------------------------- equipment

def test_equipment_create_replay_and_refusals(client: TestClient, world: World) -> None:
    r = equipment(client, world)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["status"] == "functional" and body["devices"] == ["DTR-SDD-KATI-1"]
    assert body["history"][0]["to_status"] == "functional"
    again = equipment(client, world)
    assert again.status_code == 200 and again.headers["Idempotent-Replay"] == "true"
    moved = equipment(client, world, facility="ML0207-C02", user="kati")
    assert moved.status_code == 409 and moved.json()["code"] == "serial_taken"
    bad = equipment(client, world, "X-2", type="fridge")
    assert bad.status_code == 422 and bad.json()["code"] == "type_unknown"
    assert "solar_direct_drive" in bad.json()["title"]
    village = equipment(client, world, "X-3", facility="ML0207-C01-V01")
    assert village.status_code == 422 and village.json()["code"] == "org_unit_wrong_level"
    future = equipment(client, world, "X-4", installed_on="2027-01-01")
    assert future.status_code == 422
    assert equipment(client, world, "X-5", user="partner").status_code == 403
    out = equipment(client, world, "X-6", facility="ML0501-C01")
    assert out.status_code == 403 and out.json()["code"] == "out_of_scope"
    assert client.post("/api/v1/coldchain/equipment", json={}).status_code == 401
    en = client.post("/api/v1/coldchain/equipment", headers=world.headers(H, "en"),
                     json={"serial": "X-7", "type": "fridge", "facility": "ML0207-C01"})
    assert en.json()["title"].startswith("Unknown value: fridge")


def test_equipment_list_detail_and_scope(client: TestClient, world: World) -> None:
    setup_two(client, world)
    mine = client.get("/api/v1/coldchain/equipment", headers=world.headers("kati")).json()
    assert [e["serial"] for e in mine] == ["SDD-KATI-1"]
    every = client.get("/api/v1/coldchain/equipment", headers=world.headers("national")).json()
    assert {e["serial"] for e in every} == {"SDD-KATI-1", "SDD-MOPTI-1"}
    r = client.get("/api/v1/coldchain/equipment/SDD-MOPTI-1", headers=world.headers("kati"))
    assert r.status_code == 404
    r = client.get("/api/v1/coldchain/equipment", params={"org_unit": "ML0501"},
                   headers=world.headers("kati"))
    assert r.status_code == 403
    r = client.get("/api/v1/coldchain/equipment/SDD-KATI-1", headers=world.headers("partner"))
    assert r.status_code == 200 and r.json()["facility"] == "ML0207-C01"


def test_status_change_history_and_refusals(client: TestClient, world: World) -> None:
    setup_two(client, world)
    url = "/api/v1/coldchain/equipment/SDD-KATI-1/status"
    r = client.post(url, json={"status": "needs_repair", "note": "thermostat"},
                    headers=world.headers("kati"))
    assert r.status_code == 200, r.text
    assert r.json()["status"] == "needs_repair"
    h = r.json()["history"][0]
    assert (h["from_status"], h["to_status"], h["note"], h["username"]) == (
        "functional", "needs_repair", "thermostat", "kati")
    same = client.post(url, json={"status": "needs_repair"}, headers=world.headers("kati"))
    assert len(same.json()["history"]) == 2  # a replay adds nothing
    assert client.post(url, json={"status": "broken"},
                       headers=world.headers("kati")).status_code == 422
    assert client.post(url, json={"status": "functional"},
                       headers=world.headers("partner")).status_code == 403
    other = client.post("/api/v1/coldchain/equipment/SDD-MOPTI-1/status",
                        json={"status": "functional"}, headers=world.headers("kati"))
    assert other.status_code == 404
    with world.db.session() as s:
        events = s.scalars(select(AuditEvent).where(AuditEvent.entity == "cc_equipment",
                                                    AuditEvent.action == "update")).all()
        assert len(events) == 1 and events[0].detail["before"] == {"status": "functional"}


def test_attach_device(client: TestClient, world: World) -> None:
    setup_two(client, world)
    r = client.post("/api/v1/coldchain/devices", headers=world.headers(H),
                    json={"serial": "RTM-9", "equipment": "SDD-KATI-1", "kind": "rtm"})
    assert r.status_code == 201 and r.json()["devices"] == ["DTR-SDD-KATI-1", "RTM-9"]
    r = client.post("/api/v1/coldchain/devices", headers=world.headers("vacc_mopti"),
                    json={"serial": "RTM-9", "equipment": "SDD-MOPTI-1"})
    assert r.status_code == 409
    r = client.post("/api/v1/coldchain/devices", headers=world.headers(H),
                    json={"serial": "RTM-10", "equipment": "SDD-MOPTI-1"})
    assert r.status_code == 404


# ---------------------------------------------------------------- readings and alarms

def test_readings_detect_heat_alarm_then_extend_it_without_duplicates(
        client: TestClient, world: World) -> None:
    setup_two(client, world)
    dev = "DTR-SDD-KATI-1"
    first = readings(DAY, 120, 5.0) + readings(DAY + timedelta(hours=2), 11 * 60, 9.5)
    r = post(client, world, dev, first)
    assert r.status_code == 200, r.text
    body = r.json()
    assert (body["received"], body["new"], body["duplicates"]) == (78, 78, 0)
    [alarm] = body["open_alarms"]
    assert alarm["type"] == "heat" and alarm["end"] is None
    assert alarm["start"].startswith("2026-03-15T02:00:00")
    assert alarm["duration_minutes"] == 650
    replay = post(client, world, dev, first).json()
    assert (replay["new"], replay["duplicates"], replay["conflicts"]) == (0, 78, 0)
    # More heat, then recovery: the same alarm grows and closes.
    more = readings(DAY + timedelta(hours=13), 60, 10.5) + \
        readings(DAY + timedelta(hours=14), 30, 4.0)
    assert post(client, world, dev, more).json()["open_alarms"] == []
    got = client.get("/api/v1/coldchain/alarms", params={"device": dev},
                     headers=world.headers(H)).json()
    assert [a["type"] for a in got] == ["heat"]
    a = got[0]
    assert a["id"] == alarm["id"]
    assert set(a) >= {"type", "start", "end", "duration_minutes", "min_celsius", "max_celsius"}
    assert a["end"].startswith("2026-03-15T14:00:00") and a["duration_minutes"] == 720
    assert (a["min_celsius"], a["max_celsius"]) == (9.5, 10.5)
    with world.db.session() as s:
        assert s.query(ColdChainAlarm).count() == 1
        assert s.query(Reading).count() == 78 + 9
        uploads = s.scalars(select(ReadingUpload)).all()
        assert len(uploads) == 3 and all(u.status == "accepted" for u in uploads)
        assert '"device"' in uploads[0].body


def test_conflicting_replay_keeps_stored_reading_and_says_so(client: TestClient,
                                                             world: World) -> None:
    setup_two(client, world)
    post(client, world, "DTR-SDD-KATI-1", readings(DAY, 60, 5.0))
    r = post(client, world, "DTR-SDD-KATI-1", readings(DAY, 60, 6.0)).json()
    assert (r["new"], r["duplicates"], r["conflicts"]) == (0, 6, 6)


def test_freeze_alarm_and_late_upload_filling_a_gap(client: TestClient, world: World) -> None:
    setup_two(client, world)
    client.app.state.now = lambda: DAY + timedelta(hours=6)  # type: ignore[attr-defined]
    dev = "DTR-SDD-KATI-1"
    rows = readings(DAY, 60, 4.0) + readings(DAY + timedelta(hours=3), 60, 4.0)
    assert post(client, world, dev, rows).status_code == 200
    gaps = client.get("/api/v1/coldchain/alarms", params={"device": dev},
                      headers=world.headers(H)).json()
    assert [g["type"] for g in gaps] == ["data_gap"]
    # The recorder's file arrives later and fills the gap with a freeze of 70 min.
    fill = readings(DAY + timedelta(hours=1), 50, 4.0) + \
        readings(DAY + timedelta(minutes=110), 70, -1.0)
    assert post(client, world, dev, fill).status_code == 200
    got = client.get("/api/v1/coldchain/alarms", params={"device": dev},
                     headers=world.headers(H)).json()
    assert [(g["type"], g["duration_minutes"]) for g in got] == [("freeze", 70)]
    assert got[0]["max_celsius"] == -1.0
    with world.db.session() as s:
        withdrawn = s.scalars(select(ColdChainAlarm).where(ColdChainAlarm.withdrawn)).all()
        assert [w.type for w in withdrawn] == ["data_gap"]


def test_reading_refusals(client: TestClient, world: World) -> None:
    setup_two(client, world)
    dev = "DTR-SDD-KATI-1"
    rows = readings(DAY, 30, 5.0)
    assert client.post("/api/v1/coldchain/readings",
                       json={"device": dev, "readings": rows}).status_code == 401
    assert post(client, world, dev, rows, user="partner").status_code == 403
    assert post(client, world, "DTR-SDD-MOPTI-1", rows).status_code == 404
    assert post(client, world, "NOPE", rows).status_code == 404
    hot = [{"at": "2026-03-15T00:00:00Z", "celsius": 120.0}]
    r = post(client, world, dev, hot)
    assert r.status_code == 422 and r.json()["code"] == "reading_out_of_range"
    future = [{"at": "2026-03-20T00:00:00Z", "celsius": 5.0}]
    assert post(client, world, dev, future).json()["code"] == "reading_time_invalid"
    raw = ('{"device": "' + dev + '", "readings": [{"at": "2026-03-15T00:00:00Z", '
           '"celsius": 5}, {"at": "2026-03-15T00:10:00Z", "celsius": NaN}]}')
    r = client.post("/api/v1/coldchain/readings", content=raw,
                    headers={**world.headers(H, "en"), "Content-Type": "application/json"})
    assert r.status_code == 422 and r.json()["code"] == "reading_not_finite"
    assert "#2" in r.json()["title"]
    r = post(client, world, dev, [{"at": "yesterday", "celsius": 5}])
    assert r.status_code == 422
    with world.db.session() as s:
        refused = s.scalars(select(ReadingUpload).where(ReadingUpload.status == "refused")).all()
        assert len(refused) == 4 and "NaN" in refused[2].body and "yesterday" in refused[3].body
        assert s.query(Reading).count() == 0


def test_integration_account_posts_readings_in_its_subtree(client: TestClient,
                                                           world: World) -> None:
    setup_two(client, world)
    with world.db.session() as s:
        user = accounts.create_user(s, "rtm_kati", "secret-pass-1", "integration", "ML0207")
        token = accounts.create_token(s, user, "rtm")
    headers = {"Authorization": f"Bearer {token}"}
    body = {"device": "DTR-SDD-KATI-1", "readings": readings(DAY, 30, 5.0)}
    assert client.post("/api/v1/coldchain/readings", json=body,
                       headers=headers).status_code == 200
    body["device"] = "DTR-SDD-MOPTI-1"
    assert client.post("/api/v1/coldchain/readings", json=body,
                       headers=headers).status_code == 404
    r = client.post("/api/v1/coldchain/equipment", headers=headers,
                    json={"serial": "Z", "type": "freezer", "facility": "ML0207-C01"})
    assert r.status_code == 403


CSV = """Fridge-tag export;serial DTR-SDD-KATI-1
Date/Heure;Température (°C);Alarme
15/03/2026 00:00;4,5;
15/03/2026 00:10;4,6;

15/03/2026 00:20;-1,0;
"""


def test_csv_upload_tolerant_format_and_errors(client: TestClient, world: World) -> None:
    setup_two(client, world)
    url = "/api/v1/coldchain/readings.csv"
    headers = {**world.headers(H), "Content-Type": "text/csv"}
    r = client.post(url, params={"device": "DTR-SDD-KATI-1"}, content=CSV, headers=headers)
    assert r.status_code == 200, r.text
    assert (r.json()["received"], r.json()["new"]) == (3, 3)
    again = client.post(url, params={"device": "DTR-SDD-KATI-1"}, content=CSV,
                        headers=headers)
    assert again.json()["duplicates"] == 3
    iso = "timestamp,celsius\n2026-03-15T01:00:00Z,5.5\n2026-03-15T01:10:00+00:00,5.6\n"
    r = client.post(url, params={"device": "DTR-SDD-KATI-1"}, content=iso, headers=headers)
    assert r.json()["new"] == 2
    bad = "Date/Heure;Température\n15/03/2026 02:00;4,5\n15/13/2026 02:10;4,5\n" \
          "15/03/2026 02:20;chaud\n"
    r = client.post(url, params={"device": "DTR-SDD-KATI-1"}, content=bad, headers=headers)
    assert r.status_code == 422
    errors = r.json()["errors"]
    assert [e["field"] for e in errors] == ["line 3", "line 4"]
    assert "Ligne 3, colonne « Date/Heure »" in errors[0]["message"]
    assert "Ligne 4, colonne « Température »" in errors[1]["message"]
    r = client.post(url, params={"device": "DTR-SDD-KATI-1"}, content="a;b\n1;2\n",
                    headers=headers)
    assert r.status_code == 422 and r.json()["code"] == "csv_no_header"
    r = client.post(url, params={"device": "DTR-SDD-MOPTI-1"}, content=CSV, headers=headers)
    assert r.status_code == 404
    with world.db.session() as s:
        refused = s.scalars(select(ReadingUpload).where(ReadingUpload.status == "refused")).all()
        assert [u.format for u in refused] == ["csv", "csv"]


# ---------------------------------------------------------------- alarms by unit, no_data

def test_alarms_by_org_unit_are_scoped(client: TestClient, world: World) -> None:
    setup_two(client, world)
    hot = readings(DAY, 11 * 60, 9.0) + readings(DAY + timedelta(hours=11), 20, 5.0)
    post(client, world, "DTR-SDD-KATI-1", hot)
    post(client, world, "DTR-SDD-MOPTI-1", hot, user="vacc_mopti")
    kati = client.get("/api/v1/coldchain/alarms", headers=world.headers("kati")).json()
    assert {a["facility"] for a in kati} == {"ML0207-C01"}
    nat = client.get("/api/v1/coldchain/alarms", params={"org_unit": "ML"},
                     headers=world.headers("national")).json()
    assert {a["device"] for a in nat if a["type"] == "heat"} == {"DTR-SDD-KATI-1",
                                                               "DTR-SDD-MOPTI-1"}
    r = client.get("/api/v1/coldchain/alarms", params={"org_unit": "ML0501"},
                   headers=world.headers("kati"))
    assert r.status_code == 403
    r = client.get("/api/v1/coldchain/alarms", params={"device": "DTR-SDD-MOPTI-1"},
                   headers=world.headers("kati"))
    assert r.status_code == 404
    assert client.get("/api/v1/coldchain/alarms").status_code == 401


def test_no_data_live_then_stored_then_closed_and_notified(client: TestClient,
                                                           world: World) -> None:
    setup_two(client, world)
    dev = "DTR-SDD-KATI-1"
    post(client, world, dev, readings(DAY - timedelta(days=2), 60, 5.0))
    got = client.get("/api/v1/coldchain/alarms", params={"device": dev, "open": True},
                     headers=world.headers(H)).json()
    assert [(a["type"], a["id"], a["end"]) for a in got] == [("no_data", None, None)]
    now = datetime(2026, 3, 16, 12, tzinfo=UTC)
    with world.db.session() as s:
        # The Mopti device never sent anything, but was registered after `now` (real clock).
        assert services.scan_no_data(s, now) == 1
        assert services.scan_no_data(s, now) == 0  # idempotent
        notices = queries.alarms_to_notify(s)
    mine = [n for n in notices if n.device == dev]
    assert [n.type for n in mine] == ["no_data"]
    n = mine[0]
    assert (n.facility_code, n.facility_name) == ("ML0207-C01", "CSCom Kati Central")
    with world.db.session() as s:
        from krc.geo.queries import unit_by_code
        assert n.district_id == unit_by_code(s, "ML0207").id
    stored = client.get("/api/v1/coldchain/alarms", params={"device": dev},
                        headers=world.headers(H)).json()
    assert stored[0]["id"] == n.alarm_id
    post(client, world, dev, readings(DAY + timedelta(days=1), 12 * 60, 5.0))
    closed = client.get("/api/v1/coldchain/alarms", params={"device": dev},
                        headers=world.headers(H)).json()
    nd = [a for a in closed if a["type"] == "no_data"]
    assert len(nd) == 1 and nd[0]["end"].startswith("2026-03-16T00:00:00")
    assert nd[0]["duration_minutes"] == (2 * 24 * 60 + 24 * 60) - 50
    later = datetime.now(UTC) + timedelta(days=1)
    with world.db.session() as s:
        assert queries.alarms_to_notify(s, since=later) == []


# ---------------------------------------------------------------- figures

def test_functionality_rate_by_level(client: TestClient, world: World) -> None:
    setup_two(client, world)
    equipment(client, world, "ILR-1", "ML0207-C02", "kati", type="ice_lined", device=None)
    equipment(client, world, "ILR-2", "ML0207-C02", "kati", type="ice_lined", device=None,
              status="non_functional")
    equipment(client, world, "OLD-1", "ML0207-C01", type="absorption", device=None,
              status="decommissioned")
    rows = client.get("/api/v1/coldchain/functionality", params={"level": 4},
                      headers=world.headers("kati")).json()
    head = rows[0]
    assert (head["code"], head["functional"], head["installed"], head["decommissioned"],
            head["rate"]) == ("ML0207", 2, 3, 1, 66.7)
    by = {r["code"]: r for r in rows[1:]}
    assert by["ML0207-C01"]["rate"] == 100.0 and by["ML0207-C02"]["rate"] == 50.0
    nat = client.get("/api/v1/coldchain/functionality", params={"level": 2},
                     headers=world.headers("national")).json()
    assert nat[0]["installed"] == 4 and len(nat) == 3  # Mali, Koulikoro, Mopti
    assert client.get("/api/v1/coldchain/functionality", params={"org_unit": "ML0501"},
                      headers=world.headers("kati")).status_code == 403
    assert client.get("/api/v1/coldchain/functionality", params={"level": 9},
                      headers=world.headers("kati")).status_code == 422


def test_solar_installed_vs_target(client: TestClient, world: World) -> None:
    setup_two(client, world)
    rows = client.get("/api/v1/coldchain/solar", headers=world.headers("national")).json()
    assert sum(r["target"] for r in rows) == 2000
    by = {r["code"]: r for r in rows}
    # Default split by CSComs: two in Koulikoro (Kati), one in Mopti.
    koulikoro = next(r for r in rows if r["installed"] == 1 and r["target"] > 1000)
    assert koulikoro["target"] == 1333 and koulikoro["target_source"] == "default"
    r = client.put("/api/v1/coldchain/solar/targets", json={"targets": {koulikoro["code"]: 300}},
                   headers=world.headers("national"))
    assert r.status_code == 200
    by = {x["code"]: x for x in r.json()}
    assert by[koulikoro["code"]]["target"] == 300
    assert by[koulikoro["code"]]["percent"] == round(100 / 300, 1)
    assert by[koulikoro["code"]]["target_source"] == "official"
    r = client.put("/api/v1/coldchain/solar/targets", json={"targets": {"XX": 1}},
                   headers=world.headers("national"))
    assert r.status_code == 422
    r = client.put("/api/v1/coldchain/solar/targets", json={"targets": {koulikoro["code"]: 1}},
                   headers=world.headers("kati"))
    assert r.status_code == 403
    assert client.get("/api/v1/coldchain/solar", headers=world.headers("kati")).json() == []


def test_settings_are_readable(client: TestClient, world: World) -> None:
    r = client.get("/api/v1/coldchain/settings", headers=world.headers("partner"))
    assert r.status_code == 200 and r.json()["heat_minutes"] == 600
    assert r.json()["freeze_inclusive"] is True
