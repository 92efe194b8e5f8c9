"""Reads of the first 1,000 days register, always through the caller's org-unit scope.
Reads of a woman's or a child's nutrition record are audited."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, case, or_, select
from sqlalchemy.orm import Session

from krc.accounts.roles import Actor
from krc.accounts.services import audit
from krc.errors import Forbidden, Message, NotFound
from krc.geo.models import FACILITY, OrgUnit
from krc.geo.queries import unit_ref
from krc.immunization.models import Child
from krc.immunization.queries import child_for_read
from krc.matching import name_key
from krc.nutrition.register.classify import classify
from krc.nutrition.register.models import GrowthVisit, Referral, Woman, WomanContact
from krc.nutrition.register.services import FLAGS, ZSCORES, measures_of, woman_place


def require_personal(actor: Actor) -> None:
    """Refuse (403) a role that may not read personal records."""
    if not actor.can_read_personal:
        raise Forbidden("role_forbidden", Message(
            "Votre rôle ({role}) ne donne pas accès aux dossiers individuels",
            "Your role ({role}) gives no access to individual records", {"role": actor.role}))


def _subtree(unit: OrgUnit) -> Select[Any]:
    return select(OrgUnit.id).where(or_(OrgUnit.path == unit.path,
                                        OrgUnit.path.startswith(unit.path + "/")),
                                    OrgUnit.level == FACILITY)


def _r2(x: float | None) -> float | None:
    """Return a z-score at 2 decimals as WHO anthro rounds (R's round)."""
    from krc.nutrition.growth import r_round
    return None if x is None else float(r_round(x, 2))


# --------------------------------------------------------------------------- women

def woman_for_read(session: Session, actor: Actor, woman_id: uuid.UUID | str,
                   audit_read: bool = True) -> Woman:
    """Return a woman in the actor's scope (the read is audited), or raise 404."""
    require_personal(actor)
    try:
        wid = woman_id if isinstance(woman_id, uuid.UUID) else uuid.UUID(str(woman_id))
    except ValueError:
        raise NotFound("woman_not_found", Message("Femme introuvable", "Woman not found")) \
            from None
    woman, _unit = woman_place(session, actor, wid)
    if audit_read:
        audit(session, actor, "read", "nutrition_woman", str(woman.id))
    return woman


def contacts_of(session: Session, woman: Woman) -> list[WomanContact]:
    """Return a woman's contacts, oldest first."""
    return list(session.scalars(select(WomanContact).where(WomanContact.woman_pk == woman.pk)
                                .order_by(WomanContact.contact_on)))


def contact_dict(session: Session, c: WomanContact, woman_id: uuid.UUID, number: int
                 ) -> dict[str, Any]:
    """Return the API shape of a contact (`number`: its rank among the woman's contacts)."""
    return {"id": c.id, "woman": woman_id, "kind": c.kind, "number": number,
            "date": c.contact_on, "facility": unit_ref(session, c.facility_id),
            "iron_folic_acid": c.iron_folic_acid, "ifa_tablets": c.ifa_tablets,
            "muac_mm": c.muac_mm, "muac_at_risk": c.muac_at_risk, "counselling": c.counselling}


def woman_dict(session: Session, w: Woman, contacts: list[WomanContact] | None = None
               ) -> dict[str, Any]:
    """Return the API shape of a woman (with her contact count and last MUAC risk)."""
    rows = contacts if contacts is not None else contacts_of(session, w)
    child_id = session.scalar(select(Child.id).where(Child.pk == w.child_pk)) \
        if w.child_pk else None
    muacs = [c.muac_at_risk for c in rows if c.muac_at_risk is not None]
    return {"id": w.id, "given_name": w.given_name, "family_name": w.family_name,
            "birth_date": w.birth_date, "age_years": w.age_years, "phone": w.phone,
            "facility": unit_ref(session, w.facility_id),
            "village": unit_ref(session, w.village_id), "status": w.status,
            "expected_delivery": w.expected_delivery, "outcome": w.outcome,
            "outcome_on": w.outcome_on, "child": child_id, "contacts": len(rows),
            "last_muac_at_risk": muacs[-1] if muacs else None}


def woman_card(session: Session, w: Woman) -> dict[str, Any]:
    """Return a woman with her numbered contacts."""
    rows = contacts_of(session, w)
    return {**woman_dict(session, w, rows),
            "contact_list": [contact_dict(session, c, w.id, i)
                             for i, c in enumerate(rows, 1)]}


def list_women(session: Session, actor: Actor, unit: OrgUnit, status: str | None = None,
               q: str = "", limit: int = 200) -> list[Woman]:
    """Return the women registered in a unit's subtree (in scope), newest first; the read
    of this list of personal records is audited."""
    require_personal(actor)
    if not actor.covers(unit.path):
        raise Forbidden("out_of_scope", Message("{n} est hors de votre zone",
                                                "{n} is outside your area", {"n": unit.name}))
    query = select(Woman).where(Woman.facility_id.in_(_subtree(unit)))
    if status:
        query = query.where(Woman.status == status)
    text = (q or "").strip()
    rows = list(session.scalars(query.order_by(Woman.pk.desc()).limit(
        limit if not text else limit * 20)))
    if text:
        keys = {name_key(t) for t in text.split() if t}
        rows = [w for w in rows if keys & {name_key(w.given_name), name_key(w.family_name)}
                or text in (w.phone or "")][:limit]
    audit(session, actor, "read", "nutrition_woman_list", unit.code,
          {"status": status, "q": text, "count": len(rows)})
    return rows


# --------------------------------------------------------------------------- visits

def visits_of(session: Session, child: Child, include_voided: bool = False
              ) -> list[GrowthVisit]:
    """Return the child's growth-monitoring visits, oldest first; voided visits (entered
    in error) only when asked."""
    query = select(GrowthVisit).where(GrowthVisit.child_pk == child.pk)
    if not include_voided:
        query = query.where(GrowthVisit.voided_at.is_(None))
    return list(session.scalars(query.order_by(GrowthVisit.visit_on, GrowthVisit.pk)))


def referral_dict(session: Session, r: Referral, child: Child | None = None,
                  created: bool = False) -> dict[str, Any]:
    """Return the API shape of a referral."""
    child = child or session.get(Child, r.child_pk)
    assert child is not None
    visit_id = session.scalar(select(GrowthVisit.id).where(GrowthVisit.pk == r.visit_pk))
    return {"id": r.id, "child": child.id,
            "child_name": f"{child.given_name} {child.family_name}", "visit": visit_id,
            "facility": unit_ref(session, r.facility_id), "reason": r.reason,
            "criteria": [c for c in (r.criteria or "").split(",") if c],
            "destination": r.destination, "status": r.status, "referred_on": r.referred_on,
            "attended_on": r.attended_on, "outcome": r.outcome, "outcome_on": r.outcome_on,
            "discharge_met_on": r.discharge_met_on, "notes": r.notes, "created": created}


def visit_dict(session: Session, v: GrowthVisit, child: Child,
               referral: Referral | None = None, referral_created: bool = False
               ) -> dict[str, Any]:
    """Return the API shape of a visit: z-scores rounded to 2 decimals, flags,
    classification (reference §1: full precision kept, 2 decimals presented)."""
    return {
        "id": v.id, "child": child.id, "date": v.visit_on,
        "facility": unit_ref(session, v.facility_id), "age_days": v.age_days,
        "weight": v.weight_kg, "lenhei": v.lenhei_cm, "measure": v.measure, "muac": v.muac_mm,
        "oedema": v.oedema, "counselling": v.counselling,
        "zscores": {k: _r2(getattr(v, k)) for k in ZSCORES},
        "flags": {k: getattr(v, k) for k in FLAGS},
        "clenhei": v.clenhei, "cmeasure": v.cmeasure, "c9mo_flag": v.c9mo_flag,
        "classification": classify(measures_of(v)).as_dict(),
        "faltering": [f for f in (v.faltering or "").split(",") if f],
        "referral": referral_dict(session, referral, child, referral_created)
        if referral is not None else None,
        "voided": v.voided_at is not None, "voided_at": v.voided_at,
        "void_reason": v.void_reason,
    }


def visit_context(session: Session, v: GrowthVisit) -> tuple[Child, Referral | None]:
    """Return a visit's child and the referral it raised (if any)."""
    child = session.get(Child, v.child_pk)
    assert child is not None
    return child, session.scalar(select(Referral).where(Referral.visit_pk == v.pk))


def child_nutrition(session: Session, actor: Actor, child_id: uuid.UUID | str
                    ) -> tuple[Child, list[GrowthVisit], list[Referral]]:
    """Return a child in scope with its visits (voided ones included, flagged) and
    referrals; the read is audited."""
    child = child_for_read(session, actor, child_id, audit_read=False)
    audit(session, actor, "read", "child_nutrition", str(child.id))
    refs = list(session.scalars(select(Referral).where(Referral.child_pk == child.pk)
                                .order_by(Referral.referred_on)))
    return child, visits_of(session, child, include_voided=True), refs


# --------------------------------------------------------------------------- referrals

def list_referrals(session: Session, actor: Actor, unit: OrgUnit, status: str | None = None,
                   limit: int = 500) -> list[dict[str, Any]]:
    """Return the referrals of children of a unit's subtree (by the child's facility),
    open ones first then newest; the read of this list of personal records is audited."""
    require_personal(actor)
    if not actor.covers(unit.path):
        raise Forbidden("out_of_scope", Message("{n} est hors de votre zone",
                                                "{n} is outside your area", {"n": unit.name}))
    query = (select(Referral, Child).join(Child, Child.pk == Referral.child_pk)
             .where(Child.facility_id.in_(_subtree(unit))))
    if status == "active":
        query = query.where(Referral.status.in_(("open", "attended")))
    elif status:
        query = query.where(Referral.status == status)
    order = case((Referral.status == "closed", 1), else_=0)
    rows = session.execute(query.order_by(order, Referral.referred_on.desc(),
                                          Referral.pk.desc()).limit(limit)).all()
    audit(session, actor, "read", "nutrition_referral_list", unit.code,
          {"status": status, "count": len(rows)})
    return [referral_dict(session, r, c) for r, c in rows]
