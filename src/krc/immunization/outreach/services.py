"""Every write of outreach: plan, reschedule, cancel, mark held, and link doses to sessions.

The API, the pages, the CLI, the demo and `immunization.services.record_dose` call these
functions, so validation, scope, audit and idempotency live here once
(reference/immunization.md §3).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from krc.accounts.roles import OPERATIONS_WRITE, Actor
from krc.accounts.services import audit, utcnow
from krc.db import insert_or_find
from krc.errors import DomainError, FieldError, Forbidden, Message, NotFound, invalid
from krc.geo.models import DISTRICT, FACILITY, VILLAGE, OrgUnit
from krc.geo.queries import Unit, replay_in_scope
from krc.immunization.models import Vaccination
from krc.immunization.outreach import rules
from krc.immunization.outreach.models import OutreachSession, OutreachSessionVillage
from krc.immunization.outreach.schemas import SessionCreate, SessionUpdate


def _may_write(actor: Actor) -> None:
    if actor.role not in OPERATIONS_WRITE:
        raise Forbidden("role_forbidden", Message(
            "Votre rôle ({role}) ne permet pas de planifier des séances",
            "Your role ({role}) may not plan sessions", {"role": actor.role}))


def _raise(errors: list[FieldError]) -> None:
    if len(errors) == 1:
        e = errors[0]
        raise DomainError(e.code, e.message, field=e.field)
    if errors:
        raise DomainError("invalid", Message("Saisie invalide", "Invalid input"),
                          errors=errors)


def _facility(session: Session, actor: Actor, code: str) -> OrgUnit:
    unit = session.scalar(select(OrgUnit).where(OrgUnit.code == code))
    if unit is None:
        raise invalid("facility", "org_unit_unknown", "Unité d'organisation inconnue : {code}",
                      "Unknown org unit: {code}", code=code)
    if unit.level != FACILITY:
        raise invalid("facility", "org_unit_wrong_level",
                      "{code} n'est pas une aire de santé (CSCom)",
                      "{code} is not a health area (CSCom)", code=code)
    if not actor.covers(unit.path):
        raise Forbidden("out_of_scope", Message("{name} est hors de votre zone",
                                                "{name} is outside your area",
                                                {"name": unit.name}), field="facility")
    return unit


def _district_id(session: Session, facility: OrgUnit) -> int:
    uids = facility.path.strip("/").split("/")
    district = session.scalar(select(OrgUnit.id).where(OrgUnit.uid == uids[DISTRICT - 1]))
    assert district is not None
    return district


def _villages(session: Session, facility: OrgUnit, codes: list[str]) -> list[OrgUnit]:
    out: list[OrgUnit] = []
    for code in dict.fromkeys(codes):
        v = session.scalar(select(OrgUnit).where(OrgUnit.code == code))
        if v is None or v.level != VILLAGE:
            raise invalid("villages", "village_unknown", "Village inconnu : {code}",
                          "Unknown village: {code}", code=code)
        if v.parent_id != facility.id:
            raise invalid("villages", "village_not_in_facility",
                          "Le village {v} ne relève pas de {f}",
                          "Village {v} is not served by {f}", v=v.name, f=facility.name)
        out.append(v)
    return out


def session_for_read(session: Session, actor: Actor, session_id: uuid.UUID | str
                     ) -> tuple[OutreachSession, OrgUnit]:
    """Return a session in the actor's scope with its facility, or raise 404."""
    missing = NotFound("session_not_found", Message("Séance introuvable", "Session not found"))
    try:
        sid = session_id if isinstance(session_id, uuid.UUID) else uuid.UUID(str(session_id))
    except ValueError:
        raise missing from None
    row = session.execute(select(OutreachSession, OrgUnit)
                          .join(OrgUnit, OrgUnit.id == OutreachSession.facility_id)
                          .where(OutreachSession.id == sid)).first()
    if row is None or not actor.covers(row[1].path):
        raise missing
    return row[0], row[1]


def linked_doses(session: Session, sess: OutreachSession) -> int:
    """Return the number of live doses recorded at a session."""
    return int(session.scalar(select(func.count()).select_from(Vaccination).where(
        Vaccination.session == str(sess.id), Vaccination.deleted.is_(False))) or 0)


@dataclass
class Planned:
    """The outcome of planning a session: the row and whether this call created it."""

    session: OutreachSession
    created: bool


def _snapshot(sess: OutreachSession, villages: list[int]) -> dict[str, Any]:
    return {"date": sess.session_date.isoformat(), "strategy": sess.strategy,
            "place_type": sess.place_type, "place_name": sess.place_name,
            "latitude": sess.latitude, "longitude": sess.longitude, "status": sess.status,
            "notes": sess.notes, "villages": sorted(villages)}


def create_session(session: Session, actor: Actor, data: SessionCreate, today: date) -> Planned:
    """Plan a session (idempotent on `data.id`); reference/immunization.md §3."""
    _may_write(actor)
    if data.id is not None:
        existing = session.scalar(select(OutreachSession).where(OutreachSession.id == data.id))
        if existing is not None:
            return Planned(replay_in_scope(session, actor, existing), False)
    if data.status not in ("planned", "held"):
        raise invalid("status", "status_on_create",
                      "Une nouvelle séance est « planned » ou « held »",
                      "A new session is \"planned\" or \"held\"")
    place_type = data.place_type or None
    _raise(rules.check_session(rules.SessionFacts(
        data.date, data.strategy, place_type, data.place_name or None, data.latitude,
        data.longitude, data.status), today))
    facility = _facility(session, actor, data.facility)
    villages = _villages(session, facility, data.villages)
    now = utcnow()
    sess = OutreachSession(
        id=data.id or uuid.uuid4(), facility_id=facility.id,
        district_id=_district_id(session, facility), session_date=data.date,
        strategy=data.strategy, place_type=place_type, place_name=data.place_name or None,
        latitude=data.latitude, longitude=data.longitude, status=data.status,
        notes=data.notes or None, created_at=now, updated_at=now, created_by=actor.user_id,
        updated_by=actor.user_id)
    again, created = insert_or_find(session, sess)
    if not created:  # a concurrent retry with the same id won the race
        return Planned(replay_in_scope(session, actor, again), False)
    for v in villages:
        session.add(OutreachSessionVillage(session_pk=sess.pk, village_id=v.id))
    session.flush()
    audit(session, actor, "create", "outreach_session", str(sess.id),
          {"facility": facility.code, **_snapshot(sess, [v.id for v in villages])})
    return Planned(sess, True)


def village_ids(session: Session, sess: OutreachSession) -> list[int]:
    """Return the ids of the villages a session targets."""
    return list(session.scalars(select(OutreachSessionVillage.village_id).where(
        OutreachSessionVillage.session_pk == sess.pk)))


def update_session(session: Session, actor: Actor, session_id: uuid.UUID | str,
                   data: SessionUpdate, today: date) -> OutreachSession:
    """Reschedule, cancel, mark held or correct a session; audited with before/after.

    Date and strategy cannot change once doses are recorded at the session (their link
    requires the same date); status changes follow `rules.check_transition`.
    """
    _may_write(actor)
    sess, facility = session_for_read(session, actor, session_id)
    given = data.model_fields_set
    doses = linked_doses(session, sess)
    before_villages = village_ids(session, sess)
    before = _snapshot(sess, before_villages)
    new_date = data.date if "date" in given and data.date is not None else sess.session_date
    status = data.status if "status" in given and data.status is not None else sess.status
    strategy = data.strategy if "strategy" in given and data.strategy else sess.strategy

    def pick(name: str, current: Any) -> Any:
        return getattr(data, name) if name in given else current

    place_type = pick("place_type", sess.place_type) or None
    place_name = pick("place_name", sess.place_name) or None
    lat, lon = pick("latitude", sess.latitude), pick("longitude", sess.longitude)
    notes = pick("notes", sess.notes) or None
    if doses and new_date != sess.session_date:
        raise invalid("date", "session_has_doses",
                      "{n} dose(s) sont enregistrées le {d} à cette séance : la date ne peut "
                      "plus changer", "{n} dose(s) are recorded on {d} at this session: the "
                      "date can no longer change", n=doses, d=sess.session_date.isoformat())
    if doses and strategy != sess.strategy:
        raise invalid("strategy", "session_has_doses",
                      "{n} dose(s) sont enregistrées en stratégie {s} à cette séance : la "
                      "stratégie ne peut plus changer", "{n} dose(s) are recorded with strategy "
                      "{s} at this session: the strategy can no longer change", n=doses,
                      s=sess.strategy)
    fault = rules.check_transition(sess.status, status, doses, new_date, today)
    if fault is not None:
        _raise([fault])
    facts = rules.SessionFacts(new_date, strategy, place_type, place_name, lat, lon, status)
    errors = rules.check_session(facts, today)
    if new_date == sess.session_date and status == sess.status:
        # an old session keeps its date: only the rest is re-checked
        errors = [e for e in errors if e.code not in ("date_too_old", "date_too_far")]
    _raise(errors)
    if data.villages is not None and "villages" in given:
        villages = _villages(session, facility, data.villages)
        session.execute(delete(OutreachSessionVillage).where(
            OutreachSessionVillage.session_pk == sess.pk))
        session.flush()
        for v in villages:
            session.add(OutreachSessionVillage(session_pk=sess.pk, village_id=v.id))
        after_villages = [v.id for v in villages]
    else:
        after_villages = before_villages
    sess.session_date, sess.strategy, sess.status = new_date, strategy, status
    sess.place_type, sess.place_name, sess.latitude, sess.longitude = (
        place_type, place_name, lat, lon)
    sess.notes = notes
    after = _snapshot(sess, after_villages)
    if after != before:
        sess.updated_at, sess.updated_by = utcnow(), actor.user_id
        session.flush()
        changed = {k: before[k] for k in before if before[k] != after[k]}
        audit(session, actor, "update", "outreach_session", str(sess.id),
              {"before": changed, "after": {k: after[k] for k in changed},
               "reason": data.reason})
    return sess


def session_for_dose(session: Session, actor: Actor, ref: str, given_on: date,
                     facility: Unit) -> OutreachSession:
    """Return the session a dose is recorded at, or raise 422 naming the reason.

    The session must exist in the caller's scope (else "unknown", revealing nothing), not
    be cancelled, be on the dose's date and at the dose's facility (reference §3: "doses
    recorded at a session link to it").
    """
    unknown = invalid("session", "session_unknown", "Séance inconnue : {s}",
                      "Unknown session: {s}", s=ref)
    try:
        sid = uuid.UUID(ref.strip())
    except ValueError:
        raise unknown from None
    row = session.execute(select(OutreachSession, OrgUnit)
                          .join(OrgUnit, OrgUnit.id == OutreachSession.facility_id)
                          .where(OutreachSession.id == sid)).first()
    if row is None or not actor.covers(row[1].path):
        raise unknown
    sess, unit = row
    if sess.status == "cancelled":
        raise invalid("session", "session_cancelled",
                      "La séance du {d} à {p} a été annulée",
                      "The session of {d} at {p} was cancelled",
                      d=sess.session_date.isoformat(), p=sess.place_name or unit.name)
    if sess.session_date != given_on:
        raise invalid("session", "session_date_mismatch",
                      "La dose est datée du {g} mais la séance a lieu le {d}",
                      "The dose is dated {g} but the session is on {d}",
                      g=given_on.isoformat(), d=sess.session_date.isoformat())
    if sess.facility_id != facility.id:
        raise invalid("session", "session_facility_mismatch",
                      "La séance relève de {s}, pas de {f}",
                      "The session belongs to {s}, not {f}", s=unit.name, f=facility.name)
    return sess


def link_dose(session: Session, actor: Actor, ref: str, given_on: date, facility: Unit,
              strategy: str | None) -> tuple[str, str]:
    """Check a dose's session and return (session id text, the dose's strategy).

    The dose takes the session's strategy; a strategy given explicitly that differs is
    refused. A planned session becomes held when its first dose is recorded (audited).
    """
    sess = session_for_dose(session, actor, ref, given_on, facility)
    if strategy is not None and strategy != sess.strategy:
        raise invalid("strategy", "session_strategy_mismatch",
                      "La séance est en stratégie {s}, pas {d}",
                      "The session's strategy is {s}, not {d}", s=sess.strategy, d=strategy)
    if sess.status == "planned":
        sess.status, sess.updated_at, sess.updated_by = "held", utcnow(), actor.user_id
        audit(session, actor, "update", "outreach_session", str(sess.id),
              {"before": {"status": "planned"}, "after": {"status": "held"},
               "reason": "dose_recorded"})
    return str(sess.id), sess.strategy
