"""A growth-monitoring visit in a real browser (Chromium through Playwright), on SQLite: the
visit detects SAM, the referral is created and seen on the referrals page, then followed.

Serves the app with uvicorn on a free loopback port against a copy of the test world, with
the app clock fixed to conftest.TODAY (fixtures `server` and `browser` in tests/conftest.py).
"""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.conftest import sign_in

pytestmark = pytest.mark.browser


def test_growth_visit_detects_sam_and_creates_a_referral(server: str, browser: Any) -> None:
    base = server
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR")
    page = ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    sign_in(page, base, "vacc_kati")

    # 1. register a 9-month-old girl in the immunization register
    page.goto(f"{base}/children/new")
    page.fill("input[name=given_name]", "Kadiatou")
    page.fill("input[name=family_name]", "Sangaré")
    page.select_option("select[name=sex]", "F")
    page.fill("input[name=birth_date]", "2025-06-01")
    page.fill("input[name=caregiver_name]", "Oumou Sangaré")
    page.select_option("select[name=facility]", "ML0207-C01")
    page.click("button.primary[type=submit]")
    page.wait_for_url(re.compile(r"/children/[0-9a-f-]{36}"))
    child_id = page.url.split("?")[0].rsplit("/", 1)[1]

    # 2. find her from the nutrition pages and open her growth page
    page.goto(f"{base}/nutrition")
    page.click("nav.sub-nav >> text=Suivi de croissance")
    page.fill("input[name=q]", "Kadiatou Sangaré")
    page.click("button[type=submit] >> text=Rechercher")
    page.click("a:has-text('Kadiatou Sangaré')")
    page.wait_for_url(f"{base}/nutrition/children/{child_id}")
    assert page.locator("svg.growth-chart").count() >= 1

    # 3. the visit: 6.0 kg, 70 cm lying, MUAC 110 mm → SAM (zwfl < −3 and MUAC < 115)
    page.fill("input[name=date]", "2026-03-10")
    page.fill("input[name=weight]", "6,0")
    page.fill("input[name=lenhei]", "70")
    page.select_option("select[name=measure]", "l")
    page.fill("input[name=muac]", "110")
    page.check("input[name=counselling]")
    page.click(".visit-form button[type=submit]")
    page.wait_for_load_state()
    result = page.locator(".visit-result")
    assert "Malnutrition aiguë sévère" in result.inner_text(), page.content()
    assert "Programme ambulatoire (URENAS)" in result.inner_text()
    row = page.locator("table.visits tr.nutrition-sam")
    assert row.count() == 1
    assert "−3,55" in row.inner_text() or "-3,55" in row.inner_text()
    assert page.locator("svg.growth-chart[data-kind=wfl] circle.point").count() == 1

    # 4. the referral is on the referrals page; the child attends the OTP
    page.click("text=Voir les références")
    page.wait_for_url(re.compile(r"/nutrition/referrals"))
    ref = page.locator("tr.referral", has_text="Kadiatou Sangaré")
    assert ref.count() == 1
    assert "Programme ambulatoire (URENAS)" in ref.inner_text()
    assert "en attente" in ref.locator("td.rstatus").inner_text()
    ref.locator("button", has_text="Reçu au service").click()
    page.wait_for_load_state()
    ref = page.locator("tr.referral", has_text="Kadiatou Sangaré")
    assert "reçu" in ref.locator("td.rstatus").inner_text()

    # 5. in English on request
    page.click("a.lang")
    assert page.locator("h1", has_text="Nutrition referrals").is_visible()
    assert not errors, errors
    ctx.close()
