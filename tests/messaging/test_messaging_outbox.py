"""Outbox, producers and sender on both databases, with adapters against local servers."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from krc.accounts.models import User
from krc.accounts.queries import actor_for
from krc.accounts.roles import Actor
from krc.geo.queries import unit_by_code
from krc.immunization.schemas import ChildCreate
from krc.immunization.services import register_child
from krc.messaging import jobs, producers, services
from krc.messaging.channels import (
    LogChannel,
    OutMessage,
    RapidProChannel,
    SendResult,
    WhatsAppChannel,
)
from krc.messaging.models import LogDelivery, Outbox
from krc.messaging.settings import MessagingSettings, RapidProSettings, WhatsAppSettings
from tests.conftest import TODAY, World
from tests.messaging.fakes import provider_server

NOW = datetime(2026, 3, 16, 8, 0, tzinfo=UTC)
FAST = MessagingSettings(rate_log=1e6, rate_rapidpro=1e6, rate_whatsapp=1e6, channel="log")


def actor(world: World, username: str) -> Actor:
    """Return a world user's Actor through a read-only session (usable inside a write)."""
    with world.db.session(write=False) as s:
        user = s.scalar(select(User).where(User.username == username))
        assert user is not None
        return actor_for(s, user)


def child(world: World, given: str, birth: date, phone: str | None, facility: str = "ML0207-C01"
          ) -> int:
    with world.db.session() as s:
        user = "vacc_kati" if facility.startswith("ML0207") else "vacc_mopti"
        data = ChildCreate(given_name=given, family_name="Traoré", sex="F", birth_date=birth,
                           caregiver_name=f"Mère de {given}", caregiver_phone=phone,
                           facility=facility, confirm_new=True)
        return register_child(s, actor(world, user), data, TODAY).child.pk


def contact(world: World, kind: str, name: str, phone: str, unit: str, user: str = "admin",
            **over: Any) -> int:
    with world.db.session() as s:
        c, _ = services.create_contact(s, actor(world, user), services.ContactInput(
            kind=kind, name=name, phone=phone, org_unit=unit, **over), NOW)
        return c.id


def outbox(world: World) -> list[Outbox]:
    with world.db.session(write=False) as s:
        return list(s.scalars(select(Outbox).order_by(Outbox.id)))


def test_due_and_missed_reminders_are_queued_once(world: World) -> None:
    a = child(world, "Awa", date(2026, 2, 3), "76 12 34 56")      # 6-week visit on 17/03
    b = child(world, "Binta", date(2026, 1, 26), "+223 66 11 22 33")  # 6-week visit 09/03: 7 late
    child(world, "Coumba", date(2026, 2, 3), "77 00 11 22")       # opted out below
    child(world, "Dado", date(2026, 2, 3), None)                  # no phone: not scanned
    child(world, "Fanta", date(2026, 2, 3), "78 00 11 22", "ML0501-C01")
    contact(world, "caregiver", "Mère de Coumba", "77001122", "ML0207-C01")
    with world.db.session() as s:
        from krc.messaging.models import Contact
        row = s.scalar(select(Contact).where(Contact.phone == "+22377001122"))
        assert row is not None
        services.opt_out(s, actor(world, "admin"), row, NOW)
    with world.db.session() as s:
        run = producers.queue_due_reminders(s, TODAY, NOW, FAST)
    assert (run.children, run.due_queued, run.missed_queued) == (4, 2, 1)
    assert run.skipped_opted_out == 1
    rows = {(r.child_pk, r.producer): r for r in outbox(world)}
    due = rows[(a, "due")]
    assert due.dedupe_key == f"due:{a}:2026-03-17"
    assert due.text.startswith("Bonjour Mère de Awa. Awa doit recevoir ses vaccins")
    assert "VPO 1, Penta 1, PCV 1, Rota 1" in due.text and "17/03/2026" in due.text
    assert due.phone == "+22376123456" and due.channel == "log" and due.status == "queued"
    assert rows[(b, "missed")].template_key == "missed_dose"
    with world.db.session() as s:  # a second run (or a replay) queues nothing
        again = producers.queue_due_reminders(s, TODAY, NOW, FAST)
    assert again.queued == 0 and len(outbox(world)) == 3


def test_caregiver_language_and_consent_come_from_contact_rows(world: World) -> None:
    pk = child(world, "Awa", date(2026, 2, 3), "76123456")
    child(world, "Sitan", date(2026, 2, 3), "76999888")
    contact(world, "caregiver", "Mère de Awa", "76123456", "ML0207-C01", language="bam",
            consent=True)
    with world.db.session() as s:
        run = producers.queue_due_reminders(
            s, TODAY, NOW, MessagingSettings(require_consent=True, channel="log"))
    assert run.due_queued == 1 and run.skipped_no_consent == 1
    (row,) = outbox(world)
    assert row.child_pk == pk and row.language == "bam" and row.text.startswith("I ni ce")


def test_log_channel_sends_each_message_once(world: World) -> None:
    for i in range(3):
        child(world, f"Enfant{i}", date(2026, 2, 3), f"7612345{i}")
    with world.db.session() as s:
        producers.queue_due_reminders(s, TODAY, NOW, FAST)
    report = services.send_pending(world.db, {"log": LogChannel(world.db)}, NOW, 100, FAST)
    assert report.sent == 3 and report.claimed == 3
    assert {r.status for r in outbox(world)} == {"sent"}
    assert all(r.provider_id == f"log-{r.id}" for r in outbox(world))
    again = services.send_pending(world.db, {"log": LogChannel(world.db)}, NOW, 100, FAST)
    assert again.claimed == 0
    with world.db.session(write=False) as s:
        assert s.scalar(select(func.count()).select_from(LogDelivery)) == 3


class CrashAfterSend:
    """A log channel that reaches the provider, then dies before the result is recorded."""

    name = "log"
    batch_size = 10

    def __init__(self, inner: LogChannel, exc: BaseException) -> None:
        self.inner, self.exc = inner, exc

    def send(self, messages: Sequence[OutMessage], now: datetime) -> list[SendResult]:
        self.inner.send(messages, now)
        raise self.exc


@pytest.mark.parametrize("exc", [SystemExit(1), KeyboardInterrupt()])
def test_crash_between_send_and_record_never_sends_twice(world: World,
                                                         exc: BaseException) -> None:
    child(world, "Awa", date(2026, 2, 3), "76123456")
    with world.db.session() as s:
        producers.queue_due_reminders(s, TODAY, NOW, FAST)
    log = LogChannel(world.db)
    with pytest.raises(type(exc)):
        services.send_pending(world.db, {"log": CrashAfterSend(log, exc)}, NOW, 10, FAST)
    (row,) = outbox(world)
    assert row.status == "sending" and row.attempts == 1  # the claim was committed first
    # Restart soon after: the claimed message is not due again, nothing is sent.
    r1 = services.send_pending(world.db, {"log": log}, NOW + timedelta(minutes=1), 10, FAST)
    assert r1.claimed == 0
    # Later the stuck claim is reviewed: marked unknown, still not resent.
    r2 = services.send_pending(world.db, {"log": log}, NOW + timedelta(minutes=30), 10, FAST)
    assert r2.recovered == 1 and r2.claimed == 0
    (row,) = outbox(world)
    assert row.status == "unknown" and "not resent" in (row.last_error or "")
    with world.db.session(write=False) as s:
        assert s.scalar(select(func.count()).select_from(LogDelivery)) == 1


def test_adapter_error_marks_unknown(world: World) -> None:
    child(world, "Awa", date(2026, 2, 3), "76123456")
    with world.db.session() as s:
        producers.queue_due_reminders(s, TODAY, NOW, FAST)

    class Broken:
        name, batch_size = "log", 10

        def send(self, messages: Sequence[OutMessage], now: datetime) -> list[SendResult]:
            raise RuntimeError("boom")

    report = services.send_pending(world.db, {"log": Broken()}, NOW, 10, FAST)
    assert report.unknown == 1 and outbox(world)[0].status == "unknown"
    with world.db.session() as s:
        n = services.requeue(s, actor(world, "admin"), [outbox(world)[0].id], NOW)
    assert n == 1 and outbox(world)[0].status == "queued"


def _group_of(world: World, n: int, code: str = "FL-KATI") -> int:
    with world.db.session() as s:
        g, _ = services.create_group(s, actor(world, "kati"), code, "Femmes leaders Kati",
                                     "ML0207", "women_leaders", NOW)
        gid = g.id
    ids = [contact(world, "women_leader", f"Leader {i}", f"7{i:07d}", "ML0207-C01", "kati",
                   language="fra") for i in range(n)]
    with world.db.session() as s:
        services.add_members(s, actor(world, "kati"), gid, ids, NOW)
    return gid


def test_rapidpro_broadcasts_batch_100_urns_and_retry(world: World) -> None:
    gid = _group_of(world, 150)
    with world.db.session() as s:
        _, members, queued = services.broadcast(
            s, actor(world, "kati"), gid, {"fra": "Séance demain", "bam": "Sini"}, None, NOW,
            MessagingSettings(channel="rapidpro"))
    assert (members, queued) == (150, 150)
    with provider_server() as p:
        rp = RapidProChannel(RapidProSettings(url=p.url, token=p.token))
        p.script = [(429, {"Retry-After": "30"})]
        r1 = services.send_pending(world.db, {"rapidpro": rp}, NOW, 1000, FAST)
        assert r1.retry == 150 and r1.sent == 0
        rows = outbox(world)
        assert {r.status for r in rows} == {"queued"}
        assert {r.next_attempt_at.replace(tzinfo=UTC) for r in rows} == {
            NOW + timedelta(seconds=30)}
        assert {r.attempts for r in rows} == {0}  # a 429 costs no attempt
        assert len(p.requests) == 1  # throttled: the second chunk was not even tried
        later = NOW + timedelta(seconds=30)
        r2 = services.send_pending(world.db, {"rapidpro": rp}, later, 1000, FAST)
        assert r2.sent == 150
        calls = p.accepted("broadcasts")
        assert [len(c["urns"]) for c in calls] == [100, 50]
        assert calls[0]["text"] == {"fra": "Séance demain"} and calls[0]["base_language"] == "fra"
        assert calls[0]["urns"][0].startswith("tel:+223")
        assert all(r["auth"] == f"Token {p.token}" for r in p.requests)
    assert {r.status for r in outbox(world)} == {"sent"}


def test_rapidpro_5xx_backs_off_then_gives_up(world: World) -> None:
    gid = _group_of(world, 1)
    settings = MessagingSettings(channel="rapidpro", max_attempts=3, backoff_seconds=60,
                                 rate_rapidpro=1e6)
    with world.db.session() as s:
        services.broadcast(s, actor(world, "kati"), gid, {"fra": "Bonjour"}, None, NOW, settings)
    with provider_server() as p:
        rp = RapidProChannel(RapidProSettings(url=p.url, token=p.token))
        p.script = [(500, {}), (503, {}), (502, {})]
        at = NOW
        services.send_pending(world.db, {"rapidpro": rp}, at, 10, settings)
        (row,) = outbox(world)
        assert row.status == "queued" and row.attempts == 1 and "HTTP 500" in (row.last_error
                                                                             or "")
        assert row.next_attempt_at.replace(tzinfo=UTC) == at + timedelta(seconds=60)
        assert services.send_pending(world.db, {"rapidpro": rp}, at + timedelta(seconds=59),
                                     10, settings).claimed == 0
        at += timedelta(seconds=60)
        services.send_pending(world.db, {"rapidpro": rp}, at, 10, settings)
        (row,) = outbox(world)
        assert row.attempts == 2
        assert row.next_attempt_at.replace(tzinfo=UTC) == at + timedelta(seconds=120)
        at += timedelta(seconds=120)
        services.send_pending(world.db, {"rapidpro": rp}, at, 10, settings)
        (row,) = outbox(world)
        assert row.status == "failed" and "gave up after 3 attempts" in (row.last_error or "")


def test_rapidpro_network_error_and_bad_token(world: World) -> None:
    gid = _group_of(world, 2)
    with world.db.session() as s:
        services.broadcast(s, actor(world, "kati"), gid, {"fra": "Bonjour"}, None, NOW,
                           MessagingSettings(channel="rapidpro"))
    down = RapidProChannel(RapidProSettings(url="http://127.0.0.1:9", token="x", timeout=2))
    r = services.send_pending(world.db, {"rapidpro": down}, NOW, 10, FAST)
    assert r.retry == 2 and all("network" in (x.last_error or "") for x in outbox(world))
    with provider_server() as p:
        bad = RapidProChannel(RapidProSettings(url=p.url, token="wrong"))
        r = services.send_pending(world.db, {"rapidpro": bad}, NOW + timedelta(hours=1), 10,
                                  FAST)
        assert r.failed == 2  # 403 is permanent
        assert {x.status for x in outbox(world)} == {"failed"}


def test_rapidpro_flow_start(world: World) -> None:
    with provider_server() as p:
        rp = RapidProChannel(RapidProSettings(url=p.url, token=p.token))
        uuid = rp.start_flow("f-123", ["tel:+22376123456"], {"child": "Awa"})
        assert uuid
        (body,) = p.accepted("flow_starts")
        assert body == {"flow": "f-123", "urns": ["tel:+22376123456"],
                        "params": {"child": "Awa"}}
        with pytest.raises(ValueError):
            rp.start_flow("f-123", [], {})


def _whatsapp_env(monkeypatch: pytest.MonkeyPatch, url: str, token: str) -> WhatsAppSettings:
    monkeypatch.setenv("KRC_WHATSAPP_URL", url)
    monkeypatch.setenv("KRC_WHATSAPP_PHONE_NUMBER_ID", "1234567890")
    monkeypatch.setenv("KRC_WHATSAPP_TOKEN", token)
    monkeypatch.setenv("KRC_WHATSAPP_APP_SECRET", "app-secret")
    return WhatsAppSettings()


def _alarm(alarm_id: int = 7) -> producers.AlarmNotice:
    return producers.AlarmNotice(
        alarm_id, "heat", "TCW 2000 SDD", 0, "ML0207-C01", "CSCom Kati Central", 0,
        datetime(2026, 3, 15, 22, 0, tzinfo=UTC), None, 600, 4.1, 11.5)


def test_whatsapp_alarm_template_send_and_statuses(world: World,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    with world.db.session(write=False) as s:
        fac, district = unit_by_code(s, "ML0207-C01").id, unit_by_code(s, "ML0207").id
        mopti = unit_by_code(s, "ML0501-C01").id
    contact(world, "health_worker", "Dr Keïta", "76000001", "ML0207-C01", whatsapp=True)
    contact(world, "health_worker", "Chef SIS", "76000002", "ML0207", language="bam",
            whatsapp=True)
    contact(world, "health_worker", "Mopti", "76000003", "ML0501-C01")
    notice = _alarm()
    notice = producers.AlarmNotice(**{**notice.__dict__, "facility_id": fac,
                                      "district_id": district})
    with provider_server() as p:
        wa = WhatsAppChannel(_whatsapp_env(monkeypatch, p.url, p.token))
        with world.db.session() as s:
            assert producers.queue_alarm_notices(s, [notice], NOW, FAST) == 2
        with world.db.session() as s:
            assert producers.queue_alarm_notices(s, [notice], NOW, FAST) == 0
        rows = outbox(world)
        assert [r.channel for r in rows] == ["whatsapp", "log"]  # no Bambara WA template
        assert all(r.org_unit_id == fac for r in rows) and mopti not in {r.org_unit_id
                                                                        for r in rows}
        report = services.send_pending(world.db, {"whatsapp": wa, "log": LogChannel(world.db)},
                                       NOW, 10, FAST)
        assert report.sent == 2
        (body,) = p.accepted("/messages")
        assert p.requests[0]["path"] == "/v21.0/1234567890/messages"
        assert body["to"] == "22376000001" and body["template"]["name"] == "alerte_chaine_froid"
        assert body["template"]["language"] == {"code": "fr"}
        params = [x["text"] for x in body["template"]["components"][0]["parameters"]]
        # French words and decimal comma, never the English code (heat) in a French message
        assert params == ["CSCom Kati Central", "TCW 2000 SDD", "chaleur", "11,5 °C",
                          "15/03 22:00"]
        texts = {r.language: r.text for r in outbox(world)}
        assert "(chaleur, 11,5 °C)" in texts["bam"]
    wamid = outbox(world)[0].provider_id
    assert wamid and wamid.startswith("wamid.")
    hook = {"object": "whatsapp_business_account", "entry": [{"id": "1", "changes": [{
        "field": "messages", "value": {"messaging_product": "whatsapp", "statuses": [
            {"id": wamid, "status": "delivered", "timestamp": "1773650000",
             "recipient_id": "22376000001"},
            {"id": "wamid.unknown", "status": "read", "timestamp": "1773650000"}]}}]}]}
    raw = json.dumps(hook).encode()
    with world.db.session() as s:
        c = services.whatsapp_webhook(s, raw, NOW)
    assert c == {"statuses": 2, "updated": 1, "unmatched": 1, "opt_outs": 0}
    with world.db.session() as s:  # a replay changes nothing
        assert services.whatsapp_webhook(s, raw, NOW)["updated"] == 0
    assert outbox(world)[0].status == "delivered"


def test_whatsapp_429_and_5xx(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    with world.db.session(write=False) as s:
        fac = unit_by_code(s, "ML0207-C01").id
    for i in range(3):
        contact(world, "health_worker", f"Agent {i}", f"7600000{i}", "ML0207-C01", whatsapp=True)
    notice = producers.AlarmNotice(**{**_alarm().__dict__, "facility_id": fac,
                                      "district_id": fac})
    with provider_server() as p:
        wa = WhatsAppChannel(_whatsapp_env(monkeypatch, p.url, p.token))
        with world.db.session() as s:
            producers.queue_alarm_notices(s, [notice], NOW, FAST)
        p.script = [(500, {}), (429, {"Retry-After": "120"})]
        r = services.send_pending(world.db, {"whatsapp": wa}, NOW, 10, FAST)
        assert r.retry == 3 and len(p.requests) == 2  # after the 429 nothing more is tried
        rows = outbox(world)
        assert rows[0].attempts == 1 and rows[1].attempts == 0 and rows[2].attempts == 0
        assert rows[1].next_attempt_at.replace(tzinfo=UTC) == NOW + timedelta(seconds=120)
        r = services.send_pending(world.db, {"whatsapp": wa}, NOW + timedelta(hours=1), 10,
                                  FAST)
        assert r.sent == 3


def test_opt_out_cancels_queued_and_stop_message(world: World) -> None:
    gid = _group_of(world, 2)
    with world.db.session() as s:
        services.broadcast(s, actor(world, "kati"), gid, {"fra": "Bonjour"}, None, NOW, FAST)
    stop = {"entry": [{"changes": [{"value": {"messages": [
        {"from": "22370000000", "id": "wamid.in1", "timestamp": "1773650000", "type": "text",
         "text": {"body": "stop"}}]}}]}]}
    with world.db.session() as s:
        assert services.whatsapp_webhook(s, json.dumps(stop).encode(), NOW)["opt_outs"] == 1
    statuses = sorted(r.status for r in outbox(world))
    assert statuses == ["cancelled", "queued"]
    with world.db.session() as s:  # the same broadcast again: opted-out phone skipped
        _, _, queued = services.broadcast(s, actor(world, "kati"), gid, {"fra": "Encore"},
                                          None, NOW, FAST)
    assert queued == 1


def test_session_and_stock_producers(world: World) -> None:
    gid = _group_of(world, 2)
    with world.db.session(write=False) as s:
        fac, district = unit_by_code(s, "ML0207-C01").id, unit_by_code(s, "ML0207").id
    assert gid
    info = producers.SessionInfo("s-1", fac, "ML0207-C01", "CSCom Kati Central", district,
                                 TODAY + timedelta(days=2), "outreach", "market",
                                 "Marché de Kati")
    far = producers.SessionInfo("s-2", fac, "ML0207-C01", "CSCom Kati Central", district,
                                TODAY + timedelta(days=9), "outreach", None, None)
    with world.db.session() as s:
        assert producers.queue_session_announcements(s, [info, far], TODAY, NOW, FAST) == 2
    with world.db.session() as s:
        assert producers.queue_session_announcements(s, [info, far], TODAY, NOW, FAST) == 0
    texts = {r.text for r in outbox(world)}
    assert texts == {"Séance de vaccination le 18/03/2026 à Marché de Kati (CSCom Kati "
                     "Central). Merci d'informer les mères et les familles."}
    late = producers.LateFacility(fac, "ML0207-C01", "CSCom Kati Central", district,
                                  [("Moussa Keïta", "76 55 44 33", "fr"),
                                   ("Awa Diarra", "12", "bm")])
    with world.db.session() as s:
        assert producers.queue_stock_reminders(s, [late], "202602", NOW, FAST) == 1
    with world.db.session() as s:
        assert producers.queue_stock_reminders(s, [late], "202602", NOW, FAST) == 0
    stock = [r for r in outbox(world) if r.producer == "stock"]
    assert stock[0].dedupe_key == f"stock:{fac}:202602:+22376554433"
    assert stock[0].text.startswith("Moussa Keïta, le rapport de stock")
    assert "pour 02/2026 n'est pas" in stock[0].text  # the month, not the code 202602


def test_send_due_job_and_dry_run(world: World) -> None:
    child(world, "Awa", date(2026, 2, 3), "76123456")
    notes: list[str] = []
    counts, report = jobs.send_due(world.db, TODAY, NOW, {"log": LogChannel(world.db)}, FAST,
                                   dry_run=True, note=notes.append)
    assert counts["due"] == 1 and report is None and outbox(world) == []
    counts, report = jobs.send_due(world.db, TODAY, NOW, {"log": LogChannel(world.db)}, FAST,
                                   note=notes.append)
    assert counts["due"] == 1 and report is not None and report.sent == 1
    assert jobs.previous_month(date(2026, 1, 10)) == "202512"


def test_bulk_copy_path_is_idempotent(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(services, "COPY_THRESHOLD", 1)  # PostgreSQL: COPY + INSERT … SELECT
    for i in range(3):
        child(world, f"Enfant{i}", date(2026, 2, 3), f"7612345{i}")
    with world.db.session() as s:
        assert producers.queue_due_reminders(s, TODAY, NOW, FAST).due_queued == 3
    with world.db.session() as s:
        assert producers.queue_due_reminders(s, TODAY, NOW, FAST).due_queued == 0
    rows = outbox(world)
    assert len(rows) == 3 and rows[0].params["doses"] == ["OPV1", "PENTA1", "PCV1", "ROTA1"]


def test_alarm_notice_words_per_language(world: World) -> None:
    """Alarm SMS name the alarm in the contact's language (fr, en), never by its code."""
    with world.db.session(write=False) as s:
        fac = unit_by_code(s, "ML0207-C01").id
    contact(world, "health_worker", "Dr Keïta", "76000011", "ML0207-C01")
    contact(world, "health_worker", "Dr Smith", "76000012", "ML0207-C01", language="eng")
    freeze = producers.AlarmNotice(**{**_alarm(8).__dict__, "type": "freeze",
                                      "facility_id": fac, "district_id": fac,
                                      "min_celsius": -1.5, "max_celsius": -0.5})
    gap = producers.AlarmNotice(**{**_alarm(9).__dict__, "type": "data_gap",
                                   "facility_id": fac, "district_id": fac,
                                   "min_celsius": None, "max_celsius": None})
    with world.db.session() as s:
        assert producers.queue_alarm_notices(s, [freeze, gap], NOW, FAST) == 4
    texts = sorted(r.text for r in outbox(world))
    assert any("alarme gel (-1,5 °C)" in t for t in texts)
    assert any("freeze alarm (-1.5 °C)" in t for t in texts)
    assert any("alarme interruption des relevés" in t for t in texts)
    assert any("data gap alarm" in t for t in texts)
    assert not any("data_gap" in t or "alarme freeze" in t for t in texts)
