"""Pages of community nutrition: support groups, micronutrient powders, IYCF indicators, in
French and English, with their forms, CSRF and scope (both databases)."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from krc.accounts.models import AuditEvent
from tests.conftest import PASSWORD, World, child_payload

WEB = Path(__file__).resolve().parents[2] / "src" / "krc" / "web"


def signed_in(client: TestClient, username: str) -> str:
    r = client.post("/login", data={"username": username, "password": PASSWORD},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    page = client.get("/nutrition/groups")
    m = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert m
    return m.group(1)


def main_of(html: str) -> str:
    return html.split("<main>", 1)[1]


def registered_child(client: TestClient, csrf: str) -> tuple[str, str]:
    r = client.post("/api/v1/children", json={**child_payload(), "confirm_new": True},
                    headers={"X-CSRF-Token": csrf})
    assert r.status_code == 201, r.text
    return str(r.json()["id"]), str(r.json()["registry_number"])


def test_logged_out_pages_go_to_login(client: TestClient, world: World) -> None:
    for path in ("/nutrition/groups", "/nutrition/mnp", "/nutrition/iycf",
                 f"/nutrition/groups/{uuid.uuid4()}"):
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].startswith("/login"), path


def test_group_pages_create_member_session_in_both_languages(client: TestClient,
                                                              world: World) -> None:
    csrf = signed_in(client, "vacc_kati")
    page = client.get("/nutrition/groups")
    assert page.status_code == 200 and "Créer un groupe" in page.text
    assert "Kati Coro" in page.text and "Komoguel" not in main_of(page.text)
    r = client.post("/nutrition/groups", data={"csrf_token": csrf, "id": str(uuid.uuid4()),
                                               "village": "ML0207-C01-V01",
                                               "founded_on": "2025-10-01"},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    group_url = r.headers["location"]
    r = client.post(group_url, data={"csrf_token": csrf, "action": "member",
                                     "id": str(uuid.uuid4()), "name": "Kadiatou Diarra",
                                     "role": "role_model", "sex": "F",
                                     "joined_on": "2025-10-01"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    page = client.get(group_url)
    member = re.search(r'name="present" value="([0-9a-f-]{36})"', page.text)
    assert member and "Kadiatou Diarra" in page.text and "Mère modèle" in page.text
    r = client.post(group_url, data={"csrf_token": csrf, "action": "session",
                                     "id": str(uuid.uuid4()), "date": "2026-03-12",
                                     "topics": ["breastfeeding", "hygiene"],
                                     "present": [member.group(1)]}, follow_redirects=False)
    assert r.status_code == 303, r.text
    page = client.get(group_url)
    assert "Allaitement maternel, Hygiène" in page.text
    en = client.get(group_url + "?lang=en")
    assert "Role-model mother" in en.text and "Breastfeeding, Hygiene" in en.text
    listed = client.get("/nutrition/groups?lang=fr")
    assert "GASPA Kati Coro" in listed.text and "50,0" in listed.text  # 1 of 2 villages
    # errors come back on the page, in the user's language
    r = client.post(group_url, data={"csrf_token": csrf, "action": "session",
                                     "date": "2026-03-12"})
    assert r.status_code == 422 and "Indiquez au moins un thème" in r.text
    r = client.post(group_url, data={"csrf_token": "wrong", "action": "member",
                                     "name": "X"})
    assert r.status_code == 422 and "CSRF" in r.text


def test_group_page_scope_and_roles(client: TestClient, world: World) -> None:
    csrf = signed_in(client, "vacc_kati")
    r = client.post("/nutrition/groups", data={"csrf_token": csrf, "village": "ML0207-C01-V02"},
                    follow_redirects=False)
    group_url = r.headers["location"]
    r = client.post("/nutrition/groups", data={"csrf_token": csrf, "village": "ML0501-C01-V01"})
    assert r.status_code == 403  # a Mopti village from Kati
    assert client.get(group_url).status_code == 200
    with world.db.session() as s:  # the page shows members' names and phones: audited
        assert s.scalar(select(func.count()).select_from(AuditEvent).where(
            AuditEvent.action == "read", AuditEvent.entity == "support_group",
            AuditEvent.entity_id == group_url.rsplit("/", 1)[1])) == 1
    client.post("/logout", data={"csrf_token": csrf})
    signed_in(client, "vacc_mopti")
    assert client.get(group_url).status_code == 404
    client.cookies.clear()
    signed_in(client, "partner")
    assert client.get(group_url).status_code == 403
    page = client.get("/nutrition/groups?org_unit=ML0207")
    assert page.status_code == 200 and "Sébénikoro" in page.text
    assert "Créer un groupe" not in page.text


def test_mnp_page_stock_distribution_followup(client: TestClient, world: World) -> None:
    csrf = signed_in(client, "vacc_kati")
    _cid, number = registered_child(client, csrf)
    base = {"csrf_token": csrf}
    r = client.post("/nutrition/mnp", data={**base, "action": "stock", "facility": "ML0207-C01",
                                            "kind": "receipt", "quantity": "200",
                                            "date": "2026-03-01"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    r = client.post("/nutrition/mnp", data={**base, "action": "distribution", "child": number,
                                            "date": "2026-03-10", "sachets": "30"},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    r = client.post("/nutrition/mnp", data={**base, "action": "followup", "child": number,
                                            "date": "2026-03-15", "round": "1",
                                            "consumed": "27"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    page = client.get("/nutrition/mnp?org_unit=ML0207-C01&period=202603")
    assert page.status_code == 200
    assert "Fiche de stock" in page.text and "170" in page.text
    assert "30,0" in page.text  # adherence 27 ÷ 90
    r = client.post("/nutrition/mnp", data={**base, "action": "distribution",
                                            "child": "123", "date": "2026-03-10",
                                            "sachets": "30"})
    assert r.status_code == 422 and "numéro" in r.text.lower()
    r = client.post("/nutrition/mnp?lang=en", data={**base, "action": "distribution",
                                                    "child": number, "date": "2026-03-11",
                                                    "sachets": "61"})
    assert r.status_code == 422 and "at most 90 per 6-month round" in r.text
    assert "Micronutrient powders" in r.text


def test_iycf_page_import_and_recall(client: TestClient, world: World) -> None:
    csrf = signed_in(client, "vacc_kati")
    _cid, number = registered_child(client, csrf)
    text = ("row_id;org_unit;date;age_months;breastfed;other_liquids\n"
            "A1;ML0207-C01-V01;2026-02-01;2;1;0\nA2;ML0207-C01-V02;2026-02-01;4;1;1\n")
    r = client.post("/nutrition/iycf", data={"csrf_token": csrf, "action": "import",
                                             "survey": "ENQ-1"},
                    files={"file": ("enquete.csv", text.encode(), "text/csv")})
    assert r.status_code == 200 and "2 lignes, 2 nouvelles" in r.text
    bad = text.replace("2026-02-01;4", "2026-02-01;40")
    r = client.post("/nutrition/iycf", data={"csrf_token": csrf, "action": "import",
                                             "survey": "ENQ-2"},
                    files={"file": ("enquete.csv", bad.encode(), "text/csv")})
    assert r.status_code == 422 and "Ligne 3, colonne age_months" in r.text
    r = client.post("/nutrition/iycf", data={"csrf_token": csrf, "action": "recall",
                                             "child": number, "date": "2026-03-15",
                                             "breastfed": "1", "grains": "1",
                                             "solid_feeds": "2", "early_bf": "1"})
    assert r.status_code == 200 and "Rappel enregistré" in r.text
    page = client.get("/nutrition/iycf?org_unit=ML0207-C01&period=2026")
    assert "Allaitement exclusif 0–5 mois (EBF)" in page.text
    assert "50,0" in page.text and "3 rappels" in page.text
    en = client.get("/nutrition/iycf?org_unit=ML0207-C01&period=2026&lang=en")
    assert "Exclusive breastfeeding 0–5 months (EBF)" in en.text and "50.0%" in en.text


def test_catalog_translates_every_community_message() -> None:
    from babel.messages.extract import extract
    from babel.messages.pofile import read_po
    from jinja2.ext import babel_extract

    with open(WEB / "locale/en/LC_MESSAGES/nutrition_community.po", encoding="utf-8") as f:
        translated = {str(m.id) for m in read_po(f) if m.id and m.string}
    used: set[str] = set()
    for path in sorted((WEB / "templates").glob("nutrition_community_*.html")):
        with open(path, "rb") as f:
            used |= {m for _, _, m, _ in babel_extract(f, ("_", "gettext"), [], {}) if m}
    with open(WEB.parent / "nutrition" / "community" / "views.py", "rb") as f:
        used |= {m for _, m, _, _ in extract("python", f, keywords={"_": None, "N_": None})
                 if m}
    assert len(used) > 100
    assert sorted(used - translated) == []
