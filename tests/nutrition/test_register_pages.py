"""HTML pages of the first 1,000 days register (both databases): the growth page with its
visit form and chart, the referrals page and follow-up, the women's register, the
dashboard, scope and language; and the English catalog covers every page string."""

from __future__ import annotations

import re
import uuid
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from krc.nutrition.register import chart
from tests.conftest import PASSWORD, World, child_payload

WEB = Path(__file__).resolve().parents[2] / "src" / "krc" / "web"
REGISTER = WEB.parent / "nutrition" / "register"


def signed_in(client: TestClient, username: str) -> str:
    r = client.post("/login", data={"username": username, "password": PASSWORD},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    return csrf_of(client.get("/nutrition/women").text)


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "no csrf token on the page"
    return m.group(1)


def main_of(html: str) -> str:
    return html.split("<main>", 1)[1]


def new_child(client: TestClient, world: World, user: str = "vacc_kati", **over: Any) -> str:
    r = client.post("/api/v1/children", json=child_payload(confirm_new=True, **over),
                    headers=world.headers(user))
    assert r.status_code == 201, r.text
    return str(r.json()["id"])


def visit_form(client: TestClient, cid: str, csrf: str, **over: str) -> Any:
    data = {"csrf_token": csrf, "id": str(uuid.uuid4()), "date": "2026-03-10",
            "facility": "ML0207-C01", "weight": "6,0", "lenhei": "70", "measure": "l",
            "muac": "", **over}
    return client.post(f"/nutrition/children/{cid}/visits", data=data)


def test_growth_page_records_a_sam_visit_and_shows_the_referral(client: TestClient,
                                                                world: World) -> None:
    cid = new_child(client, world, birth_date="2025-06-01")
    csrf = signed_in(client, "vacc_kati")
    page = client.get(f"/nutrition/children/{cid}")
    assert page.status_code == 200
    assert "Nouvelle visite de suivi de croissance" in page.text
    assert 'class="growth-chart"' in page.text  # the WHO curves, even before any visit
    r = visit_form(client, cid, csrf)
    assert r.status_code == 200, main_of(r.text)
    html = main_of(r.text)
    assert "Malnutrition aiguë sévère" in html and "referral-created" in html
    assert "Programme ambulatoire (URENAS)" in html
    assert "−3,55" in html or "-3,55" in html  # z-scores at 2 decimals, French comma
    assert html.count('class="growth-chart"') == 3  # weight/age, length/age, weight/length
    assert 'class="point"' in html
    refs = client.get("/nutrition/referrals")
    assert refs.status_code == 200 and "Awa Traoré" in refs.text
    assert "Programme ambulatoire (URENAS)" in refs.text


def test_visit_form_errors_are_shown_in_the_users_language(client: TestClient,
                                                           world: World) -> None:
    cid = new_child(client, world, birth_date="2025-06-01")
    csrf = signed_in(client, "vacc_kati")
    r = visit_form(client, cid, csrf, weight="-2")
    assert r.status_code == 422
    assert "Le poids doit être supérieur à 0 kg" in r.text
    r = client.post(f"/nutrition/children/{cid}/visits?lang=en", data={
        "csrf_token": csrf, "id": str(uuid.uuid4()), "date": "2026-03-10", "lenhei": "20",
        "measure": "l"})
    assert r.status_code == 422
    assert "The length/height must be between 35 and 140 cm" in r.text
    assert "New growth-monitoring visit" in r.text
    forged = visit_form(client, cid, "forged")
    assert forged.status_code == 422 and "CSRF" in forged.text
    assert client.get(f"/api/v1/children/{cid}/growth-visits",
                      headers=world.headers("vacc_kati")).json() == []


def test_flagged_values_shown(client: TestClient, world: World) -> None:
    cid = new_child(client, world, birth_date="2025-06-01")
    csrf = signed_in(client, "vacc_kati")
    r = visit_form(client, cid, csrf, weight="25", lenhei="66", muac="140")
    assert r.status_code == 200
    html = main_of(r.text)
    assert "Valeurs signalées par l&#39;OMS" in html
    assert 'class="badge flag"' in html and 'z flagged' in html
    assert 'class="point flagged"' in html


def test_referral_follow_up_form(client: TestClient, world: World) -> None:
    cid = new_child(client, world, birth_date="2025-06-01")
    r = client.post(f"/api/v1/children/{cid}/growth-visits", headers=world.headers("vacc_kati"),
                    json={"date": "2026-03-01", "muac": 110})
    rid = r.json()["referral"]["id"]
    csrf = signed_in(client, "vacc_kati")
    page = client.get("/nutrition/referrals").text
    assert '<select name="outcome" aria-label="Issue" required><option value="">— issue —' \
        in page  # no outcome chosen for the user
    r = client.post(f"/nutrition/referrals/{rid}", data={
        "csrf_token": csrf, "step": "outcome", "outcome": "", "date": "2026-03-10"})
    assert r.status_code == 422 and "Indiquez l&#39;issue de la prise en charge" in r.text
    r = client.post(f"/nutrition/referrals/{rid}", data={
        "csrf_token": csrf, "step": "outcome", "outcome": "recovered", "date": "2026-03-10"})
    assert r.status_code == 422 and "pas été reçu" in r.text
    assert "l&#39;issue « guéri » est impossible" in r.text  # its label, not "recovered"
    assert client.get(f"/api/v1/nutrition/referrals/{rid}", headers=world.headers(
        "vacc_kati")).json()["status"] == "open"
    r = client.post(f"/nutrition/referrals/{rid}", data={
        "csrf_token": csrf, "step": "attended", "date": "2026-03-02"}, follow_redirects=False)
    assert r.status_code == 303
    r = client.post(f"/nutrition/referrals/{rid}", data={
        "csrf_token": csrf, "step": "outcome", "outcome": "recovered", "date": "2026-03-10"},
        follow_redirects=False)
    assert r.status_code == 303
    got = client.get(f"/api/v1/nutrition/referrals/{rid}",
                     headers=world.headers("vacc_kati")).json()
    assert got["status"] == "closed" and got["outcome"] == "recovered"
    closed = client.get("/nutrition/referrals?status=closed")
    assert "guéri" in closed.text


def register_woman_on_page(client: TestClient, csrf: str) -> str:
    """Register a pregnant woman through the page form; return her page's address."""
    r = client.post("/nutrition/women", data={
        "csrf_token": csrf, "id": str(uuid.uuid4()), "given_name": "Mariam",
        "family_name": "Diarra", "age_years": "24", "facility": "ML0207-C01",
        "status": "pregnant", "expected_delivery": "2026-06-20"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    return str(r.headers["location"])


def test_women_register_pages(client: TestClient, world: World) -> None:
    csrf = signed_in(client, "vacc_kati")
    url = register_woman_on_page(client, csrf)
    r = client.post(f"{url}/contacts", data={"csrf_token": csrf, "id": str(uuid.uuid4()),
                                             "date": "2026-03-01", "iron_folic_acid": "1",
                                             "muac_mm": "221"}, follow_redirects=False)
    assert r.status_code == 303
    page = client.get(url)
    assert "à risque" in page.text and "prénatal" in page.text
    bad = client.post(f"{url}/contacts", data={"csrf_token": csrf, "id": str(uuid.uuid4()),
                                               "date": "2026-03-01"})
    assert bad.status_code == 422 and "déjà enregistré" in bad.text
    baby = new_child(client, world, birth_date="2026-03-12", given_name="Fanta",
                     family_name="Diarra")
    number = client.get(f"/api/v1/children/{baby}",
                        headers=world.headers("vacc_kati")).json()["child"]["registry_number"]
    r = client.post(f"{url}/outcome", data={"csrf_token": csrf, "outcome": "live_birth",
                                            "outcome_on": "2026-03-12", "newborn": number},
                    follow_redirects=False)
    assert r.status_code == 303, r.text
    page = client.get(url)
    assert "naissance vivante" in page.text and f"/nutrition/children/{baby}" in page.text
    listing = client.get("/nutrition/women?status=breastfeeding")
    assert "Mariam Diarra" in listing.text
    missing = client.post("/nutrition/women", data={
        "csrf_token": csrf, "id": str(uuid.uuid4()), "given_name": "Awa",
        "family_name": "Koné", "facility": "ML0207-C01", "status": "pregnant",
        "expected_delivery": "2026-06-20"})
    assert missing.status_code == 422 and "date de naissance ou l" in missing.text


def test_dashboard_and_scope(client: TestClient, world: World) -> None:
    cid = new_child(client, world, birth_date="2025-06-01")
    client.post(f"/api/v1/children/{cid}/growth-visits", headers=world.headers("vacc_kati"),
                json={"date": "2026-03-01", "muac": 110, "weight": 7.0, "lenhei": 68.0})
    signed_in(client, "kati")
    page = client.get("/nutrition?period=2026Q1")
    assert page.status_code == 200
    assert re.search(r'class="monitored">1<', page.text)
    assert re.search(r'class="sam-detected">1<', page.text)
    assert "CSCom Kati Central" in page.text  # the sub-unit table
    en = client.get("/nutrition?period=2026Q1&lang=en")
    assert "children 0–23 months monitored" in en.text
    # Scope: a Mopti vaccinator sees neither Kati's child nor Kati's dashboard.
    client.cookies.clear()
    signed_in(client, "vacc_mopti")
    assert client.get(f"/nutrition/children/{cid}").status_code == 404
    assert client.get("/nutrition?org_unit=ML0207").status_code == 403
    assert client.get("/nutrition/referrals?org_unit=ML0207").status_code == 403
    # A partner reads figures but no personal page.
    client.cookies.clear()
    signed_in_partner = client.post("/login", data={"username": "partner",
                                                    "password": PASSWORD},
                                    follow_redirects=False)
    assert signed_in_partner.status_code == 303
    assert client.get("/nutrition").status_code == 200
    assert client.get(f"/nutrition/children/{cid}").status_code == 403
    assert client.get("/nutrition/women").status_code == 403
    # Not signed in: to the login page.
    client.cookies.clear()
    r = client.get("/nutrition", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/login")


def test_child_search_page(client: TestClient, world: World) -> None:
    cid = new_child(client, world, birth_date="2025-06-01")
    signed_in(client, "vacc_kati")
    r = client.get("/nutrition/children?q=Awa")
    assert f"/nutrition/children/{cid}" in r.text


def test_dashboard_shows_the_community_figures_translated(client: TestClient,
                                                          world: World) -> None:
    signed_in(client, "kati")
    fr = main_of(client.get("/nutrition?period=2026").text)
    assert "couverture des enfants de 6–23 mois" in fr and "femmes membres" in fr
    assert "Mise au sein précoce (EIBF)" in fr
    # no raw codes or JSON (keys of the figures) on the page
    for raw in ("children_6_23", "village_coverage", "{&#34;", '{"', ">iycf<", ">mnp<"):
        assert raw not in fr, raw
    en = main_of(client.get("/nutrition?period=2026&lang=en").text)
    assert "Early initiation of breastfeeding (EIBF)" in en
    assert "coverage of children 6–23 months" in en
    assert "recovered :" not in en  # no French typography in English


def test_referral_status_is_not_shadowed_by_another_catalog(client: TestClient,
                                                            world: World) -> None:
    cid = new_child(client, world, birth_date="2025-06-01")
    client.post(f"/api/v1/children/{cid}/growth-visits", headers=world.headers("vacc_kati"),
                json={"date": "2026-03-01", "muac": 110})
    signed_in(client, "vacc_kati")
    en = main_of(client.get("/nutrition/referrals?lang=en").text)
    assert "awaiting care" in en and "queued" not in en
    fr = main_of(client.get("/nutrition/referrals?lang=fr").text)
    assert "en attente de prise en charge" in fr


def test_nutrition_catalogs_are_not_shadowed() -> None:
    """Catalogs are merged, first one wins (messages.po, then by name): a nutrition message
    that an earlier catalog also translates must get the same English there."""
    from babel.messages.pofile import read_po

    folder = WEB / "locale/en/LC_MESSAGES"
    first: dict[str, tuple[str, str]] = {}
    clashes = []
    for po in sorted(folder.glob("*.po"), key=lambda f: (f.name != "messages.po", f.name)):
        with open(po, encoding="utf-8") as f:
            for m in read_po(f):
                if not m.id or not m.string:
                    continue
                key, text = str(m.id), str(m.string)
                if key in first and first[key][1] != text and po.name.startswith("nutrition"):
                    clashes.append((po.name, key, text, *first[key]))
                first.setdefault(key, (po.name, text))
    assert not clashes, clashes


def test_catalog_translates_every_nutrition_page_string() -> None:
    from babel.messages.extract import extract
    from babel.messages.pofile import read_po
    from jinja2.ext import babel_extract

    translated: set[str] = set()
    for po in sorted((WEB / "locale/en/LC_MESSAGES").glob("*.po")):
        with open(po, encoding="utf-8") as f:
            translated |= {str(m.id) for m in read_po(f) if m.id and m.string}
    used: set[str] = set()
    for path in sorted((WEB / "templates").glob("nutrition_*.html")):
        if path.name.startswith("nutrition_community"):
            continue
        with open(path, "rb") as f:
            used |= {str(m) for _, _, m, _ in babel_extract(f, ("_", "gettext"), [], {}) if m}
    with open(REGISTER / "views.py", "rb") as f:
        used |= {str(m) for _, m, _, _ in extract("python", f, keywords={
            "_": None, "N_": None, "tr": None}) if m}
    missing = sorted(m for m in used if m not in translated)
    assert not missing, f"untranslated: {missing}"


def test_immunization_card_shows_the_growth_chart_once_measured(client: TestClient,
                                                                world: World) -> None:
    cid = new_child(client, world, birth_date="2025-06-01")
    signed_in(client, "vacc_kati")
    card = client.get(f"/children/{cid}")
    assert card.status_code == 200
    assert f'href="/nutrition/children/{cid}"' in card.text  # the link is always there
    assert 'class="card growth"' not in card.text  # no chart before any measurement
    r = client.post(f"/api/v1/children/{cid}/growth-visits", headers=world.headers("vacc_kati"),
                    json={"date": "2026-03-01", "weight": 7.9, "lenhei": 68.0, "measure": "l"})
    assert r.status_code == 201, r.text
    card = client.get(f"/children/{cid}")
    html = main_of(card.text)
    assert 'class="card growth"' in html and "<svg" in html
    assert "Poids pour l" in html
    assert "Weight-for-age" in main_of(client.get(f"/children/{cid}?lang=en").text)


def test_weight_for_height_chart_from_24_months(client: TestClient, world: World) -> None:
    """From 731 days weight-for-height is read on WHO's wfh table (65–120 cm), so a child
    of 2 to 5 years gets that chart (curves of the height table), not none."""
    cid = new_child(client, world, birth_date="2023-06-01", sex="M")
    r = client.post(f"/api/v1/children/{cid}/growth-visits", headers=world.headers("vacc_kati"),
                    json={"date": "2026-03-01", "weight": 13.0, "lenhei": 112.0, "measure": "h"})
    assert r.status_code == 201, r.text
    signed_in(client, "vacc_kati")
    html = main_of(client.get(f"/nutrition/children/{cid}").text)
    assert 'data-kind="wfh"' in html and 'data-kind="wfl"' not in html
    assert "Poids pour la taille (24 à 59 mois)" in html
    svg = chart.growth_chart("wfh", 1, [chart.Point(112.0, 13.0)],
                             chart.ChartLabels("t", "x", "y"))
    assert '<circle cx=' in svg  # 112 cm is drawn: the axis goes past wfl's 110 cm
    median = dict(chart.curves("wfh", 1, 111.0, 113.0, steps=20)[0])
    assert abs(median[112.0] - 19.2439) < 1e-9  # WHO wfhanthro, boys, 112 cm: M


def test_growth_page_voids_a_visit_entered_in_error(client: TestClient, world: World) -> None:
    cid = new_child(client, world, birth_date="2025-06-01")
    csrf = signed_in(client, "vacc_kati")
    assert visit_form(client, cid, csrf, date="2026-02-10", weight="7,9").status_code == 200
    r = visit_form(client, cid, csrf)  # SAM (a typo), referral raised
    assert r.status_code == 200
    vid = re.findall(r'data-visit="([^"]+)"', r.text)[0]  # newest first
    html = main_of(r.text)
    assert "Annuler (saisie erronée)" in html
    assert f'action="/nutrition/children/{cid}/visits/{vid}/void"' in html
    url = f"/nutrition/children/{cid}/visits/{vid}/void"
    missing = client.post(url, data={"csrf_token": csrf, "reason": " "})
    assert missing.status_code == 422 and "Indiquez la raison" in missing.text
    bad = client.post(url, data={"csrf_token": "bad", "reason": "x"})
    assert bad.status_code == 422 and "visit-voided" not in bad.text  # CSRF refused
    done = client.post(url, data={"csrf_token": csrf, "reason": "poids 7,0 saisi 6,0"})
    assert done.status_code == 200, main_of(done.text)
    html = main_of(done.text)
    assert "visit-voided" in html and "poids 7,0 saisi 6,0" in html
    assert re.search(rf'class="[^"]*voided"\s+data-visit="{vid}"', html)
    assert "Visites <small>(1)</small>" in html
    assert "saisie erronée" in html  # the referral's outcome
    # Three charts (weight/age, length/age, weight/length): one point each, not two.
    assert main_of(r.text).count('class="point"') == 6
    assert html.count('class="point"') == 3
    en = main_of(client.get(f"/nutrition/children/{cid}?lang=en").text)
    assert "Voided (entered in error)" in en and "entered in error" in en
    # A reader sees the voided visit but no form.
    client.post("/logout")
    signed_in(client, "national")
    page = main_of(client.get(f"/nutrition/children/{cid}?lang=fr").text)
    assert "Annulée (saisie erronée)" in page and "visits/" not in page.split("Visites", 1)[1]


def test_correcting_a_contact_from_the_womans_page(client: TestClient, world: World) -> None:
    csrf = signed_in(client, "vacc_kati")
    url = register_woman_on_page(client, csrf)
    wid = url.rsplit("/", 1)[1]
    cid = str(uuid.uuid4())
    client.post(f"{url}/contacts", data={"csrf_token": csrf, "id": cid, "date": "2026-03-01",
                                         "muac_mm": "232"}, follow_redirects=False)
    page = client.get(url)
    assert f'action="/nutrition/women/{wid}/contacts/{cid}"' in page.text
    assert "Corriger" in page.text and "à risque" not in page.text
    # Without a reason: refused on the page, nothing changed.
    r = client.post(f"{url}/contacts/{cid}", data={"csrf_token": csrf, "date": "2026-03-01",
                                                   "muac_mm": "223"})
    assert r.status_code == 422 and "raison de la correction" in r.text
    r = client.post(f"{url}/contacts/{cid}", data={
        "csrf_token": csrf, "date": "2026-03-01", "muac_mm": "223,0",
        "reason": "PB mal saisi"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    corrected = client.get(url).text
    assert "à risque" in corrected and 'name="muac_mm" inputmode="decimal" size="5" value="223"' \
        in corrected  # the form shows 223, not 223.0
    got = client.get(f"/api/v1/nutrition/women/{wid}/contacts",
                     headers=world.headers("vacc_kati")).json()
    assert got[0]["muac_mm"] == 223 and got[0]["muac_at_risk"] is True
    # The form shows every stored value, so an emptied MUAC clears it (it was not measured),
    # while an emptied date keeps the contact's day.
    r = client.post(f"{url}/contacts/{cid}", data={
        "csrf_token": csrf, "date": "", "muac_mm": "", "ifa_tablets": "",
        "reason": "PB non mesuré"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    got = client.get(f"/api/v1/nutrition/women/{wid}/contacts",
                     headers=world.headers("vacc_kati")).json()
    assert got[0]["muac_mm"] is None and got[0]["muac_at_risk"] is None
    assert got[0]["date"] == "2026-03-01" and got[0]["ifa_tablets"] is None
    r = client.post(f"{url}/contacts/{cid}", data={
        "csrf_token": csrf, "date": "2026-03-01", "muac_mm": "223",
        "reason": "PB retrouvé"}, follow_redirects=False)
    assert r.status_code == 303, r.text
    # The CSRF token is checked (refused, nothing changed); a reader has no correction form.
    assert client.post(f"{url}/contacts/{cid}", data={
        "csrf_token": "bad", "date": "2026-03-01", "muac_mm": "240",
        "reason": "x"}).status_code == 422
    assert client.get(f"/api/v1/nutrition/women/{wid}/contacts",
                      headers=world.headers("vacc_kati")).json()[0]["muac_mm"] == 223
    signed_in(client, "partner")
    assert "Corriger" not in client.get(url).text
    english = client.get(url + "?lang=en")
    assert "Correct" not in english.text  # still no form for a reader, in English too
