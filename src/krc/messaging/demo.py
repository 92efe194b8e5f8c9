"""Demo data for messaging: women leaders' groups, health workers, templates, and a run of
the producers through the log channel so the outbox shows every status. Fast and bounded."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import insert, or_, select, update
from sqlalchemy.orm import Session

from krc.accounts.roles import Actor
from krc.demo.names import FAMILY_NAMES, GIRLS, PHONE_PREFIXES, REGION_AREA, SOUTH
from krc.geo.models import COUNTRY, FACILITY, OrgUnit
from krc.messaging import producers, services
from krc.messaging.models import LogDelivery, Outbox
from krc.messaging.settings import MessagingSettings

LEADERS_PER_DISTRICT = 8
MAX_REMINDER_FACILITIES = 200  # reminders of the demo run: bounded at the national scale
FACILITIES_WITH_WORKERS = 3


def _phone(rng: random.Random, used: set[str]) -> str:
    while True:
        phone = f"+223{rng.choice(PHONE_PREFIXES)}{rng.randrange(10**6):06d}"
        if phone not in used:
            used.add(phone)
            return phone


def add_messaging_demo(session: Session, seed: int, today: date, district_codes: list[str]
                       ) -> dict[str, int]:
    """Add messaging demo data for the districts and return counts by kind of record."""
    rng = random.Random(seed * 7919 + 3)
    now = datetime.combine(today, time(7, 30), UTC)
    country = session.scalar(select(OrgUnit).where(OrgUnit.level == COUNTRY))
    if country is None:
        return {}
    system = Actor(None, "demo", "admin", country.id, country.path)
    settings = MessagingSettings(channel="log")
    counts = {"templates": services.ensure_default_templates(session, now), "groups": 0,
              "women_leaders": 0, "health_workers": 0}
    used: set[str] = set()  # same seed, same phones: a second run adds nothing
    facility_ids: list[int] = []
    sessions: list[producers.SessionInfo] = []
    late: list[producers.LateFacility] = []
    alarms: list[producers.AlarmNotice] = []
    for code in district_codes:
        district = session.scalar(select(OrgUnit).where(OrgUnit.code == code))
        if district is None:
            continue
        area = REGION_AREA.get(code[:4], SOUTH)
        group, created = services.create_group(
            session, system, f"FL-{code}", f"Femmes leaders — {district.name}", code,
            "women_leaders", now)
        counts["groups"] += int(created)
        members: list[int] = []
        for _ in range(LEADERS_PER_DISTRICT):
            name = f"{rng.choice(GIRLS[area])} {rng.choice(FAMILY_NAMES[area])}"
            language = rng.choices(["bam", "fra", "eng"], [60, 37, 3])[0]
            c, new = services.create_contact(session, system, services.ContactInput(
                "women_leader", name, _phone(rng, used), code, language,
                whatsapp=rng.random() < 0.3, consent=True), now)
            members.append(c.id)
            counts["women_leaders"] += int(new)
        services.add_members(session, system, group.id, members, now)
        facilities = list(session.scalars(select(OrgUnit).where(
            OrgUnit.level == FACILITY, or_(OrgUnit.path.startswith(district.path + "/")))
            .order_by(OrgUnit.code)))
        facility_ids += [f.id for f in facilities]
        for f in facilities[:FACILITIES_WITH_WORKERS]:
            name = f"Infirmier {rng.choice(FAMILY_NAMES[area])}"
            _, new = services.create_contact(session, system, services.ContactInput(
                "health_worker", name, _phone(rng, used), f.code, "fra", consent=True), now)
            counts["health_workers"] += int(new)
        _, new = services.create_contact(session, system, services.ContactInput(
            "health_worker", f"Chargé PEV {district.name}", _phone(rng, used), code, "fra",
            consent=True), now)
        counts["health_workers"] += int(new)
        if facilities:
            f = facilities[0]
            sessions.append(producers.SessionInfo(
                f"demo-{f.code}", f.id, f.code, f.name, district.id, today + timedelta(days=2),
                "outreach", "market", f"Marché de {f.name.replace('CSCom ', '')}"))
            late.append(producers.LateFacility(f.id, f.code, f.name, district.id, [
                (f"Gérant {f.name}", _phone(rng, used), "fra")]))
            alarms.append(producers.AlarmNotice(
                1_000_000 + f.id, "heat", "TCW 2000", f.id, f.code, f.name, district.id,
                now - timedelta(hours=11), None, 660, 4.2, 10.8))
    run = producers.queue_due_reminders(session, today, now, settings,
                                        facility_ids[:MAX_REMINDER_FACILITIES])
    counts["due_reminders"] = run.due_queued
    counts["missed_reminders"] = run.missed_queued
    counts["announcements"] = producers.queue_session_announcements(
        session, sessions, today, now, settings)
    period = f"{(today.replace(day=1) - timedelta(days=1)):%Y%m}"
    counts["stock_reminders"] = producers.queue_stock_reminders(session, late, period, now,
                                                                settings)
    counts["alarm_notices"] = producers.queue_alarm_notices(session, alarms, now, settings)
    counts.update(_deliver(session, rng, now))
    return counts


def _deliver(session: Session, rng: random.Random, now: datetime) -> dict[str, int]:
    """'Send' most queued messages through the log channel (a log row each), with a share
    delivered, read and failed, and the newest left queued, so every status shows."""
    ids = list(session.scalars(select(Outbox.id).where(Outbox.status == "queued")
                               .order_by(Outbox.id)))
    keep = max(1, len(ids) // 10)
    to_send = ids[:-keep] if len(ids) > keep else []
    statuses: dict[str, list[int]] = {}
    rows = session.execute(select(Outbox.id, Outbox.phone, Outbox.text)
                           .where(Outbox.id.in_(to_send))).all() if to_send else []
    if rows:
        session.execute(insert(LogDelivery), [
            {"outbox_id": i, "phone": p, "text": t, "at": now} for i, p, t in rows])
    for i in to_send:
        roll = rng.random()
        status = "failed" if roll < 0.04 else "read" if roll < 0.25 else \
            "delivered" if roll < 0.75 else "sent"
        statuses.setdefault(status, []).append(i)
    for status, chosen in statuses.items():
        values: dict[str, object] = {"status": status, "attempts": 1, "updated_at": now}
        if status == "failed":
            values.update(attempts=5, last_error="gave up after 5 attempts: HTTP 503")
        else:
            values.update(sent_at=now, provider_id=None)
            if status in ("delivered", "read"):
                values["delivered_at"] = now + timedelta(minutes=2)
            if status == "read":
                values["read_at"] = now + timedelta(minutes=30)
        for start in range(0, len(chosen), 5000):
            session.execute(update(Outbox).where(Outbox.id.in_(chosen[start:start + 5000]))
                            .values(**values))
    return {f"outbox_{k}": len(v) for k, v in statuses.items()} | {"outbox_queued": keep
                                                                    if ids else 0}
