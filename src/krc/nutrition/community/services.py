"""Every write of community nutrition: IYCF recalls (visit and survey import), support groups
(GASPA) with members, sessions and attendance, MNP distributions, follow-ups and the sachet
ledger (reference/nutrition.md §4–§5).

The API, the pages, the CLI and the demo call these functions, so validation, scope, audit
and idempotency live here once. Creates accept a client UUID: a replay returns the stored
row (`Created.created` False); a concurrent replay is caught by the unique constraint.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any, Generic, TypeVar

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from krc.accounts.roles import OPERATIONS_WRITE, PERSONAL_WRITE, Actor
from krc.accounts.services import audit, utcnow
from krc.db import insert_or_find
from krc.errors import Conflict, DomainError, FieldError, Forbidden, Message, NotFound, invalid
from krc.geo.models import FACILITY, VILLAGE, OrgUnit
from krc.identifiers import normalise_phone
from krc.immunization.models import Child
from krc.immunization.services import child_place
from krc.nutrition.community import iycf, mnp
from krc.nutrition.community.models import (
    IycfRecall,
    IycfSurveyImport,
    MnpDistribution,
    MnpFollowup,
    MnpStockLine,
    SupportGroup,
    SupportGroupAttendance,
    SupportGroupMember,
    SupportGroupSession,
)
from krc.nutrition.community.schemas import (
    DistributionCreate,
    FollowupCreate,
    GroupCreate,
    GroupSessionCreate,
    GroupUpdate,
    MemberCreate,
    MemberUpdate,
    RecallCreate,
    StockLineCreate,
)
from krc.nutrition.community.survey import SurveyRow, parse_survey, refuse

# Session topics of support groups (reference §5 and the national GASPA guide's themes).
TOPICS = ("breastfeeding", "complementary_feeding", "hygiene", "mnp_use", "growth_monitoring",
          "family_planning", "maternal_nutrition", "sick_child_feeding", "cooking_demo",
          "wash")
MEMBER_ROLES = ("role_model", "leader", "member")
R = TypeVar("R")


@dataclass
class Created(Generic[R]):
    """The outcome of a create: the row and whether this call created it (False: replay)."""

    row: R
    created: bool


# --------------------------------------------------------------------------- helpers

def _may(actor: Actor, roles: frozenset[str], what: tuple[str, str]) -> None:
    if actor.role not in roles:
        raise Forbidden("role_forbidden", Message(
            "Votre rôle ({role}) ne permet pas " + what[0],
            "Your role ({role}) may not " + what[1], {"role": actor.role}))


def _operations(actor: Actor) -> None:
    _may(actor, OPERATIONS_WRITE, ("de gérer les groupes de soutien ni le stock de poudres",
                                   "manage support groups or the powder stock"))


def _raise(errors: list[FieldError]) -> None:
    if len(errors) == 1:
        e = errors[0]
        raise DomainError(e.code, e.message, field=e.field)
    if errors:
        raise DomainError("invalid", Message("Saisie invalide", "Invalid input"), errors=errors)


def _unit(session: Session, actor: Actor, code: str, level: int, field: str) -> OrgUnit:
    unit = session.scalar(select(OrgUnit).where(OrgUnit.code == code))
    if unit is None:
        raise invalid(field, "org_unit_unknown", "Unité d'organisation inconnue : {code}",
                      "Unknown org unit: {code}", code=code)
    if unit.level != level:
        fr, en = (("une aire de santé (CSCom)", "a health area (CSCom)") if level == FACILITY
                  else ("un village", "a village"))
        raise invalid(field, "org_unit_wrong_level", "{code} n'est pas " + fr,
                      "{code} is not " + en, code=code)
    if not actor.covers(unit.path):
        raise Forbidden("out_of_scope", Message("{name} est hors de votre zone",
                                                "{name} is outside your area",
                                                {"name": unit.name}), field=field)
    return unit


def _not_future(day: date, today: date, field: str = "date") -> None:
    if day > today:
        raise invalid(field, "date_future", "La date ({d}) est dans le futur",
                      "The date ({d}) is in the future", d=day.isoformat())


def _insert(session: Session, row: Any, mine: Callable[[Any], bool]) -> tuple[Any, bool]:
    """Insert a row (`db.insert_or_find`); on a concurrent replay return the winner's row
    when `mine` accepts it (the same check as a replay found before the insert: in the
    actor's scope, of the same group), else refuse the id (409, revealing nothing).
    Another unique constraint refusing the row is a duplicate record (409)."""
    stored, created = insert_or_find(session, row)
    if created:
        return stored, True
    if stored is None:
        raise Conflict("duplicate_record", Message("Cet enregistrement existe déjà",
                                                   "This record already exists"))
    if not mine(stored):
        raise Conflict("id_taken", Message("Cet identifiant est déjà utilisé",
                                           "This id is already used"), field="id")
    return stored, False


def _in_scope(actor: Actor, path_of: Callable[[Any], str | None]) -> Callable[[Any], bool]:
    """A `_insert` check: the stored row's org unit (by `path_of`) is in the actor's scope."""
    def check(row: Any) -> bool:
        path = path_of(row)
        return path is not None and actor.covers(path)
    return check


def _replay(session: Session, model: Any, row_id: uuid.UUID | None,
            path_of: Callable[[Any], str | None], actor: Actor) -> Any | None:
    """Return the stored row of a replayed id in the actor's scope, None when new; an id
    used outside the scope is a conflict (revealing nothing)."""
    if row_id is None:
        return None
    existing = session.scalar(select(model).where(model.id == row_id))
    if existing is None:
        return None
    path = path_of(existing)
    if path is None or not actor.covers(path):
        raise Conflict("id_taken", Message("Cet identifiant est déjà utilisé",
                                           "This id is already used"), field="id")
    return existing


def _path(session: Session, unit_id: int) -> str | None:
    unit = session.get(OrgUnit, unit_id)
    return unit.path if unit else None


def _uuid(value: uuid.UUID | str, missing: NotFound) -> uuid.UUID:
    try:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(str(value))
    except ValueError:
        raise missing from None


# --------------------------------------------------------------------------- IYCF recalls

def recall_of(age_months: int, answers: Any) -> iycf.Recall:
    """Return the pure Recall of stored or submitted answers."""
    return iycf.Recall(
        age_months=age_months, breastfed=answers.breastfed, early_bf=answers.early_bf,
        other_liquids=answers.other_liquids, grains=answers.grains, pulses=answers.pulses,
        dairy=answers.dairy, flesh=answers.flesh, eggs=answers.eggs, vita_fv=answers.vita_fv,
        other_fv=answers.other_fv, solid_feeds=answers.solid_feeds,
        milk_feeds=answers.milk_feeds)


def _check(recall: iycf.Recall) -> None:
    _raise([FieldError(f.field, f.code, Message(f.fr, f.en)) for f in iycf.check_recall(recall)])


def record_recall(session: Session, actor: Actor, data: RecallCreate,
                  today: date) -> Created[IycfRecall]:
    """Record a previous-day feeding recall taken at a visit for a child of the register
    (reference/nutrition.md §4); idempotent on `data.id`."""
    _may(actor, PERSONAL_WRITE, ("de modifier le registre", "change the register"))
    again = _replay(session, IycfRecall, data.id,
                    lambda r: _path(session, r.org_unit_id), actor)
    if again is not None:
        return Created(again, False)
    place = child_place(session, actor, data.child_id)
    child = place.child
    _not_future(data.date, today)
    if data.date < child.birth_date:
        raise invalid("date", "date_before_birth",
                      "La date ({d}) précède la naissance ({b})",
                      "The date ({d}) is before the birth ({b})", d=data.date.isoformat(),
                      b=child.birth_date.isoformat())
    age = iycf.completed_months(child.birth_date, data.date)
    recall = recall_of(age, data)
    _check(recall)
    answers = data.model_dump(mode="json", exclude={"id", "child_id", "date"})
    row = IycfRecall(
        id=data.id or uuid.uuid4(), source="visit", child_pk=child.pk,
        org_unit_id=child.village_id or child.facility_id, recalled_on=data.date,
        age_months=age, age_days=(data.date - child.birth_date).days, sex=child.sex,
        answers=answers, created_at=utcnow(), created_by=actor.user_id,
        **_answer_columns(recall))
    row, created = _insert(session, row, _in_scope(actor, lambda r: _path(session, r.org_unit_id)))
    if created:
        audit(session, actor, "create", "iycf_recall", str(row.id),
              {"child": str(child.id), "date": data.date.isoformat(), "age_months": age})
    return Created(row, created)


def _answer_columns(r: iycf.Recall) -> dict[str, Any]:
    return {"breastfed": r.breastfed, "early_bf": r.early_bf, "other_liquids": r.other_liquids,
            "grains": r.grains, "pulses": r.pulses, "dairy": r.dairy, "flesh": r.flesh,
            "eggs": r.eggs, "vita_fv": r.vita_fv, "other_fv": r.other_fv,
            "solid_feeds": r.solid_feeds, "milk_feeds": r.milk_feeds}


@dataclass
class SurveyImported:
    """The outcome of a survey import: rows read, new rows, rows already imported."""

    survey: str
    rows: int
    new: int
    unchanged: int


def _survey_code(survey: str) -> str:
    code = (survey or "").strip()
    if not code or len(code) > 60:
        raise invalid("survey", "survey_code_invalid",
                      "Code d'enquête vide ou de plus de 60 caractères",
                      "Survey code empty or longer than 60 characters")
    return code


def import_survey(session: Session, actor: Actor, survey: str, text: str, today: date,
                  default_unit: str | None = None, filename: str | None = None
                  ) -> SurveyImported:
    """Import the recalls of a survey file, all or nothing (format in `survey.py`), keeping
    the raw file; rows already imported (same survey and row_id, same answers) are left as
    they are, a row_id re-sent with other answers refuses the file."""
    _operations(actor)
    code = _survey_code(survey)
    rows = parse_survey(text, default_unit)
    units = {u.code: u for u in session.scalars(
        select(OrgUnit).where(OrgUnit.code.in_({r.org_unit for r in rows})))}
    stored = {r.survey_row: r for r in session.scalars(
        select(IycfRecall).where(IycfRecall.survey == code,
                                 IycfRecall.survey_row.in_([r.row_id for r in rows])))}
    errors: list[FieldError] = []
    total = 0

    def fault(row: SurveyRow, column: str, code_: str, fr: str, en: str, **p: Any) -> None:
        nonlocal total
        total += 1
        if len(errors) < 20:
            errors.append(FieldError(f"ligne {row.line}, {column}", code_, Message(
                "Ligne {line}, colonne {column} : " + fr, "Line {line}, column {column}: " + en,
                {"line": row.line, "column": column, **p})))

    fresh: list[SurveyRow] = []
    for row in rows:
        unit = units.get(row.org_unit)
        if unit is None or not actor.covers(unit.path):
            fault(row, "org_unit", "org_unit_unknown",
                  "unité « {c} » inconnue ou hors de votre zone",
                  "unit '{c}' unknown or outside your area", c=row.org_unit)
            continue
        if row.day > today:
            fault(row, "date", "date_future", "la date {d} est dans le futur",
                  "the date {d} is in the future", d=row.day.isoformat())
            continue
        old = stored.get(row.row_id)
        if old is not None:
            same = (old.org_unit_id == unit.id and old.recalled_on == row.day
                    and old.age_months == row.recall.age_months
                    and _stored_answers(old) == _answer_columns(row.recall))
            if not same:
                fault(row, "row_id", "row_changed",
                      "la ligne {r} a déjà été importée avec d'autres réponses",
                      "row {r} was already imported with other answers", r=row.row_id)
            continue
        fresh.append(row)
    if total:
        raise refuse(errors, total)
    imp = IycfSurveyImport(survey=code, filename=filename, raw=text, status="applied",
                           rows=len(rows), new=len(fresh), errors=[], received_at=utcnow(),
                           received_by=actor.user_id)
    session.add(imp)
    session.flush()
    now = utcnow()
    for row in fresh:
        session.add(IycfRecall(
            id=uuid.uuid5(uuid.NAMESPACE_URL, f"krc:iycf:{code}:{row.row_id}"),
            source="survey", child_pk=None, org_unit_id=units[row.org_unit].id, survey=code,
            survey_row=row.row_id, import_pk=imp.pk, recalled_on=row.day,
            age_months=row.recall.age_months, age_days=row.age_days, sex=row.sex,
            answers=row.raw, created_at=now, created_by=actor.user_id,
            **_answer_columns(row.recall)))
    session.flush()
    audit(session, actor, "import", "iycf_survey", code,
          {"import": imp.pk, "rows": len(rows), "new": len(fresh), "filename": filename})
    return SurveyImported(code, len(rows), len(fresh), len(rows) - len(fresh))


def _stored_answers(r: IycfRecall) -> dict[str, Any]:
    return {"breastfed": r.breastfed, "early_bf": r.early_bf, "other_liquids": r.other_liquids,
            "grains": r.grains, "pulses": r.pulses, "dairy": r.dairy, "flesh": r.flesh,
            "eggs": r.eggs, "vita_fv": r.vita_fv, "other_fv": r.other_fv,
            "solid_feeds": r.solid_feeds, "milk_feeds": r.milk_feeds}


def keep_refused_import(session: Session, actor: Actor, survey: str, text: str,
                        error: DomainError, filename: str | None = None) -> None:
    """Keep a refused survey file with its errors (in a transaction of its own)."""
    if actor.role not in OPERATIONS_WRITE:
        return
    session.add(IycfSurveyImport(
        survey=(survey or "")[:60], filename=filename, raw=text, status="refused", rows=0,
        new=0, errors=[e.as_dict("en") for e in error.errors] or [
            {"code": error.code, "message": error.text("en")}],
        received_at=utcnow(), received_by=actor.user_id))


# --------------------------------------------------------------------------- support groups

def group_for_read(session: Session, actor: Actor, group_id: uuid.UUID | str
                   ) -> tuple[SupportGroup, OrgUnit]:
    """Return a group in the actor's scope with its village, or raise 404."""
    missing = NotFound("group_not_found", Message("Groupe introuvable", "Group not found"))
    gid = _uuid(group_id, missing)
    row = session.execute(select(SupportGroup, OrgUnit)
                          .join(OrgUnit, OrgUnit.id == SupportGroup.village_id)
                          .where(SupportGroup.id == gid)).first()
    if row is None or not actor.covers(row[1].path):
        raise missing
    return row[0], row[1]


def create_group(session: Session, actor: Actor, data: GroupCreate,
                 today: date) -> Created[SupportGroup]:
    """Create a support group (GASPA) in a village (reference §5); idempotent on `data.id`."""
    _operations(actor)
    again = _replay(session, SupportGroup, data.id,
                    lambda g: _path(session, g.village_id), actor)
    if again is not None:
        return Created(again, False)
    village = _unit(session, actor, data.village, VILLAGE, "village")
    founded = data.founded_on or today
    _not_future(founded, today, "founded_on")
    assert village.parent_id is not None
    group = SupportGroup(id=data.id or uuid.uuid4(), name=data.name or f"GASPA {village.name}",
                         village_id=village.id, facility_id=village.parent_id,
                         founded_on=founded, created_at=utcnow(), created_by=actor.user_id)
    group, created = _insert(session, group,
                             _in_scope(actor, lambda g: _path(session, g.village_id)))
    if created:
        audit(session, actor, "create", "support_group", str(group.id),
              {"village": village.code, "name": group.name, "founded_on": founded.isoformat()})
    return Created(group, created)


def update_group(session: Session, actor: Actor, group_id: uuid.UUID | str, data: GroupUpdate,
                 today: date) -> SupportGroup:
    """Rename, close or re-open a group; audited with before/after."""
    _operations(actor)
    group, _village = group_for_read(session, actor, group_id)
    given = data.model_fields_set
    before = {"name": group.name, "closed_on": _iso(group.closed_on)}
    if "name" in given and data.name:
        group.name = data.name
    if "closed_on" in given:
        if data.closed_on is not None:
            _not_future(data.closed_on, today, "closed_on")
            if data.closed_on < group.founded_on:
                raise invalid("closed_on", "closed_before_founded",
                              "Le groupe ne peut fermer avant sa création ({d})",
                              "The group cannot close before it was founded ({d})",
                              d=group.founded_on.isoformat())
        group.closed_on = data.closed_on
    after = {"name": group.name, "closed_on": _iso(group.closed_on)}
    if after != before:
        audit(session, actor, "update", "support_group", str(group.id),
              {"before": before, "after": after})
    return group


def _iso(d: date | None) -> str | None:
    return d.isoformat() if d else None


def _check_role(role: str, sex: str) -> None:
    if role not in MEMBER_ROLES:
        raise invalid("role", "role_unknown", "Rôle inconnu : {r} ; rôles valides : {v}",
                      "Unknown role: {r}; valid roles: {v}", r=role, v=", ".join(MEMBER_ROLES))
    if role != "leader" and sex != "F":
        raise invalid("sex", "member_not_woman",
                      "Les membres et les mères modèles sont des femmes ; un homme peut être "
                      "leader communautaire",
                      "Members and role-model mothers are women; a man may be a community "
                      "leader")


def member_for_write(session: Session, actor: Actor, group: SupportGroup,
                     member_id: uuid.UUID | str) -> SupportGroupMember:
    """Return a member of the group, or raise 404."""
    missing = NotFound("member_not_found", Message("Membre introuvable", "Member not found"))
    mid = _uuid(member_id, missing)
    member = session.scalar(select(SupportGroupMember).where(
        SupportGroupMember.id == mid, SupportGroupMember.group_pk == group.pk))
    if member is None:
        raise missing
    return member


def add_member(session: Session, actor: Actor, group_id: uuid.UUID | str, data: MemberCreate,
               today: date) -> Created[SupportGroupMember]:
    """Add a member to a group (role-model mother, leader or member); idempotent on id."""
    _operations(actor)
    group, village = group_for_read(session, actor, group_id)
    if data.id is not None:
        existing = session.scalar(select(SupportGroupMember).where(
            SupportGroupMember.id == data.id))
        if existing is not None:
            if existing.group_pk != group.pk:
                raise Conflict("id_taken", Message("Cet identifiant est déjà utilisé",
                                                   "This id is already used"), field="id")
            return Created(existing, False)
    _check_role(data.role, data.sex)
    joined = data.joined_on or today
    _not_future(joined, today, "joined_on")
    if group.closed_on is not None:
        raise invalid("group", "group_closed", "Ce groupe est fermé depuis le {d}",
                      "This group closed on {d}", d=group.closed_on.isoformat())
    phone = normalise_phone(data.phone, "phone") if data.phone else None
    member = SupportGroupMember(
        id=data.id or uuid.uuid4(), group_pk=group.pk, name=data.name, phone=phone,
        sex=data.sex, role=data.role, joined_on=joined, created_at=utcnow(),
        created_by=actor.user_id)
    member, created = _insert(session, member, lambda m: m.group_pk == group.pk)
    if created:
        audit(session, actor, "create", "support_group_member", str(member.id),
              {"group": str(group.id), "village": village.code, "role": member.role,
               "joined_on": joined.isoformat()})
    return Created(member, created)


def update_member(session: Session, actor: Actor, group_id: uuid.UUID | str,
                  member_id: uuid.UUID | str, data: MemberUpdate,
                  today: date) -> SupportGroupMember:
    """Change a member's role or phone, or record that she left; audited."""
    _operations(actor)
    group, _village = group_for_read(session, actor, group_id)
    member = member_for_write(session, actor, group, member_id)
    given = data.model_fields_set
    before = {"role": member.role, "phone": member.phone, "left_on": _iso(member.left_on)}
    if "role" in given and data.role:
        _check_role(data.role, member.sex)
        member.role = data.role
    if "phone" in given:
        member.phone = normalise_phone(data.phone, "phone") if data.phone else None
    if "left_on" in given:
        if data.left_on is not None:
            _not_future(data.left_on, today, "left_on")
            if data.left_on < member.joined_on:
                raise invalid("left_on", "left_before_joined",
                              "La date de départ précède l'adhésion ({d})",
                              "The leaving date is before joining ({d})",
                              d=member.joined_on.isoformat())
        member.left_on = data.left_on
    after = {"role": member.role, "phone": member.phone, "left_on": _iso(member.left_on)}
    if after != before:
        audit(session, actor, "update", "support_group_member", str(member.id),
              {"before": before, "after": after})
    return member


def _present_members(session: Session, group: SupportGroup, ids: list[uuid.UUID],
                     day: date) -> list[SupportGroupMember]:
    if not ids:
        return []
    wanted = list(dict.fromkeys(ids))
    members = {m.id: m for m in session.scalars(select(SupportGroupMember).where(
        SupportGroupMember.group_pk == group.pk, SupportGroupMember.id.in_(wanted)))}
    errors: list[FieldError] = []
    for mid in wanted:
        m = members.get(mid)
        if m is None:
            errors.append(FieldError("present", "member_unknown", Message(
                "{m} n'est pas membre de ce groupe", "{m} is not a member of this group",
                {"m": str(mid)})))
        elif m.joined_on > day or (m.left_on is not None and m.left_on < day):
            errors.append(FieldError("present", "member_not_active", Message(
                "{n} n'était pas membre le {d}", "{n} was not a member on {d}",
                {"n": m.name, "d": day.isoformat()})))
    _raise(errors)
    return [members[mid] for mid in wanted]


def group_session_for_read(session: Session, group: SupportGroup, session_id: uuid.UUID | str
                           ) -> SupportGroupSession:
    """Return a session of the group, or raise 404."""
    missing = NotFound("group_session_not_found", Message("Séance introuvable",
                                                          "Session not found"))
    sid = _uuid(session_id, missing)
    row = session.scalar(select(SupportGroupSession).where(
        SupportGroupSession.id == sid, SupportGroupSession.group_pk == group.pk))
    if row is None:
        raise missing
    return row


def record_group_session(session: Session, actor: Actor, group_id: uuid.UUID | str,
                         data: GroupSessionCreate,
                         today: date) -> Created[SupportGroupSession]:
    """Record a session of a group with its topics and attendance (reference §5);
    idempotent on `data.id`."""
    _operations(actor)
    group, village = group_for_read(session, actor, group_id)
    if data.id is not None:
        existing = session.scalar(select(SupportGroupSession).where(
            SupportGroupSession.id == data.id))
        if existing is not None:
            if existing.group_pk != group.pk:
                raise Conflict("id_taken", Message("Cet identifiant est déjà utilisé",
                                                   "This id is already used"), field="id")
            return Created(existing, False)
    _not_future(data.date, today)
    if data.date < group.founded_on:
        raise invalid("date", "session_before_group",
                      "La séance précède la création du groupe ({d})",
                      "The session is before the group was founded ({d})",
                      d=group.founded_on.isoformat())
    if group.closed_on is not None and data.date > group.closed_on:
        raise invalid("date", "group_closed", "Ce groupe est fermé depuis le {d}",
                      "This group closed on {d}", d=group.closed_on.isoformat())
    topics = list(dict.fromkeys(data.topics))
    bad = [t for t in topics if t not in TOPICS]
    if bad:
        raise invalid("topics", "topic_unknown", "Thème inconnu : {t} ; thèmes : {v}",
                      "Unknown topic: {t}; topics: {v}", t=", ".join(bad), v=", ".join(TOPICS))
    if not topics and not data.other_topic:
        raise invalid("topics", "topic_missing", "Indiquez au moins un thème abordé",
                      "Give at least one topic discussed")
    present = _present_members(session, group, data.present, data.date)
    row = SupportGroupSession(id=data.id or uuid.uuid4(), group_pk=group.pk, held_on=data.date,
                              topics=topics, other_topic=data.other_topic or None,
                              notes=data.notes or None, created_at=utcnow(),
                              created_by=actor.user_id)
    row, created = _insert(session, row, lambda x: x.group_pk == group.pk)
    if not created:
        return Created(row, False)
    for m in present:
        session.add(SupportGroupAttendance(session_pk=row.pk, member_pk=m.pk))
    session.flush()
    audit(session, actor, "create", "support_group_session", str(row.id),
          {"group": str(group.id), "village": village.code, "date": data.date.isoformat(),
           "topics": topics, "present": len(present)})
    return Created(row, True)


def set_attendance(session: Session, actor: Actor, group_id: uuid.UUID | str,
                   session_id: uuid.UUID | str, present: list[uuid.UUID]
                   ) -> SupportGroupSession:
    """Replace the attendance of a session (a replay changes nothing); audited."""
    _operations(actor)
    group, _village = group_for_read(session, actor, group_id)
    row = group_session_for_read(session, group, session_id)
    members = _present_members(session, group, present, row.held_on)
    before = set(session.scalars(select(SupportGroupAttendance.member_pk).where(
        SupportGroupAttendance.session_pk == row.pk)))
    after = {m.pk for m in members}
    if before != after:
        session.execute(delete(SupportGroupAttendance).where(
            SupportGroupAttendance.session_pk == row.pk))
        session.flush()
        for pk in sorted(after):
            session.add(SupportGroupAttendance(session_pk=row.pk, member_pk=pk))
        session.flush()
        audit(session, actor, "update", "support_group_session", str(row.id),
              {"before": {"present": len(before)}, "after": {"present": len(after)}})
    return row


# --------------------------------------------------------------------------- MNP

def _lines(session: Session, facility_id: int) -> list[mnp.Line]:
    return [mnp.Line(on, kind, q, pk) for pk, on, kind, q in session.execute(
        select(MnpStockLine.pk, MnpStockLine.occurred_on, MnpStockLine.kind,
               MnpStockLine.quantity).where(MnpStockLine.facility_id == facility_id))]


def _stock_check(session: Session, facility: OrgUnit, kind: str, quantity: int, day: date,
                 field: str) -> None:
    lines = _lines(session, facility.id)
    seq = max((x.seq for x in lines), default=0) + 1
    short = mnp.shortfall(lines, mnp.Line(day, kind, quantity, seq))
    if short is not None:
        raise invalid(field, "mnp_stock_insufficient",
                      "Stock de sachets insuffisant à {f} le {d} : il manque {n} sachet(s) ; "
                      "enregistrez d'abord la réception",
                      "Not enough sachets at {f} on {d}: {n} short; record the receipt first",
                      f=facility.name, d=day.isoformat(), n=short)


def _child_for_mnp(session: Session, actor: Actor, child_id: uuid.UUID) -> Child:
    return child_place(session, actor, child_id).child


def _facility_for(session: Session, actor: Actor, code: str | None, child: Child) -> OrgUnit:
    if code:
        return _unit(session, actor, code, FACILITY, "facility")
    unit = session.get(OrgUnit, child.facility_id)
    assert unit is not None
    return unit


def _child_path(session: Session, child_pk: int) -> str | None:
    row = session.execute(select(OrgUnit.path).join(Child, Child.facility_id == OrgUnit.id)
                          .where(Child.pk == child_pk)).first()
    return row[0] if row else None


def record_distribution(session: Session, actor: Actor, data: DistributionCreate,
                        today: date) -> Created[MnpDistribution]:
    """Record sachets of micronutrient powder given to a child 6–23 months, taken out of the
    facility's ledger (reference §5, WHO 2016); at most 90 sachets a round; idempotent."""
    _may(actor, PERSONAL_WRITE, ("de modifier le registre", "change the register"))
    again = _replay(session, MnpDistribution, data.id,
                    lambda d: _child_path(session, d.child_pk), actor)
    if again is not None:
        return Created(again, False)
    child = _child_for_mnp(session, actor, data.child_id)
    _not_future(data.date, today)
    if data.date < child.birth_date:
        raise invalid("date", "date_before_birth", "La date ({d}) précède la naissance ({b})",
                      "The date ({d}) is before the birth ({b})", d=data.date.isoformat(),
                      b=child.birth_date.isoformat())
    age = iycf.completed_months(child.birth_date, data.date)
    if not mnp.eligible(age):
        raise invalid("child_id", "mnp_age", "Les poudres de micronutriments sont pour les "
                      "enfants de 6 à 23 mois ; cet enfant a {a} mois le {d}",
                      "Micronutrient powders are for children 6–23 months; this child is {a} "
                      "months old on {d}", a=age, d=data.date.isoformat())
    round_no = data.round or mnp.round_for_age(age)
    assert round_no is not None
    given = int(session.scalar(select(func.coalesce(func.sum(MnpDistribution.sachets), 0))
                               .where(MnpDistribution.child_pk == child.pk,
                                      MnpDistribution.round == round_no)) or 0)
    if given + data.sachets > mnp.SACHETS_PER_ROUND:
        raise invalid("sachets", "mnp_round_full",
                      "{g} sachets déjà donnés au tour {r} : au plus {m} par tour de 6 mois",
                      "{g} sachets already given in round {r}: at most {m} per 6-month round",
                      g=given, r=round_no, m=mnp.SACHETS_PER_ROUND)
    facility = _facility_for(session, actor, data.facility, child)
    _stock_check(session, facility, "distribution", data.sachets, data.date, "sachets")
    row = MnpDistribution(id=data.id or uuid.uuid4(), child_pk=child.pk,
                          facility_id=facility.id, given_on=data.date, round=round_no,
                          sachets=data.sachets, age_months=age, created_at=utcnow(),
                          created_by=actor.user_id)
    row, created = _insert(session, row,
                           _in_scope(actor, lambda d: _child_path(session, d.child_pk)))
    if not created:
        return Created(row, False)
    session.add(MnpStockLine(id=uuid.uuid4(), facility_id=facility.id, kind="distribution",
                             quantity=data.sachets, occurred_on=data.date,
                             distribution_pk=row.pk, created_at=utcnow(),
                             created_by=actor.user_id))
    session.flush()
    audit(session, actor, "create", "mnp_distribution", str(row.id),
          {"child": str(child.id), "facility": facility.code, "date": data.date.isoformat(),
           "round": round_no, "sachets": data.sachets})
    return Created(row, True)


def record_followup(session: Session, actor: Actor, data: FollowupCreate,
                    today: date) -> Created[MnpFollowup]:
    """Record the sachets a child consumed so far in a round (cumulative); adherence is
    consumed ÷ 90 (reference §5); idempotent on `data.id`."""
    _may(actor, PERSONAL_WRITE, ("de modifier le registre", "change the register"))
    again = _replay(session, MnpFollowup, data.id,
                    lambda f: _child_path(session, f.child_pk), actor)
    if again is not None:
        return Created(again, False)
    child = _child_for_mnp(session, actor, data.child_id)
    _not_future(data.date, today)
    rows = session.execute(select(MnpDistribution.given_on, MnpDistribution.sachets).where(
        MnpDistribution.child_pk == child.pk, MnpDistribution.round == data.round)).all()
    before = [(d, n) for d, n in rows if d <= data.date]
    if not before:
        raise invalid("round", "mnp_no_distribution",
                      "Aucun sachet donné à cet enfant au tour {r} avant le {d}",
                      "No sachets given to this child in round {r} before {d}",
                      r=data.round, d=data.date.isoformat())
    given = sum(n for _d, n in before)
    if data.consumed > given:
        raise invalid("consumed", "mnp_consumed_over_given",
                      "{c} sachets consommés mais {g} donnés au tour {r}",
                      "{c} sachets consumed but {g} given in round {r}",
                      c=data.consumed, g=given, r=data.round)
    row = MnpFollowup(id=data.id or uuid.uuid4(), child_pk=child.pk,
                      facility_id=child.facility_id, round=data.round, followed_on=data.date,
                      consumed=data.consumed, created_at=utcnow(), created_by=actor.user_id)
    row, created = _insert(session, row,
                           _in_scope(actor, lambda f: _child_path(session, f.child_pk)))
    if created:
        audit(session, actor, "create", "mnp_followup", str(row.id),
              {"child": str(child.id), "round": data.round, "date": data.date.isoformat(),
               "consumed": data.consumed})
    return Created(row, created)


def record_stock(session: Session, actor: Actor, data: StockLineCreate,
                 today: date) -> Created[MnpStockLine]:
    """Record a receipt, loss or physical count of MNP sachets at a facility; idempotent."""
    _operations(actor)
    again = _replay(session, MnpStockLine, data.id,
                    lambda x: _path(session, x.facility_id), actor)
    if again is not None:
        return Created(again, False)
    if data.kind not in mnp.MANUAL_KINDS:
        raise invalid("kind", "kind_unknown", "Type inconnu : {k} ; types : {v}",
                      "Unknown kind: {k}; kinds: {v}", k=data.kind,
                      v=", ".join(mnp.MANUAL_KINDS))
    if data.kind != "count" and data.quantity == 0:
        raise invalid("quantity", "quantity_zero", "La quantité doit être positive",
                      "The quantity must be positive")
    facility = _unit(session, actor, data.facility, FACILITY, "facility")
    _not_future(data.date, today)
    _stock_check(session, facility, data.kind, data.quantity, data.date, "quantity")
    row = MnpStockLine(id=data.id or uuid.uuid4(), facility_id=facility.id, kind=data.kind,
                       quantity=data.quantity, occurred_on=data.date, note=data.note or None,
                       created_at=utcnow(), created_by=actor.user_id)
    row, created = _insert(session, row, _in_scope(actor, lambda x: _path(session, x.facility_id)))
    if created:
        audit(session, actor, "create", "mnp_stock_line", str(row.id),
              {"facility": facility.code, "kind": data.kind, "quantity": data.quantity,
               "date": data.date.isoformat()})
    return Created(row, created)
