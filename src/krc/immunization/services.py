"""Every write of the immunization register: children, doses, corrections, merges.

The web form, the JSON API, the CLI and the demo loader all call these functions, so
validation, audit, idempotency and fact maintenance live here once.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import numpy as np
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, aliased

from krc.accounts.roles import MERGE, Actor, require_in_scope, require_personal_write
from krc.accounts.services import audit, utcnow
from krc.db import insert_or_find, next_pk
from krc.errors import Conflict, DomainError, Forbidden, Message, NotFound, invalid
from krc.geo.models import FACILITY, VILLAGE, OrgUnit
from krc.geo.queries import Unit, unit_for_field
from krc.identifiers import normalise_phone, registry_number
from krc.immunization import dose_days, facts
from krc.immunization.models import Child, Vaccination
from krc.immunization.schedule import (
    VACCINES,
    GivenDose,
    ScheduleParams,
    assess_doses,
    batch_slots,
    evaluate,
    rule_for,
    to_epoch_day,
)
from krc.immunization.schemas import ChildCreate, VaccinationCreate, VaccinationUpdate
from krc.matching import PersonFacts, duplicate_score, is_probable_duplicate, name_key, reasons

STRATEGIES = ("fixed", "outreach", "mobile", "campaign")
MAX_AGE_YEARS = 18
BIRTH_TOLERANCE_DAYS = 31


@dataclass
class ChildPlace:
    """A child the caller may change, with the paths of its facility and residence."""

    child: Child
    facility_path: str
    residence_path: str


def _place_query() -> Any:
    village = aliased(OrgUnit, name="village")
    return (select(Child, OrgUnit.path, village.path)
            .join(OrgUnit, OrgUnit.id == Child.facility_id)
            .outerjoin(village, village.id == Child.village_id)
            .where(Child.id == bindparam("child_id")))


# Built once: constructing this join with a new alias took ~1.2 ms of CPU per call (more
# than running it), on every dose recorded.
_PLACE = _place_query()


def child_place(session: Session, actor: Actor, child_id: uuid.UUID) -> ChildPlace:
    """Return a child the actor may change with its paths (one query), or raise 404/409."""
    require_personal_write(actor)
    row = session.execute(_PLACE, {"child_id": child_id}).first()
    if row is None or not actor.covers(row[1]):
        raise NotFound("child_not_found", Message("Enfant introuvable", "Child not found"))
    child = row[0]
    if child.merged_into_pk is not None:
        kept = session.get(Child, child.merged_into_pk)
        raise Conflict("child_merged", Message(
            "Cet enregistrement a été fusionné dans {rn}", "This record was merged into {rn}",
            {"rn": kept.registry_number if kept else "?"}))
    return ChildPlace(child, row[1], row[2] or row[1])


def child_for_write(session: Session, actor: Actor, child_id: uuid.UUID) -> Child:
    """Return a child the actor may change, or raise 404 (also when out of scope)."""
    return child_place(session, actor, child_id).child


# --------------------------------------------------------------------------- children

class DuplicateFound(Conflict):
    """Registration refused: probable duplicates exist (HTTP 409 with candidates)."""

    def __init__(self, candidates: list[dict[str, Any]]) -> None:
        super().__init__("probable_duplicate", Message(
            "Cet enfant semble déjà enregistré ; vérifiez les candidats ou confirmez "
            "un nouvel enregistrement (confirm_new)",
            "This child seems already registered; check the candidates or confirm a new "
            "record (confirm_new)"))
        self.candidates = candidates


@dataclass
class Registered:
    """The outcome of a registration: the child and whether this call created it."""

    child: Child
    created: bool
    warnings: list[str] = field(default_factory=list)


def find_duplicates(session: Session, actor: Actor, facts_new: PersonFacts,
                    facility: Unit, village_id: int | None) -> list[dict[str, Any]]:
    """Return probable duplicates in the facility's health district, best first.

    Outside the caller's scope only masked facts are returned (initials, birth year).
    """
    district_path = "/".join(facility.path.split("/")[:4])  # /country/region/district
    lo = facts_new.birth_date - timedelta(days=BIRTH_TOLERANCE_DAYS)
    hi = facts_new.birth_date + timedelta(days=BIRTH_TOLERANCE_DAYS)
    rows = session.execute(
        select(Child, OrgUnit).join(OrgUnit, OrgUnit.id == Child.facility_id)
        .where(Child.birth_date.between(lo, hi), Child.merged_into_pk.is_(None),
               OrgUnit.path.startswith(district_path + "/"))
    ).all()
    village_names: dict[int, str] = {}
    out: list[tuple[float, dict[str, Any]]] = []
    for child, unit in rows:
        village = None
        if child.village_id is not None:
            if child.village_id not in village_names:
                village_names[child.village_id] = session.get(OrgUnit, child.village_id).code  # type: ignore[union-attr]
            village = village_names[child.village_id]
        existing = PersonFacts(child.given_name, child.family_name, child.birth_date, child.sex,
                               child.caregiver_name, child.caregiver_phone, village)
        if not is_probable_duplicate(facts_new, existing):
            continue
        score = duplicate_score(facts_new, existing)
        visible = actor.covers(unit.path)
        out.append((score, {
            "id": child.id if visible else None,
            "registry_number": child.registry_number,
            "given_name": child.given_name if visible else child.given_name[:1] + ".",
            "family_name": child.family_name if visible else child.family_name[:1] + ".",
            "birth_date": child.birth_date if visible else None,
            "birth_year": child.birth_date.year,
            "facility": {"code": unit.code, "name": unit.name},
            "score": round(score, 3),
            "reasons": reasons(facts_new, existing),
            "in_scope": visible,
        }))
    out.sort(key=lambda x: -x[0])
    return [c for _, c in out[:10]]


def register_child(session: Session, actor: Actor, data: ChildCreate, today: date) -> Registered:
    """Register a child (idempotent on `data.id`); raise DuplicateFound with candidates."""
    require_personal_write(actor)
    if data.id is not None:
        existing = session.scalar(select(Child).where(Child.id == data.id))
        if existing is not None:
            unit = session.get(OrgUnit, existing.facility_id)
            if unit is None or not actor.covers(unit.path):
                raise Conflict("id_taken", Message("Cet identifiant est déjà utilisé",
                                                   "This id is already used"), field="id")
            return Registered(existing, False)
    if data.birth_date > today:
        raise invalid("birth_date", "birth_date_future",
                      "La date de naissance ({d}) est dans le futur",
                      "The birth date ({d}) is in the future", d=data.birth_date.isoformat())
    if data.birth_date < date(today.year - MAX_AGE_YEARS, today.month, 1):
        raise invalid("birth_date", "birth_date_too_old",
                      "La date de naissance ({d}) correspond à plus de {y} ans",
                      "The birth date ({d}) means older than {y} years",
                      d=data.birth_date.isoformat(), y=MAX_AGE_YEARS)
    facility = unit_for_field(session, data.facility, "facility", FACILITY)
    require_in_scope(actor, facility.path, facility.name, "facility")
    village = None
    if data.village:
        village = unit_for_field(session, data.village, "village", VILLAGE)
        if village.parent_id != facility.id:
            raise invalid("village", "village_not_in_facility",
                          "Le village {v} ne relève pas de {f}",
                          "Village {v} is not served by {f}", v=village.name, f=facility.name)
    phone = normalise_phone(data.caregiver_phone) if data.caregiver_phone else None
    new = PersonFacts(data.given_name, data.family_name, data.birth_date, data.sex,
                      data.caregiver_name, phone, data.village)
    if not data.confirm_new:
        candidates = find_duplicates(session, actor, new, facility,
                                     village.id if village else None)
        if candidates:
            raise DuplicateFound(candidates)
    now = utcnow()
    pk = next_pk(session, "child")
    child = Child(
        pk=pk, registry_number=registry_number(pk),
        id=data.id or uuid.uuid4(), given_name=data.given_name, family_name=data.family_name,
        sex=data.sex, birth_date=data.birth_date, caregiver_name=data.caregiver_name,
        caregiver_phone=phone, national_id=data.national_id or None, facility_id=facility.id,
        village_id=village.id if village else None, family_key=name_key(data.family_name),
        given_key=name_key(data.given_name), created_at=now, updated_at=now,
        created_by=actor.user_id, first_dose_on=None, penta1_on=None,
        penta3_on=None, mcv1_on=None, dose_days=None, merged_into_pk=None,
    )
    again, created = insert_or_find(session, child)
    if not created:
        # A concurrent retry with the same id won the race: answer with its record.
        if again is None:
            raise Conflict("id_taken", Message("Cet identifiant est déjà utilisé",
                                               "This id is already used"), field="id")
        return Registered(again, False)
    audit(session, actor, "create", "child", str(child.id),
          {"registry_number": child.registry_number, "facility": facility.code,
           "confirm_new": data.confirm_new})
    return Registered(child, True)


def update_child(session: Session, actor: Actor, child_id: uuid.UUID,
                 changes: dict[str, Any], today: date) -> Child:
    """Correct a child's identifying facts; every change is audited with before/after."""
    child = child_for_write(session, actor, child_id)
    before: dict[str, Any] = {}
    for key in ("given_name", "family_name", "sex", "caregiver_name", "national_id"):
        if key in changes and changes[key] is not None and changes[key] != getattr(child, key):
            before[key] = getattr(child, key)
            setattr(child, key, changes[key])
    if changes.get("caregiver_phone") is not None:
        phone = normalise_phone(changes["caregiver_phone"])
        if phone != child.caregiver_phone:
            before["caregiver_phone"] = child.caregiver_phone
            child.caregiver_phone = phone
    if changes.get("birth_date") is not None and changes["birth_date"] != child.birth_date:
        if changes["birth_date"] > today:
            raise invalid("birth_date", "birth_date_future",
                          "La date de naissance ({d}) est dans le futur",
                          "The birth date ({d}) is in the future", d=str(changes["birth_date"]))
        before["birth_date"] = child.birth_date.isoformat()
        views = dose_views(session, child)
        child.birth_date = changes["birth_date"]
        refresh_child(session, child, views, today)
    child.family_key, child.given_key = name_key(child.family_name), name_key(child.given_name)
    child.updated_at = utcnow()
    audit(session, actor, "update", "child", str(child.id), {"before": before})
    return child


# --------------------------------------------------------------------------- doses

LiveDoses = list[tuple[Vaccination, str]]  # live doses of a child with their facility path


def live_doses(session: Session, child: Child) -> LiveDoses:
    """Return the child's live (not deleted) doses with their facility's path, in date order."""
    rows = session.execute(
        select(Vaccination, OrgUnit.path).join(OrgUnit, OrgUnit.id == Vaccination.facility_id)
        .where(Vaccination.child_pk == child.pk, Vaccination.deleted.is_(False))
        .order_by(Vaccination.given_on, Vaccination.pk)).all()
    return [(v, path) for v, path in rows]


def views_of(rows: LiveDoses, residence_path: str) -> list[facts.DoseView]:
    """Return what the valid doses among `rows` contribute to the facts."""
    return [facts.DoseView(v.vaccine, v.dose, v.given_on, path, residence_path, v.delay_days)
            for v, path in rows if v.valid and not v.deleted]


def _residence_path(session: Session, child: Child) -> str:
    residence = session.get(OrgUnit, child.village_id or child.facility_id)
    assert residence is not None
    return residence.path


def dose_views(session: Session, child: Child) -> list[facts.DoseView]:
    """Return what the child's live valid doses currently contribute to the facts."""
    return views_of(live_doses(session, child), _residence_path(session, child))


def _params(session: Session) -> ScheduleParams:
    from krc.immunization.params import load_params
    return load_params(session)


def refresh_child(session: Session, child: Child, before: list[facts.DoseView], today: date,
                  params: ScheduleParams | None = None) -> None:
    """Re-assess every live dose of a child, update the denormalised dates and the facts."""
    reassess(session, child, live_doses(session, child), _residence_path(session, child),
             before, today, params or _params(session))


def reassess(session: Session, child: Child, rows: LiveDoses, residence_path: str,
             before: list[facts.DoseView], today: date, params: ScheduleParams) -> None:
    """Recompute validity, reason and delay of the child's live doses (`rows`), the child's
    denormalised dates, and apply the change of its contributions to the facts."""
    live = [v for v, _ in rows if not v.deleted]
    given = [GivenDose(v.vaccine, v.dose, v.given_on, str(v.pk)) for v in live]
    checks = {c.id: c for c in assess_doses(child.birth_date, given, params)}
    valid = [g for g in given if checks[g.id].valid]
    horizon = max([g.given_on for g in given] + [today])
    due = {(s.vaccine, s.dose): s.due_date for s in
           evaluate(child.birth_date, valid, horizon, None, params) if s.status == "given"}
    for v in live:
        c = checks[str(v.pk)]
        v.valid, v.invalid_reason = c.valid, c.reason
        d = due.get((v.vaccine, v.dose)) if c.valid else None
        v.delay_days = (v.given_on - d).days if d is not None else None
    valid_rows = [v for v in live if v.valid]

    def first(vaccine: str, dose: int | None = None) -> date | None:
        dates = [v.given_on for v in valid_rows
                 if v.vaccine == vaccine and (dose is None or v.dose == dose)]
        return min(dates) if dates else None

    child.dose_days = dose_days_of(valid_rows, params)
    child.first_dose_on = min((v.given_on for v in valid_rows), default=None)
    child.penta1_on = first("PENTA")
    child.penta3_on = first("PENTA", 3)
    child.mcv1_on = first("MCV", 1)
    facts.apply_delta(session, before, views_of(rows, residence_path), params.grace_days)


def dose_days_of(valid_rows: list[Vaccination], params: ScheduleParams) -> str:
    """Return the encoded day of each valid dose in schedule slot order (dose_days)."""
    slots = batch_slots(params)
    row = np.full((1, len(slots)), -1, dtype=np.int64)
    col = {s: i for i, s in enumerate(slots)}
    for v in valid_rows:
        if (v.vaccine, v.dose) in col:
            row[0, col[(v.vaccine, v.dose)]] = to_epoch_day(v.given_on)
    return dose_days.encode(row)[0]


def _check_dose(session: Session, actor: Actor, child: Child, vaccine: str, dose: int,
                given_on: date, facility_code: str, strategy: str, today: date,
                params: ScheduleParams, rows: LiveDoses, ignore_pk: int | None = None
                ) -> Unit:
    errors = []
    if vaccine not in VACCINES:
        errors.append(invalid("vaccine", "vaccine_unknown",
                              "Vaccin inconnu : {v} ; codes valides : {codes}",
                              "Unknown vaccine: {v}; valid codes: {codes}", v=vaccine,
                              codes=", ".join(sorted(VACCINES))))
    elif rule_for(vaccine, dose, params) is None:
        errors.append(invalid("dose", "dose_unknown", "{v} n'a pas de dose {n}",
                              "{v} has no dose {n}", v=vaccine, n=dose))
    if given_on > today:
        errors.append(invalid("date", "date_future", "La date {d} est dans le futur",
                              "The date {d} is in the future", d=given_on.isoformat()))
    if given_on < child.birth_date:
        errors.append(invalid("date", "date_before_birth",
                              "La date {d} précède la naissance ({b})",
                              "The date {d} is before the birth ({b})", d=given_on.isoformat(),
                              b=child.birth_date.isoformat()))
    if strategy not in STRATEGIES:
        errors.append(invalid("strategy", "strategy_unknown",
                              "Stratégie inconnue : {s} ; valides : {v}",
                              "Unknown strategy: {s}; valid: {v}", s=strategy,
                              v=", ".join(STRATEGIES)))
    if errors:
        if len(errors) == 1:
            raise errors[0]
        raise DomainError("invalid", Message("Saisie invalide", "Invalid input"),
                          errors=[e for err in errors for e in err.errors])
    facility = unit_for_field(session, facility_code, "facility", FACILITY)
    require_in_scope(actor, facility.path, facility.name, "facility")
    same = next((v for v, _ in rows if v.vaccine == vaccine and v.dose == dose
                 and not v.deleted and v.pk != ignore_pk), None)
    if same is not None:
        raise invalid("dose", "dose_already_recorded",
                      "{v} {n} est déjà enregistré le {d}",
                      "{v} {n} is already recorded on {d}", v=vaccine, n=dose,
                      d=same.given_on.isoformat())
    return facility


def vaccination_for_write(session: Session, actor: Actor, vaccination_id: uuid.UUID
                          ) -> tuple[Vaccination, Child]:
    """Return a live dose and its child that the actor may change, or raise 404."""
    require_personal_write(actor)
    v = session.scalar(select(Vaccination).where(Vaccination.id == vaccination_id))
    if v is None or v.deleted:
        raise NotFound("vaccination_not_found", Message("Dose introuvable", "Dose not found"))
    child = session.get(Child, v.child_pk)
    assert child is not None
    child_for_write(session, actor, child.id)
    return v, child


def _session_link(session: Session, actor: Actor, ref: str | None, given_on: date,
                  facility: Unit, strategy: str, explicit: bool) -> tuple[str | None, str]:
    """Return the (session id, strategy) a dose is stored with: a dose recorded at an
    outreach session links to it (reference/immunization.md §3), checked by
    outreach.services.link_dose; without a session, the given strategy."""
    if not ref:
        return None, strategy
    from krc.immunization.outreach.services import link_dose
    return link_dose(session, actor, ref, given_on, facility, strategy if explicit else None)


@dataclass
class Recorded:
    """The outcome of recording a dose: the row and whether this call created it."""

    vaccination: Vaccination
    child: Child
    created: bool


def record_dose(session: Session, actor: Actor, child_id: uuid.UUID, data: VaccinationCreate,
                today: date, params: ScheduleParams | None = None) -> Recorded:
    """Record a dose (idempotent on `data.id`); early doses are kept as invalid with reason."""
    params = params or _params(session)
    place = child_place(session, actor, child_id)
    child = place.child
    rows = live_doses(session, child)
    vaccine = data.vaccine.upper()
    if data.id is not None:
        mine = next((v for v, _ in rows if v.id == data.id), None)
        if mine is not None:
            return Recorded(mine, child, False)
    facility = _check_dose(session, actor, child, vaccine, data.dose, data.date, data.facility,
                           data.strategy, today, params, rows)
    session_ref, strategy = _session_link(session, actor, data.session, data.date, facility,
                                          data.strategy, "strategy" in data.model_fields_set)
    before = views_of(rows, place.residence_path)
    now = utcnow()
    v = Vaccination(id=data.id or uuid.uuid4(), child_pk=child.pk, vaccine=vaccine,
                    dose=data.dose, given_on=data.date, facility_id=facility.id,
                    residence_id=child.facility_id,
                    strategy=strategy, session=session_ref, lot=data.lot, valid=True,
                    invalid_reason=None, delay_days=None, deleted=False, created_at=now,
                    updated_at=now, created_by=actor.user_id)
    again, created = insert_or_find(session, v)
    if not created:
        # The id is already used (a replay that raced us, or a deleted dose's id), or a
        # concurrent request recorded the same dose: answer as for a replay or a refusal.
        if again is not None and again.child_pk == child.pk:
            return Recorded(again, child, False)
        if again is not None:
            raise Conflict("id_taken", Message("Cet identifiant est déjà utilisé",
                                               "This id is already used"), field="id")
        raise invalid("dose", "dose_already_recorded", "{v} {n} est déjà enregistré",
                      "{v} {n} is already recorded", v=vaccine, n=data.dose)
    rows.append((v, facility.path))
    rows.sort(key=lambda r: (r[0].given_on, r[0].pk))
    reassess(session, child, rows, place.residence_path, before, today, params)
    audit(session, actor, "create", "vaccination", str(v.id),
          {"child": str(child.id), "vaccine": vaccine, "dose": data.dose,
           "date": data.date.isoformat(), "facility": facility.code, "valid": v.valid,
           "reason": v.invalid_reason})
    return Recorded(v, child, True)


def correct_dose(session: Session, actor: Actor, vaccination_id: uuid.UUID,
                 data: VaccinationUpdate, today: date) -> Vaccination:
    """Correct a recorded dose; the before and after values and the reason are audited."""
    params = _params(session)
    v, child = vaccination_for_write(session, actor, vaccination_id)
    facility_unit = session.get(OrgUnit, v.facility_id)
    assert facility_unit is not None
    vaccine = (data.vaccine or v.vaccine).upper()
    dose_n = v.dose if data.dose is None else data.dose
    given_on = data.date or v.given_on
    strategy = data.strategy or v.strategy
    facility = _check_dose(session, actor, child, vaccine, dose_n, given_on,
                           data.facility or facility_unit.code, strategy, today, params,
                           live_doses(session, child), ignore_pk=v.pk)
    before_views = dose_views(session, child)
    before = {"vaccine": v.vaccine, "dose": v.dose, "date": v.given_on.isoformat(),
              "facility": facility_unit.code, "strategy": v.strategy, "session": v.session,
              "lot": v.lot}
    ref = v.session if data.session is None else (data.session or None)
    v.session, strategy = _session_link(session, actor, ref, given_on, facility, strategy,
                                        data.strategy is not None)
    v.vaccine, v.dose, v.given_on = vaccine, dose_n, given_on
    v.facility_id, v.strategy = facility.id, strategy
    if data.lot is not None:
        v.lot = data.lot or None
    v.updated_at = utcnow()
    session.flush()
    refresh_child(session, child, before_views, today, params)
    audit(session, actor, "update", "vaccination", str(v.id),
          {"child": str(child.id), "before": before, "reason": data.reason})
    return v


def delete_dose(session: Session, actor: Actor, vaccination_id: uuid.UUID, reason: str,
                today: date) -> Vaccination:
    """Delete a dose (kept in the database as deleted); audited with the reason."""
    if not reason.strip():
        raise invalid("reason", "reason_missing", "Indiquez la raison de la suppression",
                      "Give the reason for the deletion")
    v, child = vaccination_for_write(session, actor, vaccination_id)
    before_views = dose_views(session, child)
    v.deleted, v.updated_at = True, utcnow()
    session.flush()
    refresh_child(session, child, before_views, today)
    audit(session, actor, "delete", "vaccination", str(v.id),
          {"child": str(child.id), "vaccine": v.vaccine, "dose": v.dose,
           "date": v.given_on.isoformat(), "reason": reason})
    return v


def merge_children(session: Session, actor: Actor, keep_id: uuid.UUID, drop_id: uuid.UUID,
                   today: date) -> Child:
    """Merge a duplicate into the kept child; both histories stay, the duplicate points to it.

    Doses of the duplicate move to the kept child; one that repeats a dose the kept child
    already has is kept as deleted (reason "merged_duplicate_dose") so nothing is lost.
    """
    if actor.role not in MERGE:
        raise Forbidden("role_forbidden", Message(
            "Votre rôle ({role}) ne permet pas de fusionner", "Your role ({role}) may not merge",
            {"role": actor.role}))
    if keep_id == drop_id:
        raise invalid("duplicate", "merge_same", "Un enregistrement ne peut fusionner avec "
                      "lui-même", "A record cannot be merged with itself")
    keep = child_for_write(session, actor, keep_id)
    drop = child_for_write(session, actor, drop_id)
    before_keep, before_drop = dose_views(session, keep), dose_views(session, drop)
    have = {(v.vaccine, v.dose) for v in session.scalars(select(Vaccination).where(
        Vaccination.child_pk == keep.pk, Vaccination.deleted.is_(False)))}
    moved = []
    for v in session.scalars(select(Vaccination).where(Vaccination.child_pk == drop.pk)
                             .order_by(Vaccination.given_on)):
        if not v.deleted and (v.vaccine, v.dose) in have:
            v.deleted, v.invalid_reason = True, "merged_duplicate_dose"
        elif not v.deleted:
            have.add((v.vaccine, v.dose))
        v.child_pk, v.residence_id = keep.pk, keep.facility_id
        moved.append(str(v.id))
    drop.merged_into_pk = keep.pk
    drop.updated_at = keep.updated_at = utcnow()
    session.flush()
    facts.apply_delta(session, before_drop, [], _params(session).grace_days)
    refresh_child(session, keep, before_keep, today)
    refresh_child(session, drop, [], today)
    for c, role in ((keep, "kept"), (drop, "merged")):
        audit(session, actor, "merge", "child", str(c.id),
              {"role": role, "kept": str(keep.id), "merged": str(drop.id), "doses_moved": moved})
    return keep

