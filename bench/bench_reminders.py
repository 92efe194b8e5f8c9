"""Benchmark: select and queue the due-dose reminders of the whole register.

python bench/bench_reminders.py --db postgresql://postgres@127.0.0.1:5432/krc --on 2026-03-16
Prints one line per figure: children scanned, reminders queued, seconds; then a second run,
which must queue 0 (idempotent). Target (issue 3): national register (~4.5 M children) in
≤ 60 s on PostgreSQL. The queued reminders are kept (they are what `send-due` would send).
"""

from __future__ import annotations

import argparse
import time
from datetime import UTC, date, datetime

from krc.clikit import open_database
from krc.messaging.producers import queue_due_reminders
from krc.messaging.settings import MessagingSettings


def main() -> None:
    """Run the reminder producer twice and print the figures."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", required=True, help="database URL")
    parser.add_argument("--on", default=date.today().isoformat(), help="day (YYYY-MM-DD)")
    args = parser.parse_args()
    on = date.fromisoformat(args.on)
    now = datetime.combine(on, datetime.min.time(), UTC)
    db = open_database(args.db)
    settings = MessagingSettings(channel="log")
    for label in ("first run", "second run"):
        t0 = time.perf_counter()
        with db.session() as s:
            run = queue_due_reminders(s, on, now, settings)
        seconds = time.perf_counter() - t0
        print(f"{label}: children scanned {run.children}")
        print(f"{label}: reminders queued {run.queued} (due {run.due_queued}, "
              f"missed {run.missed_queued}; opted out {run.skipped_opted_out}, "
              f"bad phone {run.skipped_bad_phone})")
        print(f"{label}: seconds {seconds:.2f} (commit included)")
    db.dispose()


if __name__ == "__main__":
    main()
