"""Outreach pages: sessions list and planning form, session report, micro-plan; CSRF, scope
and both languages (both databases)."""

from __future__ import annotations

import re
import uuid

from fastapi.testclient import TestClient

from tests.conftest import PASSWORD, World, child_payload


def signed_in(client: TestClient, username: str) -> str:
    """Sign in and return a CSRF token from the sessions page."""
    r = client.post("/login", data={"username": username, "password": PASSWORD},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    m = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/outreach").text)
    assert m
    return m.group(1)


def main_of(html: str) -> str:
    return html.split("<main>", 1)[1]


def form(csrf: str, **over: object) -> dict[str, object]:
    data: dict[str, object] = {
        "csrf_token": csrf, "id": str(uuid.uuid4()), "facility": "ML0207-C01",
        "date": "2026-03-20", "strategy": "outreach", "place_type": "market",
        "place_name": "Marché de Kati", "latitude": "", "longitude": "",
        "villages": ["ML0207-C01-V01"], "notes": ""}
    data.update(over)
    return data


def plan(client: TestClient, csrf: str, **over: object) -> str:
    r = client.post("/outreach", data=form(csrf, **over), follow_redirects=False)
    assert r.status_code == 303, r.text
    m = re.match(r"/outreach/sessions/([0-9a-f-]{36})$", r.headers["location"])
    assert m
    return m.group(1)


def test_pages_need_sign_in(client: TestClient, world: World) -> None:
    for url in ("/outreach", "/outreach/microplan", f"/outreach/sessions/{uuid.uuid4()}"):
        r = client.get(url, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login"), url


def test_plan_from_the_page_and_see_it(client: TestClient, world: World) -> None:
    csrf = signed_in(client, "vacc_kati")
    page = main_of(client.get("/outreach").text)
    assert "Planifier une séance" in page and "Kati Coro" in page
    sid = plan(client, csrf)
    page = main_of(client.get("/outreach").text)
    assert f"/outreach/sessions/{sid}" in page and "Marché de Kati" in page
    assert "Séances à venir" in page
    detail = main_of(client.get(f"/outreach/sessions/{sid}").text)
    assert "Rapport de la séance" in detail and "prévue" in detail
    assert "Aucune dose enregistrée" in detail
    en = main_of(client.get(f"/outreach/sessions/{sid}?lang=en").text)
    assert "Session report" in en and "planned" in en and "Market" in en
    en_list = main_of(client.get("/outreach?lang=en").text)
    assert "Vaccination sessions" in en_list and "Plan a session" in en_list
    # replaying the form (same id) lands on the same session
    r = client.post("/outreach", data=form(csrf, id=sid), follow_redirects=False)
    assert r.headers["location"] == f"/outreach/sessions/{sid}"


def test_form_errors_are_shown_by_field(client: TestClient, world: World) -> None:
    csrf = signed_in(client, "vacc_kati")
    r = client.post("/outreach", data=form(csrf, place_type=""))
    assert r.status_code == 422
    assert "Indiquez le type de lieu" in r.text and 'value="Marché de Kati"' in r.text
    r = client.post("/outreach", data=form(csrf, latitude="abc"))
    assert r.status_code == 422 and 'class="field-error"' in r.text
    r = client.post("/outreach?lang=en", data=form(csrf, latitude="95", longitude="-8"))
    assert r.status_code == 422 and "Latitude out of range" in r.text
    r = client.post("/outreach", data=form("wrong"))
    assert r.status_code == 422 and "CSRF" in r.text
    r = client.post("/outreach", data=form(csrf, facility="ML0207-C02"))
    assert r.status_code == 403  # another CSCom: the friendly error page


def test_change_session_from_its_page(client: TestClient, world: World) -> None:
    csrf = signed_in(client, "vacc_kati")
    sid = plan(client, csrf, date="2026-03-16")
    r = client.post(f"/outreach/sessions/{sid}", data={"csrf_token": csrf, "action":
                                                       "reschedule", "date": "2026-03-23"},
                    follow_redirects=False)
    assert r.status_code == 303
    page = main_of(client.get(f"/outreach/sessions/{sid}").text)
    assert "23/03/2026" in page
    r = client.post(f"/outreach/sessions/{sid}", data={"csrf_token": csrf, "action": "held"})
    assert r.status_code == 422 and "ne peut pas être déjà tenue" in r.text
    r = client.post(f"/outreach/sessions/{sid}", data={"csrf_token": csrf,
                                                       "action": "cancelled"},
                    follow_redirects=False)
    assert r.status_code == 303
    assert "annulée" in main_of(client.get(f"/outreach/sessions/{sid}").text)
    r = client.post(f"/outreach/sessions/{sid}", data={"csrf_token": "x", "action": "planned"})
    assert r.status_code == 422 and "CSRF" in r.text


def test_scope_and_read_only_roles(client: TestClient, world: World) -> None:
    csrf = signed_in(client, "vacc_kati")
    sid = plan(client, csrf)
    client.post("/logout", data={"csrf_token": csrf})
    signed_in(client, "vacc_mopti")
    assert client.get(f"/outreach/sessions/{sid}").status_code == 404
    assert client.get("/outreach?org_unit=ML0207").status_code == 403
    assert sid not in client.get("/outreach").text
    client.cookies.clear()
    signed_in(client, "partner")
    page = main_of(client.get("/outreach?org_unit=ML0207").text)
    assert sid in page and "Planifier une séance" not in page
    assert "Modifier la séance" not in client.get(f"/outreach/sessions/{sid}").text


def test_microplan_page(client: TestClient, world: World) -> None:
    csrf = signed_in(client, "vacc_kati")
    r = client.post("/children/new", data={**child_payload(), "csrf_token": csrf,
                                           "id": str(uuid.uuid4())}, follow_redirects=False)
    assert r.status_code == 303
    plan(client, csrf, date="2026-03-25")
    page = main_of(client.get("/outreach/microplan").text)
    assert "Micro-plan" in page and "CSCom Kati Central" in page
    assert "Awa Traoré" in page and "zéro dose" in page and "Marché de Kati" in page
    assert "aucune séance prévue" not in page
    en = main_of(client.get("/outreach/microplan?lang=en").text)
    assert "Next sessions" in en
    client.cookies.clear()
    signed_in(client, "kati")
    district = main_of(client.get("/outreach/microplan").text)
    assert "CSCom Diago" in district and "Awa Traoré" not in district
    assert "aucune séance prévue" in district
    r = client.get("/outreach/microplan?on=hier")
    assert r.status_code == 422
    client.cookies.clear()
    signed_in(client, "national")
    assert client.get("/outreach/microplan").status_code == 422
    assert "Awa Traoré" in client.get("/outreach/microplan?org_unit=ML0207-C01").text


def test_outreach_catalog_translates_every_message() -> None:
    from pathlib import Path

    from babel.messages.extract import extract
    from babel.messages.pofile import read_po
    from jinja2.ext import babel_extract

    web = Path(__file__).resolve().parents[2] / "src" / "krc" / "web"
    folder = web / "locale/en/LC_MESSAGES"
    known: set[str] = set()
    for name in ("messages.po", "outreach.po"):
        with open(folder / name, encoding="utf-8") as f:
            known |= {m.id for m in read_po(f) if m.id and m.string}
    used: set[str] = set()
    for path in sorted((web / "templates").glob("outreach_*.html")):
        with open(path, "rb") as f:
            used |= {m for _, _, m, _ in babel_extract(f, ("_", "gettext"), [], {}) if m}
    views = web.parent / "immunization" / "outreach" / "views.py"
    with open(views, "rb") as f:
        used |= {m for _, m, _, _ in extract("python", f, keywords={"_": None, "N_": None,
                                                                    "tr": None}) if m}
    assert len(used) > 60
    assert sorted(used - known) == []
