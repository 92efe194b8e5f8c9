"""The /messaging page (fr/en, forms through the same services), the CLI and the demo hook."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from krc.cli import app
from krc.immunization.schemas import ChildCreate
from krc.immunization.services import register_child
from krc.messaging.demo import add_messaging_demo
from krc.messaging.models import Contact, LogDelivery, Outbox
from tests.conftest import PASSWORD, TODAY, World

runner = CliRunner()


def login(client: TestClient, user: str) -> str:
    client.post("/login", data={"username": user, "password": PASSWORD},
                follow_redirects=False)
    page = client.get("/messaging")
    m = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    return m.group(1) if m else ""


def test_page_in_french_and_english_with_forms(client: TestClient, world: World) -> None:
    r = client.get("/messaging", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")
    csrf = login(client, "kati")
    page = client.get("/messaging")
    assert page.status_code == 200
    assert "Derniers messages" in page.text
    assert "Annoncer une séance aux femmes leaders" in page.text
    assert "/static/messaging.css" in page.text and "https://" not in page.text
    en = client.get("/messaging?lang=en")
    assert "Outbox" in en.text and "Announce a session to the women leaders" in en.text
    client.get("/messaging?lang=fr")
    r = client.post("/api/v1/messaging/groups", headers={"X-CSRF-Token": csrf}, json={
        "code": "FL-ML0207", "name": "Femmes leaders de Kati", "org_unit": "ML0207"})
    gid = r.json()["id"]
    r = client.post("/api/v1/messaging/contacts", headers={"X-CSRF-Token": csrf}, json={
        "kind": "women_leader", "name": "Mariam Coulibaly", "phone": "76112233",
        "org_unit": "ML0207-C01", "language": "bam"})
    client.post(f"/api/v1/messaging/groups/{gid}/members", headers={"X-CSRF-Token": csrf},
                json={"contacts": [r.json()["id"]]})
    r = client.post("/messaging/broadcast", data={
        "csrf_token": csrf, "group": str(gid), "text_fra": "Réunion lundi",
        "text_bam": "Ɲɔgɔnye tɛnɛn"}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/messaging?done=1"
    page = client.get("/messaging?done=1")
    assert "1 message(s) mis en file d&#39;attente" in page.text and "Ɲɔgɔnye tɛnɛn" in page.text
    assert "Femmes leaders de Kati" in page.text
    r = client.post("/messaging/announce", data={
        "csrf_token": csrf, "facility": "ML0207-C01", "date": "2026-03-18",
        "place_name": "Marché", "strategy": "outreach"}, follow_redirects=False)
    assert r.status_code == 303
    bad = client.post("/messaging/announce", data={
        "csrf_token": csrf, "facility": "ML0207-C01", "date": "2026-03-01",
        "strategy": "outreach"})
    assert bad.status_code == 422 and "déjà passée" in bad.text
    bad = client.post("/messaging/broadcast", data={"csrf_token": csrf, "group": str(gid),
                                                    "text_fra": ""})
    assert bad.status_code == 422
    forged = client.post("/messaging/broadcast", data={"csrf_token": "x", "group": str(gid),
                                                       "text_fra": "x"})
    assert forged.status_code == 422 and "CSRF" in forged.text


def test_page_refuses_roles_without_messaging(client: TestClient, world: World) -> None:
    login(client, "vacc_kati")
    assert client.get("/messaging").status_code == 403


def test_cli_send_due_outbox_templates(world: World, tmp_path: Path) -> None:
    with world.db.session(write=False) as s:
        from krc.accounts.models import User
        from krc.accounts.queries import actor_for
        user = s.scalar(select(User).where(User.username == "vacc_kati"))
        assert user is not None
        actor = actor_for(s, user)
    with world.db.session() as s:
        register_child(s, actor, ChildCreate(
            given_name="Awa", family_name="Traoré", sex="F", birth_date=date(2026, 2, 3),
            caregiver_name="Fatoumata", caregiver_phone="76123456", facility="ML0207-C01",
            confirm_new=True), TODAY)
    url = world.db.url
    r = runner.invoke(app, ["messaging", "send-due", "--on", "2026-03-16", "--dry-run",
                            "--db", url])
    assert r.exit_code == 0, r.output
    assert "rappels de dose à mettre en file (essai) : 1" in r.output
    r = runner.invoke(app, ["messaging", "send-due", "--on", "2026-03-16", "--db", url])
    assert r.exit_code == 0, r.output
    assert "rappels de dose mis en file : 1" in r.output and "sent : 1" in r.output
    r = runner.invoke(app, ["messaging", "send-due", "--on", "2026-03-16", "--db", url])
    assert "rappels de dose mis en file : 0" in r.output
    r = runner.invoke(app, ["messaging", "outbox", "--status", "sent", "--db", url])
    assert r.exit_code == 0 and "+22376123456" in r.output
    r = runner.invoke(app, ["messaging", "outbox", "--status", "lost", "--db", url])
    assert r.exit_code == 1 and "Statut inconnu" in r.output
    r = runner.invoke(app, ["messaging", "templates", "--install", "--db", url])
    assert r.exit_code == 0 and "15 modèles ajoutés" in r.output and "rappel_vaccin" in r.output
    csv_file = tmp_path / "contacts.csv"
    csv_file.write_text("kind,name,phone,org_unit,language,whatsapp\n"
                        "women_leader,Awa Diarra,76 00 11 22,ML0207,bam,oui\n"
                        "health_worker,Dr Keïta,66001122,ML0207-C01,fra,\n", "utf-8")
    r = runner.invoke(app, ["messaging", "import-contacts", str(csv_file), "--db", url])
    assert r.exit_code == 0 and "2 contact(s) créé(s)" in r.output, r.output
    r = runner.invoke(app, ["messaging", "recover", "--db", url])
    assert r.exit_code == 0 and "0 message(s)" in r.output
    with world.db.session(write=False) as s:
        assert s.scalar(select(func.count()).select_from(Contact)) == 2
        assert s.scalar(select(Contact.whatsapp).where(Contact.kind == "women_leader"))


def test_demo_hook_is_bounded_and_shows_every_status(world: World) -> None:
    with world.db.session(write=False) as s:
        from krc.accounts.models import User
        from krc.accounts.queries import actor_for
        user = s.scalar(select(User).where(User.username == "vacc_kati"))
        assert user is not None
        actor = actor_for(s, user)
    with world.db.session() as s:
        for i in range(30):
            register_child(s, actor, ChildCreate(
                given_name=f"Enfant{i}", family_name="Traoré", sex="F",
                birth_date=date(2026, 2, 3), caregiver_name="Mère", confirm_new=True,
                caregiver_phone=f"7612{i:04d}", facility="ML0207-C01"), TODAY)
    with world.db.session() as s:
        counts = add_messaging_demo(s, 1, TODAY, ["ML0207", "ML0501"])
    assert counts["groups"] == 2 and counts["women_leaders"] == 16
    assert counts["health_workers"] == 5 and counts["due_reminders"] == 30
    assert counts["announcements"] == 16 and counts["stock_reminders"] == 2
    assert counts["alarm_notices"] == 4
    with world.db.session(write=False) as s:
        statuses = set(s.scalars(select(Outbox.status).distinct()))
        langs = set(s.scalars(select(Contact.language).where(Contact.kind == "women_leader")))
        logged = s.scalar(select(func.count()).select_from(LogDelivery))
    assert {"queued", "sent", "delivered", "read"} <= statuses
    assert "bam" in langs and logged and logged > 40
    with world.db.session() as s:  # a second run adds no duplicate messages
        again = add_messaging_demo(s, 1, TODAY, ["ML0207", "ML0501"])
    assert again["due_reminders"] == 0 and again["groups"] == 0
