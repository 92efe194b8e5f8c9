"""HTML pages of nutrition.register: the nutrition dashboard, a child's growth-monitoring
page (visit form, visits, WHO growth chart), the women's register, the referrals and their
follow-up. Same services and queries as the JSON API; French first, English through
`locale/en/LC_MESSAGES/nutrition.po`.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup
from pydantic import BaseModel, ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from krc.accounts.roles import Actor, require_personal_write
from krc.accounts.services import utcnow
from krc.db import Database
from krc.errors import DomainError, Message, NotFound
from krc.geo.models import FACILITY, LEVEL_NAMES, OrgUnit
from krc.geo.queries import unit_in_scope
from krc.immunization import queries as imm_queries
from krc.immunization.models import Child
from krc.nutrition.register import chart, figures, queries, services
from krc.nutrition.register.models import Woman
from krc.nutrition.register.schemas import (
    ContactCreate,
    ContactUpdate,
    ReferralUpdate,
    VisitCreate,
    WomanCreate,
    WomanUpdate,
)
from krc.results.periods import parse_period
from krc.web.deps import Caller, checked_form, get_db, today
from krc.web.i18n import translations
from krc.web.problems import language_of
from krc.web.views import (
    N_,
    PageRoute,
    _form_values,
    field_errors,
    page_caller,
    redirect_keeping_query,
    render,
    submit_form,
)

router = APIRouter(include_in_schema=False, route_class=PageRoute)

STATUS_LABELS = {"sam": N_("MAS"), "mam": N_("MAM"), "normal": N_("normal"),
                 "unknown": N_("non classé")}
STATUS_TITLES = {"sam": N_("Malnutrition aiguë sévère"),
                 "mam": N_("Malnutrition aiguë modérée")}
CRITERIA_LABELS = {"zwfl": N_("P/T < seuil"), "muac": N_("PB < seuil"),
                   "oedema": N_("œdèmes bilatéraux"), "waz_drop": N_("chute du P/A"),
                   "no_gain": N_("pas de prise de poids")}
DESTINATION_LABELS = {"stabilisation": N_("Centre de stabilisation (URENI)"),
                      "otp": N_("Programme ambulatoire (URENAS)"),
                      "tsfp": N_("Supplémentation (URENAM)"),
                      "assessment": N_("Évaluation et conseil au CSCom")}
REASON_LABELS = {"sam": N_("MAS"), "mam": N_("MAM"),
                 "faltering": N_("Croissance insuffisante")}
# "en attente" alone is another catalog's message ("queued", messaging.po, loaded first):
# a referral's own wording keeps its English from being shadowed.
REFERRAL_STATUS_LABELS = {"open": N_("en attente de prise en charge"), "attended": N_("reçu"),
                          "closed": N_("clôturée")}
OUTCOME_LABELS = {"recovered": N_("guéri"), "defaulted": N_("abandon"), "died": N_("décédé"),
                  "non_response": N_("non-répondant"), "transferred": N_("transféré"),
                  "entered_in_error": N_("saisie erronée")}
# Set by the system when the visit that raised a referral is voided, never from the form.
SYSTEM_OUTCOMES = ("entered_in_error",)
WOMAN_STATUS_LABELS = {"pregnant": N_("enceinte"), "breastfeeding": N_("allaitante"),
                       "closed": N_("sortie")}
PREGNANCY_OUTCOMES = {"live_birth": N_("naissance vivante"), "stillbirth": N_("mort-né"),
                      "miscarriage": N_("fausse couche")}
FLAG_LABELS = {"flen": N_("T/A"), "fwei": N_("P/A"), "fwfl": N_("P/T"), "fbmi": N_("IMC"),
               "fac": N_("PB/A")}
VISIT_FIELDS = ("date", "facility", "weight", "lenhei", "measure", "muac")
WOMAN_FIELDS = ("given_name", "family_name", "birth_date", "age_years", "phone", "facility",
                "village", "status", "expected_delivery")


def _labels(lang: str) -> dict[str, Any]:
    tr = translations(lang).gettext

    def of(table: Mapping[str, str]) -> Callable[[str | None], str]:
        def label(code: str | None) -> str:
            if code is not None and code in table:
                return tr(table[code])
            return code or ""
        return label

    return {"nstatus": of(STATUS_LABELS), "ntitle": of(STATUS_TITLES),
            "criterion": of(CRITERIA_LABELS), "destination": of(DESTINATION_LABELS),
            "reason": of(REASON_LABELS), "rstatus": of(REFERRAL_STATUS_LABELS),
            "outcome": of(OUTCOME_LABELS), "wstatus": of(WOMAN_STATUS_LABELS),
            "poutcome": of(PREGNANCY_OUTCOMES), "flag": of(FLAG_LABELS),
            "outcomes": [o for o in OUTCOME_LABELS if o not in SYSTEM_OUTCOMES],
            "pregnancy_outcomes": list(PREGNANCY_OUTCOMES),
            "fz": lambda z: "—" if z is None else f"{z:+.2f}".replace(
                ".", "," if lang == "fr" else ".")}


def _indicator_label(lang: str) -> Callable[[str], str]:
    """Return the translated name of an IYCF indicator code (community catalogue)."""
    try:
        from krc.nutrition.community.views import INDICATOR_LABELS
    except ImportError:  # pragma: no cover - the community package is optional
        return lambda code: code
    tr = translations(lang).gettext
    return lambda code: tr(INDICATOR_LABELS[code]) if code in INDICATOR_LABELS else code


def _form_id(form: Mapping[str, Any]) -> uuid.UUID:
    try:
        return uuid.UUID(str(form.get("id") or ""))
    except ValueError:
        return uuid.uuid4()


def _validate(model: type[BaseModel], values: Mapping[str, Any],
              clearable: frozenset[str] = frozenset()) -> Any:
    """Build a schema from form values: empty fields are left out, decimal commas read.

    A `clearable` field left empty is sent as null instead: a correction form shows every
    stored value, so emptying one means "not recorded", not "unchanged"."""
    clean: dict[str, Any] = {}
    for k, v in values.items():
        if v in ("", None):
            if k in clearable:
                clean[k] = None
            continue
        clean[k] = v.replace(",", ".") if k in ("weight", "lenhei", "muac", "muac_mm") \
            and isinstance(v, str) else v
    return model.model_validate(clean)


# --------------------------------------------------------------------------- dashboard

@router.get("/nutrition", response_class=HTMLResponse)
def dashboard(request: Request, org_unit: str | None = None, period: str | None = None,
              caller: Caller = Depends(page_caller), db: Database = Depends(get_db)
              ) -> Response:
    """Show the first 1,000 days figures of a unit and period, by sub-unit."""
    lang = language_of(request)
    on = today(request)
    p = parse_period(period or str(on.year))
    with db.session(write=False) as s:
        unit = unit_in_scope(s, caller.actor, org_unit)
        level = unit.level + 1 if unit.level < FACILITY else None
        data = figures.figures_with_community(s, unit, p, on, level)
        parent = s.get(OrgUnit, unit.parent_id) if unit.parent_id else None
        up = {"code": parent.code, "name": parent.name} \
            if parent is not None and caller.actor.covers(parent.path) else None
        unit_level = unit.level
    return render(request, "nutrition_dashboard.html", {
        **_labels(lang), "data": data, "t": data["totals"], "rows": data["rows"],
        "unit": data["org_unit"], "period": p.code, "up": up,
        "level_name": LEVEL_NAMES[unit_level][1 if lang == "en" else 0],
        "sub_level": LEVEL_NAMES.get(unit_level + 1, ("", ""))[1 if lang == "en" else 0],
        "community": data["community"], "indicator_label": _indicator_label(lang)})


# --------------------------------------------------------------------------- children

@router.get("/nutrition/children", response_class=HTMLResponse)
def find_child(request: Request, q: str = "", caller: Caller = Depends(page_caller),
               db: Database = Depends(get_db)) -> Response:
    """Find a register child (name, phone, registry number) to open its growth page."""
    with db.session(write=False) as s:
        rows = [imm_queries.child_dict(s, c) for c in
                imm_queries.search_children(s, caller.actor, q, None, 50)] if q else []
    return render(request, "nutrition_children.html", {"q": q, "rows": rows,
                                                       "on": today(request)})


def growth_charts(child: Child, visits: list[Any], tr: Callable[[str], str]) -> list[Markup]:
    """Return the SVG growth charts of a child's visits against the WHO curves."""
    sex = 1 if child.sex == "M" else 2
    flagged = tr("valeur signalée (OMS)")
    wfa = [chart.Point(v.age_days, v.weight_kg, bool(v.fwei)) for v in visits
           if v.weight_kg is not None]
    lhfa = [chart.Point(v.age_days, v.clenhei or v.lenhei_cm, bool(v.flen)) for v in visits
            if v.lenhei_cm is not None]
    # Weight-for-length below 731 days, weight-for-height from 731 (reference §1): two tables.
    wfl = [chart.Point(v.clenhei or v.lenhei_cm, v.weight_kg, bool(v.fwfl)) for v in visits
           if v.lenhei_cm is not None and v.weight_kg is not None and v.age_days < 731]
    wfh = [chart.Point(v.clenhei or v.lenhei_cm, v.weight_kg, bool(v.fwfl)) for v in visits
           if v.lenhei_cm is not None and v.weight_kg is not None and v.age_days >= 731]
    out = [Markup(chart.growth_chart("wfa", sex, wfa, chart.ChartLabels(
        tr("Poids pour l'âge"), tr("Âge (mois)"), tr("Poids (kg)"), flagged)))]
    if lhfa:
        out.append(Markup(chart.growth_chart("lhfa", sex, lhfa, chart.ChartLabels(
            tr("Taille pour l'âge"), tr("Âge (mois)"), tr("Taille (cm)"), flagged))))
    if wfl:
        out.append(Markup(chart.growth_chart("wfl", sex, wfl, chart.ChartLabels(
            tr("Poids pour la taille"), tr("Taille (cm)"), tr("Poids (kg)"), flagged))))
    if wfh:
        out.append(Markup(chart.growth_chart("wfh", sex, wfh, chart.ChartLabels(
            tr("Poids pour la taille (24 à 59 mois)"), tr("Taille (cm)"), tr("Poids (kg)"),
            flagged))))
    return out


def _growth_context(s: Any, actor: Actor, child_id: str, lang: str) -> dict[str, Any]:
    child, visits, refs = queries.child_nutrition(s, actor, child_id)
    by_visit = {r.visit_pk: r for r in refs}
    tr = translations(lang).gettext
    facilities = [(f.code, f.name) for f in imm_queries.facilities_in_scope(s, actor)] \
        if actor.can_write_personal else []
    live = [v for v in visits if v.voided_at is None]
    return {"child": imm_queries.child_dict(s, child),
            "visits": [queries.visit_dict(s, v, child, by_visit.get(v.pk))
                       for v in reversed(visits)],
            "live_visits": len(live),
            "referrals": [queries.referral_dict(s, r, child) for r in reversed(refs)],
            "charts": growth_charts(child, live, tr), "facilities": facilities,
            "can_write": actor.can_write_personal, "void_errors": {}, "voided": None}


def _visit_defaults(ctx: Mapping[str, Any], on: date) -> dict[str, str]:
    facility = ctx["child"]["facility"]["code"]
    if ctx["facilities"] and facility not in {c for c, _ in ctx["facilities"]}:
        facility = ctx["facilities"][0][0]
    age = (on - ctx["child"]["birth_date"]).days
    return {"date": on.isoformat(), "facility": facility, "weight": "", "lenhei": "",
            "measure": "l" if age < 731 else "h", "muac": "", "oedema": "",
            "counselling": "", "complications": "", "appetite_test": ""}


@router.get("/nutrition/children/{child_id}", response_class=HTMLResponse)
def growth_page(request: Request, child_id: str, caller: Caller = Depends(page_caller),
                db: Database = Depends(get_db)) -> Response:
    """Show a child's growth monitoring: visit form, visits, referrals, growth charts."""
    lang = language_of(request)
    on = today(request)
    with db.session() as s:
        ctx = _growth_context(s, caller.actor, child_id, lang)
    return render(request, "nutrition_child.html", {
        **ctx, **_labels(lang), "on": on, "values": _visit_defaults(ctx, on), "errors": {},
        "form_id": uuid.uuid4(), "recorded": None})


@router.get("/nutrition/children/{child_id}/visits")
def visit_form_get(child_id: str, request: Request) -> Response:
    """Send a GET of the visit form's address (a reload, a language switch) to the page."""
    return redirect_keeping_query(request, f"/nutrition/children/{child_id}")


@router.post("/nutrition/children/{child_id}/visits", response_class=HTMLResponse)
async def record_visit(request: Request, child_id: str, caller: Caller = Depends(page_caller),
                       db: Database = Depends(get_db)) -> Response:
    """Record a visit through services.record_visit and show the page with the result."""
    form = await checked_form(request, caller)
    lang = language_of(request)
    on = today(request)
    values = _form_values(form, VISIT_FIELDS)
    flags = {n: str(form.get(n) or "") for n in ("oedema", "counselling", "complications",
                                                  "appetite_test")}
    form_id = _form_id(form)
    errors: dict[str, str] = {}
    recorded = None
    try:
        data = _validate(VisitCreate, {
            **values, "id": str(form_id), "oedema": flags["oedema"] == "1",
            "counselling": flags["counselling"] == "1",
            "complications": True if flags["complications"] == "1" else None,
            "appetite_test": flags["appetite_test"] or None})
    except ValidationError as exc:
        errors = field_errors(exc, lang)
    else:
        try:
            with db.session() as s:
                child = imm_queries.child_for_read(s, caller.actor, child_id, audit_read=False)
                r = services.record_visit(s, caller.actor, child.id, data, on)
                recorded = queries.visit_dict(s, r.visit, r.child, r.referral,
                                              r.referral_created)
                recorded["replay"] = not r.created
        except DomainError as exc:
            if not exc.errors or exc.status != 422:
                raise
            errors = field_errors(exc, lang)
    with db.session() as s:
        ctx = _growth_context(s, caller.actor, child_id, lang)
    if recorded is not None:
        values_out: dict[str, str] = _visit_defaults(ctx, on)
        form_id = uuid.uuid4()
    else:
        values_out = {**values, **flags}
    return render(request, "nutrition_child.html", {
        **ctx, **_labels(lang), "on": on, "values": values_out, "errors": errors,
        "form_id": form_id, "recorded": recorded}, status=422 if errors else 200)


@router.post("/nutrition/children/{child_id}/visits/{visit_id}/void",
             response_class=HTMLResponse)
async def void_visit(request: Request, child_id: str, visit_id: str,
                     caller: Caller = Depends(page_caller), db: Database = Depends(get_db)
                     ) -> Response:
    """Void a visit entered in error through services.void_visit (reason required) and show
    the page again, the visit struck through."""
    form = await checked_form(request, caller)
    lang = language_of(request)
    on = today(request)
    void_errors: dict[str, str] = {}
    voided = None
    try:
        cid, vid = uuid.UUID(child_id), uuid.UUID(visit_id)
    except ValueError:
        raise NotFound("visit_not_found", Message("Visite introuvable",
                                                  "Visit not found")) from None
    try:
        with db.session() as s:
            v = services.void_visit(s, caller.actor, vid, str(form.get("reason") or ""),
                                    datetime.combine(on, utcnow().timetz()), child_id=cid)
            voided = v.visit_on
    except DomainError as exc:
        if not exc.errors or exc.status != 422:
            raise
        void_errors[visit_id] = next(iter(field_errors(exc, lang).values()), "")
    with db.session() as s:
        ctx = _growth_context(s, caller.actor, child_id, lang)
    ctx.update(void_errors=void_errors, voided=voided)
    return render(request, "nutrition_child.html", {
        **ctx, **_labels(lang), "on": on, "values": _visit_defaults(ctx, on), "errors": {},
        "form_id": uuid.uuid4(), "recorded": None}, status=422 if void_errors else 200)


# --------------------------------------------------------------------------- referrals

@router.get("/nutrition/referrals", response_class=HTMLResponse)
def referrals_page(request: Request, org_unit: str | None = None, status: str = "active",
                   caller: Caller = Depends(page_caller), db: Database = Depends(get_db)
                   ) -> Response:
    """Show the referrals of the caller's area (active first) with their follow-up forms."""
    lang = language_of(request)
    if status not in ("active", "closed", "all"):
        status = "active"
    with db.session() as s:
        unit = unit_in_scope(s, caller.actor, org_unit)
        rows = queries.list_referrals(s, caller.actor, unit, None if status == "all"
                                      else status)
        unit_ref = {"code": unit.code, "name": unit.name}
    return render(request, "nutrition_referrals.html", {
        **_labels(lang), "rows": rows, "unit": unit_ref, "status": status,
        "on": today(request), "can_write": caller.actor.can_write_personal,
        "errors": {}, "error_for": None})


@router.post("/nutrition/referrals/{referral_id}", response_class=HTMLResponse)
async def follow_referral(request: Request, referral_id: str,
                          caller: Caller = Depends(page_caller), db: Database = Depends(get_db)
                          ) -> Response:
    """Record a step of a referral's follow-up through services.update_referral."""
    form = await checked_form(request, caller)
    lang = language_of(request)
    on = today(request)
    step = str(form.get("step") or "")
    values: dict[str, Any] = {"notes": str(form.get("notes") or "").strip() or None}
    if step == "attended":
        values.update(status="attended", attended_on=str(form.get("date") or "") or None)
    elif step == "outcome":  # closing: an outcome must be chosen (no default)
        values.update(status="closed", outcome=str(form.get("outcome") or "") or None,
                      outcome_on=str(form.get("date") or "") or None)
    errors: dict[str, str] = {}
    try:
        rid = uuid.UUID(referral_id)
    except ValueError:
        raise NotFound("referral_not_found", Message("Référence introuvable",
                                                     "Referral not found")) from None
    try:
        data = _validate(ReferralUpdate, values)
    except ValidationError as exc:
        errors = field_errors(exc, lang)
    else:
        try:
            with db.session() as s:
                services.update_referral(s, caller.actor, rid, data, on)
        except DomainError as exc:
            if exc.status != 422:
                raise
            errors = field_errors(exc, lang)
        else:
            back = str(form.get("back") or "")
            target = back if back.startswith("/nutrition/") and "//" not in back \
                else "/nutrition/referrals"
            return RedirectResponse(target, 303)
    with db.session() as s:
        unit = unit_in_scope(s, caller.actor, None)
        rows = queries.list_referrals(s, caller.actor, unit, "active")
        unit_ref = {"code": unit.code, "name": unit.name}
    return render(request, "nutrition_referrals.html", {
        **_labels(lang), "rows": rows, "unit": unit_ref, "status": "active", "on": on,
        "can_write": caller.actor.can_write_personal, "errors": errors,
        "error_for": referral_id}, status=422)


# --------------------------------------------------------------------------- women

def _women_context(s: Any, actor: Actor, org_unit: str | None, status: str | None
                   ) -> dict[str, Any]:
    unit = unit_in_scope(s, actor, org_unit)
    rows = [queries.woman_dict(s, w) for w in queries.list_women(s, actor, unit, status)]
    facilities = [f for f in imm_queries.facilities_in_scope(s, actor)
                  if f.path == unit.path or f.path.startswith(unit.path + "/")] \
        if actor.can_write_personal else []
    villages = {f.code: [(v.code, v.name) for v in imm_queries.villages_of(s, f)]
                for f in facilities}
    return {"rows": rows, "unit": {"code": unit.code, "name": unit.name},
            "facilities": [(f.code, f.name) for f in facilities], "villages": villages,
            "can_write": actor.can_write_personal, "status": status or ""}


def _woman_defaults(ctx: Mapping[str, Any]) -> dict[str, str]:
    values = dict.fromkeys(WOMAN_FIELDS, "")
    values["status"] = "pregnant"
    if ctx["facilities"]:
        values["facility"] = ctx["facilities"][0][0]
    return values


@router.get("/nutrition/women", response_class=HTMLResponse)
def women_page(request: Request, org_unit: str | None = None, status: str | None = None,
               caller: Caller = Depends(page_caller), db: Database = Depends(get_db)
               ) -> Response:
    """Show the women's register of the caller's area and the registration form."""
    lang = language_of(request)
    if status not in (None, "", "pregnant", "breastfeeding", "closed"):
        status = None
    with db.session() as s:
        ctx = _women_context(s, caller.actor, org_unit, status or None)
    return render(request, "nutrition_women.html", {
        **ctx, **_labels(lang), "values": _woman_defaults(ctx), "errors": {},
        "form_id": uuid.uuid4(), "on": today(request)})


@router.post("/nutrition/women", response_class=HTMLResponse)
async def register_woman(request: Request, caller: Caller = Depends(page_caller),
                         db: Database = Depends(get_db)) -> Response:
    """Register a woman through services.register_woman; show the form again on errors."""
    form = await checked_form(request, caller)
    require_personal_write(caller.actor)
    lang = language_of(request)
    values = _form_values(form, WOMAN_FIELDS)
    form_id = _form_id(form)
    errors: dict[str, str] = {}
    try:
        data = _validate(WomanCreate, {**values, "id": str(form_id)})
    except ValidationError as exc:
        errors = field_errors(exc, lang)
    else:
        try:
            with db.session() as s:
                wid = services.register_woman(s, caller.actor, data, today(request)).woman.id
        except DomainError as exc:
            if not exc.errors or exc.status != 422:
                raise
            errors = field_errors(exc, lang)
        else:
            return RedirectResponse(f"/nutrition/women/{wid}", 303)
    with db.session() as s:
        ctx = _women_context(s, caller.actor, None, None)
    return render(request, "nutrition_women.html", {
        **ctx, **_labels(lang), "values": values, "errors": errors, "form_id": form_id,
        "on": today(request)}, status=422)


def _woman_page(request: Request, db: Database, actor: Actor, woman_id: str,
                errors: dict[str, str] | None = None, status: int = 200) -> Response:
    lang = language_of(request)
    on = today(request)
    with db.session() as s:
        w = queries.woman_for_read(s, actor, woman_id)
        card = queries.woman_card(s, w)
        child = None
        if w.child_pk is not None:
            c = s.scalar(select(Child).where(Child.pk == w.child_pk))
            child = imm_queries.child_dict(s, c) if c else None
    return render(request, "nutrition_woman.html", {
        **_labels(lang), "w": card, "newborn": child, "on": on, "errors": errors or {},
        "form_id": uuid.uuid4(), "can_write": actor.can_write_personal}, status=status)


@router.get("/nutrition/women/{woman_id}", response_class=HTMLResponse)
def woman_page(request: Request, woman_id: str, caller: Caller = Depends(page_caller),
               db: Database = Depends(get_db)) -> Response:
    """Show a woman's record, her contacts and the contact and outcome forms."""
    return _woman_page(request, db, caller.actor, woman_id)


async def _contact_form(request: Request, woman_id: str, caller: Caller, db: Database,
                        model: type[BaseModel],
                        extra: Callable[[Mapping[str, Any]], dict[str, str]],
                        store: Callable[[Session, Woman, Any], object],
                        clearable: frozenset[str] = frozenset()) -> Response:
    """The contact forms' one shape: read the fields, validate, call the service on the
    woman, then go back to her page, or show it again with the field errors (422)."""
    form = await checked_form(request, caller)
    lang = language_of(request)
    values = {
        "date": str(form.get("date") or ""),
        "iron_folic_acid": str(form.get("iron_folic_acid") or "") == "1",
        "ifa_tablets": str(form.get("ifa_tablets") or "").strip(),
        "muac_mm": str(form.get("muac_mm") or "").strip(),
        "counselling": str(form.get("counselling") or "") == "1", **extra(form)}
    _, errors = submit_form(
        db, lang, model, values,
        lambda s, data: store(
            s, queries.woman_for_read(s, caller.actor, woman_id, audit_read=False), data),
        build=lambda m, v: _validate(m, v, clearable), whole_form_errors=False)
    if not errors:
        return RedirectResponse(f"/nutrition/women/{woman_id}", 303)
    return _woman_page(request, db, caller.actor, woman_id, errors, 422)


@router.post("/nutrition/women/{woman_id}/contacts", response_class=HTMLResponse)
async def record_contact(request: Request, woman_id: str, caller: Caller = Depends(page_caller),
                         db: Database = Depends(get_db)) -> Response:
    """Record a contact through services.record_contact."""
    return await _contact_form(
        request, woman_id, caller, db, ContactCreate, lambda f: {"id": str(_form_id(f))},
        lambda s, w, data: services.record_contact(s, caller.actor, w.id, data,
                                                   today(request)))


@router.post("/nutrition/women/{woman_id}/contacts/{contact_id}", response_class=HTMLResponse)
async def correct_contact(request: Request, woman_id: str, contact_id: str,
                          caller: Caller = Depends(page_caller),
                          db: Database = Depends(get_db)) -> Response:
    """Correct a contact through services.correct_contact. The reason is required; the form
    shows every stored value, so an emptied tablet count or MUAC clears it (an emptied date
    keeps the day, which a contact cannot lack)."""
    try:
        cid = uuid.UUID(contact_id)
    except ValueError:
        raise NotFound("contact_not_found", Message("Contact introuvable",
                                                    "Contact not found")) from None
    return await _contact_form(
        request, woman_id, caller, db, ContactUpdate,
        lambda f: {"reason": str(f.get("reason") or "")},
        lambda s, w, data: services.correct_contact(s, caller.actor, w.id, cid, data,
                                                    today(request)),
        clearable=frozenset({"ifa_tablets", "muac_mm"}))


@router.post("/nutrition/women/{woman_id}/outcome", response_class=HTMLResponse)
async def record_outcome(request: Request, woman_id: str, caller: Caller = Depends(page_caller),
                         db: Database = Depends(get_db)) -> Response:
    """Record a pregnancy outcome and the newborn's registry number through
    services.update_woman."""
    form = await checked_form(request, caller)
    lang = language_of(request)
    errors: dict[str, str] = {}
    try:
        newborn = None
        number = str(form.get("newborn") or "").strip()
        with db.session(write=False) as s:
            if number:
                found = imm_queries.search_children(s, caller.actor, number, None, 2)
                if len(found) != 1:
                    raise DomainError("child_not_found", Message(
                        "Enfant introuvable : {n}", "Child not found: {n}", {"n": number}),
                        field="child")
                newborn = str(found[0].id)
        data = _validate(WomanUpdate, {"outcome": str(form.get("outcome") or ""),
                                       "outcome_on": str(form.get("outcome_on") or ""),
                                       "child": newborn})
        with db.session() as s:
            w = queries.woman_for_read(s, caller.actor, woman_id, audit_read=False)
            services.update_woman(s, caller.actor, w.id, data, today(request))
    except ValidationError as exc:
        errors = field_errors(exc, lang)
    except DomainError as exc:
        if exc.status not in (409, 422):
            raise
        errors = field_errors(exc, lang)
    else:
        return RedirectResponse(f"/nutrition/women/{woman_id}", 303)
    return _woman_page(request, db, caller.actor, woman_id, errors, 422)
