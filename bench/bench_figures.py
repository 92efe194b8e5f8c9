"""Benchmark: figures from aggregates, full aggregate rebuild, child search, defaulter list.

python bench/bench_figures.py --db postgresql://postgres@127.0.0.1:5432/krc_bench [--year 2026]
Needs a database built by `krc demo --scale national --no-serve --db URL` (or bench_demo.py).
Prints one line per figure. Targets (issue 2): table ≤ 200 ms, rebuild ≤ 60 s,
search p95 ≤ 50 ms, a district's defaulter list ≤ 1 s.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from collections.abc import Callable
from datetime import date
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select

from krc.accounts.models import User
from krc.accounts.queries import actor_for
from krc.accounts.roles import Actor
from krc.accounts.services import create_token
from krc.config import Settings
from krc.db import Database
from krc.geo.models import DISTRICT, OrgUnit
from krc.immunization import facts, queries
from krc.immunization.batch import overdue_children
from krc.immunization.models import Child
from krc.immunization.params import load_params
from krc.web.app import create_app


def timed(fn: Callable[[], Any], repeat: int) -> list[float]:
    """Return the durations (ms) of `repeat` calls of fn."""
    out = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def p95(values: list[float]) -> float:
    """Return the 95th percentile of values."""
    return sorted(values)[max(0, int(len(values) * 0.95) - 1)]


def main() -> None:
    """Run the benchmarks and print their figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--db", required=True)
    parser.add_argument("--year", type=int, default=date.today().year)
    parser.add_argument("--skip-rebuild", action="store_true")
    args = parser.parse_args()
    db = Database(args.db)
    with db.session() as s:
        admin = s.scalar(select(User).where(User.role == "admin"))
        assert admin is not None, "no admin user: build the demo first"
        token = create_token(s, admin, "bench")
        actor = actor_for(s, admin)
        children = s.scalar(select(func.count()).select_from(Child)) or 0
    print(f"dataset: {children:,} children ({db.engine.dialect.name})")
    app = create_app(Settings(database_url=db.url), db)
    client = TestClient(app)
    h = {"Authorization": f"Bearer {token}"}
    params = {"org_unit": "ML", "year": args.year, "level": DISTRICT}
    r = client.get("/api/v1/immunization/table", params=params, headers=h)
    assert r.status_code == 200, r.text
    rows = len(r.json()["rows"])
    ms = timed(lambda: client.get("/api/v1/immunization/table", params=params, headers=h), 20)
    print(f"all districts x 12 months x every vaccine-dose table ({rows} rows, HTTP): "
          f"median {statistics.median(ms):.0f} ms, p95 {p95(ms):.0f} ms (target <= 200 ms)")
    cov = {"org_unit": "ML", "period": str(args.year), "level": DISTRICT}
    ms = timed(lambda: client.get("/api/v1/immunization/coverage", params=cov, headers=h), 10)
    print(f"coverage/dropout/zero-dose (aggregate + register) for all districts, HTTP: "
          f"median {statistics.median(ms):.0f} ms, p95 {p95(ms):.0f} ms")
    if not args.skip_rebuild:
        t0 = time.perf_counter()
        with db.session() as s:
            n = facts.rebuild(s, load_params(s).grace_days)
        print(f"full rebuild of aggregates from raw doses: {time.perf_counter() - t0:.1f} s "
              f"({n:,} fact rows) (target <= 60 s)")
    rng = random.Random(1)
    with db.session() as s:
        total = s.scalar(select(func.max(Child.pk))) or 1
        sample = [s.get(Child, rng.randint(1, total)) for _ in range(300)]
        sample = [c for c in sample if c is not None]
        probes: list[str] = []
        for c in sample:
            kind = rng.random()
            if kind < 0.5:
                probes.append(f"{c.given_name} {c.family_name}")
            elif kind < 0.7:
                probes.append(c.family_name)
            elif kind < 0.85:
                probes.append(c.caregiver_phone or c.family_name)
            else:
                probes.append(c.registry_number or c.family_name)
        district = s.scalar(select(OrgUnit).where(OrgUnit.code == "ML0207")) or \
            s.scalar(select(OrgUnit).where(OrgUnit.level == DISTRICT))
        assert district is not None
        kati_actor = Actor(None, "bench", "district", district.id, district.path)
    for label, who in (("national scope", actor), ("district scope", kati_actor)):
        ms = []
        for q in probes:
            with db.session() as s:
                t0 = time.perf_counter()
                queries.search_children(s, who, q, limit=20)
                ms.append((time.perf_counter() - t0) * 1000)
        print(f"child search ({label}, {len(ms)} queries: names, family names, phones, "
              f"registry numbers): p50 {statistics.median(ms):.1f} ms, p95 {p95(ms):.1f} ms "
              f"(target p95 <= 50 ms)")
    runs: list[float] = []
    for _ in range(6):  # the first call, then five more: one figure is too noisy here
        with db.session() as s:
            t0 = time.perf_counter()
            items = overdue_children(s, district, date.today(), load_params(s))
            runs.append((time.perf_counter() - t0) * 1000)
    with db.session() as s:
        under5 = s.scalar(select(func.count()).select_from(Child).join(
            OrgUnit, OrgUnit.id == Child.facility_id).where(
            OrgUnit.path.startswith(district.path + "/")))
    print(f"defaulter list of district {district.name} ({under5:,} children, {len(items):,} "
          f"defaulters): first call {runs[0]:.0f} ms, then median {statistics.median(runs[1:]):.0f}"
          f" ms, max {max(runs[1:]):.0f} ms (target <= 1000 ms)")


if __name__ == "__main__":
    main()
