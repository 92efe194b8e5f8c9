"""The navigation: sections by role, the current section's pages, the org unit kept."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from krc.web.nav import SECTIONS, navigation
from tests.conftest import World
from tests.web.test_pages import signed_in

VACCINATOR = {"personal": True, "write": True, "wide": False, "messaging": False}
PARTNER = {"personal": False, "write": False, "wide": True, "messaging": False}
NATIONAL = {"personal": True, "write": False, "wide": True, "messaging": True}


def _labels(nav: list[dict[str, Any]]) -> list[str]:
    return [s["label"] for s in nav]


def _current(nav: list[dict[str, Any]]) -> tuple[str, str | None]:
    section = next(s for s in nav if s["current"])
    page = next((link["label"] for link in section["links"] if link["current"]), None)
    return section["label"], page


def test_sections_follow_the_role() -> None:
    assert navigation("/", None) == []
    assert _labels(navigation("/", VACCINATOR)) == ["Vaccination", "Stocks et froid",
                                                    "Nutrition"]
    assert _labels(navigation("/", NATIONAL)) == ["Vaccination", "Stocks et froid",
                                                  "Nutrition", "Messages"]
    # A partner reads no personal record: no search, no defaulters, no women's register;
    # the vaccination section opens on the dashboard.
    nav = navigation("/immunization/dashboard", PARTNER)
    vaccination = nav[0]
    assert vaccination["href"] == "/immunization/dashboard"
    assert [link["href"] for link in vaccination["links"]] == [
        "/immunization/dashboard", "/immunization/national", "/outreach"]
    nutrition = navigation("/nutrition", PARTNER)[2]
    assert "/nutrition/women" not in [link["href"] for link in nutrition["links"]]


def test_the_current_page_is_the_most_specific_owner() -> None:
    cases = {
        "/": ("Vaccination", "Rechercher"),
        "/children/5f0c1d2e-0000-4000-8000-000000000000": ("Vaccination", "Rechercher"),
        "/children/new": ("Vaccination", "Enregistrer un enfant"),
        "/immunization/defaulters": ("Vaccination", "Enfants en retard"),
        "/outreach/sessions/abc": ("Vaccination", "Séances"),
        "/outreach/microplan": ("Vaccination", "Séances"),
        "/stock/reporters": ("Stocks et froid", "Stocks"),
        "/coldchain/equipment/DTR-9": ("Stocks et froid", "Chaîne du froid"),
        "/nutrition": ("Nutrition", "Tableau de bord"),
        "/nutrition/women/abc": ("Nutrition", "Femmes"),
        "/nutrition/groups": ("Nutrition", "GASPA"),
    }
    for path, expected in cases.items():
        assert _current(navigation(path, VACCINATOR)) == expected, path
    # Only the current section shows its pages; a one-page section shows none.
    nav = navigation("/messaging", NATIONAL)
    assert [bool(s["links"]) for s in nav] == [False, False, False, False]
    assert not any(s["current"] for s in navigation("/nutritionx", VACCINATOR))
    # Every page belongs to exactly one section.
    hrefs = [link.href for section in SECTIONS for link in section.links]
    assert len(hrefs) == len(set(hrefs))


def test_the_pages_of_a_section_keep_the_org_unit() -> None:
    nav = navigation("/nutrition/groups", VACCINATOR, "ML0207")
    hrefs = [link["href"] for link in nav[2]["links"]]
    assert "/nutrition/mnp?org_unit=ML0207" in hrefs and "/nutrition?org_unit=ML0207" in hrefs
    search = navigation("/", VACCINATOR, "ML0207")[0]["links"][0]
    assert search["href"] == "/"  # the search page takes no org unit


def test_pages_render_the_sections(client: TestClient, world: World) -> None:
    signed_in(client, "vacc_kati")
    html = client.get("/nutrition/groups?org_unit=ML0207-C01&lang=fr").text
    main_nav = html.split('class="main-nav"', 1)[1].split("</nav>", 1)[0]
    assert 'href="/nutrition" aria-current="true">Nutrition</a>' in main_nav
    assert "Messages" not in main_nav  # a vaccinator does not manage messaging
    sub_nav = html.split('class="sub-nav"', 1)[1].split("</nav>", 1)[0]
    assert 'href="/nutrition/groups?org_unit=ML0207-C01" aria-current="page">GASPA' in sub_nav
    assert html.count('class="sub-nav"') == 1
    english = client.get("/nutrition/groups?lang=en").text
    assert ">Stock and cold chain</a>" in english and ">Support groups</a>" in english
    assert "Key Results for Children" in english
