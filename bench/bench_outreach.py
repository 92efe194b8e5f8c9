"""Benchmark: outreach demo hook, session reports and micro-plans on the small demo.

python bench/bench_outreach.py [--db sqlite:///bench/out/outreach.db]
ERASES the database at --db, builds the small demo (SQLite by default), adds the
outreach demo, then times the reads.
Prints one line per figure.
"""

from __future__ import annotations

import argparse
import time
from datetime import date
from pathlib import Path

from sqlalchemy import func, select

from krc.accounts.roles import Actor
from krc.db import Database, reset
from krc.demo import build_demo
from krc.geo.models import COUNTRY, DISTRICT, FACILITY, OrgUnit
from krc.immunization.outreach import queries
from krc.immunization.outreach.demo import add_outreach_demo
from krc.immunization.outreach.models import OutreachSession
from krc.immunization.params import load_params
from krc.migrations import upgrade

TODAY = date(2026, 3, 16)


def main() -> None:
    """Run the benchmark and print one line per figure."""
    parser = argparse.ArgumentParser()
    default = Path(__file__).parent / "out" / "outreach.db"
    parser.add_argument("--db", default=f"sqlite:///{default}")
    url = parser.parse_args().db
    default.parent.mkdir(exist_ok=True)
    reset(url)
    upgrade(url)
    db = Database(url)
    build_demo(db, scale="small", seed=1, today=TODAY)
    with db.session() as s:
        codes = list(s.scalars(select(OrgUnit.code).where(OrgUnit.level == FACILITY)))
        t = time.perf_counter()
        counts = add_outreach_demo(s, 1, TODAY, codes)
        took = time.perf_counter() - t
    print(f"outreach demo: {len(codes)} facilities, {counts['held']} held + "
          f"{counts['planned']} planned sessions, {counts['doses_linked']} doses linked "
          f"in {took:.2f} s")
    with db.session(write=False) as s:
        params = load_params(s)
        held = list(s.scalars(select(OutreachSession).where(OutreachSession.status == "held")))
        t = time.perf_counter()
        for x in held:
            queries.session_report(s, x, params)
        took = time.perf_counter() - t
        print(f"session reports: {len(held)} in {took:.2f} s "
              f"({1000 * took / max(len(held), 1):.1f} ms each)")
        root = s.scalar(select(OrgUnit).where(OrgUnit.level == COUNTRY))
        assert root is not None
        actor = Actor(None, "bench", "admin", root.id, root.path)
        districts = list(s.scalars(select(OrgUnit).where(OrgUnit.level == DISTRICT)))
        biggest = max(districts, key=lambda d: s.scalar(select(func.count()).select_from(
            OrgUnit).where(OrgUnit.path.startswith(d.path + "/"))) or 0)
        t = time.perf_counter()
        plan = queries.microplan(s, actor, biggest, TODAY, params)
        print(f"district micro-plan ({biggest.name}, {len(plan['areas'])} areas): "
              f"{1000 * (time.perf_counter() - t):.0f} ms")
        t = time.perf_counter()
        queries.upcoming_sessions(s, TODAY, date(2026, 4, 30))
        print(f"upcoming sessions (national, 6 weeks): "
              f"{1000 * (time.perf_counter() - t):.0f} ms")
    db.dispose()


if __name__ == "__main__":
    main()
