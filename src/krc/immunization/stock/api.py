"""JSON routes of stock (/api/v1): parse, authorise, call a service or query, shape."""

from __future__ import annotations

import logging
from datetime import date
from typing import Any

import orjson
from fastapi import APIRouter, Depends, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send
from starlette.types import Message as AsgiMessage

from krc.accounts.queries import actor_for_token, cached_actor_for_token
from krc.accounts.roles import Actor
from krc.db import Database, is_postgres, url_key
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
from krc.web.deps import Unauthorized, database_of, get_db, require_actor, today, today_of
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

def _webhook_actor(db: Database, header: str) -> Actor | None:
    """Return the Actor of `Authorization: Token <key>` (or Bearer) when the per-process
    token cache knows it (None: check it in a thread with `_webhook_actor_now`), or raise
    401 when the header is malformed."""
    scheme, _, key = header.strip().partition(" ")
    key = key.strip()
    if scheme.lower() not in ("token", "bearer") or not key:
        raise Unauthorized("auth_required", Message(
            "Authentification requise (en-tête Authorization: Token <clé>)",
            "Authentication required (header Authorization: Token <key>)"))
    hit = cached_actor_for_token(url_key(db.engine), key)
    return hit[1] if hit is not None else None


def _webhook_actor_now(db: Database, header: str) -> Actor:
    """Check the token in the database (cached afterwards), or raise 401."""
    key = header.strip().partition(" ")[2].strip()
    with db.session(write=False) as s:
        found = actor_for_token(s, key)
    if found is None:
        raise Unauthorized("token_invalid", Message("Jeton invalide ou révoqué",
                                                    "Invalid or revoked token"))
    return found[1]


def _handle(db: Database, actor: Actor, raw: bytes, day: date) -> services.Answer:
    """Receive a call in one transaction (SQLite; on PostgreSQL, a call to reprocess)."""
    with db.session() as s:
        return services.receive_report(s, actor, raw, day)


def _plan(db: Database, actor: Actor, raw: bytes, day: date) -> services.Plan:
    with db.session(write=False) as s:
        return services.plan_report(s, url_key(db.engine), actor, raw, day)


async def _receive(db: Database, actor: Actor, raw: bytes, day: date) -> services.Answer:
    """Receive a call; on PostgreSQL through the group committer (`krc.groupcommit`).

    The call is planned in the event loop from the per-process caches (or in a worker
    thread when they miss), then its statements join the next batch transaction; the answer
    comes back once that transaction has committed. Jobs are ordered by facility and key so
    that batches of two workers take their row locks in the same order."""
    if not is_postgres(db.engine):
        return await run_in_threadpool(_handle, db, actor, raw, day)
    try:
        plan = services.plan_report(None, url_key(db.engine), actor, raw, day)
    except services.CacheMiss:
        plan = await run_in_threadpool(_plan, db, actor, raw, day)
    committer, order = db.group_committer(), (plan.facility_id or 0, plan.key)
    answer = services.group_answer(plan, await committer.run(services.group_statements(plan),
                                                             order, plan.locks))
    if answer is None:  # the key was there: a replay
        answer = services.stored_answer(
            plan, await committer.run(services.stored_statements(plan), order))
    if answer is None:
        answer = await run_in_threadpool(_handle, db, actor, raw, day)
    return answer


def _record_failure(db: Database, actor: Actor, raw: bytes, day: date, exc: Exception) -> None:
    with db.session() as s:
        services.record_failure(s, actor, raw, day, repr(exc))


@router.post("/rapidpro/webhook", response_model=WebhookAnswer,
             responses={401: REFUSALS[401], 403: REFUSALS[403]})
async def rapidpro_webhook(request: Request) -> Response:
    """Receive a RapidPro flow webhook carrying an SMS stock report (both payload shapes).

    Authenticate with `Authorization: Token <key>` of an `integration` account. Always
    answers 200 `{"status": "ok"|"error", "reply": ...}`; a replay (same `input.uuid`, or
    `run.uuid` + node) returns the same answer and applies nothing again.

    Lean path: the token and the reporter's phone are cached for a few seconds, and on
    PostgreSQL a call is stored and applied by one statement that joins the next group
    commit (many calls, one transaction, one WAL flush)."""
    db = database_of(request)
    header = request.headers.get("authorization", "")
    actor = _webhook_actor(db, header)
    if actor is None:
        actor = await run_in_threadpool(_webhook_actor_now, db, header)
    if actor.role not in services.WEBHOOK_ROLES:
        raise Forbidden("role_forbidden", Message(
            "Seul un compte d'intégration peut envoyer des rapports SMS",
            "Only an integration account may submit SMS reports"))
    raw = await request.body()
    day = today(request)
    try:
        answer = await _receive(db, actor, raw, day)
    except services.DomainError:
        raise
    except Exception as exc:  # keep the raw message; RapidPro retries and the replay reruns
        log.exception("stock webhook failed")
        await run_in_threadpool(_record_failure, db, actor, raw, day, exc)
        raise
    headers = {"Idempotent-Replay": "true"} if answer.replay else None
    return JSONResponse({"status": answer.status, "reply": answer.reply}, headers=headers)


WEBHOOK_PATH = "/api/v1/rapidpro/webhook"
WEBHOOK_MAX_BODY = 256 * 1024  # a RapidPro call is a few kB


class WebhookFastPath:
    """Pure ASGI middleware: the common RapidPro call served without the framework's stack.

    A POST to the webhook whose token is in the per-process cache (checked in the last
    TOKEN_TTL seconds) and whose account may submit reports is answered here: body read,
    `_receive` (group commit), JSON answer. Routing, dependency resolution and the other
    middlewares cost more CPU than the report itself at hundreds of calls a second. Every
    other call (first use of a token, refusals, oversized bodies, failures) goes on to the
    `rapidpro_webhook` route with its body, which answers it in full; a call handled here
    that failed is idempotent, so the route may run it again."""

    def __init__(self, app: ASGIApp, state: Any) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != WEBHOOK_PATH \
                or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size, more = 0, True
        while more and size <= WEBHOOK_MAX_BODY:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            chunks.append(chunk)
            size += len(chunk)
            more = bool(message.get("more_body", False))
        raw = b"".join(chunks)
        if not more and await self._answer(scope, raw, send):
            return
        replayed = False

        async def replay() -> AsgiMessage:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": raw, "more_body": more}
            return await receive()

        await self.app(scope, replay, send)

    async def _answer(self, scope: Scope, raw: bytes, send: Send) -> bool:
        """Answer the call when it takes the common path; False to hand it on."""
        header = next((v.decode("latin-1") for k, v in scope["headers"]
                       if k == b"authorization"), "")
        db: Database = self.state.db
        try:
            actor = _webhook_actor(db, header)
        except Unauthorized:
            return False
        if actor is None or actor.role not in services.WEBHOOK_ROLES:
            return False
        try:
            answer = await _receive(db, actor, raw, today_of(self.state))
        except Exception:  # the route reruns it (idempotent) and answers the failure
            log.info("webhook fast path handed a failing call to the route", exc_info=True)
            return False
        body = orjson.dumps({"status": answer.status, "reply": answer.reply})
        headers = [(b"content-type", b"application/json"),
                   (b"content-length", str(len(body)).encode()),
                   (b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"same-origin")]
        if answer.replay:
            headers.append((b"idempotent-replay", b"true"))
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": body})
        return True
