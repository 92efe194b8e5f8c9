"""Benchmark of the demo generator: build a fresh database at a scale and print the figures.

    python bench/bench_demo.py --scale national --db postgresql://postgres@127.0.0.1:5432/krc_bench
    python bench/bench_demo.py --scale small --db sqlite:////tmp/krc_bench.db
"""

from __future__ import annotations

import argparse
import time
from datetime import date
from pathlib import Path

from sqlalchemy.engine import make_url

from krc.db import Database, normalise_url
from krc.demo import build_demo
from krc.migrations import upgrade


def fresh_database(url: str) -> None:
    """Drop (if it exists) and create the database at url."""
    u = make_url(normalise_url(url))
    if u.get_backend_name() == "sqlite":
        if u.database:
            for suffix in ("", "-wal", "-shm"):
                Path(u.database + suffix).unlink(missing_ok=True)
        return
    import psycopg

    admin = u.set(database="postgres", drivername="postgresql")
    dsn = admin.render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{u.database}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{u.database}"')


def main() -> None:
    """Build the demo at the requested scale and print one line per figure."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", default="small", choices=("small", "district", "national"))
    parser.add_argument("--db", default="sqlite:////tmp/krc_bench.db")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--today", default=None, help="YYYY-MM-DD (default: today)")
    args = parser.parse_args()
    today = date.fromisoformat(args.today) if args.today else None
    fresh_database(args.db)
    t = time.perf_counter()
    upgrade(args.db)
    print(f"schema upgraded in {time.perf_counter() - t:.1f} s")
    db = Database(args.db)
    last: dict[str, float] = {}

    def progress(stage: str, done: int, total: int) -> None:
        now = time.perf_counter()
        if now - last.get(stage, 0.0) >= 30 or done == total:
            last[stage] = now
            print(f"  {stage}: {done}/{total}", flush=True)

    summary = build_demo(db, scale=args.scale, seed=args.seed, today=today, progress=progress)
    db.dispose()
    for stage, seconds in summary.stages.items():
        print(f"stage {stage}: {seconds:.1f} s")
    print(f"{summary.facilities} CSComs, {summary.villages} villages, "
          f"{summary.duplicates} duplicate registrations")
    print(f"{args.scale} dataset built: {summary.children} children, {summary.doses} doses "
          f"in {summary.seconds:.1f} s")


if __name__ == "__main__":
    main()
