"""JSON routes of stock (/api/v1): parse, authorise, call a service or query, shape."""

from __future__ import annotations

import logging
import time
from datetime import date
from typing import Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session

from krc.accounts.queries import actor_for_token
from krc.accounts.roles import Actor
from krc.db import RESET_HOOKS, Database, is_postgres
from krc.errors import Forbidden, Message, invalid
from krc.geo.queries import unit_in_scope
from krc.immunization.stock import queries, services
from krc.immunization.stock.params import load_stock_params
from krc.immunization.stock.schemas import (
    ReporterCreate,
    ReporterRead,
    ReporterUpdate,
    StockLine,
    TransactionCreate,
    TransactionRead,
    WebhookAnswer,
)
from krc.web.deps import Unauthorized, get_db, require_actor, today
from krc.web.problems import REFUSALS

router = APIRouter(tags=["stock"])
log = logging.getLogger(__name__)



@router.get("/stock", response_model=list[StockLine], responses=REFUSALS)
def stock_lines(request: Request, facility: str, on: date | None = None,
                actor: Actor = Depends(require_actor), db: Database = Depends(get_db)
                ) -> list[dict[str, Any]]:
    """Return a facility's stock per product: balance, AMC, months of stock, levels, status."""
    day = today(request)
    with db.session(write=False) as s:
        unit = queries.facility_in_scope(s, actor, facility)
        return queries.facility_lines(s, unit, on or day, day, load_stock_params(s))


@router.post("/stock/transactions", status_code=201, response_model=TransactionRead,
             responses={**REFUSALS, 200: {"description": "Replay of an earlier create"}})
def create_transaction(body: TransactionCreate, request: Request, response: Response,
                       actor: Actor = Depends(require_actor), db: Database = Depends(get_db)
                       ) -> dict[str, Any]:
    """Record a receipt, issue, consumption, loss or physical count (idempotent on `id`)."""
    with db.session() as s:
        result = services.record_transaction(s, actor, body, today(request), source="api")
        code = s.get(services.OrgUnit, result.transaction.facility_id).code  # type: ignore[union-attr]
        out = queries.transaction_dict(result.transaction, code)
    if not result.created:
        response.status_code = 200
        response.headers["Idempotent-Replay"] = "true"
    return out


@router.get("/stock/status", responses=REFUSALS)
def stock_status(request: Request, org_unit: str | None = None, on: date | None = None,
                 actor: Actor = Depends(require_actor), db: Database = Depends(get_db)
                 ) -> dict[str, Any]:
    """Return every facility's stock lines and alerts under a unit (default: the caller's),
    with counts by status and `report_missing`."""
    day = today(request)
    with db.session(write=False) as s:
        queries.require_read(actor)
        unit = unit_in_scope(s, actor, org_unit)
        return queries.status_table(s, actor, unit, on or day, day, load_stock_params(s))


@router.get("/stock/card", responses=REFUSALS)
def stock_card(request: Request, facility: str, product: str, start: date | None = None,
               end: date | None = None, actor: Actor = Depends(require_actor),
               db: Database = Depends(get_db)) -> dict[str, Any]:
    """Return the stock card (ledger) of one facility and product over a window (default:
    the three previous months to today), with stock-out days and usage/wastage."""
    lo, hi = queries.default_window(today(request))
    with db.session(write=False) as s:
        unit = queries.facility_in_scope(s, actor, facility)
        params = load_stock_params(s)
        code = product.strip().upper()
        if code not in params.codes:
            raise invalid("product", "product_unknown", "Produit inconnu : {p} ; codes valides : "
                          "{v}", "Unknown product: {p}; valid codes: {v}", p=product,
                          v=", ".join(params.codes))
        return queries.stock_card(s, unit, code, start or lo, end or hi, params)


@router.get("/stock/completeness", responses=REFUSALS)
def stock_completeness(request: Request, period: str, org_unit: str | None = None,
                       actor: Actor = Depends(require_actor), db: Database = Depends(get_db)
                       ) -> dict[str, Any]:
    """Return reporting completeness and timeliness of a month (YYYYMM) per facility and
    district (on time: received by day D of the next month, D = report_due_day, default 5)."""
    p = queries.parse_month(period)
    with db.session(write=False) as s:
        queries.require_read(actor)
        unit = unit_in_scope(s, actor, org_unit)
        return queries.completeness(s, actor, unit, p, today(request), load_stock_params(s))


@router.get("/stock/reporters", response_model=list[ReporterRead], responses=REFUSALS)
def list_reporters(org_unit: str | None = None, actor: Actor = Depends(require_actor),
                   db: Database = Depends(get_db)) -> list[dict[str, Any]]:
    """Return the SMS stock reporters under a unit (admin and district teams)."""
    with db.session(write=False) as s:
        services.require_manage(actor)
        unit = unit_in_scope(s, actor, org_unit)
        return queries.reporters(s, actor, unit)


def _reporter_out(s: Any, rep: Any) -> dict[str, Any]:
    unit = s.get(services.OrgUnit, rep.facility_id)
    return queries.reporter_dict(rep, unit.code, unit.name)


@router.post("/stock/reporters", status_code=201, response_model=ReporterRead,
             responses=REFUSALS)
def create_reporter(body: ReporterCreate, actor: Actor = Depends(require_actor),
                    db: Database = Depends(get_db)) -> dict[str, Any]:
    """Register a phone as a facility's SMS stock reporter."""
    with db.session() as s:
        rep = services.add_reporter(s, actor, body)
        return _reporter_out(s, rep)


@router.patch("/stock/reporters/{reporter_id}", response_model=ReporterRead,
              responses=REFUSALS)
def patch_reporter(reporter_id: int, body: ReporterUpdate, actor: Actor = Depends(require_actor),
                   db: Database = Depends(get_db)) -> dict[str, Any]:
    """Change a reporter's facility, name, language or active flag."""
    with db.session() as s:
        rep = services.update_reporter(s, actor, reporter_id, body)
        return _reporter_out(s, rep)


@router.delete("/stock/reporters/{reporter_id}", response_model=ReporterRead,
               responses=REFUSALS)
def delete_reporter(reporter_id: int, actor: Actor = Depends(require_actor),
                    db: Database = Depends(get_db)) -> dict[str, Any]:
    """Deactivate a reporter (kept for the message history)."""
    with db.session() as s:
        rep = services.update_reporter(s, actor, reporter_id, ReporterUpdate(active=False))
        return _reporter_out(s, rep)


# --------------------------------------------------------------------------- webhook

TOKEN_TTL = 10.0  # seconds a checked token is trusted without a query (revocation delay)
_TOKENS: dict[tuple[str, str], tuple[Actor, float]] = {}
RESET_HOOKS.append(_TOKENS.clear)


def _webhook_actor(db: Database, header: str) -> Actor:
    """Return the Actor of `Authorization: Token <key>` (or Bearer), or raise 401."""
    scheme, _, key = header.strip().partition(" ")
    key = key.strip()
    if scheme.lower() not in ("token", "bearer") or not key:
        raise Unauthorized("auth_required", Message(
            "Authentification requise (en-tête Authorization: Token <clé>)",
            "Authentication required (header Authorization: Token <key>)"))
    now = time.monotonic()
    cached = _TOKENS.get((db.url, key))
    if cached is not None and cached[1] > now:
        return cached[0]
    with db.session(write=False) as s:
        found = actor_for_token(s, key)
    if found is None:
        _TOKENS.pop((db.url, key), None)
        raise Unauthorized("token_invalid", Message("Jeton invalide ou révoqué",
                                                    "Invalid or revoked token"))
    if len(_TOKENS) > 1000:
        _TOKENS.clear()
    _TOKENS[(db.url, key)] = (found[1], now + TOKEN_TTL)
    return found[1]


def _handle(db: Database, actor: Actor, raw: bytes, day: date) -> services.Answer:
    try:
        if is_postgres(db.engine):
            # Each write of the call is one atomic statement: no BEGIN/COMMIT round trips.
            with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn, \
                    Session(bind=conn) as s:
                try:
                    return services.receive_report(s, actor, raw, day, single_statements=True)
                except services.NeedsTransaction:
                    pass
        with db.session() as s:
            return services.receive_report(s, actor, raw, day)
    except services.DomainError:
        raise
    except Exception as exc:  # keep the raw message; RapidPro retries and the replay reruns
        log.exception("stock webhook failed")
        with db.session() as s:
            services.record_failure(s, actor, raw, day, repr(exc))
        raise


@router.post("/rapidpro/webhook", response_model=WebhookAnswer,
             responses={401: REFUSALS[401], 403: REFUSALS[403]})
async def rapidpro_webhook(request: Request) -> Response:
    """Receive a RapidPro flow webhook carrying an SMS stock report (both payload shapes).

    Authenticate with `Authorization: Token <key>` of an `integration` account. Always
    answers 200 `{"status": "ok"|"error", "reply": ...}`; a replay (same `input.uuid`, or
    `run.uuid` + node) returns the same answer and applies nothing again.

    Lean path: the token and the reporter's phone are cached for a few seconds, and on
    PostgreSQL a valid report is stored and applied by one atomic statement (autocommit),
    so a call costs one thread hand-off and one or two round trips."""
    db = get_db(request)
    actor = _webhook_actor(db, request.headers.get("authorization", ""))
    if actor.role not in services.WEBHOOK_ROLES:
        raise Forbidden("role_forbidden", Message(
            "Seul un compte d'intégration peut envoyer des rapports SMS",
            "Only an integration account may submit SMS reports"))
    raw = await request.body()
    answer = await run_in_threadpool(_handle, db, actor, raw, today(request))
    headers = {"Idempotent-Replay": "true"} if answer.replay else None
    return JSONResponse({"status": answer.status, "reply": answer.reply}, headers=headers)
