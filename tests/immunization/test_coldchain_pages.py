"""Cold-chain pages (French and English, CSRF, scope, forms), the CLI, the demo hook, the SVG
trace and the catalog (both databases where storage is involved)."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from typer.testing import CliRunner

from krc.cli import app
from krc.geo.models import FACILITY
from krc.geo.queries import unit_by_code
from krc.geo.services import add_unit
from krc.immunization.coldchain import csvformat, queries
from krc.immunization.coldchain.chart import Span, reduce, trace_svg
from krc.immunization.coldchain.demo import add_coldchain_demo
from krc.immunization.coldchain.models import ColdChainAlarm, Equipment, SolarTarget
from krc.immunization.coldchain.rules import functionality_rate, split_target
from tests.conftest import PASSWORD, World

WEB = Path(__file__).resolve().parents[2] / "src" / "krc" / "web"
runner = CliRunner()
DAY = datetime(2026, 3, 15, tzinfo=UTC)


def signed_in(client: TestClient, username: str) -> str:
    r = client.post("/login", data={"username": username, "password": PASSWORD},
                    follow_redirects=False)
    assert r.status_code == 303
    page = client.get("/coldchain")
    m = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert m
    return m.group(1)


def seed(client: TestClient, world: World) -> None:
    body = {"serial": "SDD-KATI-1", "type": "solar_direct_drive", "facility": "ML0207-C01",
            "device": "DTR-1", "model": "VLS 094A"}
    assert client.post("/api/v1/coldchain/equipment", json=body,
                       headers=world.headers("kati")).status_code == 201
    rows = [{"at": (DAY + timedelta(minutes=m)).isoformat(), "celsius": 9.5 if m >= 120 else 5.0}
            for m in range(0, 13 * 60, 10)]
    r = client.post("/api/v1/coldchain/readings", json={"device": "DTR-1", "readings": rows},
                    headers=world.headers("kati"))
    assert r.status_code == 200 and r.json()["open_alarms"]


# ---------------------------------------------------------------- pages

def test_home_in_french_and_english(client: TestClient, world: World) -> None:
    seed(client, world)
    signed_in(client, "kati")
    r = client.get("/coldchain")
    assert r.status_code == 200
    main = r.text.split("<main>", 1)[1]
    assert "Alarmes en cours" in main and "Alarme chaleur" in main and "DTR-1" in main
    assert "Taux de fonctionnalité" in main and "100,0" in main
    assert "/static/coldchain.css" in r.text
    en = client.get("/coldchain?lang=en").text.split("<main>", 1)[1]
    assert "Open alarms" in en and "Heat alarm" in en and "Alarmes en cours" not in en
    assert client.get("/coldchain?org_unit=ML0501").status_code == 403


def test_national_sees_solar_progress(client: TestClient, world: World) -> None:
    seed(client, world)
    signed_in(client, "national")
    main = client.get("/coldchain").text.split("<main>", 1)[1]
    assert "Réfrigérateurs solaires installés et cible" in main
    assert "1 installés sur une cible de 2" in main.replace("\u202f", " ").replace("\xa0", " ")


def test_energy_source_is_shown_in_the_users_language(client: TestClient, world: World) -> None:
    body = {"serial": "SDD-KATI-7", "type": "solar_direct_drive", "facility": "ML0207-C01",
            "energy_source": "solar"}
    assert client.post("/api/v1/coldchain/equipment", json=body,
                       headers=world.headers("kati")).status_code == 201
    signed_in(client, "kati")
    fr = client.get("/coldchain/equipment/SDD-KATI-7").text
    assert "<dd>solaire</dd>" in fr and "<dd>solar</dd>" not in fr
    assert "<dd>solar</dd>" in client.get("/coldchain/equipment/SDD-KATI-7?lang=en").text


def test_equipment_page_trace_status_form_and_upload(client: TestClient, world: World) -> None:
    seed(client, world)
    csrf = signed_in(client, "kati")
    r = client.get("/coldchain/equipment/SDD-KATI-1")
    assert r.status_code == 200
    assert "<svg" in r.text and 'class="band"' in r.text and 'class="span heat"' in r.text
    assert "en cours" in r.text  # the open heat alarm
    no_csrf = client.post("/coldchain/equipment/SDD-KATI-1/status",
                          data={"status": "needs_repair"}, follow_redirects=False)
    assert no_csrf.status_code == 422 and "CSRF" in no_csrf.text
    bad = client.post("/coldchain/equipment/SDD-KATI-1/status",
                      data={"status": "broken", "csrf_token": csrf})
    assert bad.status_code == 422 and "field-error" in bad.text
    ok = client.post("/coldchain/equipment/SDD-KATI-1/status",
                     data={"status": "needs_repair", "note": "fuite", "csrf_token": csrf},
                     follow_redirects=False)
    assert ok.status_code == 303
    page = client.get(ok.headers["location"])
    assert "Statut enregistré." in page.text and "fuite" in page.text
    csv_text = "Date/Heure;Température\n15/03/2026 13:00;4,0\n15/03/2026 13:10;4,1\n"
    up = client.post("/coldchain/devices/DTR-1/upload", data={"csrf_token": csrf},
                     files={"file": ("dtr.csv", csv_text.encode(), "text/csv")},
                     follow_redirects=False)
    assert up.status_code == 303, up.text
    assert "2 nouvelle(s) lecture(s)" in client.get(up.headers["location"]).text
    wrong = client.post("/coldchain/devices/DTR-1/upload", data={"csrf_token": csrf},
                        files={"file": ("x.csv", b"Date;Temp\n15/03/2026;abc\n", "text/csv")})
    assert wrong.status_code == 422 and "Ligne 2" in wrong.text


def test_pages_respect_scope_and_role(client: TestClient, world: World) -> None:
    seed(client, world)
    csrf = signed_in(client, "vacc_mopti")
    assert client.get("/coldchain/equipment/SDD-KATI-1").status_code == 404
    r = client.post("/coldchain/equipment/SDD-KATI-1/status",
                    data={"status": "functional", "csrf_token": csrf})
    assert r.status_code == 404
    client.cookies.clear()
    csrf = signed_in(client, "partner")
    page = client.get("/coldchain/equipment/SDD-KATI-1")
    assert page.status_code == 200 and "Changer le statut" not in page.text
    r = client.post("/coldchain/equipment/SDD-KATI-1/status",
                    data={"status": "functional", "csrf_token": csrf})
    assert r.status_code == 403
    client.cookies.clear()
    assert client.get("/coldchain", follow_redirects=False).status_code == 303


def test_catalog_translates_every_coldchain_message() -> None:
    from babel.messages.extract import extract
    from babel.messages.pofile import read_po
    from jinja2.ext import babel_extract

    known: set[str] = set()
    for name in ("messages.po", "coldchain.po"):
        with open(WEB / "locale/en/LC_MESSAGES" / name, encoding="utf-8") as f:
            known |= {str(m.id) for m in read_po(f) if m.id and m.string}
    used: set[str] = set()
    for path in sorted((WEB / "templates").glob("coldchain_*.html")):
        with open(path, "rb") as f:
            used |= {str(m) for _, _, m, _ in babel_extract(f, ("_", "gettext"), [], {}) if m}
    views = WEB.parent / "immunization" / "coldchain" / "views.py"
    with open(views, "rb") as f:
        used |= {str(m) for _, m, _, _ in extract("python", f, keywords={
            "_": None, "N_": None, "tr": None}) if m}
    assert used and not sorted(used - known)


# ---------------------------------------------------------------- CLI

def test_cli_import_alarms_settings_scan_targets(world: World, tmp_path: Path,
                                                  client: TestClient) -> None:
    seed(client, world)
    url = world.db.url
    f = tmp_path / "dtr.csv"
    f.write_text("timestamp,temperature\n2026-03-15T13:00:00Z,-1.0\n2026-03-15T14:10:00Z,4\n",
                 encoding="utf-8")
    r = runner.invoke(app, ["coldchain", "import-csv", str(f), "--device", "DTR-1",
                            "--user", "kati", "--db", url])
    assert r.exit_code == 0, r.output
    assert "2 lectures reçues, 2 nouvelles" in r.output
    r = runner.invoke(app, ["coldchain", "import-csv", str(f), "--device", "DTR-1",
                            "--user", "vacc_mopti", "--db", url])
    assert r.exit_code == 1 and "introuvable" in r.output
    r = runner.invoke(app, ["coldchain", "alarms", "--org-unit", "ML0207", "--db", url])
    assert r.exit_code == 0 and "heat" in r.output and "DTR-1" in r.output
    r = runner.invoke(app, ["coldchain", "settings", "--set", "heat_minutes=abc", "--db", url])
    assert r.exit_code == 1 and "heat_minutes" in r.output
    r = runner.invoke(app, ["coldchain", "settings", "--set", "heat_minutes=900", "--db", url])
    assert r.exit_code == 0 and "heat_minutes = 900" in r.output
    with world.db.session() as s:  # 11 h 10 of heat is no longer an alarm at 15 h
        live = s.scalars(select(ColdChainAlarm).where(ColdChainAlarm.type == "heat",
                                                      ColdChainAlarm.withdrawn.is_(False)))
        assert list(live) == []
    r = runner.invoke(app, ["coldchain", "scan", "--db", url])
    assert r.exit_code == 0 and "aucune donnée" in r.output
    targets = tmp_path / "targets.csv"
    with world.db.session() as s:
        region = unit_by_code(s, "ML0207")
        parent = s.get(type(region), region.parent_id)
        assert parent is not None
        region_code = parent.code
    targets.write_text(f"region,target\n{region_code},250\n", encoding="utf-8")
    r = runner.invoke(app, ["coldchain", "load-targets", str(targets), "--db", url])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["coldchain", "load-targets", "--db", url])
    assert r.exit_code == 0 and "total 2000" in r.output
    with world.db.session() as s:
        assert sum(t.target for t in s.scalars(select(SolarTarget))) == 2000


# ---------------------------------------------------------------- demo

def test_demo_hook_makes_real_alarms(world: World) -> None:
    with world.db.session() as s:
        kati = unit_by_code(s, "ML0207")
        for i in range(3, 6):
            add_unit(s, f"ML0207-C0{i}", f"CSCom démo {i}", FACILITY, kati)
    codes = ["ML0207-C01", "ML0207-C02", "ML0501-C01", "ML0207-C03", "ML0207-C04",
             "ML0207-C05"]
    with world.db.session() as s:
        counts = add_coldchain_demo(s, 7, date(2026, 3, 16), codes, max_devices=6)
    assert counts["equipment"] == 6 and counts["devices"] == 6
    assert counts["readings"] > 6 * 4000
    with world.db.session() as s:
        rows = s.execute(select(ColdChainAlarm.type, ColdChainAlarm.duration_minutes,
                                ColdChainAlarm.end)).all()
        assert s.scalar(select(Equipment).where(Equipment.serial == "EQ-ML0207-C01-1"))
        assert sum(t.target for t in s.scalars(select(SolarTarget))) == 2000
        notices = queries.alarms_to_notify(s)
    by_type: dict[str, list[tuple[int, object]]] = {}
    for kind, minutes, end in rows:
        by_type.setdefault(kind, []).append((minutes, end))
    assert any(m >= 600 and end is not None for m, end in by_type["heat"])  # day-20 fault
    assert any(m >= 600 and end is None for m, end in by_type["heat"])  # still open
    assert [m for m, _ in by_type["freeze"]] == [90]  # the 40-minute freeze is no alarm
    assert len(by_type["data_gap"]) == 1 and len(by_type["no_data"]) == 1
    assert len(notices) == len(rows)
    with world.db.session() as s:  # a second run changes nothing (natural keys)
        again = add_coldchain_demo(s, 7, date(2026, 3, 16), codes, max_devices=6)
    assert again["readings"] == 0 and again["alarms"] == counts["alarms"]


# ---------------------------------------------------------------- pure helpers

def test_split_target_is_proportional_and_exact() -> None:
    assert split_target(2000, {"A": 2, "B": 1}) == {"A": 1333, "B": 667}
    assert split_target(10, {"A": 0, "B": 0}) == {"A": 5, "B": 5}
    assert split_target(2000, {}) == {}
    assert sum(split_target(2000, {str(i): i for i in range(11)}).values()) == 2000
    with pytest.raises(ValueError):
        split_target(-1, {"A": 1})


@pytest.mark.parametrize("functional,installed,rate", [(0, 0, None), (3, 4, 75.0),
                                                       (2, 3, 66.7), (5, 5, 100.0)])
def test_functionality_rate(functional: int, installed: int, rate: float | None) -> None:
    assert functionality_rate(functional, installed) == rate


def test_trace_svg_is_light_and_breaks_at_gaps() -> None:
    t0 = 1_773_000_000
    times = t0 + np.arange(4320, dtype=np.int64) * 600
    temps = 5 + np.sin(np.arange(4320) / 20.0)
    temps[1000] = 12.0
    rt, rc = reduce(times, temps, 200)
    assert rt.size <= 400 and 12.0 in rc
    gap = np.concatenate([times[:100], times[200:]])
    svg = trace_svg(gap, np.concatenate([temps[:100], temps[200:]]), int(times[0]),
                    int(times[-1]), [Span("heat", int(times[50]), int(times[90]))], "T <x>",
                    "none")
    assert svg.count("<polyline") == 2 and "T &lt;x&gt;" in svg and len(svg) < 40_000
    empty = trace_svg(np.zeros(0, dtype=np.int64), np.zeros(0), t0, t0 + 86400, [], "T", "vide")
    assert "vide" in empty


@pytest.mark.parametrize("text,expected", [
    ("2026-03-15T08:00:00Z", 1773561600), ("2026-03-15 08:00", 1773561600),
    ("15/03/2026 08:00", 1773561600), ("15/03/2026 08:00:30", 1773561630),
    ("2026-03-15T09:00:00+01:00", 1773561600)])
def test_csv_time_formats(text: str, expected: int) -> None:
    assert csvformat.parse_time(text) == expected


def test_csv_separators_and_columns() -> None:
    t, c = csvformat.parse_csv("Date\tHeure\tTempérature °C\n15/03/2026\t08:00\t4,5 °C\n")
    assert t.tolist() == [1773561600] and c.tolist() == [4.5]
    t, c = csvformat.parse_csv('"Timestamp","Temp (°C)"\n"2026-03-15T08:00:00Z","-0,5"\n')
    assert c.tolist() == [-0.5]
    with pytest.raises(Exception) as exc:
        csvformat.parse_csv("timestamp;temperature\n")
    assert getattr(exc.value, "code", "") == "csv_empty"
    with pytest.raises(Exception) as exc:
        csvformat.parse_csv("timestamp;temperature\n2026-03-15T08:00:00Z\n")
    assert getattr(exc.value, "code", "") == "csv_missing_column"
    with pytest.raises(Exception) as exc:
        csvformat.parse_csv("timestamp;temperature\n2026-03-15T08:00:00Z;nan\n")
    assert getattr(exc.value, "code", "") == "csv_bad_temperature"
