"""The daily job: queue everything due (all producers), then send what is pending."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import date, datetime, timedelta

from krc.db import Database
from krc.immunization.coldchain.queries import alarms_to_notify
from krc.immunization.coldchain.services import scan_no_data
from krc.immunization.outreach.queries import upcoming_sessions
from krc.immunization.stock.queries import late_facilities
from krc.messaging import producers
from krc.messaging.channels import Adapter
from krc.messaging.services import SendReport, send_pending
from krc.messaging.settings import MessagingSettings


class _DryRun(Exception):
    """Raised to roll back a dry run's transaction."""


def previous_month(on: date) -> str:
    """Return the DHIS2 code (YYYYMM) of the month before `on` (the stock report period)."""
    first = on.replace(day=1) - timedelta(days=1)
    return f"{first.year}{first.month:02d}"


def queue_due(db: Database, on: date, now: datetime, settings: MessagingSettings,
              dry_run: bool = False, note: Callable[[str], None] = print) -> dict[str, int]:
    """Run every producer for `on` in one transaction; return counts per producer.

    Producers: due and missed dose reminders (register), outreach session announcements
    (outreach.queries.upcoming_sessions), late stock reports (stock.queries.late_facilities)
    and cold-chain alarms (coldchain.queries.alarms_to_notify, after the no-data scan).
    A dry run counts and rolls back.
    """
    counts: dict[str, int] = {}
    try:
        with db.session() as s:
            run = producers.queue_due_reminders(s, on, now, settings)
            counts.update({"children": run.children, "due": run.due_queued,
                           "missed": run.missed_queued, "opted_out": run.skipped_opted_out})
            sessions = upcoming_sessions(s, on, on + timedelta(days=settings.session_days_before))
            counts["session"] = producers.queue_session_announcements(
                s, sessions, on, now, settings)
            period = previous_month(on)
            counts["stock"] = producers.queue_stock_reminders(
                s, late_facilities(s, period, on), period, now, settings)
            scan_no_data(s, now)  # silent devices get a stored notice (and an id) first
            counts["alarm"] = producers.queue_alarm_notices(
                s, alarms_to_notify(s, now - timedelta(days=2)), now, settings)
            if dry_run:
                raise _DryRun
    except _DryRun:
        pass
    return counts


def send_due(db: Database, on: date, now: datetime, adapters: Mapping[str, Adapter],
             settings: MessagingSettings | None = None, dry_run: bool = False,
             limit: int = 100_000, note: Callable[[str], None] = print
             ) -> tuple[dict[str, int], SendReport | None]:
    """Queue everything due on `on`, then (unless a dry run) send the pending messages."""
    settings = settings or MessagingSettings()
    counts = queue_due(db, on, now, settings, dry_run, note)
    if dry_run:
        return counts, None
    return counts, send_pending(db, adapters, now, limit, settings)
