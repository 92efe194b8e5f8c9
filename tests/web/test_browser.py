"""A vaccinator's day in a real browser (Chromium through Playwright), on SQLite.

Serves the app with uvicorn on a free loopback port against a copy of the test world, with
the app clock fixed to conftest.TODAY (fixtures `server` and `browser` in tests/conftest.py). Set
KRC_SCREENSHOTS=1 to refresh the README's screenshots in docs/screenshots/.
"""

from __future__ import annotations

import os
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import TODAY, Template, sign_in

pytestmark = pytest.mark.browser

SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"


def fill_child(page: Any, given: str, family: str) -> None:
    page.fill("input[name=given_name]", given)
    page.fill("input[name=family_name]", family)
    page.select_option("select[name=sex]", "M")
    page.fill("input[name=birth_date]", "2025-06-01")
    page.fill("input[name=caregiver_name]", "Aminata Coulibaly")
    page.fill("input[name=caregiver_phone]", "76 55 44 33")
    page.select_option("select[name=facility]", "ML0207-C01")
    page.select_option("select[name=village]", "ML0207-C01-V01")


def penta1_cumulative(page: Any) -> int:
    text = page.inner_text('tr[data-dose="PENTA1"] td.cumulative')
    return int(re.sub(r"\D", "", text) or 0)


def shoot(page: Any, name: str) -> None:
    """Save the README's child card (KRC_SCREENSHOTS=1); scripts/screenshots.py takes the
    others from the district demo, whose figures read better than this small world's."""
    if os.environ.get("KRC_SCREENSHOTS") == "1":
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / name), full_page=True)


def test_vaccinator_journey(server: str, browser: Any) -> None:
    base = server
    district = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR")
    board = district.new_page()
    sign_in(board, base, "kati")
    board.goto(f"{base}/immunization/dashboard?org_unit=ML0207&period={TODAY.year}")
    before = penta1_cumulative(board)

    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR")
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, base, "vacc_kati")

    # 1. register a child born more than 9 months ago: several doses are overdue
    page.click("text=Enregistrer un enfant")
    fill_child(page, "Moussa", "Coulibaly")
    page.click("button.primary[type=submit]")
    page.wait_for_url(re.compile(r"/children/[0-9a-f-]{36}"))
    assert "Enfant enregistré" in page.inner_text(".alert.success")
    card_url = page.url.split("?")[0]
    assert page.locator("h1").inner_text().startswith("Moussa Coulibaly")

    # 2. the same child again, spelt differently: a duplicate warning with a link to the card
    page.goto(f"{base}/children/new")
    fill_child(page, "Mousa", "Koulibaly")
    page.click("button.primary[type=submit]")
    warning = page.locator("section.duplicate")
    assert warning.is_visible()
    assert "Doublon probable" in warning.inner_text()
    assert warning.locator(f'a[href="{card_url.removeprefix(base)}"]').count() >= 1
    assert page.locator("text=Ce n'est pas un doublon : enregistrer quand même").is_visible()

    # 3. the defaulter list of the outreach day shows the child, zero-dose
    page.goto(f"{base}/immunization/defaulters?org_unit=ML0207-C01&on={TODAY.isoformat()}")
    row = page.locator("table.defaulters tr", has_text="Moussa Coulibaly")
    assert row.count() == 1
    assert row.locator(".zero-dose").is_visible()
    assert page.locator("button[data-print]").is_visible()
    page.emulate_media(media="print")
    assert not page.locator("header.top").is_visible()  # the print stylesheet applies
    assert not page.locator("button[data-print]").is_visible()
    page.emulate_media(media="screen")

    # 4. a dose dated tomorrow is refused: the page comes back with the error in view, far
    # down the card, and the cursor in the date field
    row.locator("a").first.click()
    page.wait_for_url(card_url)
    page.locator("tr.row-overdue a").first.click()
    page.wait_for_load_state()
    page.fill("#record input[name=date]", (TODAY + timedelta(days=1)).isoformat())
    page.click("#record button[type=submit]")
    page.wait_for_load_state()
    assert "futur" in page.inner_text("#record .field-error")
    assert page.evaluate("""() => {
        const r = document.querySelector('#record .field-error').getBoundingClientRect();
        return r.top >= 0 && r.bottom <= window.innerHeight; }""")
    assert page.evaluate("() => document.activeElement.name") == "date"
    assert page.evaluate("() => window.scrollY") > 0
    page.goto(card_url)

    # 5. record every overdue dose from the card
    recorded = 0
    while page.locator("tr.row-overdue a").count() and recorded < 12:
        page.locator("tr.row-overdue a").first.click()
        page.wait_for_load_state()
        page.fill("input[name=lot]", f"LOT-{recorded + 1}")
        page.click("#record button[type=submit]")
        page.wait_for_load_state()
        assert "Dose enregistrée" in page.inner_text(".alert"), page.content()
        recorded += 1
    assert recorded >= 2
    assert page.locator("tr.row-overdue").count() == 0
    assert page.locator(".badge.status-given").count() >= recorded
    shoot(page, "child-card.png")

    # 6. the child has left the defaulter list
    page.goto(f"{base}/immunization/defaulters?org_unit=ML0207-C01&on={TODAY.isoformat()}")
    assert page.locator("table.defaulters tr", has_text="Moussa Coulibaly").count() == 0

    # 7. the district dashboard counts the new doses
    board.reload()
    assert penta1_cumulative(board) == before + 1
    assert board.locator("svg.line-chart polyline").count() >= 1
    assert board.locator("svg.quadrant").is_visible()

    # 8. English on request
    board.click("a.lang")
    assert board.locator("h2", has_text="Zero-dose children").is_visible()
    assert not errors, errors
    ctx.close()
    district.close()


def heat_trace_csv(day: Any) -> bytes:
    """Return a 30-DTR style CSV of one day at 10-minute steps with 11 h above +8 °C."""
    lines = ["Date/Heure;Température"]
    for step in range(24 * 6):
        hour, minute = divmod(step * 10, 60)
        celsius = "9,5" if 2 <= hour < 13 else "4,5"
        lines.append(f"{day:%d/%m/%Y} {hour:02d}:{minute:02d};{celsius}")
    return ("\n".join(lines) + "\n").encode()


def test_stock_and_cold_chain_pages(server: str, browser: Any,
                                    sqlite_template: Template) -> None:
    import httpx

    base = server
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR")
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    # 1. the CSCom's vaccinator records a receipt and the doses used: the balance follows
    sign_in(page, base, "vacc_kati")
    page.click("nav.main-nav >> text=Stocks et froid")  # opens on the stock page
    page.wait_for_load_state()
    for kind, quantity in (("receipt", "200"), ("consumption", "20")):
        page.select_option("select[name=product]", "BCG")
        page.select_option("select[name=kind]", kind)
        page.fill("input[name=quantity]", quantity)
        page.fill("input[name=date]", TODAY.isoformat())
        page.click("form[action='/stock/transactions'] button[type=submit]")
        page.wait_for_load_state()
        assert "Mouvement enregistré" in page.inner_text(".alert.success"), page.content()
    bcg = page.locator("table.stock-lines tr", has_text="BCG")
    assert "180" in bcg.inner_text()
    ctx.close()

    # 2. the district team sees the facility in its stock status table
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR")
    page = ctx.new_page()
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, base, "kati")
    page.goto(f"{base}/stock?org_unit=ML0207")
    row = page.locator("table.stock-status tr", has_text="BCG")
    assert row.count() >= 1 and "180" in row.first.inner_text()

    # 3. a solar refrigerator with its recorder, registered through the API
    token = sqlite_template.tokens["kati"]
    r = httpx.post(f"{base}/api/v1/coldchain/equipment", headers={
        "Authorization": f"Bearer {token}"}, json={
        "serial": "SDD-KATI-9", "type": "solar_direct_drive", "facility": "ML0207-C01",
        "device": "DTR-9", "model": "VLS 094A"})
    assert r.status_code == 201, r.text

    # 4. the recorder's CSV file, uploaded from the refrigerator's page, raises a heat alarm
    page.goto(f"{base}/coldchain/equipment/SDD-KATI-9")
    page.set_input_files("form.upload-form input[name=file]", files=[{
        "name": "dtr-9.csv", "mimeType": "text/csv",
        "buffer": heat_trace_csv(TODAY - timedelta(days=1))}])
    page.click("form.upload-form button[type=submit]")
    page.wait_for_load_state()
    assert page.locator("table.alarms .badge.cc-heat").count() == 1, page.content()
    assert page.locator("svg rect.band").count() >= 1
    assert page.locator("svg .span.heat").count() >= 1

    # 5. the refrigerator needs repair: its status and history change
    page.select_option("form.status-form select[name=status]", "needs_repair")
    page.fill("form.status-form input[name=note]", "thermostat défectueux")
    page.click("form.status-form button[type=submit]")
    page.wait_for_load_state()
    assert "thermostat défectueux" in page.content()

    # 6. the district's cold-chain page lists the alarm
    page.click("nav.main-nav >> text=Stocks et froid")
    page.wait_for_load_state()
    page.click("nav.sub-nav >> text=Chaîne du froid")
    page.wait_for_load_state()
    assert "DTR-9" in page.inner_text("main")
    assert not errors, errors
    ctx.close()
