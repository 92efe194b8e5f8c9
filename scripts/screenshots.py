"""Take the README screenshots from a demo database served locally (Debian's chromium).

    .venv/bin/krc demo --no-serve --fresh --db sqlite:///krc-demo.db
    .venv/bin/python scripts/screenshots.py --db sqlite:///krc-demo.db
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright

OUT = Path(__file__).resolve().parents[1] / "docs" / "screenshots"
ARGS = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]


def main() -> None:
    """Serve the demo, log in as its users and save the pages as PNG files."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", required=True)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args()
    env = {**os.environ, "KRC_DATABASE_URL": args.db}
    server = subprocess.Popen([sys.executable, "-m", "uvicorn", "krc.web.asgi:app", "--port",
                               str(args.port), "--log-level", "warning"], env=env)
    base = f"http://127.0.0.1:{args.port}"
    try:
        for _ in range(50):
            try:
                httpx.get(base + "/login", timeout=1)
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        OUT.mkdir(parents=True, exist_ok=True)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=ARGS)

            def login(user: str) -> object:
                page = browser.new_page(viewport={"width": 1280, "height": 900}, locale="fr-FR")
                page.goto(base + "/login")
                page.fill("input[name=username]", user)
                page.fill("input[name=password]", "demo-krc-2026")
                page.click("button[type=submit]")
                return page

            page = login("district.kati")
            page.goto(base + "/immunization/dashboard")  # type: ignore[attr-defined]
            page.screenshot(path=str(OUT / "dashboard.png"), full_page=True)  # type: ignore[attr-defined]
            page = login("national")
            page.goto(base + "/immunization/national")  # type: ignore[attr-defined]
            page.screenshot(path=str(OUT / "national.png"), full_page=False)  # type: ignore[attr-defined]
            page = login("vaccinateur.kati")
            page.goto(base + "/immunization/defaulters")  # type: ignore[attr-defined]
            page.screenshot(path=str(OUT / "defaulters.png"), full_page=False)  # type: ignore[attr-defined]
            page = login("cscom.kati")
            page.goto(base + "/stock")  # type: ignore[attr-defined]
            page.screenshot(path=str(OUT / "stock.png"), full_page=False)  # type: ignore[attr-defined]
            page = login("district.kati")
            page.goto(base + "/coldchain")  # type: ignore[attr-defined]
            alarm = page.locator("a[href^='/coldchain/equipment/']").first  # type: ignore[attr-defined]
            alarm.click()
            page.screenshot(path=str(OUT / "refrigerator.png"), full_page=True)  # type: ignore[attr-defined]
            page.goto(base + "/stock/reporters")  # type: ignore[attr-defined]
            page.screenshot(path=str(OUT / "reporters.png"), full_page=False)  # type: ignore[attr-defined]
            page.goto(base + "/outreach/microplan?org_unit=ML0207")  # type: ignore[attr-defined]
            page.screenshot(path=str(OUT / "microplan.png"), full_page=False)  # type: ignore[attr-defined]
            page.goto(base + "/nutrition/referrals")  # type: ignore[attr-defined]
            page.locator("a[href^='/nutrition/children/']").first.click()  # type: ignore[attr-defined]
            page.screenshot(path=str(OUT / "growth.png"), full_page=True)  # type: ignore[attr-defined]
            browser.close()
    finally:
        server.terminate()
        server.wait(10)
    print("screenshots written to", OUT)


if __name__ == "__main__":
    main()
