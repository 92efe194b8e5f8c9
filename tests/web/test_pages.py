"""HTML pages: sign-in, CSRF, scope, errors and both languages (both databases)."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from krc.web.deps import SESSION_COOKIE
from tests.conftest import PASSWORD, TODAY, World, child_payload

WEB = Path(__file__).resolve().parents[2] / "src" / "krc" / "web"


def login(client: TestClient, username: str, password: str = PASSWORD, **extra: str):
    return client.post("/login", data={"username": username, "password": password, **extra},
                       follow_redirects=False)


def signed_in(client: TestClient, username: str) -> str:
    """Sign in and return the page's CSRF token."""
    r = login(client, username)
    assert r.status_code == 303, r.text
    page = client.get("/immunization/dashboard")
    return csrf_of(page.text)


def csrf_of(html: str) -> str:
    m = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert m, "no csrf token on the page"
    return m.group(1)


def main_of(html: str) -> str:
    """Return the page's <main> (the header repeats the URL in the language switch)."""
    return html.split("<main>", 1)[1]


def register_form(client: TestClient, csrf: str, **over: object):
    body = {k: v for k, v in child_payload(**over).items() if v is not None}
    body.update(csrf_token=csrf, id=str(uuid.uuid4()))
    return client.post("/children/new", data=body, follow_redirects=False)


def new_child(client: TestClient, csrf: str, **over: object) -> str:
    r = register_form(client, csrf, **over)
    assert r.status_code == 303, r.text
    m = re.match(r"/children/([0-9a-f-]{36})", r.headers["location"])
    assert m
    return m.group(1)


# --------------------------------------------------------------------------- sign-in

def test_login_sets_httponly_lax_cookie_and_lands_home(client: TestClient, world: World) -> None:
    r = login(client, "vacc_kati")
    assert r.status_code == 303 and r.headers["location"] == "/"
    cookie = r.headers["set-cookie"]
    assert cookie.startswith(f"{SESSION_COOKIE}=")
    assert "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
    assert "secure" not in cookie.lower()
    home = client.get("/")
    assert home.status_code == 200 and "Rechercher un enfant" in home.text
    assert "vacc_kati" in home.text and "Vaccinateur" in home.text


def test_cookie_is_secure_when_configured(world: World) -> None:
    from krc.config import Settings
    from krc.web.app import create_app

    app = create_app(Settings(database_url=world.db.url, secret_key="t", secure_cookies=True),
                     world.db, clock=lambda: TODAY)
    with TestClient(app) as c:
        r = login(c, "kati")
    assert r.status_code == 303
    assert "secure" in r.headers["set-cookie"].lower()
    assert "httponly" in r.headers["set-cookie"].lower()


def test_login_failure_is_told_in_the_user_language(client: TestClient, world: World) -> None:
    r = login(client, "vacc_kati", "wrong-password")
    assert r.status_code == 401
    assert "mot de passe incorrect" in r.text
    assert SESSION_COOKIE not in r.headers.get("set-cookie", "")
    r = client.post("/login?lang=en", data={"username": "vacc_kati", "password": "nope"})
    assert r.status_code == 401 and "Wrong username or password" in r.text


def test_login_is_throttled_after_repeated_failures(client: TestClient, world: World) -> None:
    for _ in range(5):
        assert login(client, "kati", "bad-password").status_code == 401
    r = login(client, "kati")  # even the right password is refused while locked
    assert r.status_code == 429
    assert "Trop de tentatives" in r.text
    assert SESSION_COOKIE not in r.headers.get("set-cookie", "")


def test_logged_out_pages_redirect_to_login_and_back(client: TestClient, world: World) -> None:
    for path in ("/", "/children/new", "/immunization/dashboard?period=2026",
                 f"/children/{uuid.uuid4()}"):
        r = client.get(path, follow_redirects=False)
        assert r.status_code == 303, path
        assert r.headers["location"].startswith("/login?next=%2F"), path
    r = client.get("/login?next=%2Fchildren%2Fnew")
    assert 'value="/children/new"' in r.text
    r = login(client, "vacc_kati", next="/children/new")
    assert r.headers["location"] == "/children/new"
    assert login(client, "vacc_kati", next="//evil.example/x").headers["location"] == "/"


def test_partner_lands_on_dashboard(client: TestClient, world: World) -> None:
    r = login(client, "partner")
    assert r.headers["location"] == "/immunization/dashboard"


def test_logout_needs_csrf_then_closes_the_session(client: TestClient, world: World) -> None:
    csrf = signed_in(client, "vacc_kati")
    r = client.post("/logout", data={}, follow_redirects=False)
    assert r.status_code == 422 and "CSRF" in r.text
    assert client.get("/", follow_redirects=False).status_code == 200
    r = client.post("/logout", data={"csrf_token": csrf}, follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert client.get("/", follow_redirects=False).status_code == 303


def test_posts_without_csrf_token_are_refused(client: TestClient, world: World) -> None:
    signed_in(client, "vacc_kati")
    body = child_payload()
    r = client.post("/children/new", data=body, follow_redirects=False)
    assert r.status_code == 422 and "Jeton CSRF" in r.text
    r = client.post("/children/new", data={**body, "csrf_token": "forged"},
                    follow_redirects=False)
    assert r.status_code == 422
    assert "Awa" not in client.get("/").text  # nothing was registered


# --------------------------------------------------------------------------- languages

PAGES = [  # (user, path, French word, English word)
    (None, "/login", "Mot de passe", "Password"),
    ("vacc_kati", "/", "Rechercher un enfant", "Find a child"),
    ("vacc_kati", "/children/new", "Nom de famille", "Family name"),
    ("vacc_kati", "CARD", "Calendrier vaccinal", "Vaccination schedule"),
    ("vacc_kati", "/immunization/defaulters", "Imprimer", "Print"),
    ("kati", "/immunization/dashboard?period=2026", "Enfants zéro dose", "Zero-dose children"),
    ("national", "/immunization/national?period=2026", "Districts sanitaires",
     "Health districts"),
]


@pytest.mark.parametrize(("user", "path", "fr", "en"), PAGES,
                         ids=[p[1].split("?")[0] for p in PAGES])
def test_each_page_renders_in_french_and_english(client: TestClient, world: World,
                                                 user: str | None, path: str, fr: str,
                                                 en: str) -> None:
    if path == "CARD":
        csrf = signed_in(client, "vacc_kati")
        path = f"/children/{new_child(client, csrf)}"
    elif user:
        signed_in(client, user)
    r = client.get(path)
    assert r.status_code == 200, r.text
    assert r.headers["content-type"].startswith("text/html")
    assert '<html lang="fr">' in r.text and fr in r.text and en not in r.text
    sep = "&" if "?" in path else "?"
    r = client.get(f"{path}{sep}lang=en")
    assert r.status_code == 200
    assert '<html lang="en">' in r.text and en in r.text
    assert client.get(path).text.count(en) >= 1  # the choice is remembered (cookie)
    assert "lang=fr" in client.get(path).text  # and the switch offers French back


def test_catalog_translates_every_message_of_the_pages() -> None:
    from babel.messages.extract import extract
    from babel.messages.pofile import read_po
    from jinja2.ext import babel_extract

    translated: set[str] = set()
    for po in sorted((WEB / "locale/en/LC_MESSAGES").glob("*.po")):  # as i18n merges them
        with open(po, encoding="utf-8") as f:
            translated |= {str(m.id) for m in read_po(f) if m.id and m.string}
    used: set[str] = set()
    for path in sorted((WEB / "templates").glob("*.html")):
        with open(path, "rb") as f:
            used |= {m for _, _, m, _ in babel_extract(f, ("_", "gettext"), [], {}) if m}
    sources = [WEB / "views.py", WEB / "nav.py",
               *sorted((WEB.parent / "immunization").glob("*/views.py")),
               WEB.parent / "messaging" / "views.py",
               *sorted((WEB.parent / "nutrition").glob("*/views.py"))]
    for source in sources:
        with open(source, "rb") as f:
            used |= {m for _, m, _, _ in extract("python", f, keywords={"_": None, "N_": None,
                                                                        "tr": None}) if m}
    missing = sorted(m for m in used if m not in translated)
    assert not missing, f"untranslated: {missing}"


# --------------------------------------------------------------------------- scope and roles

def test_partner_sees_dashboards_but_no_personal_page(client: TestClient, world: World) -> None:
    csrf = signed_in(client, "vacc_kati")
    cid = new_child(client, csrf)
    client.cookies.clear()
    signed_in(client, "partner")
    assert client.get("/", follow_redirects=False).status_code == 303
    for path in ("/?q=Awa", f"/children/{cid}", "/immunization/defaulters",
                 "/children/new"):
        r = client.get(path)
        assert r.status_code == 403, path
        assert "Accès refusé" in r.text and "Partenaire" in r.text, path
        assert "Awa" not in main_of(r.text)
    r = client.get(f"/children/{cid}?lang=en")
    assert r.status_code == 403 and "Access denied" in r.text
    assert client.get("/immunization/dashboard").status_code == 200
    assert client.get("/immunization/national").status_code == 200


def test_vaccinator_elsewhere_gets_404_on_the_card(client: TestClient, world: World) -> None:
    csrf = signed_in(client, "vacc_kati")
    cid = new_child(client, csrf)
    client.cookies.clear()
    csrf = signed_in(client, "vacc_mopti")
    r = client.get(f"/children/{cid}")
    assert r.status_code == 404 and "Enfant introuvable" in r.text
    assert "Awa" not in main_of(r.text)
    r = client.post(f"/children/{cid}/doses", data={
        "csrf_token": csrf, "vaccine": "BCG", "dose": "1", "date": "2025-09-02",
        "facility": "ML0501-C01", "strategy": "fixed"})
    assert r.status_code == 404
    assert client.get("/children/not-a-uuid").status_code == 404
    r = client.get("/?q=Awa")
    assert "0 résultat(s)" in r.text and "Aucun enfant trouvé" in r.text
    r = client.get("/immunization/defaulters?org_unit=ML0207-C01")
    assert r.status_code == 403 and "hors de votre zone" in r.text
    assert client.get("/immunization/dashboard?org_unit=ML0207").status_code == 403


# --------------------------------------------------------------------------- forms

def test_search_by_name_phone_and_registry_number(client: TestClient, world: World) -> None:
    csrf = signed_in(client, "vacc_kati")
    cid = new_child(client, csrf)
    card = client.get(f"/children/{cid}").text
    regno = re.search(r'class="mono regno">([\d-]+)<', card).group(1)  # type: ignore[union-attr]
    for q in ("Awa Traore", "76 12 34 56", regno):
        r = client.get("/", params={"q": q})
        assert f'href="/children/{cid}"' in r.text, q
        assert regno in r.text and "CSCom Kati Central" in r.text and "Kati Coro" in r.text
    assert "Aucun enfant trouvé" in client.get("/", params={"q": "Zzyzx"}).text


def test_registration_field_errors_next_to_fields(client: TestClient, world: World) -> None:
    csrf = signed_in(client, "vacc_kati")
    r = register_form(client, csrf, given_name="", caregiver_phone="12",
                      birth_date="2026-04-01")
    assert r.status_code == 422
    assert re.search(r'id="err-given_name"[^>]*>Champ obligatoire<', r.text)
    r = register_form(client, csrf, caregiver_phone="12")
    assert r.status_code == 422 and 'id="err-caregiver_phone"' in r.text
    r = register_form(client, csrf, birth_date="2026-04-01")
    assert r.status_code == 422 and "dans le futur" in r.text
    assert 'id="err-birth_date"' in r.text
    r = client.post("/children/new?lang=en", data={
        **child_payload(given_name=""), "csrf_token": csrf})
    assert "Field required" in r.text and 'value="Traoré"' in r.text  # input kept
    client.get("/login?lang=fr")  # back to French
    r = register_form(client, csrf, facility="ML0501-C01", village=None)
    assert r.status_code == 403 and 'id="err-facility"' in r.text
    assert "hors de votre zone" in r.text


def test_duplicate_warning_then_confirmed_registration(client: TestClient,
                                                        world: World) -> None:
    csrf = signed_in(client, "vacc_kati")
    first = new_child(client, csrf)
    r = register_form(client, csrf, family_name="Traore", birth_date="2025-09-08")
    assert r.status_code == 409
    assert "Doublon probable" in r.text
    assert f'href="/children/{first}"' in r.text
    assert "enregistrer quand même" in r.text and 'name="confirm_new" value="1"' in r.text
    body = {k: v for k, v in child_payload(family_name="Traore",
                                           birth_date="2025-09-08").items()}
    form_id = re.search(r'name="id" value="([^"]+)"', r.text).group(1)  # type: ignore[union-attr]
    confirm = {**body, "csrf_token": csrf, "id": form_id, "confirm_new": "1"}
    r = client.post("/children/new", data=confirm, follow_redirects=False)
    assert r.status_code == 303
    second = r.headers["location"].split("?")[0].rsplit("/", 1)[1]
    assert second != first
    again = client.post("/children/new", data=confirm, follow_redirects=False)  # replay
    assert again.headers["location"].split("?")[0].endswith(second)
    r = client.get(f"/children/{second}?registered=1")
    assert "Enfant enregistré" in r.text


def test_duplicate_warning_in_english(client: TestClient, world: World) -> None:
    csrf = signed_in(client, "vacc_kati")
    new_child(client, csrf)
    body = {**child_payload(family_name="Traore"), "csrf_token": csrf}
    r = client.post("/children/new?lang=en", data=body)
    assert r.status_code == 409 and "Probable duplicate" in r.text
    assert "Not a duplicate: register anyway" in r.text


def card_form(cid: str, csrf: str, **over: str) -> dict[str, str]:
    data = {"csrf_token": csrf, "id": str(uuid.uuid4()), "vaccine": "BCG", "dose": "1",
            "date": "2025-09-02", "facility": "ML0207-C01", "strategy": "fixed", "lot": ""}
    data.update(over)
    return data


def test_card_shows_schedule_badges_and_records_doses(client: TestClient,
                                                      world: World) -> None:
    csrf = signed_in(client, "vacc_kati")
    cid = new_child(client, csrf)
    r = client.get(f"/children/{cid}")
    assert r.status_code == 200
    assert 'class="badge status-overdue">en retard<' in r.text
    assert "Fatoumata Traoré" in r.text and "+22376123456" in r.text
    assert 'name="csrf_token"' in r.text
    # the form proposes the first overdue dose and today's date
    assert f'value="{TODAY.isoformat()}"' in r.text
    r = client.post(f"/children/{cid}/doses", data=card_form(cid, csrf))
    assert r.status_code == 200, r.text
    assert "Dose enregistrée : BCG 1" in r.text
    assert 'class="badge status-given">donnée<' in r.text
    # errors: already recorded, date in the future, unknown dose, bad date — in fr and en
    r = client.post(f"/children/{cid}/doses", data=card_form(cid, csrf, date="2025-09-03"))
    assert r.status_code == 422 and "déjà enregistré" in r.text
    assert 'id="err-dose"' in r.text
    r = client.post(f"/children/{cid}/doses", data=card_form(cid, csrf, vaccine="PENTA",
                                                              date="2026-04-01"))
    assert r.status_code == 422 and "dans le futur" in r.text and 'id="err-date"' in r.text
    r = client.post(f"/children/{cid}/doses?lang=en",
                    data=card_form(cid, csrf, vaccine="PENTA", date="2026-04-01"))
    assert "is in the future" in r.text and "The dose was not recorded" in r.text
    client.get("/login?lang=fr")  # back to French
    r = client.post(f"/children/{cid}/doses", data=card_form(cid, csrf, vaccine="PENTA",
                                                              dose="7"))
    assert r.status_code == 422 and "PENTA n&#39;a pas de dose 7" in r.text
    r = client.post(f"/children/{cid}/doses", data=card_form(cid, csrf, date="hier"))
    assert r.status_code == 422 and "AAAA-MM-JJ" in r.text
    r = client.post(f"/children/{cid}/doses", data=card_form(cid, csrf, csrf_token=""))
    assert r.status_code == 422 and "CSRF" in r.text


def test_dose_form_offers_the_days_sessions_and_links_the_dose(client: TestClient,
                                                              world: World) -> None:
    plan = {"facility": "ML0207-C01", "date": TODAY.isoformat(), "strategy": "outreach",
            "place_type": "market", "place_name": "Marché de Kati"}
    r = client.post("/api/v1/outreach/sessions", json=plan, headers=world.headers("vacc_kati"))
    assert r.status_code == 201, r.text
    session_id = r.json()["id"]
    csrf = signed_in(client, "vacc_kati")
    cid = new_child(client, csrf)
    card = client.get(f"/children/{cid}")
    assert f'<option value="{session_id}"' in card.text and "Marché de Kati" in card.text
    # the form's strategy (fixed) gives way to the session's (outreach)
    form = {**card_form(cid, csrf, date=TODAY.isoformat()), "session": session_id,
            "strategy": "fixed"}
    r = client.post(f"/children/{cid}/doses", data=form)
    assert r.status_code == 200 and "Dose enregistrée : BCG 1" in r.text, r.text
    doses = client.get(f"/api/v1/children/{cid}", headers=world.headers("vacc_kati")).json()
    assert [(v["session"], v["strategy"]) for v in doses["vaccinations"]] == \
        [(session_id, "outreach")]
    # a vaccinator of another district sees no session of Kati in the form
    client.cookies.clear()
    csrf = signed_in(client, "vacc_mopti")
    other = new_child(client, csrf, facility="ML0501-C01", village="ML0501-C01-V01")
    card = client.get(f"/children/{other}")
    assert card.status_code == 200 and 'name="vaccine"' in card.text
    assert session_id not in card.text and 'name="session"' not in card.text


def test_dose_address_reloaded_or_switched_goes_back_to_the_card(client: TestClient,
                                                                  world: World) -> None:
    csrf = signed_in(client, "vacc_kati")
    cid = new_child(client, csrf)
    r = client.get(f"/children/{cid}/doses?lang=en", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == f"/children/{cid}?lang=en"
    assert "Vaccination schedule" in client.get(f"/children/{cid}/doses?lang=en").text


def test_early_dose_is_kept_invalid_and_flagged(client: TestClient, world: World) -> None:
    csrf = signed_in(client, "vacc_kati")
    cid = new_child(client, csrf)
    r = client.post(f"/children/{cid}/doses", data=card_form(
        cid, csrf, vaccine="PENTA", dose="1", date="2025-09-20"))  # at 19 days: too early
    assert r.status_code == 200
    assert "Dose enregistrée mais invalide" in r.text
    assert '<tr class="invalid">' in r.text


def test_replayed_dose_form_changes_nothing(client: TestClient, world: World) -> None:
    csrf = signed_in(client, "vacc_kati")
    cid = new_child(client, csrf)
    data = card_form(cid, csrf)
    assert "Dose enregistrée" in client.post(f"/children/{cid}/doses", data=data).text
    r = client.post(f"/children/{cid}/doses", data=data)
    assert r.status_code == 200 and "déjà enregistrée (envoi répété)" in r.text
    history = r.text.split("Doses enregistrées")[1].split("Enregistrer une dose")[0]
    assert history.count("<td>BCG</td>") == 1


# --------------------------------------------------------------------------- lists and dashboards

def test_defaulter_list_groups_children_and_counts_zero_dose(client: TestClient,
                                                             world: World) -> None:
    csrf = signed_in(client, "vacc_kati")
    late = new_child(client, csrf, given_name="Moussa", family_name="Coulibaly", sex="M",
                     birth_date="2025-06-01", caregiver_phone="76 00 00 01")
    new_child(client, csrf, given_name="Bintou", family_name="Keita", birth_date="2026-03-10",
              caregiver_phone="76 00 00 02", village="ML0207-C01-V02")  # too young to be late
    r = client.get("/immunization/defaulters?org_unit=ML0207-C01&on=2026-03-16")
    assert r.status_code == 200
    assert f'href="/children/{late}"' in r.text and "Bintou" not in r.text
    assert "Aire de santé</h2>" not in r.text  # headings carry the names
    assert "Aire de santé : CSCom Kati Central" in r.text and "Village : Kati Coro" in r.text
    assert "1 enfant(s) à rattraper" in r.text and "dont 1 zéro dose" in r.text
    assert 'class="badge zero-dose"' in r.text and "PENTA1" in r.text
    assert "9 mois" in r.text  # age on the session day
    assert "@media print" in client.get("/static/krc.css").text
    assert "window.print" in client.get("/static/krc.js").text
    # once the overdue doses are recorded the child leaves the list
    card = client.get(f"/children/{late}").text
    overdue = re.findall(r"\?vaccine=(\w+)&amp;dose=(\d)#record", card)
    assert overdue
    for vaccine, dose in overdue:
        r = client.post(f"/children/{late}/doses", data=card_form(
            late, csrf, vaccine=vaccine, dose=dose, date=TODAY.isoformat()))
        assert r.status_code == 200, r.text
    r = client.get("/immunization/defaulters?org_unit=ML0207-C01&on=2026-03-16")
    assert "Moussa" not in r.text and "Aucun enfant en retard" in r.text
    r = client.get("/immunization/defaulters?on=demain")
    assert r.status_code == 422 and "AAAA-MM-JJ" in r.text


def cumulative(html: str, dose: str) -> str:
    m = re.search(rf'data-dose="{dose}">.*?class="num cumulative">([^<]*)<', html, re.S)
    assert m, dose
    return m.group(1)


def test_dashboard_shows_chart_dropout_quadrant_and_facilities(client: TestClient,
                                                               world: World) -> None:
    csrf = signed_in(client, "vacc_kati")
    cid = new_child(client, csrf, birth_date="2025-06-01")
    for vaccine, dose in (("PENTA", "1"), ("MCV", "1")):
        client.post(f"/children/{cid}/doses", data=card_form(
            cid, csrf, vaccine=vaccine, dose=dose, date="2026-03-10"))
    client.cookies.clear()
    signed_in(client, "kati")
    r = client.get("/immunization/dashboard")  # defaults: own district, current year
    assert r.status_code == 200
    assert "Kati" in r.text and "(district sanitaire, 2026)" in r.text
    assert r.text.count("<svg") >= 2 and "<polyline" in r.text
    assert cumulative(r.text, "PENTA1") == "1" and cumulative(r.text, "MCV1") == "1"
    assert "PENTA1 → PENTA3" in r.text and "négatif" not in r.text
    assert "CSCom Kati Central" in r.text and "CSCom Diago" in r.text
    assert 'href="/immunization/dashboard?org_unit=ML0207-C01&amp;period=2026"' in r.text
    assert "Catégories RED/REC" in r.text and "Registre : sans PENTA" in r.text
    r = client.get("/immunization/dashboard?org_unit=ML0207-C01&period=2026Q1")
    assert r.status_code == 200 and "2026Q1" in r.text
    assert 'href="/immunization/dashboard?org_unit=ML0207&amp;period=2026Q1"' in r.text
    r = client.get("/immunization/dashboard?period=26")
    assert r.status_code == 422 and "Période invalide" in r.text
    r = client.get("/immunization/dashboard?org_unit=ML0501")
    assert r.status_code == 403


def test_national_ranking_highlights_priority_districts(client: TestClient,
                                                        world: World) -> None:
    signed_in(client, "national")
    r = client.get("/immunization/national?period=2026")
    assert r.status_code == 200
    rows = re.findall(r'<tr class="(priority)?">\s*<td class="num">([^<]*)<', r.text)
    # Kati and Mopti have targets, so zero-dose children: ranked and priority. The other
    # districts (no target, no dose in this world) are listed unranked, never priority.
    assert len(rows) > 11 and rows[:2] == [("priority", "1 "), ("priority", "2 ")]
    assert set(rows[2:]) == {("", "—")}
    assert "ne sont pas classés" in r.text
    assert 'href="/immunization/dashboard?org_unit=ML0207&amp;period=2026"' in r.text
    assert "Les 11 premiers districts sont prioritaires" in r.text
    r = client.get("/immunization/national?period=2026&basis=register&lang=en")
    assert r.status_code == 200 and "Priority districts" in r.text
    # No district has a zero-dose child in its register here: all listed, none ranked.
    rows = re.findall(r'<tr class="(priority)?">\s*<td class="num">([^<]*)<', r.text)
    assert len(rows) > 11 and set(rows) == {("", "—")} and "not ranked" in r.text
    signed_in(client, "national")
    r = client.get("/immunization/dashboard?period=2026")
    assert "District ranking" in r.text or "Classement des districts" in r.text


def test_district_defaulter_page_summarises_by_health_area(client: TestClient,
                                                            world: World) -> None:
    csrf = signed_in(client, "vacc_kati")
    new_child(client, csrf, given_name="Moussa", family_name="Coulibaly", sex="M",
              birth_date="2025-06-01", caregiver_phone="76 00 00 01")
    client.post("/logout", data={"csrf_token": csrf})
    signed_in(client, "kati")
    r = client.get("/immunization/defaulters?org_unit=ML0207&on=2026-03-16")
    assert r.status_code == 200
    # a district sees each CSCom's counts and a link to its list, not tens of thousands of rows
    assert 'href="/immunization/defaulters?org_unit=ML0207-C01&amp;on=2026-03-16"' in r.text
    assert "Moussa" not in r.text and "1 enfant(s) à rattraper" in r.text


def test_large_answers_are_compressed_for_slow_links(client: TestClient, world: World) -> None:
    signed_in(client, "vacc_kati")
    page = client.get("/immunization/defaulters?org_unit=ML0207-C01", headers={
        "Accept-Encoding": "gzip"})
    assert page.status_code == 200 and page.headers["content-encoding"] == "gzip"
    assert "Enfants en retard" in page.text  # decoded as the browser would
    plain = client.get("/immunization/defaulters?org_unit=ML0207-C01", headers={
        "Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers and plain.text == page.text
    css = client.get("/static/krc.css", headers={"Accept-Encoding": "gzip"})
    assert css.headers["content-encoding"] == "gzip"
    # A small API answer (under 1 KB) is sent as it is: compressing it costs more than it saves.
    me = client.get("/api/v1/me", headers={**world.headers("vacc_kati"),
                                           "Accept-Encoding": "gzip"})
    assert me.status_code == 200 and "content-encoding" not in me.headers


def test_a_search_with_more_children_than_listed_says_so(client: TestClient, world: World,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from krc.web import views
    monkeypatch.setattr(views, "SEARCH_PAGE", 2)
    for given in ("Awa", "Fanta", "Kadia"):
        r = client.post("/api/v1/children", json=child_payload(
            given_name=given, family_name="Sangaré", confirm_new=True),
            headers=world.headers("vacc_kati"))
        assert r.status_code == 201, r.text
    signed_in(client, "vacc_kati")
    page = client.get("/", params={"q": "Sangare", "lang": "fr"}).text
    assert "Plus de 2 enfants pour « Sangare » : seuls les 2 premiers sont listés" in page
    assert len(set(re.findall(r'<a href="/children/([0-9a-f-]{36})"', page))) == 2
    page = client.get("/", params={"q": "Kadia Sangare"}).text
    assert "1 résultat(s) pour « Kadia Sangare »" in page and "Plus de" not in page
