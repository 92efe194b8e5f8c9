"""Stock pages: facility card with the transaction form, district table, completeness,
French by default and English switchable (both databases)."""

from __future__ import annotations

import re
import uuid
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import PASSWORD, World


def signed_in(client: TestClient, username: str) -> str:
    r = client.post("/login", data={"username": username, "password": PASSWORD},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    page = client.get("/stock")
    m = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert m
    return m.group(1)


def record(client: TestClient, csrf: str, **over: str) -> Any:
    body = {"csrf_token": csrf, "id": str(uuid.uuid4()), "facility": "ML0207-C01",
            "product": "PENTA", "kind": "receipt", "quantity": "200", "date": "2026-03-01",
            "reason": "", "note": ""}
    body.update(over)
    return client.post("/stock/transactions", data=body)


def test_facility_page_and_form(client: TestClient, world: World) -> None:
    assert client.get("/stock", follow_redirects=False).status_code == 303  # to /login
    csrf = signed_in(client, "vacc_kati")
    page = client.get("/stock")
    assert page.status_code == 200
    assert "Stocks de vaccins — CSCom Kati Central" in page.text
    assert "Aucun mouvement de stock enregistré." in page.text
    assert 'href="/static/stock.css"' in page.text
    r = record(client, csrf)
    assert r.status_code == 200, r.text
    assert "Mouvement enregistré : Réception PENTA 200" in r.text
    r = record(client, csrf, kind="count", quantity="190", date="2026-03-10")
    assert "Écart avec le solde théorique : -10 doses." in r.text
    r = record(client, csrf, product="PENTO")
    assert r.status_code == 422
    assert "Produit inconnu : PENTO" in r.text
    r = record(client, csrf, quantity="-4")
    assert r.status_code == 422
    # 190 doses counted on 10 March: using 200 on the 11th is refused on the page
    r = record(client, csrf, kind="consumption", quantity="200", date="2026-03-11")
    assert r.status_code == 422
    assert "Stock insuffisant de PENTA à CSCom Kati Central le 2026-03-11 : il manque 10" \
        in r.text
    r = record(client, "bad-token")
    assert r.status_code == 422 and "CSRF" in r.text
    card = client.get("/stock", params={"product": "PENTA"})
    assert "Fiche de stock PENTA" in card.text and "Inventaire physique" in card.text
    en = client.get("/stock", params={"product": "PENTA", "lang": "en"})
    assert "Vaccine stock — CSCom Kati Central" in en.text
    assert "PENTA stock card" in en.text and "Physical count" in en.text
    assert "Record a transaction" in en.text


def test_district_table_and_scope(client: TestClient, world: World) -> None:
    csrf = signed_in(client, "vacc_kati")
    record(client, csrf)
    client.post("/logout", data={"csrf_token": csrf})
    signed_in(client, "kati")
    page = client.get("/stock")
    assert page.status_code == 200
    assert "Situation des stocks — Kati" in page.text
    assert 'href="/stock?facility=ML0207-C01&amp;product=PENTA"' in page.text
    assert "CSCom Diago" in page.text and "Rapport manquant" in page.text
    assert client.get("/stock", params={"org_unit": "ML0501"}).status_code == 403
    assert client.get("/stock", params={"facility": "ML0207-C01"}).status_code == 200
    comp = client.get("/stock/completeness", params={"period": "202602"})
    assert comp.status_code == 200 and "Promptitude" in comp.text
    assert "Manquant" in comp.text
    assert client.get("/stock/completeness", params={"period": "2026"}).status_code == 422


def test_national_view_by_district(client: TestClient, world: World) -> None:
    signed_in(client, "partner")
    page = client.get("/stock")
    assert page.status_code == 200
    assert 'href="/stock?org_unit=ML0207' in page.text
    assert "Enregistrer un mouvement" not in client.get(
        "/stock", params={"facility": "ML0207-C01"}).text
    comp = client.get("/stock/completeness", params={"lang": "en"})
    assert "Timeliness" in comp.text and "Health district" in comp.text


def test_late_report_label_and_month_shown_as_month(client: TestClient, world: World) -> None:
    """English pages say Late (not the outreach catalog's "Defaulters") for a late report,
    and months read MM/YYYY, not the YYYYMM code."""
    csrf = signed_in(client, "vacc_kati")
    record(client, csrf)  # data of 01/03 close February; received 16/03, after the 5th
    page = client.get("/stock")
    client.post("/logout", data={"csrf_token": csrf})
    assert "Rapport manquant" not in page.text
    signed_in(client, "kati")
    en = client.get("/stock/completeness", params={"period": "202602", "lang": "en"})
    row = re.search(r"CSCom Kati Central</a></td>\s*<td>(.*?)</td>", en.text, re.S)
    assert row and "Late" in row.group(1) and "Defaulters" not in row.group(1), en.text
    fr = client.get("/stock/completeness", params={"period": "202602", "lang": "fr"})
    assert "En retard" in fr.text
    status = client.get("/stock")
    assert "Rapports manquants (02/2026)" in status.text and "202602" not in status.text
    facility = client.get("/stock", params={"facility": "ML0207-C02"})
    assert "Rapport manquant (02/2026)" in facility.text


def reporters_csrf(client: TestClient, username: str) -> str:
    signed_in(client, username)
    page = client.get("/stock/reporters")
    m = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert m
    return m.group(1)


def test_reporters_page_add_deactivate_reactivate(client: TestClient, world: World) -> None:
    """A district manager registers the phones allowed to send stock SMS, sees when each
    last reported, and deactivates or reactivates them; errors name the field."""
    csrf = reporters_csrf(client, "kati")
    page = client.get("/stock/reporters")
    assert page.status_code == 200
    assert "Rapporteurs SMS de stock — Kati" in page.text
    assert "Aucun rapporteur enregistré." in page.text
    assert '<option value="ML0207-C01"' in page.text
    body = {"csrf_token": csrf, "org_unit": "ML0207", "facility": "ML0207-C01",
            "name": "Moussa Keïta", "phone": "76 12 34 56", "language": "bam"}
    r = client.post("/stock/reporters", data=body)
    assert r.status_code == 200, r.text
    assert "Rapporteur enregistré : +22376123456." in r.text
    assert "Moussa Keïta" in r.text and "bambara" in r.text and "Actif" in r.text
    bad = client.post("/stock/reporters", data={**body, "phone": "12"})
    assert bad.status_code == 422
    assert "Le rapporteur n&#39;a pas été enregistré" in bad.text
    assert 'id="err-phone"' in bad.text and 'value="12"' in bad.text
    missing = client.post("/stock/reporters", data={**body, "phone": "77 00 00 01", "name": ""})
    assert missing.status_code == 422 and 'id="err-name"' in missing.text
    assert client.post("/stock/reporters", data={**body, "csrf_token": "x"}).status_code == 422
    rid = re.search(r'action="/stock/reporters/(\d+)/active"', r.text)
    assert rid
    off = client.post(f"/stock/reporters/{rid.group(1)}/active",
                      data={"csrf_token": csrf, "org_unit": "ML0207", "active": "0"},
                      follow_redirects=False)
    assert off.status_code == 303 and off.headers["location"] == \
        "/stock/reporters?org_unit=ML0207"
    listed = client.get("/stock/reporters")
    assert "Désactivé" in listed.text and "Réactiver" in listed.text
    client.post(f"/stock/reporters/{rid.group(1)}/active",
                data={"csrf_token": csrf, "org_unit": "ML0207", "active": "1"})
    assert "Désactiver" in client.get("/stock/reporters").text
    en = client.get("/stock/reporters", params={"lang": "en"})
    assert "SMS stock reporters — Kati" in en.text and "Last SMS received" in en.text
    assert 'href="/stock/reporters?org_unit=ML0207"' in client.get("/stock").text


def test_reporters_page_scope_and_roles(client: TestClient, world: World) -> None:
    csrf = reporters_csrf(client, "kati")
    assert client.get("/stock/reporters", params={"org_unit": "ML0501"}).status_code == 403
    r = client.post("/stock/reporters", data={
        "csrf_token": csrf, "org_unit": "ML0207", "facility": "ML0501-C01", "name": "X",
        "phone": "76 00 00 02", "language": "fra"})
    assert r.status_code in (403, 404, 422) and "+22376000002" not in r.text
    client.post("/logout", data={"csrf_token": csrf})
    signed_in(client, "vacc_kati")
    assert client.get("/stock/reporters").status_code == 403
    assert "Rapporteurs SMS" not in client.get("/stock").text
