"""A growth-monitoring visit in a real browser (Chromium through Playwright), on SQLite: the
visit detects SAM, the referral is created and seen on the referrals page, then followed.

Serves the app with uvicorn on a free loopback port against a copy of the test world, with
the app clock fixed to conftest.TODAY (fixtures as in tests/web/test_browser.py).
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from krc.config import Settings
from krc.db import Database
from tests.conftest import IN_CI, PASSWORD, TODAY, Template

pytestmark = pytest.mark.browser

CHROMIUM = os.environ.get("KRC_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def _unavailable(reason: str) -> None:
    if IN_CI:
        pytest.fail(f"{reason} (CI=true: the browser tests must run)")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def server(sqlite_template: Template, tmp_path: Path) -> Iterator[str]:
    """Serve the app on a loopback port over a fresh copy of the SQLite world."""
    import uvicorn

    from krc.web.app import create_app

    path = tmp_path / "krc.db"
    shutil.copy(sqlite_template.source, path)
    db = Database(f"sqlite:///{path}")
    app = create_app(Settings(database_url=db.url, secret_key="test"), db,
                     clock=lambda: TODAY)
    port = _free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                        lifespan="off"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 15
    while not srv.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(timeout=10)
    db.dispose()


@pytest.fixture
def browser() -> Iterator[Any]:
    """Yield a headless Chromium, or skip (fail in CI) when it is not installed."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _unavailable("Playwright for Python is not installed")
    if not Path(CHROMIUM).exists():
        _unavailable(f"Chromium not found at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield b
        finally:
            b.close()


def sign_in(page: Any, base: str, username: str) -> None:
    page.goto(f"{base}/login")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_load_state()
    assert "/login" not in page.url, page.content()


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
    page.click("text=Suivi de croissance d'un enfant")
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
