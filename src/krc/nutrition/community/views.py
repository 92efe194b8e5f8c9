"""HTML pages of nutrition.community: support groups (`/nutrition/groups`, a group's page),
micronutrient powders (`/nutrition/mnp`) and IYCF indicators by sub-unit
(`/nutrition/iycf`), over the same services and queries as the JSON API (French first,
English through `locale/en/LC_MESSAGES/nutrition_community.po`).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select

from krc.accounts.roles import OPERATIONS_WRITE, PERSONAL_WRITE, Actor
from krc.db import Database
from krc.errors import DomainError, Forbidden, Message, invalid
from krc.geo.models import FACILITY, OrgUnit
from krc.geo.queries import unit_in_scope
from krc.identifiers import parse_registry_number
from krc.immunization import queries as imm_queries
from krc.immunization.models import Child
from krc.nutrition.community import iycf, mnp, queries, services
from krc.nutrition.community.schemas import (
    DistributionCreate,
    FollowupCreate,
    GroupCreate,
    GroupSessionCreate,
    MemberCreate,
    RecallCreate,
    StockLineCreate,
)
from krc.results.periods import Period, parse_period
from krc.web.deps import Caller, checked_form, get_db, today
from krc.web.i18n import translations
from krc.web.problems import language_of
from krc.web.views import (
    N_,
    PageRoute,
    _form_values,
    field_errors,
    page_caller,
    render,
    submit_form,
)

router = APIRouter(include_in_schema=False, route_class=PageRoute)

TOPIC_LABELS = {
    "breastfeeding": N_("Allaitement maternel"),
    "complementary_feeding": N_("Alimentation de complément"),
    "hygiene": N_("Hygiène"), "mnp_use": N_("Utilisation des poudres de micronutriments"),
    "growth_monitoring": N_("Suivi de la croissance"),
    "family_planning": N_("Planification familiale"),
    "maternal_nutrition": N_("Nutrition de la femme enceinte et allaitante"),
    "sick_child_feeding": N_("Alimentation de l'enfant malade"),
    "cooking_demo": N_("Démonstration culinaire"), "wash": N_("Eau, assainissement"),
}
ROLE_LABELS = {"role_model": N_("Mère modèle"), "leader": N_("Leader communautaire"),
               "member": N_("Membre")}
KIND_LABELS = {"receipt": N_("Réception"), "distribution": N_("Distribution"),
               "loss": N_("Perte"), "count": N_("Inventaire")}
INDICATOR_LABELS = {
    "EIBF": N_("Mise au sein précoce (EIBF)"),
    "EBF": N_("Allaitement exclusif 0–5 mois (EBF)"),
    "CBF": N_("Allaitement continu 12–23 mois (CBF)"),
    "ISSSF": N_("Introduction d'aliments solides 6–8 mois (ISSSF)"),
    "MDD": N_("Diversité alimentaire minimale (MDD)"),
    "MMF": N_("Fréquence minimale des repas (MMF)"),
    "MMFF": N_("Fréquence minimale des repas lactés, non allaités (MMFF)"),
    "MAD": N_("Alimentation minimale acceptable (MAD)"),
    "EFF": N_("Consommation d'œufs ou de chair (EFF)"),
    "ZVF": N_("Aucun légume ni fruit (ZVF)"),
}
FOOD_LABELS = {
    "grains": N_("Céréales, racines, tubercules, plantains"),
    "pulses": N_("Légumineuses, noix, graines"), "dairy": N_("Produits laitiers"),
    "flesh": N_("Viande, poisson, volaille, abats"), "eggs": N_("Œufs"),
    "vita_fv": N_("Fruits et légumes riches en vitamine A"),
    "other_fv": N_("Autres fruits et légumes"),
}


def _labels(lang: str) -> dict[str, Any]:
    tr = translations(lang).gettext

    def of(table: Mapping[str, str]) -> Callable[[str], str]:
        return lambda code: tr(table[code]) if code in table else code

    return {"topic_label": of(TOPIC_LABELS), "role_label": of(ROLE_LABELS),
            "kind_label": of(KIND_LABELS), "indicator_label": of(INDICATOR_LABELS),
            "food_label": of(FOOD_LABELS), "topics": services.TOPICS,
            "member_roles": services.MEMBER_ROLES, "indicators": iycf.INDICATORS,
            "food_groups": iycf.FOOD_GROUPS[1:], "stock_kinds": mnp.MANUAL_KINDS}


def _period(text: str | None, request: Request) -> Period:
    return parse_period(text or str(today(request).year))


def _form_id(form: Any) -> uuid.UUID:
    try:
        return uuid.UUID(str(form.get("id") or ""))
    except ValueError:
        return uuid.uuid4()


def _child_id(db: Database, text: str) -> str:
    """Return the child UUID of a registry number or UUID typed in a form ("" if empty)."""
    value = text.strip()
    if not value:
        return ""
    try:
        return str(uuid.UUID(value))
    except ValueError:
        pass
    number = parse_registry_number(value, "child_id")
    with db.session(write=False) as s:
        found = s.scalar(select(Child.id).where(Child.registry_number == number))
    if found is None:
        raise invalid("child_id", "child_unknown", "Aucun enfant avec le numéro {n}",
                      "No child with number {n}", n=value)
    return str(found)


def _in(unit: OrgUnit, other: OrgUnit) -> bool:
    return other.path == unit.path or other.path.startswith(unit.path + "/")


# --------------------------------------------------------------------------- groups

def _groups_context(db: Database, actor: Actor, org_unit: str | None,
                    period: Period) -> dict[str, Any]:
    with db.session(write=False) as s:
        unit = unit_in_scope(s, actor, org_unit)
        groups = queries.group_dicts(s, queries.list_groups(s, unit))
        figures = queries.group_figures(s, unit, period)
        facilities = [f for f in imm_queries.facilities_in_scope(s, actor) if _in(unit, f)]
        villages = [(f.name, [(v.code, v.name) for v in imm_queries.villages_of(s, f)])
                    for f in facilities]
    return {"unit": {"code": unit.code, "name": unit.name}, "groups": groups,
            "figures": figures, "villages": villages, "period": period,
            "can_write": actor.role in OPERATIONS_WRITE and bool(facilities),
            "personal": actor.can_read_personal}


@router.get("/nutrition/groups", response_class=HTMLResponse)
def groups_page(request: Request, org_unit: str | None = None, period: str | None = None,
                caller: Caller = Depends(page_caller), db: Database = Depends(get_db)
                ) -> Response:
    """Show the support groups (GASPA) of the caller's area, their figures and the form."""
    lang = language_of(request)
    ctx = _groups_context(db, caller.actor, org_unit, _period(period, request))
    return render(request, "nutrition_community_groups.html", {
        **ctx, **_labels(lang), "values": {}, "errors": {}, "form_id": uuid.uuid4()})


@router.post("/nutrition/groups", response_class=HTMLResponse)
async def create_group(request: Request, caller: Caller = Depends(page_caller),
                       db: Database = Depends(get_db)) -> Response:
    """Create a group through services.create_group; show the form again on errors."""
    form = await checked_form(request, caller)
    lang = language_of(request)
    values = _form_values(form, ("village", "name", "founded_on"))
    form_id = _form_id(form)
    result, errors = submit_form(db, lang, GroupCreate, {"id": str(form_id), **values},
                             lambda s, d: services.create_group(s, caller.actor, d,
                                                                today(request)))
    if not errors:
        return RedirectResponse(f"/nutrition/groups/{result.row.id}", 303)
    ctx = _groups_context(db, caller.actor, None, _period(None, request))
    return render(request, "nutrition_community_groups.html", {
        **ctx, **_labels(lang), "values": values, "errors": errors, "form_id": form_id},
        status=422)


def _group_context(db: Database, actor: Actor, group_id: str) -> dict[str, Any]:
    if not actor.can_read_personal:
        raise Forbidden("role_forbidden", Message(
            "Votre rôle ({role}) ne donne pas accès aux dossiers individuels",
            "Your role ({role}) gives no access to individual records", {"role": actor.role}))
    with db.session() as s:
        detail = queries.group_detail_for_read(s, actor, group_id)
    names = {m["id"]: m["name"] for m in detail["member_list"]}
    return {"g": detail, "names": names, "can_write": actor.role in OPERATIONS_WRITE}


@router.get("/nutrition/groups/{group_id}", response_class=HTMLResponse)
def group_page(request: Request, group_id: str, caller: Caller = Depends(page_caller),
               db: Database = Depends(get_db)) -> Response:
    """Show a group: members, sessions with topics and attendance, and the forms."""
    lang = language_of(request)
    return render(request, "nutrition_community_group.html", {
        **_group_context(db, caller.actor, group_id), **_labels(lang),
        "on": today(request), "errors": {}, "values": {}, "member_form_id": uuid.uuid4(),
        "session_form_id": uuid.uuid4()})


@router.post("/nutrition/groups/{group_id}", response_class=HTMLResponse)
async def group_action(request: Request, group_id: str, caller: Caller = Depends(page_caller),
                       db: Database = Depends(get_db)) -> Response:
    """Add a member or record a session (field `action`: member or session)."""
    form = await checked_form(request, caller)
    lang = language_of(request)
    on = today(request)
    action = str(form.get("action") or "")
    form_id = _form_id(form)
    values: dict[str, Any]
    if action == "member":
        values = _form_values(form, ("name", "phone", "sex", "role", "joined_on"))
        _r, errors = submit_form(db, lang, MemberCreate, {"id": str(form_id), **values},
                             lambda s, d: services.add_member(s, caller.actor, group_id, d, on))
    elif action == "session":
        values = {**_form_values(form, ("date", "other_topic", "notes")),
                  "topics": [str(t) for t in form.getlist("topics")],
                  "present": [str(p) for p in form.getlist("present")]}
        _r, errors = submit_form(db, lang, GroupSessionCreate, {"id": str(form_id), **values},
                             lambda s, d: services.record_group_session(s, caller.actor,
                                                                        group_id, d, on))
    else:
        raise invalid("action", "action_unknown", "Action inconnue", "Unknown action")
    if not errors:
        return RedirectResponse(f"/nutrition/groups/{group_id}", 303)
    return render(request, "nutrition_community_group.html", {
        **_group_context(db, caller.actor, group_id), **_labels(lang), "on": on,
        "errors": errors, "values": values, "action": action,
        "member_form_id": form_id if action == "member" else uuid.uuid4(),
        "session_form_id": form_id if action == "session" else uuid.uuid4()}, status=422)


# --------------------------------------------------------------------------- MNP

def _mnp_context(db: Database, actor: Actor, org_unit: str | None,
                 period: Period) -> dict[str, Any]:
    with db.session(write=False) as s:
        unit = unit_in_scope(s, actor, org_unit)
        figures = queries.mnp_figures(s, unit, period)
        stock = queries.facility_stock(s, unit, period)
        facilities = [(f.code, f.name) for f in imm_queries.facilities_in_scope(s, actor)
                      if _in(unit, f)]
        card: list[dict[str, Any]] = []
        if unit.level == FACILITY:
            card = queries.stock_lines(s, unit)[-20:]
    return {"unit": {"code": unit.code, "name": unit.name, "level": unit.level},
            "figures": figures, "stock": stock, "card": card, "facilities": facilities,
            "period": period, "can_stock": actor.role in OPERATIONS_WRITE and bool(facilities),
            "can_give": actor.role in PERSONAL_WRITE and bool(facilities)}


def _mnp_page(request: Request, db: Database, actor: Actor, org_unit: str | None,
              period: str | None, values: dict[str, Any], errors: dict[str, str],
              form: str = "", status: int = 200) -> Response:
    lang = language_of(request)
    ctx = _mnp_context(db, actor, org_unit, _period(period, request))
    return render(request, "nutrition_community_mnp.html", {
        **ctx, **_labels(lang), "on": today(request), "values": values, "errors": errors,
        "form": form, "form_id": uuid.uuid4()}, status=status)


@router.get("/nutrition/mnp", response_class=HTMLResponse)
def mnp_page(request: Request, org_unit: str | None = None, period: str | None = None,
             caller: Caller = Depends(page_caller), db: Database = Depends(get_db)
             ) -> Response:
    """Show MNP coverage and adherence, the sachet stock by CSCom and the forms."""
    return _mnp_page(request, db, caller.actor, org_unit, period, {}, {})


@router.post("/nutrition/mnp", response_class=HTMLResponse)
async def mnp_action(request: Request, caller: Caller = Depends(page_caller),
                     db: Database = Depends(get_db)) -> Response:
    """Record a stock line, a distribution or a follow-up (field `action`)."""
    form = await checked_form(request, caller)
    lang = language_of(request)
    on = today(request)
    action = str(form.get("action") or "")
    fid = str(_form_id(form))
    actor = caller.actor
    values: dict[str, Any]
    if action == "stock":
        values = _form_values(form, ("facility", "kind", "quantity", "date", "note"))
        _r, errors = submit_form(db, lang, StockLineCreate, {"id": fid, **values},
                             lambda s, d: services.record_stock(s, actor, d, on))
    elif action in ("distribution", "followup"):
        names = ("child", "date", "sachets", "round") if action == "distribution" \
            else ("child", "date", "round", "consumed")
        values = _form_values(form, names)
        try:
            child = _child_id(db, values["child"])
        except DomainError as exc:
            child, errors = "", field_errors(exc, lang)
        else:
            body = {"id": fid, **{k: v for k, v in values.items() if k != "child"},
                    "child_id": child}
            if action == "distribution":
                _r, errors = submit_form(db, lang, DistributionCreate, body,
                                     lambda s, d: services.record_distribution(s, actor, d, on))
            else:
                _r, errors = submit_form(db, lang, FollowupCreate, body,
                                     lambda s, d: services.record_followup(s, actor, d, on))
        if "child_id" in errors:
            errors["child"] = errors.pop("child_id")
    else:
        raise invalid("action", "action_unknown", "Action inconnue", "Unknown action")
    if not errors:
        return RedirectResponse("/nutrition/mnp", 303)
    return _mnp_page(request, db, actor, None, None, values, errors, action, 422)


# --------------------------------------------------------------------------- IYCF

def _iycf_context(db: Database, actor: Actor, org_unit: str | None, period: Period,
                  source: str | None) -> dict[str, Any]:
    if source is not None and source not in queries.SOURCES:
        source = None
    with db.session(write=False) as s:
        unit = unit_in_scope(s, actor, org_unit)
        table = queries.iycf_table(s, unit, period, source)
    return {"table": table, "unit": table["org_unit"], "period": period, "source": source,
            "can_import": actor.role in OPERATIONS_WRITE,
            "can_record": actor.role in PERSONAL_WRITE}


def _iycf_page(request: Request, db: Database, actor: Actor, org_unit: str | None,
               period: str | None, source: str | None, values: dict[str, Any],
               errors: dict[str, str], form: str = "", result: Any = None,
               status: int = 200) -> Response:
    lang = language_of(request)
    ctx = _iycf_context(db, actor, org_unit, _period(period, request), source)
    return render(request, "nutrition_community_iycf.html", {
        **ctx, **_labels(lang), "on": today(request), "values": values, "errors": errors,
        "form": form, "result": result, "form_id": uuid.uuid4()}, status=status)


@router.get("/nutrition/iycf", response_class=HTMLResponse)
def iycf_page(request: Request, org_unit: str | None = None, period: str | None = None,
              source: str | None = None, caller: Caller = Depends(page_caller),
              db: Database = Depends(get_db)) -> Response:
    """Show the IYCF 2021 indicators of the area by sub-unit, and the recall/import forms."""
    return _iycf_page(request, db, caller.actor, org_unit, period, source, {}, {})


@router.post("/nutrition/iycf", response_class=HTMLResponse)
async def iycf_action(request: Request, caller: Caller = Depends(page_caller),
                      db: Database = Depends(get_db)) -> Response:
    """Record a recall at a visit or import a survey file (field `action`)."""
    form = await checked_form(request, caller)
    lang = language_of(request)
    on = today(request)
    actor = caller.actor
    action = str(form.get("action") or "")
    values: dict[str, Any]
    errors: dict[str, str] = {}
    if action == "import":
        values = _form_values(form, ("survey", "org_unit"))
        upload = form.get("file")
        raw = await upload.read() if upload is not None and hasattr(upload, "read") else b""
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("cp1252", "replace")
        filename = getattr(upload, "filename", None)
        try:
            with db.session() as s:
                res = services.import_survey(s, actor, values["survey"], text, on,
                                             values["org_unit"] or None, filename)
        except DomainError as exc:
            if exc.status != 422:
                raise
            with db.session() as s:
                services.keep_refused_import(s, actor, values["survey"], text, exc, filename)
            errors = {"form": exc.text(lang)}
            details = [e.message.text(lang) for e in exc.errors]
            return _iycf_page(request, db, actor, None, None, None, values, errors, action,
                              {"details": details}, 422)
        return _iycf_page(request, db, actor, None, None, None, {}, {}, action,
                          {"rows": res.rows, "new": res.new, "unchanged": res.unchanged})
    if action != "recall":
        raise invalid("action", "action_unknown", "Action inconnue", "Unknown action")
    values = {**_form_values(form, ("child", "date", "solid_feeds", "milk_feeds", "early_bf")),
              **{n: form.get(n) == "1" for n in ("breastfed", "other_liquids",
                                                 *iycf.FOOD_GROUPS[1:])}}
    try:
        child = _child_id(db, values["child"])
    except DomainError as exc:
        errors = field_errors(exc, lang)
    else:
        early = {"1": True, "0": False}.get(values["early_bf"])
        body = {**{k: v for k, v in values.items() if k not in ("child", "early_bf")},
                "early_bf": early, "child_id": child, "id": str(_form_id(form))}
        _r, errors = submit_form(db, lang, RecallCreate, body,
                             lambda s, d: services.record_recall(s, actor, d, on))
    if "child_id" in errors:
        errors["child"] = errors.pop("child_id")
    if not errors:
        return _iycf_page(request, db, actor, None, None, None, {}, {}, action,
                          {"recorded": True})
    return _iycf_page(request, db, actor, None, None, None, values, errors, action,
                      None, 422)
