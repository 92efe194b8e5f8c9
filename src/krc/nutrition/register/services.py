"""Every write of the first 1,000 days register: women and their contacts, growth-monitoring
visits (z-scores and classification at once), referrals and their follow-up.

The JSON API, the pages, the CLI and the demo call these functions, so validation, audit
and idempotency live here once (reference/nutrition.md §2, §5).
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from krc.accounts.roles import Actor, require_in_scope, require_personal_write
from krc.accounts.services import audit, utcnow
from krc.db import insert_or_find
from krc.errors import PARAM_LABELS, Conflict, Message, NotFound, invalid
from krc.geo.models import FACILITY, VILLAGE, OrgUnit
from krc.geo.queries import Unit, replay_in_scope, unit_for_field, unit_ref
from krc.identifiers import normalise_phone
from krc.immunization.models import Child
from krc.immunization.services import child_place
from krc.nutrition.register import classify as rules
from krc.nutrition.register.models import GrowthVisit, Referral, Woman, WomanContact
from krc.nutrition.register.schemas import (
    ContactCreate,
    ContactUpdate,
    ReferralUpdate,
    VisitCreate,
    WomanCreate,
    WomanUpdate,
)
from krc.nutrition.register.settings import RegisterParams, load_register_params

NAMESPACE = uuid.UUID("0b9e3a52-6f0d-4c1e-9a3c-7d1f2e4b5a60")
OPEN = ("open", "attended")
ZSCORES = ("zlen", "zwei", "zwfl", "zbmi", "zac")
FLAGS = ("flen", "fwei", "fwfl", "fbmi", "fac")


# A referral's outcome named in a refusal by its label (the pages' labels, views.py).
PARAM_LABELS["referral_outcome"] = {
    "recovered": ("guéri", "recovered"), "defaulted": ("abandon", "defaulted"),
    "died": ("décédé", "died"), "non_response": ("non-répondant", "non-response"),
    "transferred": ("transféré", "transferred"),
    "entered_in_error": ("saisie erronée", "entered in error")}

def _facility_in_scope(session: Session, actor: Actor, code: str | None,
                       default_id: int) -> Unit:
    unit = unit_for_field(session, code, "facility", FACILITY) if code else session.get(OrgUnit,
                                                                                default_id)
    assert unit is not None
    require_in_scope(actor, unit.path, unit.name, "facility")
    return unit


def _child_in_scope(session: Session, actor: Actor, child_id: uuid.UUID, field_name: str
                    ) -> Child:
    """Return a register child the actor may see, or refuse with a field error (422)."""
    row = session.execute(select(Child, OrgUnit.path).join(
        OrgUnit, OrgUnit.id == Child.facility_id).where(Child.id == child_id)).first()
    if row is None or not actor.covers(row[1]) or row[0].merged_into_pk is not None:
        raise invalid(field_name, "child_not_found",
                      "Enfant introuvable dans le registre : {id}",
                      "Child not found in the register: {id}", id=str(child_id))
    child: Child = row[0]
    return child


# --------------------------------------------------------------------------- women

@dataclass
class WomanResult:
    """A registration: the woman and whether this call created her."""

    woman: Woman
    created: bool


def woman_place(session: Session, actor: Actor, woman_id: uuid.UUID) -> tuple[Woman, OrgUnit]:
    """Return a woman in the actor's scope with her facility, or raise 404."""
    row = session.execute(select(Woman, OrgUnit).join(OrgUnit, OrgUnit.id == Woman.facility_id)
                          .where(Woman.id == woman_id)).first()
    if row is None or not actor.covers(row[1].path):
        raise NotFound("woman_not_found", Message("Femme introuvable", "Woman not found"))
    return row[0], row[1]


def register_woman(session: Session, actor: Actor, data: WomanCreate, today: date
                   ) -> WomanResult:
    """Register a pregnant or breastfeeding woman (idempotent on `data.id`), §5."""
    require_personal_write(actor)
    if data.id is not None:
        existing = session.scalar(select(Woman).where(Woman.id == data.id))
        if existing is not None:
            return WomanResult(replay_in_scope(session, actor, existing), False)
    if data.birth_date is None and data.age_years is None:
        raise invalid("birth_date", "age_missing", "Indiquez la date de naissance ou l'âge",
                      "Give the birth date or the age")
    if data.birth_date is not None:
        years = (today - data.birth_date).days / 365.25
        if not 10 <= years <= 60:
            raise invalid("birth_date", "birth_date_implausible",
                          "Date de naissance impossible pour une femme enceinte ou allaitante : "
                          "{d}", "Impossible birth date for a pregnant or breastfeeding "
                          "woman: {d}", d=data.birth_date.isoformat())
    if data.status == "pregnant":
        if data.expected_delivery is None:
            raise invalid("expected_delivery", "expected_delivery_missing",
                          "Indiquez la date prévue d'accouchement",
                          "Give the expected delivery date")
        days = (data.expected_delivery - today).days
        if not -30 <= days <= 300:
            raise invalid("expected_delivery", "expected_delivery_implausible",
                          "Date prévue d'accouchement hors de la grossesse en cours : {d}",
                          "Expected delivery date outside a current pregnancy: {d}",
                          d=data.expected_delivery.isoformat())
    facility = _facility_in_scope(session, actor, data.facility, 0)
    village = None
    if data.village:
        village = unit_for_field(session, data.village, "village", VILLAGE)
        if village.parent_id != facility.id:
            raise invalid("village", "village_not_in_facility",
                          "Le village {v} ne relève pas de {f}",
                          "Village {v} is not served by {f}", v=village.name, f=facility.name)
    child = _child_in_scope(session, actor, data.child, "child") if data.child else None
    phone = normalise_phone(data.phone, "phone") if data.phone else None
    now = utcnow()
    woman = Woman(id=data.id or uuid.uuid4(), given_name=data.given_name,
                  family_name=data.family_name, birth_date=data.birth_date,
                  age_years=data.age_years, phone=phone, facility_id=facility.id,
                  village_id=village.id if village else None, status=data.status,
                  expected_delivery=data.expected_delivery,
                  child_pk=child.pk if child else None, created_at=now, updated_at=now,
                  created_by=actor.user_id)
    stored, created = insert_or_find(session, woman)
    if not created:  # a concurrent retry with the same id won the race
        return WomanResult(replay_in_scope(session, actor, stored), False)
    audit(session, actor, "create", "nutrition_woman", str(woman.id),
          {"facility": facility.code, "status": woman.status})
    return WomanResult(woman, True)


def update_woman(session: Session, actor: Actor, woman_id: uuid.UUID, data: WomanUpdate,
                 today: date) -> Woman:
    """Record a pregnancy outcome and link the newborn (a register child), or change the
    status; audited with before/after (§5 "link to the child at birth")."""
    require_personal_write(actor)
    woman, _facility = woman_place(session, actor, woman_id)
    before: dict[str, Any] = {}

    def change(name: str, value: Any) -> None:
        old = getattr(woman, name)
        if value != old:
            before[name] = old.isoformat() if isinstance(old, date) else old
            setattr(woman, name, value)

    if data.outcome is not None:
        if woman.outcome is not None and woman.outcome != data.outcome:
            raise Conflict("outcome_recorded", Message(
                "L'issue de la grossesse est déjà enregistrée ({o})",
                "The pregnancy outcome is already recorded ({o})", {"o": woman.outcome}),
                field="outcome")
        on = data.outcome_on or today
        if on > today:
            raise invalid("outcome_on", "date_future", "La date {d} est dans le futur",
                          "The date {d} is in the future", d=on.isoformat())
        change("outcome", data.outcome)
        change("outcome_on", on)
        change("status", "breastfeeding" if data.outcome == "live_birth" else "closed")
    if data.child is not None:
        child = _child_in_scope(session, actor, data.child, "child")
        if woman.outcome == "live_birth" and woman.outcome_on is not None \
                and abs((child.birth_date - woman.outcome_on).days) > 7:
            raise invalid("child", "newborn_birth_mismatch",
                          "L'enfant est né le {b}, pas à la date de l'accouchement ({d})",
                          "The child was born on {b}, not on the delivery date ({d})",
                          b=child.birth_date.isoformat(), d=woman.outcome_on.isoformat())
        change("child_pk", child.pk)
    if data.status is not None and data.outcome is None:
        change("status", data.status)
    if data.expected_delivery is not None:
        change("expected_delivery", data.expected_delivery)
    if data.phone is not None:
        change("phone", normalise_phone(data.phone, "phone") if data.phone else None)
    if before:
        woman.updated_at = utcnow()
        audit(session, actor, "update", "nutrition_woman", str(woman.id), {"before": before})
    return woman


@dataclass
class ContactResult:
    """A recorded contact and whether this call created it."""

    contact: WomanContact
    woman: Woman
    created: bool


def record_contact(session: Session, actor: Actor, woman_id: uuid.UUID, data: ContactCreate,
                   today: date, params: RegisterParams | None = None) -> ContactResult:
    """Record an antenatal (pregnant) or postnatal contact: iron–folic acid, MUAC (at risk
    below the configurable 230 mm), counselling (§5); idempotent on `data.id`."""
    require_personal_write(actor)
    woman, _unit_of_woman = woman_place(session, actor, woman_id)
    if data.id is not None:
        mine = session.scalar(select(WomanContact).where(WomanContact.id == data.id))
        if mine is not None:
            if mine.woman_pk != woman.pk:
                raise Conflict("id_taken", Message("Cet identifiant est déjà utilisé",
                                                   "This id is already used"), field="id")
            return ContactResult(mine, woman, False)
    if data.date > today:
        raise invalid("date", "date_future", "La date {d} est dans le futur",
                      "The date {d} is in the future", d=data.date.isoformat())
    rules.check_woman_muac(data.muac_mm)
    facility = _facility_in_scope(session, actor, data.facility, woman.facility_id)
    same = session.scalar(select(WomanContact).where(WomanContact.woman_pk == woman.pk,
                                                     WomanContact.contact_on == data.date))
    if same is not None:
        raise invalid("date", "contact_already_recorded",
                      "Un contact est déjà enregistré le {d}",
                      "A contact is already recorded on {d}", d=data.date.isoformat())
    params = params or load_register_params(session)
    kind = "antenatal" if woman.status == "pregnant" else "postnatal"
    contact = WomanContact(
        id=data.id or uuid.uuid4(), woman_pk=woman.pk, kind=kind, contact_on=data.date,
        facility_id=facility.id, iron_folic_acid=data.iron_folic_acid or bool(data.ifa_tablets),
        ifa_tablets=data.ifa_tablets, muac_mm=data.muac_mm,
        muac_at_risk=rules.woman_at_risk(data.muac_mm, params.woman_muac_at_risk_mm),
        counselling=data.counselling, created_at=utcnow(), created_by=actor.user_id)
    again, created = insert_or_find(session, contact)
    if not created:
        if again is not None and again.woman_pk == woman.pk:
            return ContactResult(again, woman, False)
        raise invalid("date", "contact_already_recorded",
                      "Un contact est déjà enregistré le {d}",
                      "A contact is already recorded on {d}", d=data.date.isoformat())
    audit(session, actor, "create", "nutrition_woman_contact", str(contact.id),
          {"woman": str(woman.id), "kind": kind, "date": data.date.isoformat(),
           "muac_at_risk": contact.muac_at_risk})
    return ContactResult(contact, woman, True)


def correct_contact(session: Session, actor: Actor, woman_id: uuid.UUID,
                    contact_id: uuid.UUID, data: ContactUpdate, today: date,
                    params: RegisterParams | None = None) -> ContactResult:
    """Correct a recorded contact (a mistyped day, MUAC or tablet count): the fields sent
    change, the MUAC risk is re-derived, and the values before are audited with the reason.
    Contacts are never deleted: a contact entered on the wrong day is moved to its day."""
    require_personal_write(actor)
    if not data.reason.strip():
        raise invalid("reason", "reason_missing", "Indiquez la raison de la correction",
                      "Give the reason for the correction")
    woman, _unit_of_woman = woman_place(session, actor, woman_id)
    contact = session.scalar(select(WomanContact).where(WomanContact.id == contact_id,
                                                        WomanContact.woman_pk == woman.pk))
    if contact is None:
        raise NotFound("contact_not_found", Message("Contact introuvable", "Contact not found"))
    sent = data.model_fields_set - {"reason"}
    day = data.date if data.date is not None else contact.contact_on
    if day > today:
        raise invalid("date", "date_future", "La date {d} est dans le futur",
                      "The date {d} is in the future", d=day.isoformat())
    if day != contact.contact_on and session.scalar(select(WomanContact.pk).where(
            WomanContact.woman_pk == woman.pk, WomanContact.contact_on == day)) is not None:
        raise invalid("date", "contact_already_recorded",
                      "Un contact est déjà enregistré le {d}",
                      "A contact is already recorded on {d}", d=day.isoformat())
    muac = data.muac_mm if "muac_mm" in sent else contact.muac_mm
    rules.check_woman_muac(muac)
    facility_id = contact.facility_id
    if data.facility is not None:
        facility_id = _facility_in_scope(session, actor, data.facility, woman.facility_id).id
    params = params or load_register_params(session)
    before = {"date": contact.contact_on.isoformat(),
              "facility": unit_ref(session, contact.facility_id),
              "iron_folic_acid": contact.iron_folic_acid, "ifa_tablets": contact.ifa_tablets,
              "muac_mm": contact.muac_mm, "counselling": contact.counselling}
    tablets = data.ifa_tablets if "ifa_tablets" in sent else contact.ifa_tablets
    given = data.iron_folic_acid if data.iron_folic_acid is not None else \
        contact.iron_folic_acid
    contact.contact_on, contact.facility_id = day, facility_id
    contact.ifa_tablets, contact.iron_folic_acid = tablets, bool(given or tablets)
    contact.muac_mm = muac
    contact.muac_at_risk = rules.woman_at_risk(muac, params.woman_muac_at_risk_mm)
    if data.counselling is not None:
        contact.counselling = data.counselling
    audit(session, actor, "update", "nutrition_woman_contact", str(contact.id),
          {"woman": str(woman.id), "before": before, "reason": data.reason.strip()})
    return ContactResult(contact, woman, False)


# --------------------------------------------------------------------------- visits

@dataclass
class VisitResult:
    """A recorded visit, its child, whether this call created it and its referral."""

    visit: GrowthVisit
    child: Child
    created: bool
    referral: Referral | None = None
    referral_created: bool = False
    transferred: list[Referral] = field(default_factory=list)


def _z(value: Any) -> float | None:
    if value is None:
        return None
    try:
        x = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(x) else x


def _flag(value: Any) -> bool | None:
    x = _z(value)
    return None if x is None else bool(x)


def compute_zscores(sex: str, age_days: int, weight: float | None, lenhei: float | None,
                    measure: str | None, muac_mm: float | None, oedema: bool
                    ) -> dict[str, Any]:
    """Return the WHO z-scores (full precision), flags and corrections of one visit from
    the growth standards engine (krc.nutrition.growth, reference §1); MUAC goes in cm."""
    from krc.nutrition.growth import zscores_one
    out = zscores_one(1 if sex == "M" else 2, age_days, weight=weight, lenhei=lenhei,
                      measure=measure, armc=None if muac_mm is None else muac_mm / 10.0,
                      oedema=oedema)
    result: dict[str, Any] = {k: _z(out.get(k)) for k in ZSCORES}
    result.update({k: _flag(out.get(k)) for k in FLAGS})
    result["clenhei"] = _z(out.get("clenhei"))
    cm = out.get("cmeasure")
    result["cmeasure"] = cm if isinstance(cm, str) and cm in ("l", "h") else None
    result["c9mo_flag"] = _flag(out.get("c9mo_flag"))
    return result


def measures_of(v: GrowthVisit) -> rules.Measures:
    """Return what classification reads from a stored visit."""
    return rules.Measures(age_days=v.age_days, zlen=v.zlen, flen=bool(v.flen), zwei=v.zwei,
                          fwei=bool(v.fwei), zwfl=v.zwfl, fwfl=bool(v.fwfl),
                          muac_mm=v.muac_mm, oedema=v.oedema)


def _point(v: GrowthVisit) -> rules.WeightPoint:
    return rules.WeightPoint(v.visit_on, v.weight_kg, rules.usable(v.zwei, v.fwei))


def _referral_for(session: Session, actor: Actor, child: Child, visit: GrowthVisit,
                  reason: str, today: date) -> tuple[Referral | None, bool, list[Referral]]:
    """Raise the referral a visit calls for, unless an open one at least as severe exists;
    an open one less severe (MAM → SAM) is closed as transferred. Returns (referral,
    created, transferred)."""
    open_refs = list(session.scalars(select(Referral).where(
        Referral.child_pk == child.pk, Referral.status.in_(OPEN)).order_by(Referral.pk)))
    severity = rules.SEVERITY[reason]
    covering = next((r for r in open_refs if rules.SEVERITY[r.reason] >= severity), None)
    if covering is not None:
        return covering, False, []
    transferred = []
    for r in open_refs:
        before = {"status": r.status, "outcome": r.outcome}
        r.status, r.outcome, r.outcome_on = "closed", "transferred", visit.visit_on
        r.notes = ((r.notes + " · ") if r.notes else "") + f"→ {reason} {visit.visit_on}"
        r.updated_at, r.updated_by = utcnow(), actor.user_id
        audit(session, actor, "update", "nutrition_referral", str(r.id),
              {"before": before, "outcome": "transferred", "by_visit": str(visit.id)})
        transferred.append(r)
    destination = rules.referral_destination(reason, visit.complications, visit.appetite_test)
    assert destination is not None
    now = utcnow()
    referral = Referral(
        id=uuid.uuid5(NAMESPACE, f"referral/{visit.id}"), child_pk=child.pk, visit_pk=visit.pk,
        facility_id=visit.facility_id, reason=reason,
        criteria=(visit.criteria if reason != "faltering" else visit.faltering),
        destination=destination, status="open", referred_on=visit.visit_on, created_at=now,
        updated_at=now, created_by=actor.user_id, updated_by=actor.user_id)
    session.add(referral)
    session.flush()
    audit(session, actor, "create", "nutrition_referral", str(referral.id),
          {"child": str(child.id), "visit": str(visit.id), "reason": reason,
           "destination": destination, "criteria": referral.criteria})
    return referral, True, transferred


def _mark_discharge(session: Session, child: Child, visit: GrowthVisit,
                    history: list[GrowthVisit]) -> None:
    """Note on open SAM/MAM referrals the first later visit meeting the discharge criterion."""
    for r in session.scalars(select(Referral).where(
            Referral.child_pk == child.pk, Referral.status.in_(OPEN),
            Referral.reason.in_(("sam", "mam")), Referral.discharge_met_on.is_(None),
            Referral.referred_on < visit.visit_on)):
        oedema_days = [h.visit_on for h in history if h.oedema and h.visit_on >= r.referred_on]
        ready = rules.discharge_ready(
            (r.criteria or "").split(","), visit.muac_mm, rules.usable(visit.zwfl, visit.fwfl),
            visit.oedema, max(oedema_days) if oedema_days else None, visit.visit_on)
        if ready:
            r.discharge_met_on = visit.visit_on


def visit_for_child(session: Session, child: Child, visit_id: uuid.UUID) -> GrowthVisit | None:
    """Return the child's visit with this id, or None."""
    return session.scalar(select(GrowthVisit).where(GrowthVisit.id == visit_id,
                                                    GrowthVisit.child_pk == child.pk))


def record_visit(session: Session, actor: Actor, child_id: uuid.UUID, data: VisitCreate,
                 today: date, params: RegisterParams | None = None) -> VisitResult:
    """Record a growth-monitoring visit of a register child: refuse impossible measurements,
    compute the WHO z-scores and flags, classify (§2), detect growth faltering, raise the
    referral SAM/MAM/faltering calls for; idempotent on `data.id` (one visit a day)."""
    place = child_place(session, actor, child_id)
    child = place.child
    if data.id is not None:
        mine = session.scalar(select(GrowthVisit).where(GrowthVisit.id == data.id))
        if mine is not None:
            if mine.child_pk != child.pk:
                raise Conflict("id_taken", Message("Cet identifiant est déjà utilisé",
                                                   "This id is already used"), field="id")
            ref = session.scalar(select(Referral).where(Referral.visit_pk == mine.pk))
            return VisitResult(mine, child, False, ref)
    measure = (data.measure or "").strip().lower() or None
    rules.check_visit(child.birth_date, data.date, today, data.weight, data.lenhei, measure,
                      data.muac)
    if data.appetite_test is not None and data.appetite_test not in ("passed", "failed"):
        raise invalid("appetite_test", "appetite_test_invalid", "Test d'appétit : passed ou "
                      "failed", "Appetite test: passed or failed")
    facility = _facility_in_scope(session, actor, data.facility, child.facility_id)
    same = session.scalar(select(GrowthVisit.pk).where(GrowthVisit.child_pk == child.pk,
                                                       GrowthVisit.visit_on == data.date,
                                                       GrowthVisit.voided_at.is_(None)))
    if same is not None:
        raise invalid("date", "visit_already_recorded",
                      "Une visite est déjà enregistrée le {d} pour cet enfant",
                      "A visit is already recorded on {d} for this child",
                      d=data.date.isoformat())
    params = params or load_register_params(session)
    age_days = (data.date - child.birth_date).days
    z = compute_zscores(child.sex, age_days, data.weight, data.lenhei, measure, data.muac,
                        data.oedema)
    history = list(session.scalars(select(GrowthVisit).where(
        GrowthVisit.child_pk == child.pk, GrowthVisit.voided_at.is_(None))
        .order_by(GrowthVisit.visit_on)))
    visit = GrowthVisit(
        id=data.id or uuid.uuid4(), child_pk=child.pk, visit_on=data.date,
        facility_id=facility.id, age_days=age_days, weight_kg=data.weight,
        lenhei_cm=data.lenhei, measure=measure, muac_mm=data.muac, oedema=data.oedema,
        counselling=data.counselling, complications=data.complications,
        appetite_test=data.appetite_test, created_at=utcnow(), created_by=actor.user_id, **z)
    c = rules.classify(measures_of(visit))
    visit.status, visit.criteria = c.status, ",".join(c.criteria) or None
    faltering = rules.growth_faltering([_point(h) for h in history], _point(visit),
                                       params.faltering_waz_drop)
    visit.faltering = ",".join(faltering) or None
    again, created = insert_or_find(session, visit)
    if not created:
        if again is not None and again.child_pk == child.pk:
            ref = session.scalar(select(Referral).where(Referral.visit_pk == again.pk))
            return VisitResult(again, child, False, ref)
        if again is not None:
            raise Conflict("id_taken", Message("Cet identifiant est déjà utilisé",
                                               "This id is already used"), field="id")
        raise invalid("date", "visit_already_recorded",
                      "Une visite est déjà enregistrée le {d} pour cet enfant",
                      "A visit is already recorded on {d} for this child",
                      d=data.date.isoformat())
    audit(session, actor, "create", "growth_visit", str(visit.id),
          {"child": str(child.id), "date": data.date.isoformat(), "facility": facility.code,
           "status": visit.status, "criteria": visit.criteria, "faltering": visit.faltering,
           "flags": [k for k in FLAGS if z.get(k)]})
    _mark_discharge(session, child, visit, history + [visit])
    reason = c.status if c.status in ("sam", "mam") else ("faltering" if faltering else None)
    result = VisitResult(visit, child, True)
    if reason is not None:
        ref, created, transferred = _referral_for(session, actor, child, visit, reason, today)
        result.referral, result.referral_created, result.transferred = ref, created, transferred
    return result


def visit_place(session: Session, actor: Actor, visit_id: uuid.UUID,
                child_id: uuid.UUID | None = None) -> tuple[GrowthVisit, Child]:
    """Return a visit (of `child_id` when given) whose child is in the actor's scope, with
    the child, or raise 404."""
    query = (select(GrowthVisit, Child, OrgUnit.path)
             .join(Child, Child.pk == GrowthVisit.child_pk)
             .join(OrgUnit, OrgUnit.id == Child.facility_id).where(GrowthVisit.id == visit_id))
    if child_id is not None:
        query = query.where(Child.id == child_id)
    row = session.execute(query).first()
    if row is None or not actor.covers(row[2]):
        raise NotFound("visit_not_found", Message("Visite introuvable", "Visit not found"))
    return row[0], row[1]


def void_visit(session: Session, actor: Actor, visit_id: uuid.UUID, reason: str,
               now: datetime | None = None, *, child_id: uuid.UUID | None = None
               ) -> GrowthVisit:
    """Void a visit entered in error (kept, excluded from lists that count, charts, faltering,
    discharge and figures); the referral it raised, still open with no follow-up, is closed
    as `entered_in_error`. Audited with the visit's values; voiding twice changes nothing."""
    require_personal_write(actor)
    visit, child = visit_place(session, actor, visit_id, child_id)
    text = (reason or "").strip()
    if not text:
        raise invalid("reason", "reason_missing", "Indiquez la raison de l'annulation",
                      "Give the reason for voiding the visit")
    if len(text) > 200:
        raise invalid("reason", "reason_too_long", "La raison dépasse {n} caractères",
                      "The reason is longer than {n} characters", n=200)
    if visit.voided_at is not None:
        return visit
    now = now or utcnow()
    visit.voided_at, visit.voided_by, visit.void_reason = now, actor.user_id, text
    session.flush()
    audit(session, actor, "void", "growth_visit", str(visit.id),
          {"child": str(child.id), "date": visit.visit_on.isoformat(), "reason": text,
           "values": {"facility_id": visit.facility_id, "age_days": visit.age_days,
                      "weight": visit.weight_kg, "lenhei": visit.lenhei_cm,
                      "measure": visit.measure, "muac": visit.muac_mm, "oedema": visit.oedema,
                      "status": visit.status, "criteria": visit.criteria,
                      "faltering": visit.faltering}})
    ref = session.scalar(select(Referral).where(Referral.visit_pk == visit.pk))
    if ref is not None and ref.status == "open" and ref.attended_on is None \
            and ref.outcome is None:
        before = {"status": ref.status, "outcome": ref.outcome}
        ref.status, ref.outcome = "closed", "entered_in_error"
        ref.outcome_on = now.date()
        ref.notes = (((ref.notes + " · ") if ref.notes else "") + f"✗ {text}")[:500]
        ref.updated_at, ref.updated_by = now, actor.user_id
        audit(session, actor, "update", "nutrition_referral", str(ref.id),
              {"before": before, "outcome": "entered_in_error", "by_void": str(visit.id)})
    _recheck_discharge(session, child, visit)
    return visit


def _recheck_discharge(session: Session, child: Child, voided: GrowthVisit) -> None:
    """Forget a discharge noted by a voided visit and look for it again in the live visits."""
    refs = list(session.scalars(select(Referral).where(
        Referral.child_pk == child.pk, Referral.status.in_(OPEN),
        Referral.discharge_met_on == voided.visit_on)))
    if not refs:
        return
    for r in refs:
        r.discharge_met_on = None
    live = list(session.scalars(select(GrowthVisit).where(
        GrowthVisit.child_pk == child.pk, GrowthVisit.voided_at.is_(None))
        .order_by(GrowthVisit.visit_on)))
    for i, v in enumerate(live):
        if v.visit_on > voided.visit_on:
            _mark_discharge(session, child, v, live[:i + 1])


# --------------------------------------------------------------------------- referrals

def referral_place(session: Session, actor: Actor, referral_id: uuid.UUID
                   ) -> tuple[Referral, Child]:
    """Return a referral whose child is in the actor's scope, with the child, or raise 404."""
    row = session.execute(
        select(Referral, Child, OrgUnit.path).join(Child, Child.pk == Referral.child_pk)
        .join(OrgUnit, OrgUnit.id == Child.facility_id).where(Referral.id == referral_id)).first()
    if row is None or not actor.covers(row[2]):
        raise NotFound("referral_not_found", Message("Référence introuvable",
                                                     "Referral not found"))
    return row[0], row[1]


def _check_day(name: str, day: date, earliest: date, today: date) -> None:
    if day > today:
        raise invalid(name, "date_future", "La date {d} est dans le futur",
                      "The date {d} is in the future", d=day.isoformat())
    if day < earliest:
        raise invalid(name, "date_before_referral",
                      "La date {d} précède la référence ou l'étape précédente ({r})",
                      "The date {d} is before the referral or the previous step ({r})",
                      d=day.isoformat(), r=earliest.isoformat())


def update_referral(session: Session, actor: Actor, referral_id: uuid.UUID,
                    data: ReferralUpdate, today: date) -> Referral:
    """Follow a referral: attended, then an outcome (recovered, defaulted, died,
    non_response, transferred); or a corrected destination after assessment (complications,
    appetite test: reference §2). A closed referral is final (409). Audited."""
    require_personal_write(actor)
    ref, _child = referral_place(session, actor, referral_id)
    if ref.status == "closed":
        raise Conflict("referral_closed", Message(
            "Cette référence est clôturée ({o})", "This referral is closed ({o})",
            {"o": ref.outcome}))
    before = {"status": ref.status, "destination": ref.destination,
              "attended_on": ref.attended_on.isoformat() if ref.attended_on else None}
    if data.complications is not None or data.appetite_test is not None:
        if ref.reason != "sam":
            raise invalid("complications", "not_sam",
                          "Complications et test d'appétit ne concernent que la MAS",
                          "Complications and appetite test apply to SAM only")
        destination = rules.referral_destination("sam", data.complications,
                                                 data.appetite_test)
        assert destination is not None
        ref.destination = destination
    wants_attended = data.status == "attended" or data.attended_on is not None
    if wants_attended and ref.status == "open":
        on = data.attended_on or today
        _check_day("attended_on", on, ref.referred_on, today)
        ref.status, ref.attended_on = "attended", on
    elif data.status == "attended" and ref.status == "attended" and data.outcome is None:
        raise Conflict("referral_already_attended", Message(
            "Présence déjà enregistrée le {d}", "Attendance already recorded on {d}",
            {"d": ref.attended_on.isoformat() if ref.attended_on else "?"}))
    if data.status == "closed" and data.outcome is None:
        raise invalid("outcome", "outcome_missing", "Indiquez l'issue de la prise en charge",
                      "Give the outcome of the care")
    if data.outcome is not None:
        if data.outcome in ("recovered", "non_response") and ref.status != "attended":
            raise invalid("outcome", "referral_not_attended",
                          "L'enfant n'a pas été reçu au service de référence : l'issue "
                          "« {referral_outcome} » est impossible ; enregistrez d'abord sa "
                          "venue", "The child never attended the referral service: the "
                          "outcome '{referral_outcome}' is impossible; record the attendance "
                          "first", referral_outcome=data.outcome)
        on = data.outcome_on or today
        _check_day("outcome_on", on, ref.attended_on or ref.referred_on, today)
        ref.status, ref.outcome, ref.outcome_on = "closed", data.outcome, on
    if data.notes is not None:
        ref.notes = data.notes or None
    ref.updated_at, ref.updated_by = utcnow(), actor.user_id
    audit(session, actor, "update", "nutrition_referral", str(ref.id),
          {"before": before, "status": ref.status, "destination": ref.destination,
           "outcome": ref.outcome})
    return ref
