"""Synthetic cold chain for the demo: equipment at every facility, solar targets, and 30 days
of 10-minute readings for a bounded number of devices with real alarms (reference §5).

Every write goes through `services` (one write path), acting as a national-scope "demo" user.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from krc.accounts.roles import Actor
from krc.geo.models import COUNTRY, OrgUnit
from krc.immunization.coldchain import services
from krc.immunization.coldchain.models import ColdChainAlarm
from krc.immunization.coldchain.schemas import EquipmentCreate

MODELS = {
    "solar_direct_drive": ("E003/070", "Vestfrost VLS 094A SDD"),
    "ice_lined": ("E003/044", "Vestfrost MK 304"),
    "absorption": ("E003/022", "Dometic RCW 50 EG"),
    "freezer": ("E003/059", "Vestfrost MF 314"),
}
ENERGY = {"solar_direct_drive": "solar", "ice_lined": "electricity", "absorption": "gas",
          "freezer": "electricity"}
STEP_MIN = 10
DAYS = 30


def _actor(session: Session) -> Actor:
    root = session.scalar(select(OrgUnit).where(OrgUnit.level == COUNTRY,
                                                OrgUnit.hierarchy == "health"))
    assert root is not None, "load the org units first"
    return Actor(None, "demo", "admin", root.id, root.path)


def trace_for(scenario: str, rng: np.random.Generator, n: int) -> np.ndarray:
    """Return n readings (°C) every 10 min: a daily cycle around 5 °C with noise, and the
    scenario's excursions (positions in readings; 6 per hour)."""
    minutes = np.arange(n) * STEP_MIN
    temps = 4.8 + 1.3 * np.sin(2 * np.pi * (minutes / 1440.0 - 0.3)) + rng.normal(0, 0.25, n)
    temps = np.clip(temps, 2.2, 7.8)
    hour = 6
    if scenario == "heat":  # solar panel fault: 14 h above 8 °C on day 20
        s = 20 * 24 * hour + 8 * hour
        temps[s:s + 14 * hour] = 9.0 + 2.5 * np.sin(np.linspace(0, np.pi, 14 * hour))
    elif scenario == "freeze":  # ice packs against vials: 90 min at -1.5 °C on day 12
        s = 12 * 24 * hour + 5 * hour
        temps[s:s + 9] = -1.5 + rng.normal(0, 0.2, 9)
    elif scenario == "short":  # door left open: 3 h peaks, never 10 h in a row
        for day in (3, 9, 15, 22, 27):
            s = day * 24 * hour + 13 * hour
            temps[s:s + 3 * hour] = 9.5
        s = 18 * 24 * hour + 2 * hour  # and a 40-minute freeze: below the 60-minute limit
        temps[s:s + 4] = -1.0
    elif scenario == "open_heat":  # still hot at the last reading: an open alarm
        temps[n - 13 * hour:] = 10.5 + rng.normal(0, 0.3, 13 * hour)
    return np.round(temps, 1)


def add_coldchain_demo(session: Session, seed: int, today: date, facility_codes: list[str],
                       max_devices: int = 40) -> dict[str, int]:
    """Add equipment at each facility (mostly solar direct drive, some broken), the default
    solar targets by region, and 30 days of readings for at most `max_devices` devices with
    heat and freeze alarms, short excursions, a data gap and a silent device. Returns counts.
    """
    rng = np.random.default_rng(seed)
    actor = _actor(session)
    now = datetime.combine(today, time(12, 0), UTC)
    counts = {"equipment": 0, "devices": 0, "readings": 0, "alarms": 0, "broken": 0}
    with_devices: list[str] = []
    for i, code in enumerate(facility_codes):
        kind = "solar_direct_drive" if rng.random() < 0.8 else str(rng.choice(
            ["ice_lined", "absorption", "freezer"]))
        serial = f"EQ-{code}-1"
        device = f"DTR-{code}" if len(with_devices) < max_devices else None
        installed = today - timedelta(days=int(rng.integers(60, 2500)))
        services.register_equipment(session, actor, EquipmentCreate(
            serial=serial, type=kind, facility=code, pqs_code=MODELS[kind][0],
            model=MODELS[kind][1], installed_on=installed, energy_source=ENERGY[kind],
            device=device), today)
        counts["equipment"] += 1
        if device:
            with_devices.append(device)
            counts["devices"] += 1
        r = rng.random()
        status = "needs_repair" if r < 0.08 else "non_functional" if r < 0.13 else \
            "decommissioned" if r < 0.15 else None
        if status and i >= 8:  # the first facilities keep working equipment for the traces
            services.change_status(session, actor, serial, status,
                                   "panne signalée (démo)", now - timedelta(days=3))
            counts["broken"] += 1
    scenarios = ["heat", "freeze", "short", "gap", "silent", "open_heat"]
    n = DAYS * 24 * 60 // STEP_MIN
    start = int(now.timestamp()) - n * STEP_MIN * 60
    times = start + np.arange(1, n + 1, dtype=np.int64) * STEP_MIN * 60
    for k, device in enumerate(with_devices):
        scenario = scenarios[k] if k < len(scenarios) else (
            "heat" if k % 9 == 0 else "short" if k % 5 == 0 else "normal")
        temps = trace_for(scenario, rng, n)
        keep = np.ones(n, dtype=bool)
        if scenario == "gap":  # recorder unplugged for 6 h on day 8
            keep[8 * 144 + 60:8 * 144 + 96] = False
        elif scenario == "silent":  # nothing since 3 days
            keep[n - 3 * 144:] = False
        result = services.upload_readings(session, actor, device, times[keep], temps[keep],
                                          now, "json", f"demo readings ({scenario})")
        counts["readings"] += result.new
    services.scan_no_data(session, now)
    services.load_default_targets(session, actor)
    counts["alarms"] = int(session.scalar(select(func.count()).select_from(ColdChainAlarm))
                           or 0)
    return counts
