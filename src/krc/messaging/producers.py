"""Producers: select who must be told what today, and queue it in bulk (idempotent).

a. dose and missed-dose reminders to caregivers, from the register's `dose_days` and the
   vectorised schedule (reference/immunization.md §1, schedule.evaluate_batch), streamed in
   chunks of the child table — no copy of caregivers into the contact table;
b. outreach session announcements to the women leaders' groups of the session's district
   or health area;
c. late stock report reminders to the facility's reporters;
d. cold-chain alarm notices to the facility's and the district's health workers.
Each message's dedupe key makes a replay or a second run queue nothing twice.
"""

from __future__ import annotations

import re
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import numpy as np
from sqlalchemy import func, literal, select
from sqlalchemy.orm import Session

from krc.accounts.roles import Actor
from krc.db import is_postgres
from krc.errors import invalid
from krc.geo.models import DISTRICT, FACILITY, OrgUnit
from krc.immunization import dose_days
from krc.immunization.coldchain.queries import AlarmNotice
from krc.immunization.models import Child
from krc.immunization.outreach.queries import SessionInfo
from krc.immunization.params import load_params
from krc.immunization.schedule import add_months, batch_slots, evaluate_batch, to_epoch_day
from krc.immunization.stock.queries import LateFacility
from krc.messaging import rules
from krc.messaging.models import Contact, Group, GroupMember
from krc.messaging.services import QueueItem, insert_rows, language_code, queue, renderer
from krc.messaging.settings import MessagingSettings

__all__ = ["AlarmNotice", "LateFacility", "ReminderRun", "SessionInfo", "queue_alarm_notices",
           "queue_due_reminders", "queue_session_announcements", "queue_stock_reminders"]

CHUNK = 200_000
_PHONE = re.compile(r"^\+\d{9,15}$")
STRATEGY_WORDS = {
    "fra": {"fixed": "stratégie fixe", "outreach": "stratégie avancée",
            "mobile": "stratégie mobile", "campaign": "campagne"},
    "eng": {"fixed": "fixed site", "outreach": "outreach", "mobile": "mobile team",
            "campaign": "campaign"},
}

# Alarm and notice types (coldchain.alarms codes) as written in SMS; bam uses the French words.
ALARM_WORDS = {
    "fra": {"heat": "chaleur", "freeze": "gel", "data_gap": "interruption des relevés",
            "no_data": "aucun relevé"},
    "eng": {"heat": "heat", "freeze": "freeze", "data_gap": "data gap", "no_data": "no data"},
}


def month_text(period: str) -> str:
    """Return a YYYYMM month as written in messages (MM/YYYY)."""
    return f"{period[4:]}/{period[:4]}" if len(period) == 6 and period.isdigit() else period


@dataclass
class ReminderRun:
    """What a reminder run scanned and queued."""

    children: int = 0
    picked: int = 0
    due_queued: int = 0
    missed_queued: int = 0
    skipped_opted_out: int = 0
    skipped_no_consent: int = 0
    skipped_bad_phone: int = 0
    seconds: float = 0.0

    @property
    def queued(self) -> int:
        """Return the reminders newly queued (both kinds)."""
        return self.due_queued + self.missed_queued


def _malaria_by_facility(session: Session, districts: frozenset[str]) -> dict[int, bool]:
    """Return {facility id: in a MALARIA district} (reference/immunization.md §1)."""
    if not districts:
        return {}
    codes = {u: c for u, c in session.execute(
        select(OrgUnit.uid, OrgUnit.code).where(OrgUnit.level == DISTRICT))}
    out: dict[int, bool] = {}
    for fid, path in session.execute(select(OrgUnit.id, OrgUnit.path)
                                     .where(OrgUnit.level == FACILITY)):
        uids = path.strip("/").split("/")
        out[fid] = len(uids) >= DISTRICT and codes.get(uids[DISTRICT - 1]) in districts
    return out


def queue_due_reminders(session: Session, on: date, now: datetime,
                        settings: MessagingSettings | None = None,
                        facility_ids: Sequence[int] | None = None) -> ReminderRun:
    """Queue dose reminders `days_before` days ahead and missed-dose reminders `days_after`
    days late for every child under five with a caregiver phone (rules.pick_reminders).

    Reads `child` in streamed chunks (pk, birth day, dose_days, facility), evaluates each chunk
    with schedule.evaluate_batch, then reads names and phones of the picked children only,
    and inserts with ON CONFLICT DO NOTHING on the dedupe key.
    """
    settings = settings or MessagingSettings()
    t0 = time.perf_counter()
    run = ReminderRun()
    params = load_params(session)
    slots = batch_slots(params)
    today = to_epoch_day(on)
    malaria = _malaria_by_facility(session, params.malaria_districts)
    render = renderer(session, settings, now)
    opted = render.skip_phones
    render.skip_phones = set()  # counted here instead
    overrides = {c.phone: c for c in session.scalars(
        select(Contact).where(Contact.kind == "caregiver"))}
    facility_names = {fid: name for fid, name in session.execute(
        select(OrgUnit.id, OrgUnit.name).where(OrgUnit.level == FACILITY))}
    pg = is_postgres(session)
    birth_col = (Child.birth_date - literal(date(1970, 1, 1))) if pg else Child.birth_date
    q = select(Child.pk, birth_col, Child.dose_days, Child.facility_id).where(
        Child.birth_date > add_months(on, -60), Child.birth_date <= on,
        Child.merged_into_pk.is_(None), Child.caregiver_phone.is_not(None))
    if facility_ids is not None:
        q = q.where(Child.facility_id.in_(list(facility_ids)))
    conn = session.connection()
    result = conn.execute(q.execution_options(stream_results=True, yield_per=CHUNK))
    epoch = date(1970, 1, 1).toordinal()
    for part in result.partitions(CHUNK):
        n = len(part)
        run.children += n
        pks, births, texts, fids = zip(*part, strict=True)
        if pg:
            birth = np.array(births, dtype=np.int64)
        else:
            birth = np.fromiter((b.toordinal() for b in births), dtype=np.int64,
                                count=n) - epoch
        given = dose_days.decode(texts, len(slots))
        eligible = np.fromiter((malaria.get(f, False) for f in fids), dtype=bool,
                               count=n) if malaria else None
        _, status, due = evaluate_batch(birth, given, on, eligible, params)
        picks = rules.pick_reminders(status, due, today, settings.days_before,
                                     settings.days_after, settings.catch_up_days)
        wanted: list[tuple[str, int, int, list[tuple[str, int]]]] = []
        for kind, picked in zip(("due", "missed"), picks, strict=True):
            for k, row in enumerate(picked.rows.tolist()):
                doses = [slots[j] for j in np.nonzero(picked.slots[k])[0].tolist()]
                wanted.append((kind, int(pks[row]), int(picked.days[k]), doses))
        run.picked += len(wanted)
        if not wanted:
            continue
        details = _child_details(session, sorted({w[1] for w in wanted}))
        rows: dict[str, list[dict[str, Any]]] = {"due": [], "missed": []}
        for kind, pk, day, doses in wanted:
            given_name, caregiver, phone, facility_id = details[pk]
            if not phone or not _PHONE.match(phone):
                run.skipped_bad_phone += 1
                continue
            if phone in opted:
                run.skipped_opted_out += 1
                continue
            contact = overrides.get(phone)
            if settings.require_consent and (contact is None or not contact.consent):
                run.skipped_no_consent += 1
                continue
            language = contact.language if contact else settings.caregiver_language
            due_day = date.fromordinal(day + epoch)
            item = QueueItem(
                rules.due_key(kind, pk, due_day), kind, phone, language,
                "dose_reminder" if kind == "due" else "missed_dose",
                {"caregiver": caregiver, "child": given_name,
                 "vaccines": rules.vaccines_text(doses, language),
                 "date": rules.fmt_day(due_day),
                 "facility": facility_names.get(facility_id, "")},
                facility_id, contact.id if contact else None, pk,
                whatsapp=bool(contact and contact.whatsapp))
            row = render.row(item)
            if row is not None:
                row["params"]["doses"] = [f"{v}{d}" for v, d in doses]
                rows[kind].append(row)
        run.due_queued += insert_rows(session, rows["due"])
        run.missed_queued += insert_rows(session, rows["missed"])
    run.seconds = time.perf_counter() - t0
    return run


def _child_details(session: Session, pks: list[int]
                   ) -> dict[int, tuple[str, str, str | None, int]]:
    """Return {pk: (given name, caregiver name, caregiver phone, facility id)}."""
    out: dict[int, tuple[str, str, str | None, int]] = {}
    for start in range(0, len(pks), 5000):
        for pk, given, caregiver, phone, fid in session.execute(
                select(Child.pk, Child.given_name, Child.caregiver_name, Child.caregiver_phone,
                       Child.facility_id).where(Child.pk.in_(pks[start:start + 5000]))):
            out[pk] = (given, caregiver, phone, fid)
    return out


def _members(session: Session, group_filter: Any) -> list[Contact]:
    return list(session.scalars(
        select(Contact).join(GroupMember, GroupMember.contact_id == Contact.id)
        .join(Group, Group.id == GroupMember.group_id).where(group_filter)
        .distinct().order_by(Contact.id)))


def queue_session_announcements(session: Session, sessions: Sequence[SessionInfo],
                                today: date, now: datetime,
                                settings: MessagingSettings | None = None,
                                whenever: bool = False) -> int:
    """Queue announcements of sessions `session_days_before` days ahead (or any date ≥ today
    when `whenever`) to the women leaders' groups of the session's district or health area;
    return how many messages are new (one per session and contact)."""
    settings = settings or MessagingSettings()
    items: list[QueueItem] = []
    for s in sessions:
        ahead = (s.date - today).days
        if ahead < 0 or (not whenever and ahead > settings.session_days_before):
            continue
        for c in _members(session, (Group.kind == "women_leaders") &
                          Group.org_unit_id.in_([s.district_id, s.facility_id])):
            words = STRATEGY_WORDS.get(c.language, STRATEGY_WORDS["fra"])
            items.append(QueueItem(
                f"session:{s.id}:{c.id}", "session", c.phone, c.language,
                "session_announcement",
                {"date": rules.fmt_day(s.date), "facility": s.facility_name,
                 "place": s.place_name or s.facility_name,
                 "strategy": words.get(s.strategy, s.strategy)},
                s.facility_id, c.id, whatsapp=c.whatsapp))
    return queue(session, items, settings, now)


def announce_session(session: Session, actor: Actor, facility: str, day: date,
                     place_name: str | None, strategy: str, today: date, now: datetime,
                     settings: MessagingSettings | None = None) -> int:
    """Announce one session now to the women leaders of its district and health area (the
    API's and the page's form); return how many messages are new (once per contact)."""
    from krc.accounts.services import audit
    from krc.geo.queries import unit_in_scope
    from krc.messaging.services import manage
    manage(actor)
    unit = unit_in_scope(session, actor, facility)
    if unit.level != FACILITY:
        raise invalid("facility", "org_unit_wrong_level",
                      "{code} n'est pas une aire de santé (CSCom)",
                      "{code} is not a health area (CSCom)", code=facility)
    if day < today:
        raise invalid("date", "date_past", "La séance ({d}) est déjà passée",
                      "The session ({d}) is in the past", d=day.isoformat())
    if strategy not in STRATEGY_WORDS["fra"]:
        raise invalid("strategy", "strategy_unknown", "Stratégie inconnue : {s}",
                      "Unknown strategy: {s}", s=strategy)
    uids = unit.path.strip("/").split("/")
    district_id = session.scalar(select(OrgUnit.id).where(OrgUnit.uid == uids[DISTRICT - 1]))
    place = (place_name or "").strip() or None
    info = SessionInfo(f"manual:{unit.code}:{day.isoformat()}:{place or ''}"[:100], unit.id,
                       unit.code, unit.name, int(district_id or unit.id), day, strategy, None,
                       place)
    n = queue_session_announcements(session, [info], today, now, settings, whenever=True)
    audit(session, actor, "announce", "outreach_session", info.id[:64], {"queued": n}, at=now)
    return n


def queue_stock_reminders(session: Session, late: Sequence[LateFacility], period: str,
                          now: datetime, settings: MessagingSettings | None = None) -> int:
    """Queue a late stock report reminder to each reporter of each late facility (once per
    facility, period and phone); invalid phones are skipped."""
    from krc.errors import DomainError
    from krc.identifiers import normalise_phone
    items: list[QueueItem] = []
    for f in late:
        for name, phone, language in f.reporters:
            try:
                e164 = normalise_phone(phone, "phone")
            except DomainError:
                continue
            items.append(QueueItem(
                f"stock:{f.facility_id}:{period}:{e164}", "stock", e164,
                language_code(language), "stock_report_late",
                {"name": name, "facility": f.facility_name, "period": month_text(period)},
                f.facility_id))
    return queue(session, items, settings or MessagingSettings(), now)


def _temperature(n: AlarmNotice, language: str = "fra") -> str:
    """Return the alarm's extreme temperature (decimal comma except in English)."""
    if n.max_celsius is not None and n.type.lower().startswith("heat"):
        value: float | None = n.max_celsius
    elif n.min_celsius is not None:
        value = n.min_celsius
    else:
        value = n.max_celsius
    if value is None:
        return ""
    text = f"{value:.1f} °C"
    return text if language == "eng" else text.replace(".", ",")


def queue_alarm_notices(session: Session, notices: Sequence[AlarmNotice], now: datetime,
                        settings: MessagingSettings | None = None) -> int:
    """Queue each alarm to the health workers of its facility and of its district (once per
    alarm and contact)."""
    items: list[QueueItem] = []
    for n in notices:
        recipients = list(session.scalars(
            select(Contact).where(Contact.kind == "health_worker",
                                  Contact.org_unit_id.in_([n.facility_id, n.district_id]))
            .order_by(Contact.id)))
        for c in recipients:
            items.append(QueueItem(
                f"alarm:{n.alarm_id}:{c.id}", "alarm", c.phone, c.language, "coldchain_alarm",
                {"facility": n.facility_name, "device": n.device,
                 "type": ALARM_WORDS.get(c.language, ALARM_WORDS["fra"]).get(n.type, n.type),
                 "start": n.start.strftime("%d/%m %H:%M"),
                 "duration": str(n.duration_minutes),
                 "temperature": _temperature(n, c.language)},
                n.facility_id, c.id, whatsapp=c.whatsapp))
    return queue(session, items, settings or MessagingSettings(), now)


def caregiver_count(session: Session) -> int:
    """Return how many distinct caregiver phones the register holds (derived contacts)."""
    return int(session.scalar(select(func.count(func.distinct(Child.caregiver_phone)))) or 0)
