"""HTML pages of stock: a facility's stock card with a transaction form, the district
status table with alerts, and reporting completeness (French, English switchable)."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from krc.accounts.roles import OPERATIONS_WRITE, Actor
from krc.db import Database
from krc.geo.models import DISTRICT, FACILITY, OrgUnit
from krc.geo.queries import unit_in_scope
from krc.immunization.stock import ledger, queries, services
from krc.immunization.stock.params import StockParams, load_stock_params
from krc.immunization.stock.schemas import ReporterCreate, ReporterUpdate, TransactionCreate
from krc.web.deps import Caller, checked_form, get_db, today
from krc.web.problems import language_of
from krc.web.views import (
    N_,
    PageRoute,
    _form_values,
    _parse_date,
    page_caller,
    redirect_keeping_query,
    render,
    submit_form,
)

router = APIRouter(include_in_schema=False, route_class=PageRoute)

STOCK_STATUS_LABELS = {
    "stock_out": N_("Rupture"), "below_reorder": N_("Sous le seuil de commande"),
    "above_max": N_("Au-dessus du maximum"), "ok": N_("Normal"),
    "report_missing": N_("Rapport manquant"),
}
KIND_LABELS = {"receipt": N_("Réception"), "issue": N_("Sortie vers un autre site"),
               "consumption": N_("Doses utilisées"), "loss": N_("Perte"),
               "count": N_("Inventaire physique")}
REASON_LABELS = {"expired": N_("Périmé"), "broken": N_("Flacon cassé"), "frozen": N_("Gelé"),
                 "vvm": N_("Pastille PCV virée"), "other": N_("Autre")}
REPORT_LABELS = {"on_time": N_("À temps"), "late": N_("En retard"), "missing": N_("Manquant"),
                 "pending": N_("Attendu")}
SOURCE_LABELS = {"web": N_("page"), "api": N_("API"), "sms": N_("SMS")}
LANGUAGES = {"fra": N_("français"), "bam": N_("bambara"), "eng": N_("anglais")}
TXN_FIELDS = ("product", "kind", "quantity", "date", "reason", "note")


def _helpers(request: Request) -> dict[str, Any]:
    from krc.web.i18n import translations
    tr = translations(language_of(request)).gettext

    def label(table: dict[str, str]) -> Any:
        return lambda code: tr(table[code]) if code in table else (code or "")

    return {"stock_status_label": label(STOCK_STATUS_LABELS), "kind_label": label(KIND_LABELS),
            "reason_label": label(REASON_LABELS), "report_label": label(REPORT_LABELS),
            "source_label": label(SOURCE_LABELS), "kinds": ledger.KINDS,
            "reasons": ledger.LOSS_REASONS, "language_label": label(LANGUAGES),
            "languages": [(k, tr(v)) for k, v in LANGUAGES.items()]}


def _facility_page(request: Request, s: Any, actor: Actor, unit: OrgUnit, on: date,
                   product: str | None, params: StockParams) -> dict[str, Any]:
    day = today(request)
    lines = queries.facility_lines(s, unit, on, day, params)
    due = queries.last_due_period(on, params.due_day)
    reported = s.get(services.StockReport, (unit.id, due)) is not None
    card = None
    if product:
        code = product.strip().upper()
        if code in params.codes:
            lo, hi = queries.default_window(on)
            card = queries.stock_card(s, unit, code, lo, hi, params)
    district = s.get(OrgUnit, unit.parent_id) if unit.parent_id else None
    return {"unit": {"code": unit.code, "name": unit.name},
            "district": {"code": district.code, "name": district.name} if district else None,
            "on": on, "lines": lines, "card": card, "product": product,
            "recent": queries.recent_transactions(s, unit, 15),
            "report_missing": not reported, "report_period": str(due),
            "codes": params.codes, "can_write": actor.role in OPERATIONS_WRITE,
            "wide": actor.path != unit.path}


@router.get("/stock", response_class=HTMLResponse)
def stock_page(request: Request, facility: str | None = None, org_unit: str | None = None,
               product: str | None = None, on: str | None = None,
               caller: Caller = Depends(page_caller), db: Database = Depends(get_db)
               ) -> Response:
    """Show a facility's stock card, or the stock status table of a district or above."""
    actor = caller.actor
    day = _parse_date(on, today(request))
    with db.session(write=False) as s:
        queries.require_read(actor)
        params = load_stock_params(s)
        unit = unit_in_scope(s, actor, facility or org_unit)
        if unit.level == FACILITY:
            ctx = _facility_page(request, s, actor, unit, day, product, params)
            return render(request, "stock_facility.html", {
                **_helpers(request), **ctx, "values": {"date": today(request).isoformat(),
                                                       "product": product or ""},
                "errors": {}, "form_id": uuid.uuid4(), "recorded": None})
        table = queries.status_table(s, actor, unit, day, today(request), params)
    return render(request, "stock_status.html", {
        **_helpers(request), **table, "districts": _by_district(table),
        "can_manage_reporters": actor.role in services.REPORTERS_MANAGE})


def _by_district(table: dict[str, Any]) -> list[dict[str, Any]]:
    """Group a status table's facilities by district with counts (for regions and above)."""
    out: dict[str, dict[str, Any]] = {}
    for f in table["facilities"]:
        d = f["district"] or {"code": "", "name": ""}
        agg = out.setdefault(d["code"], {**d, "facilities": 0, "report_missing": 0,
                                         **dict.fromkeys(ledger.STATUSES, 0)})
        agg["facilities"] += 1
        agg["report_missing"] += int(f["report_missing"])
        for k, n in f["alerts"].items():
            agg[k] += n
    return sorted(out.values(), key=lambda a: a["name"])


@router.post("/stock/transactions", response_class=HTMLResponse)
async def record_page(request: Request, caller: Caller = Depends(page_caller),
                      db: Database = Depends(get_db)) -> Response:
    """Record a transaction through services.record_transaction and show the card again."""
    form = await checked_form(request, caller)
    lang = language_of(request)
    day = today(request)
    facility = str(form.get("facility") or "")
    values = _form_values(form, TXN_FIELDS)
    values["product"] = values["product"].upper()
    if values["kind"] != "loss":
        values["reason"] = ""
    try:
        form_id = uuid.UUID(str(form.get("id") or ""))
    except ValueError:
        form_id = uuid.uuid4()

    def store(s: Session, data: TransactionCreate) -> dict[str, Any]:
        result = services.record_transaction(s, caller.actor, data, day, source="web")
        return {**queries.transaction_dict(result.transaction, facility),
                "replay": not result.created}

    recorded, errors = submit_form(db, lang, TransactionCreate,
                                   {**values, "facility": facility, "id": str(form_id)}, store,
                                   whole_form_errors=False)
    with db.session(write=False) as s:
        params = load_stock_params(s)
        unit = unit_in_scope(s, caller.actor, facility)
        ctx = _facility_page(request, s, caller.actor, unit, day, values["product"] or None,
                             params)
    if recorded is not None:
        values, form_id = {"date": day.isoformat(), "product": values["product"]}, uuid.uuid4()
    return render(request, "stock_facility.html", {
        **_helpers(request), **ctx, "values": values, "errors": errors, "form_id": form_id,
        "recorded": recorded}, status=422 if errors else 200)


@router.get("/stock/transactions")
def record_get(request: Request) -> Response:
    """Send a GET of the form's address (a reload, a language switch) to the stock page."""
    return redirect_keeping_query(request, "/stock")


@router.get("/stock/completeness", response_class=HTMLResponse)
def completeness_page(request: Request, org_unit: str | None = None, period: str | None = None,
                      caller: Caller = Depends(page_caller), db: Database = Depends(get_db)
                      ) -> Response:
    """Show reporting completeness and timeliness of a month per district and facility."""
    actor = caller.actor
    day = today(request)
    with db.session(write=False) as s:
        queries.require_read(actor)
        params = load_stock_params(s)
        p = queries.parse_month(period) if period else queries.last_due_period(
            day, params.due_day)
        unit = unit_in_scope(s, actor, org_unit)
        out = queries.completeness(s, actor, unit, p, day, params)
    months = [ledger.add_period(ledger.period_of(day), -i) for i in range(0, 13)]
    return render(request, "stock_completeness.html", {
        **_helpers(request), **out, "months": [str(m) for m in months],
        "can_manage_reporters": actor.role in services.REPORTERS_MANAGE})


# --------------------------------------------------------------------------- reporters

REPORTER_FIELDS = ("phone", "facility", "name", "language")


def _reporters_page(request: Request, db: Database, actor: Actor, code: str | None,
                    values: dict[str, str], errors: dict[str, str], added: str | None,
                    status: int = 200) -> Response:
    with db.session(write=False) as s:
        unit = unit_in_scope(s, actor, code)
        rows = queries.reporters(s, actor, unit)
        last = queries.last_messages(s, [r["id"] for r in rows])
        facilities = [(f.code, f.name) for f in queries.facilities_under(s, unit)] \
            if unit.level >= DISTRICT else []
        districts = queries.districts_under(s, unit) if unit.level < DISTRICT else []
    for r in rows:
        r["last_message"] = last.get(r["id"])
    return render(request, "stock_reporters.html", {
        **_helpers(request), "unit": {"code": unit.code, "name": unit.name},
        "reporters": rows, "facilities": facilities, "districts": districts,
        "values": values, "errors": errors, "added": added}, status=status)


@router.get("/stock/reporters", response_class=HTMLResponse)
def reporters_page(request: Request, org_unit: str | None = None,
                   caller: Caller = Depends(page_caller), db: Database = Depends(get_db)
                   ) -> Response:
    """List the SMS stock reporters of a district (or of the facilities under a unit), with
    the date of each one's last SMS; district managers add, deactivate and reactivate them."""
    return _reporters_page(request, db, caller.actor, org_unit, {"language": "fra"}, {}, None)


@router.post("/stock/reporters", response_class=HTMLResponse)
async def add_reporter_page(request: Request, caller: Caller = Depends(page_caller),
                            db: Database = Depends(get_db)) -> Response:
    """Register a phone as the SMS reporter of a facility (services.add_reporter)."""
    form = await checked_form(request, caller)
    lang = language_of(request)
    unit = str(form.get("org_unit") or "") or None
    values = _form_values(form, REPORTER_FIELDS)
    added, errors = submit_form(
        db, lang, ReporterCreate, values,
        lambda s, data: services.add_reporter(s, caller.actor, data).phone,
        whole_form_errors=False)
    if errors:
        return _reporters_page(request, db, caller.actor, unit, values, errors, None, 422)
    return _reporters_page(request, db, caller.actor, unit, {"language": "fra"}, {}, added)


@router.post("/stock/reporters/{reporter_id}/active")
async def reporter_active_page(request: Request, reporter_id: int,
                               caller: Caller = Depends(page_caller),
                               db: Database = Depends(get_db)) -> Response:
    """Deactivate (active=0) or reactivate (active=1) a reporter, then show the list."""
    form = await checked_form(request, caller)
    active = str(form.get("active") or "") == "1"
    with db.session() as s:
        services.update_reporter(s, caller.actor, reporter_id, ReporterUpdate(active=active))
    unit = str(form.get("org_unit") or "")
    return RedirectResponse(f"/stock/reporters?org_unit={unit}" if unit else "/stock/reporters",
                            303)


@router.get("/stock/reporters/{reporter_id}/active")
def reporter_active_get(request: Request) -> Response:
    """Send a reload of the form's address back to the list."""
    return redirect_keeping_query(request, "/stock/reporters")
