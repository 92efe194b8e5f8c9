"""HTML pages over the same services and queries as the JSON API.

Pages are rendered on the server with Jinja2 (French by default, English through the
gettext catalog in `locale/`). Every write goes through the same service functions as the
JSON API; every read of personal data through the same scoped queries. Domain errors raised
anywhere in a page become a friendly HTML page in the user's language (PageRoute).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Coroutine, Mapping
from datetime import date
from typing import Any
from urllib.parse import quote

from babel.numbers import format_decimal
from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup
from pydantic import BaseModel, ValidationError
from sqlalchemy import select

from krc.accounts import services as accounts
from krc.accounts.roles import (
    MESSAGING_MANAGE,
    PERSONAL_READ,
    ROLE_LABELS,
    Actor,
    require_personal_write,
)
from krc.config import Settings
from krc.db import Database
from krc.errors import DomainError, FieldError, Message, invalid
from krc.geo.models import COUNTRY, DISTRICT, FACILITY, LEVEL_NAMES, REGION, OrgUnit
from krc.geo.queries import unit_in_scope
from krc.identifiers import format_registry_number
from krc.immunization import figures, queries, services
from krc.immunization.indicators import RedRecThresholds
from krc.immunization.params import load_params
from krc.immunization.schedule import add_months, batch_slots
from krc.immunization.schemas import ChildCreate, VaccinationCreate
from krc.results.periods import Period, parse_period
from krc.web import charts
from krc.web.deps import (
    SESSION_COOKIE,
    Caller,
    checked_form,
    get_db,
    get_settings,
    optional_caller,
    today,
)
from krc.web.i18n import N_, translations
from krc.web.nav import navigation
from krc.web.problems import language_of, pydantic_message

STATUS_LABELS = {
    "given": N_("donnée"), "invalid": N_("invalide"), "upcoming": N_("à venir"),
    "due": N_("due"), "overdue": N_("en retard"), "expired": N_("expirée"),
    "not_eligible": N_("non éligible"),
}
STRATEGY_LABELS = {
    "fixed": N_("Stratégie fixe"), "outreach": N_("Stratégie avancée"),
    "mobile": N_("Stratégie mobile"), "campaign": N_("Campagne"),
}
SEX_LABELS = {"F": N_("Fille"), "M": N_("Garçon")}
VACCINE_LABELS = {
    "BCG": N_("BCG (tuberculose)"), "OPV": N_("VPO (polio oral)"),
    "PENTA": N_("Penta (DTC-HepB-Hib)"), "PCV": N_("PCV (pneumocoque)"),
    "ROTA": N_("Rota (rotavirus)"), "IPV": N_("VPI (polio injectable)"),
    "MCV": N_("RR (rougeole-rubéole)"), "YF": N_("VAA (fièvre jaune)"),
    "MENA": N_("MenAfriVac (méningite A)"), "MALARIA": N_("Paludisme (RTS,S / R21)"),
}
CATEGORY_LABELS = (
    N_("Cat. 1 : bon accès, bonne utilisation"),
    N_("Cat. 2 : bon accès, faible utilisation"),
    N_("Cat. 3 : faible accès, bonne utilisation"),
    N_("Cat. 4 : faible accès, faible utilisation"),
)
DROPOUT_LABELS = {"PENTA1_PENTA3": "PENTA1 → PENTA3", "PENTA1_MCV1": "PENTA1 → RR1 (MCV1)",
                  "MCV1_MCV2": "RR1 → RR2 (MCV1 → MCV2)"}
MONTHS = (N_("janv."), N_("févr."), N_("mars"), N_("avr."), N_("mai"), N_("juin"),
          N_("juil."), N_("août"), N_("sept."), N_("oct."), N_("nov."), N_("déc."))
CHILD_FIELDS = ("given_name", "family_name", "sex", "birth_date", "caregiver_name",
                "caregiver_phone", "facility", "village", "national_id")
DOSE_FIELDS = ("vaccine", "dose", "date", "facility", "strategy", "session", "lot")

TEMPLATES = Environment(loader=PackageLoader("krc.web", "templates"),
                        autoescape=select_autoescape(["html"]), trim_blocks=True,
                        lstrip_blocks=True)


# --------------------------------------------------------------------------- plumbing

class LoginRequired(Exception):
    """The page needs a signed-in user: the route answers with a redirect to /login."""


class PageRoute(APIRoute):
    """A page route: domain errors become an HTML error page, no caller a login redirect."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        """Return the route handler wrapped with the page error handling."""
        original = super().get_route_handler()

        async def handler(request: Request) -> Response:
            try:
                return await original(request)
            except LoginRequired:
                target = request.url.path
                if request.url.query:
                    target += "?" + request.url.query
                return RedirectResponse(f"/login?next={quote(target, safe='')}", 303)
            except DomainError as exc:
                return error_page(request, exc)
            except RequestValidationError as exc:
                errors = [FieldError(".".join(str(p) for p in e.get("loc", ())[1:]) or "query",
                                     str(e.get("type", "invalid")),
                                     pydantic_message(e)) for e in exc.errors()]
                return error_page(request, DomainError(
                    "validation_error", Message("Saisie invalide", "Invalid input"),
                    errors=errors))

        return handler


router = APIRouter(include_in_schema=False, route_class=PageRoute)


async def page_caller(request: Request, caller: Caller | None = Depends(optional_caller)) -> Caller:
    """Return the signed-in caller of a page, or send the browser to the login page."""
    if caller is None:
        raise LoginRequired()
    request.state.caller = caller
    return caller


def _fmt_date(d: date | None, lang: str) -> str:
    if d is None:
        return ""
    return d.isoformat() if lang == "en" else d.strftime("%d/%m/%Y")


def _fmt_num(x: float | int | None, lang: str, digits: int = 0) -> str:
    if x is None:
        return "—"
    fmt = "#,##0" + ("." + "0" * digits if digits else "")
    return str(format_decimal(x, format=fmt, locale="fr_FR" if lang == "fr" else "en_GB"))


def age_parts(birth: date, on: date) -> tuple[int, int, int]:
    """Return a child's age on a date as (years, months, weeks); weeks only under 8 weeks."""
    months = 0
    while add_months(birth, months + 1) <= on:
        months += 1
    weeks = (on - birth).days // 7 if months < 2 else 0
    return months // 12, months % 12, weeks


def _age_text(birth: date, on: date, tr: Callable[[str], str]) -> str:
    years, months, weeks = age_parts(birth, on)
    if years == 0 and months < 2:
        return tr("%(n)s sem.") % {"n": weeks}
    if years < 2:
        return tr("%(n)s mois") % {"n": years * 12 + months}
    return tr("%(y)s a %(m)s m") % {"y": years, "m": months}


def _home_for(actor: Actor) -> str:
    return "/" if actor.can_read_personal else "/immunization/dashboard"


def _safe_next(target: str | None) -> str | None:
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


def _labeller(table: Mapping[str, str], tr: Callable[[str], str]) -> Callable[[str], str]:
    """Return a function giving the translated label of a code (the code when unknown)."""
    def label(code: str) -> str:
        return tr(table[code]) if code in table else code
    return label


def render(request: Request, name: str, context: Mapping[str, Any],
           status: int = 200) -> HTMLResponse:
    """Return a rendered page with the common context (language, caller, helpers)."""
    lang = language_of(request)
    tr = translations(lang).gettext
    caller: Caller | None = getattr(request.state, "caller", None)
    other = "en" if lang == "fr" else "fr"
    user = None
    if caller is not None:
        fr_label, en_label = ROLE_LABELS.get(caller.actor.role, (caller.actor.role,) * 2)
        user = {"name": caller.user.full_name or caller.user.username,
                "username": caller.user.username,
                "role": en_label if lang == "en" else fr_label,
                "personal": caller.actor.can_read_personal,
                "write": caller.actor.can_write_personal,
                "wide": caller.actor.path.count("/") <= REGION,
                "messaging": caller.actor.role in MESSAGING_MANAGE}
    base = {
        "request": request, "lang": lang, "_": tr, "user": user,
        "csrf_token": caller.csrf_token if caller else "",
        "switch_url": str(request.url.include_query_params(lang=other)).replace(
            str(request.base_url).rstrip("/"), "", 1),
        "other_lang": other,
        "fdate": lambda d: _fmt_date(d, lang),
        "fnum": lambda x, digits=0: _fmt_num(x, lang, digits),
        "fpct": lambda x: "—" if x is None else _fmt_num(x, lang, 1) + (
            "\u00a0%" if lang == "fr" else "%"),
        "status_label": _labeller(STATUS_LABELS, tr),
        "strategy_label": _labeller(STRATEGY_LABELS, tr),
        "sex_label": _labeller(SEX_LABELS, tr),
        "vaccine_label": _labeller(VACCINE_LABELS, tr),
        "category_label": lambda c: tr(CATEGORY_LABELS[c - 1]) if c else tr("non classé"),
        "dropout_label": lambda k: DROPOUT_LABELS.get(k, k),
        "fregistry": lambda r: format_registry_number(r) if r else "",
        "nav": navigation(request.url.path, user, request.query_params.get("org_unit")),
    }
    base.update(context)
    html = TEMPLATES.get_template(name).render(base)
    return HTMLResponse(html, status_code=status)


_TITLES = {401: N_("Connexion requise"), 403: N_("Accès refusé"), 404: N_("Introuvable"),
           409: N_("Conflit"), 422: N_("Saisie invalide"), 429: N_("Trop de tentatives")}
_ERROR = N_("Erreur")


def error_page(request: Request, exc: DomainError) -> HTMLResponse:
    """Return the friendly HTML page of a domain error, in the user's language."""
    lang = language_of(request)
    tr = translations(lang).gettext
    return render(request, "error.html", {
        "status": exc.status, "title": tr(_TITLES.get(exc.status, _ERROR)),
        "message": exc.text(lang), "code": exc.code,
        "errors": [e.as_dict(lang) for e in exc.errors],
    }, status=exc.status)


def field_errors(exc: ValidationError | DomainError, lang: str) -> dict[str, str]:
    """Return {field: message} in the user's language from a pydantic or domain error."""
    out: dict[str, str] = {}
    if isinstance(exc, ValidationError):
        for err in exc.errors():
            name = ".".join(str(p) for p in err.get("loc", ())) or "form"
            out.setdefault(name, pydantic_message(err).text(lang))
        return out
    for fe in exc.errors:
        out.setdefault(fe.field, fe.message.text(lang))
    if not out:
        out["form"] = exc.text(lang)
    return out


def _form_values(form: Mapping[str, Any], names: tuple[str, ...]) -> dict[str, str]:
    return {n: str(form.get(n) or "").strip() for n in names}


def redirect_keeping_query(request: Request, path: str) -> Response:
    """Send a GET of a form's address (a reload, a language switch) to the page showing
    the form, keeping the query string."""
    query = f"?{request.url.query}" if request.url.query else ""
    return RedirectResponse(f"{path}{query}", 303)


def _build(model: type[BaseModel], values: Mapping[str, Any]) -> Any:
    """Return the pydantic model of the non-empty form values (empty means absent)."""
    return model.model_validate({k: v for k, v in values.items() if v not in ("", None)})


def submit_form(db: Database, lang: str, model: type[BaseModel], values: Mapping[str, Any],
                write: Callable[[Any, Any], Any], *,
                build: Callable[[type[BaseModel], Mapping[str, Any]], Any] = _build,
                whole_form_errors: bool = True) -> tuple[Any, dict[str, str]]:
    """A page form's one shape: validate the values (`build`), run the service (`write`) in
    one transaction, and return (result, {}) or (None, field errors in the user's language).

    A refusal other than 422 propagates (the problem page). A 422 without field errors is
    shown as a whole-form error, or propagates when `whole_form_errors` is False."""
    try:
        data = build(model, values)
    except ValidationError as exc:
        return None, field_errors(exc, lang)
    try:
        with db.session() as s:
            return write(s, data), {}
    except DomainError as exc:
        if exc.status != 422 or not (exc.errors or whole_form_errors):
            raise
        return None, field_errors(exc, lang)


def _parse_date(text: str | None, default: date, field: str = "on") -> date:
    if not text:
        return default
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise invalid(field, "date_parsing", "Date invalide (format AAAA-MM-JJ)",
                      "Invalid date (format YYYY-MM-DD)") from None


# --------------------------------------------------------------------------- sign in / out

@router.get("/login", response_class=HTMLResponse)
def login_form(request: Request, next: str | None = None,
               caller: Caller | None = Depends(optional_caller)) -> Response:
    """Show the sign-in form (or go on when already signed in)."""
    if caller is not None:
        return RedirectResponse(_safe_next(next) or _home_for(caller.actor), 303)
    return render(request, "login.html", {"next": _safe_next(next) or "", "username": ""})


@router.post("/login", response_class=HTMLResponse)
async def login(request: Request, db: Database = Depends(get_db),
                settings: Settings = Depends(get_settings)) -> Response:
    """Check the password (throttled), open a session and set its HttpOnly cookie."""
    form = await request.form()
    username = str(form.get("username") or "").strip()
    password = str(form.get("password") or "")
    target = _safe_next(str(form.get("next") or ""))
    address = request.client.host if request.client else ""
    lang = language_of(request)
    tr = translations(lang).gettext
    error, status, key, landing = None, 200, None, "/"
    with db.session() as s:
        try:
            user = accounts.authenticate(s, username, password, address,
                                         settings.login_max_failures,
                                         settings.login_lock_minutes)
        except accounts.LoginThrottled as exc:
            error, status, user = exc.text(lang), 429, None
        if user is not None:
            key, _row = accounts.open_session(s, user, settings.session_hours)
            landing = "/" if user.role in PERSONAL_READ else "/immunization/dashboard"
        elif error is None:
            error, status = tr("Nom d'utilisateur ou mot de passe incorrect"), 401
    if key is None:
        return render(request, "login.html", {"next": target or "", "username": username,
                                              "error": error}, status=status)
    response = RedirectResponse(target or landing, 303)
    response.set_cookie(SESSION_COOKIE, key, max_age=settings.session_hours * 3600,
                        httponly=True, samesite="lax", secure=settings.secure_cookies)
    return response


@router.post("/logout")
async def logout(request: Request, caller: Caller = Depends(page_caller),
                 db: Database = Depends(get_db)) -> Response:
    """Close the browser session (CSRF-checked) and go back to the sign-in page."""
    await checked_form(request, caller)
    key = request.cookies.get(SESSION_COOKIE)
    if key:
        with db.session() as s:
            accounts.close_session(s, key)
    response = RedirectResponse("/login", 303)
    response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="lax")
    return response


# --------------------------------------------------------------------------- search

SEARCH_PAGE = 50  # children listed for a search; more found → ask for a closer search


@router.get("/", response_class=HTMLResponse)
def home(request: Request, q: str = "", caller: Caller = Depends(page_caller),
         db: Database = Depends(get_db)) -> Response:
    """Search children by name, phone or registry number (latest registrations when empty)."""
    actor = caller.actor
    if not actor.can_read_personal and not q:
        return RedirectResponse(_home_for(actor), 303)
    with db.session() as s:
        found = queries.search_children(s, actor, q, None, SEARCH_PAGE + 1)
        rows = [queries.child_dict(s, c) for c in found[:SEARCH_PAGE]]
    return render(request, "home.html", {"q": q, "children": rows, "on": today(request),
                                         "more": len(found) > SEARCH_PAGE})


# --------------------------------------------------------------------------- registration

def _registration_choices(s: Any, actor: Actor) -> dict[str, Any]:
    facilities = queries.facilities_in_scope(s, actor)
    villages = {f.code: [(v.code, v.name) for v in queries.villages_of(s, f)]
                for f in facilities[:60]}
    return {"facilities": [(f.code, f.name) for f in facilities], "villages": villages,
            "village_select": len(facilities) <= 60}


@router.get("/children/new", response_class=HTMLResponse)
def new_child_form(request: Request, caller: Caller = Depends(page_caller),
                   db: Database = Depends(get_db)) -> Response:
    """Show the registration form."""
    require_personal_write(caller.actor)
    with db.session() as s:
        choices = _registration_choices(s, caller.actor)
    values = dict.fromkeys(CHILD_FIELDS, "")
    if len(choices["facilities"]) == 1:
        values["facility"] = choices["facilities"][0][0]
    return render(request, "child_new.html", {**choices, "values": values, "errors": {},
                                              "candidates": None, "form_id": uuid.uuid4(),
                                              "max_date": today(request)})


@router.post("/children/new", response_class=HTMLResponse)
async def new_child(request: Request, caller: Caller = Depends(page_caller),
                    db: Database = Depends(get_db)) -> Response:
    """Register a child through services.register_child; warn on probable duplicates."""
    form = await checked_form(request, caller)
    require_personal_write(caller.actor)
    lang = language_of(request)
    values = _form_values(form, CHILD_FIELDS)
    try:
        form_id = uuid.UUID(str(form.get("id") or ""))
    except ValueError:
        form_id = uuid.uuid4()
    confirm = str(form.get("confirm_new") or "") == "1"
    errors: dict[str, str] = {}
    candidates = None
    status = 422
    try:
        data = _build(ChildCreate, {**values, "id": str(form_id), "confirm_new": confirm})
    except ValidationError as exc:
        errors = field_errors(exc, lang)
    else:
        try:
            with db.session() as s:
                result = services.register_child(s, caller.actor, data, today(request))
                child_id = result.child.id
        except services.DuplicateFound as exc:
            candidates, status = exc.candidates, 409
        except DomainError as exc:
            if not exc.errors:
                raise
            errors, status = field_errors(exc, lang), exc.status
        else:
            return RedirectResponse(f"/children/{child_id}?registered=1", 303)
    with db.session() as s:
        choices = _registration_choices(s, caller.actor)
    return render(request, "child_new.html", {**choices, "values": values, "errors": errors,
                                              "candidates": candidates, "form_id": form_id,
                                              "max_date": today(request)}, status=status)


# --------------------------------------------------------------------------- child card

def _sessions_of_day(s: Any, actor: Actor, on: date) -> list[dict[str, str]]:
    """Return the day's planned or held outreach sessions in the actor's area (dose form)."""
    from krc.immunization.outreach.models import OutreachSession
    from krc.immunization.outreach.queries import list_sessions
    unit = s.get(OrgUnit, actor.org_unit_id)
    if unit is None:
        return []
    rows: list[OutreachSession] = list_sessions(s, unit, on, on, limit=50)
    names = {u.id: u.name for u in s.scalars(select(OrgUnit).where(
        OrgUnit.id.in_({r.facility_id for r in rows})))} if rows else {}
    return [{"id": str(r.id), "facility": names.get(r.facility_id, ""),
             "strategy": r.strategy, "place": r.place_name or ""}
            for r in rows if r.status != "cancelled"]


def _card(s: Any, actor: Actor, child_id: str, lang: str, on: date) -> dict[str, Any]:
    child = queries.child_for_read(s, actor, child_id)
    params = load_params(s)
    recorded = queries.vaccinations_of(s, child)
    schedule = queries.schedule_of(s, child, on, params, lang, recorded)
    vaccines = list(dict.fromkeys(v for v, _ in batch_slots(params)))
    facilities = [(f.code, f.name) for f in queries.facilities_in_scope(s, actor)] \
        if actor.can_write_personal else []
    from krc.nutrition.register.queries import visits_of
    from krc.nutrition.register.views import growth_charts
    visits = visits_of(s, child)
    return {
        "growth_chart": growth_charts(child, visits, translations(lang).gettext)[0]
        if visits else None,
        "sessions": _sessions_of_day(s, actor, on) if actor.can_write_personal else [],
        "child": queries.child_dict(s, child),
        "vaccinations": [queries.vaccination_dict(s, v, child.id, lang) for v in recorded],
        "schedule": schedule, "vaccines": vaccines, "facilities": facilities,
        "strategies": list(services.STRATEGIES),
    }


def _dose_defaults(card: dict[str, Any], on: date, vaccine: str | None = None,
                   dose: str | None = None) -> dict[str, str]:
    """Return the dose form's initial values: the first overdue (else due) dose, today."""
    pick = None
    for status in ("overdue", "due"):
        pick = next((d for d in card["schedule"]["doses"] if d["status"] == status), None)
        if pick:
            break
    facility = card["child"]["facility"]["code"]
    if card["facilities"] and facility not in {c for c, _ in card["facilities"]}:
        facility = card["facilities"][0][0]
    return {"vaccine": vaccine or (pick["vaccine"] if pick else ""),
            "dose": dose or (str(pick["dose"]) if pick else ""),
            "date": on.isoformat(), "facility": facility, "strategy": "fixed", "lot": ""}


@router.get("/children/{child_id}", response_class=HTMLResponse)
def child_card(request: Request, child_id: str, vaccine: str | None = None,
               dose: str | None = None, registered: str | None = None,
               caller: Caller = Depends(page_caller), db: Database = Depends(get_db)
               ) -> Response:
    """Show a child's card: identity, caregiver, schedule, dose history and the dose form."""
    on = today(request)
    with db.session() as s:
        card = _card(s, caller.actor, child_id, language_of(request), on)
    return render(request, "child_card.html", {
        **card, "on": on, "values": _dose_defaults(card, on, vaccine, dose), "errors": {},
        "form_id": uuid.uuid4(), "registered": bool(registered), "recorded": None})


@router.get("/children/{child_id}/doses")
def dose_form_get(child_id: str, request: Request) -> Response:
    """Send a GET of the dose form's address (a reload, a language switch) to the card."""
    return redirect_keeping_query(request, f"/children/{quote(child_id)}")


@router.post("/children/{child_id}/doses", response_class=HTMLResponse)
async def record_dose(request: Request, child_id: str, caller: Caller = Depends(page_caller),
                      db: Database = Depends(get_db)) -> Response:
    """Record a dose through services.record_dose and show the card again."""
    form = await checked_form(request, caller)
    lang = language_of(request)
    on = today(request)
    values = _form_values(form, DOSE_FIELDS)
    values["vaccine"] = values["vaccine"].upper()
    if values.get("session"):  # a dose at a session takes the session's strategy
        values["strategy"] = ""
    try:
        form_id = uuid.UUID(str(form.get("id") or ""))
    except ValueError:
        form_id = uuid.uuid4()
    errors: dict[str, str] = {}
    recorded = None
    try:
        data = _build(VaccinationCreate, {**values, "id": str(form_id)})
    except ValidationError as exc:
        errors = field_errors(exc, lang)
    else:
        try:
            with db.session() as s:
                child = queries.child_for_read(s, caller.actor, child_id, audit_read=False)
                result = services.record_dose(s, caller.actor, child.id, data, on)
                recorded = queries.vaccination_dict(s, result.vaccination, child.id, lang)
                recorded["replay"] = not result.created
        except DomainError as exc:
            if not exc.errors:
                raise
            errors = field_errors(exc, lang)
    with db.session() as s:
        card = _card(s, caller.actor, child_id, lang, on)
    if recorded is not None:
        values, form_id = _dose_defaults(card, on), uuid.uuid4()
    return render(request, "child_card.html", {
        **card, "on": on, "values": values, "errors": errors, "form_id": form_id,
        "registered": False, "recorded": recorded}, status=422 if errors else 200)


# --------------------------------------------------------------------------- defaulters

@router.get("/immunization/defaulters", response_class=HTMLResponse)
def defaulters(request: Request, org_unit: str | None = None, on: str | None = None,
               caller: Caller = Depends(page_caller), db: Database = Depends(get_db)
               ) -> Response:
    """Show the printable defaulter list of a unit for an outreach day, by area and village."""
    lang = language_of(request)
    tr = translations(lang).gettext
    actor = caller.actor
    day = _parse_date(on, today(request))
    with db.session() as s:
        unit = unit_in_scope(s, actor, org_unit)
        items = queries.defaulters(s, actor, unit, day, load_params(s), lang)
        units = [(unit.code, unit.name)]
        if unit.level < FACILITY:
            units += [(f.code, f.name) for f in queries.facilities_in_scope(s, actor)
                      if f.path.startswith(unit.path + "/")]
        elif actor.path != unit.path:
            own = s.get(OrgUnit, actor.org_unit_id)
            if own is not None:
                units.insert(0, (own.code, own.name))
        unit_ref = {"code": unit.code, "name": unit.name, "level": unit.level}
    for it in items:
        it["age"] = _age_text(it["birth_date"], day, tr)
        it["registry_display"] = format_registry_number(it["registry_number"]) \
            if it["registry_number"] else ""
    if unit.level < FACILITY:
        # Above a health area the list would run to tens of thousands of rows: show each
        # CSCom's counts with a link to its printable list (pages stay light).
        summary: dict[str, dict[str, Any]] = {}
        for i in items:
            f = summary.setdefault(i["facility"]["code"], {**i["facility"], "count": 0,
                                                          "zero_dose": 0})
            f["count"] += 1
            f["zero_dose"] += int(i["zero_dose"])
        return render(request, "defaulters.html", {
            "unit": unit_ref, "on": day, "groups": [], "count": len(items),
            "zero_dose": sum(1 for i in items if i["zero_dose"]), "units": units,
            "facility_summary": sorted(summary.values(), key=lambda f: -f["count"])})
    groups: list[dict[str, Any]] = []
    for (fac, village), rows in queries.grouped(
            [{**i, "fac_name": i["facility"]["name"],
              "village_name": (i["village"] or {}).get("name", "")} for i in items],
            "fac_name", "village_name").items():
        if not groups or groups[-1]["facility"] != fac:
            groups.append({"facility": fac, "villages": []})
        groups[-1]["villages"].append({"village": village, "children": rows})
    return render(request, "defaulters.html", {
        "unit": unit_ref, "on": day, "groups": groups, "count": len(items),
        "zero_dose": sum(1 for i in items if i["zero_dose"]), "units": units,
        "facility_summary": None})


# --------------------------------------------------------------------------- dashboards

def _period(text: str | None, on: date) -> Period:
    return parse_period(text or str(on.year))


def _coverage_of(row: dict[str, Any], key: tuple[str, int]) -> dict[str, Any]:
    return next(d for d in row["doses"] if (d["vaccine"], d["dose"]) == key)


def _summary(row: dict[str, Any]) -> dict[str, Any]:
    """Return the few figures a table row of a unit shows."""
    return {
        "org_unit": row["org_unit"],
        "penta1": _coverage_of(row, ("PENTA", 1)), "penta3": _coverage_of(row, ("PENTA", 3)),
        "mcv1": _coverage_of(row, ("MCV", 1)),
        "dropout": row["dropout"], "zero_dose": row["zero_dose"],
        "category": row["red_rec"]["category"],
    }


def coverage_chart(monthly: list[dict[str, Any]], tr: Callable[[str], str], title: str,
                   last_month: int = 12) -> str:
    """Return the SVG of cumulative monthly coverage (PENTA1, PENTA3, MCV1) vs target."""
    def values(key: str) -> list[float | None]:
        return [m[key] if i < last_month else None for i, m in enumerate(monthly)]

    series = [charts.Series("PENTA1", values("PENTA1"), charts.PALETTE[0]),
              charts.Series("PENTA3", values("PENTA3"), charts.PALETTE[1]),
              charts.Series(tr("RR1 (MCV1)"), values("MCV1"), charts.PALETTE[2]),
              charts.Series(tr("Objectif (90 %)"), [m["target"] for m in monthly],
                            charts.TARGET_COLOUR, dashed=True)]
    return charts.line_chart(series, [tr(m) for m in MONTHS[:len(monthly)]], title=title,
                             y_label=tr("Couverture cumulée (%)"))


@router.get("/immunization/dashboard", response_class=HTMLResponse)
def dashboard(request: Request, org_unit: str | None = None, period: str | None = None,
              caller: Caller = Depends(page_caller), db: Database = Depends(get_db)
              ) -> Response:
    """Show a unit's dashboard: coverage vs target, dropout, RED/REC, zero-dose, sub-units."""
    lang = language_of(request)
    tr = translations(lang).gettext
    actor = caller.actor
    on = today(request)
    p = _period(period, on)
    register_on = min(p.end, on)
    with db.session() as s:
        unit = unit_in_scope(s, actor, org_unit)
        params = load_params(s)
        row = figures.coverage(s, unit, p, None, params, RedRecThresholds(), on=register_on,
                               monthly=True)[0]
        subs: list[dict[str, Any]] = []
        if unit.level < FACILITY:
            subs = [_summary(r) for r in figures.coverage(s, unit, p, unit.level + 1, params,
                                                          RedRecThresholds(), on=register_on)]
        parent = s.get(OrgUnit, unit.parent_id) if unit.parent_id else None
        up = {"code": parent.code, "name": parent.name} \
            if parent is not None and actor.covers(parent.path) else None
        level = unit.level
    last_month = on.month if p.year == on.year else (0 if p.year > on.year else 12)
    chart = Markup(coverage_chart(row["monthly"], tr, tr("Couverture cumulée et cible"),
                                  last_month))
    labels = charts.QuadrantLabels(
        x_axis=tr("Abandon PENTA1→PENTA3 (%)"), y_axis=tr("Couverture PENTA1 (%)"),
        categories=tuple(tr(c) for c in CATEGORY_LABELS),  # type: ignore[arg-type]
        title=tr("Catégories RED/REC"), unclassified=tr("non classé"))
    points = [charts.QuadrantPoint(r["org_unit"]["name"], r["penta1"]["coverage"],
                                   r["dropout"]["PENTA1_PENTA3"]["percent"], r["category"])
              for r in subs] or [charts.QuadrantPoint(
                  row["org_unit"]["name"], row["red_rec"]["penta1_coverage"],
                  row["dropout"]["PENTA1_PENTA3"]["percent"], row["red_rec"]["category"])]
    quadrant = Markup(charts.quadrant_chart(points, labels))
    by_category: dict[int | None, list[str]] = {1: [], 2: [], 3: [], 4: [], None: []}
    for pt in points:
        by_category[pt.category].append(pt.label)
    key_doses = [d for d in row["doses"] if (d["vaccine"], d["dose"]) in
                 {("BCG", 1), ("PENTA", 1), ("PENTA", 3), ("MCV", 1), ("MCV", 2)}]
    return render(request, "dashboard.html", {
        "unit": row["org_unit"], "level_name": LEVEL_NAMES[level][1 if lang == "en" else 0],
        "period": p.code, "figures": row, "chart": chart, "quadrant": quadrant,
        "by_category": by_category, "subs": subs, "up": up, "key_doses": key_doses,
        "bar": lambda v: Markup(charts.bar(v, 120.0, threshold=80.0)),
        "sub_level": LEVEL_NAMES.get(level + 1, ("", ""))[1 if lang == "en" else 0],
        "is_country": level == COUNTRY})


@router.get("/immunization/national", response_class=HTMLResponse)
def national(request: Request, period: str | None = None, basis: str = "aggregate",
             org_unit: str | None = None, caller: Caller = Depends(page_caller),
             db: Database = Depends(get_db), settings: Settings = Depends(get_settings)
             ) -> Response:
    """Show every district ranked by zero-dose children, with coverage, dropout, category."""
    actor = caller.actor
    on = today(request)
    p = _period(period, on)
    if basis not in ("aggregate", "register"):
        basis = "aggregate"
    with db.session() as s:
        root = unit_in_scope(s, actor, org_unit)
        params = load_params(s)
        ranking = figures.priority_districts(s, root, p, params, 10_000, basis, unranked=True)
        details = {r["org_unit"]["code"]: _summary(r) for r in figures.coverage(
            s, root, p, DISTRICT, params, RedRecThresholds(), on=min(p.end, on))}
        root_ref = {"code": root.code, "name": root.name}
    rows = [{**r, "detail": details.get(r["org_unit"]["code"]),
             "priority": r["rank"] is not None and r["rank"] <= settings.priority_districts}
            for r in ranking]
    return render(request, "national.html", {
        "root": root_ref, "period": p.code, "rows": rows, "basis": basis,
        "top": settings.priority_districts,
        "unranked": sum(1 for r in rows if r["rank"] is None),
        "zero_total": sum(r["zero_dose"]["aggregate"] for r in rows),
        "register_total": sum((r["zero_dose"]["register"] or {}).get("zero_dose", 0)
                              for r in rows)})
