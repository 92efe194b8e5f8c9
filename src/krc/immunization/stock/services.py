"""Every write of stock: transactions (web, API, SMS), reporters, settings, webhook messages.

Pages, the JSON API, the CLI, the RapidPro webhook and the demo call these functions, so
validation, scope, audit, idempotency and the running aggregates (`stock_balance`,
`stock_month`, `stock_report`) live here once (reference/immunization.md §4).
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, case, insert, or_, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.dialects.postgresql.psycopg import dialect as psycopg_dialect
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from krc.accounts.roles import INTEGRATION, OPERATIONS_WRITE, Actor
from krc.accounts.services import audit, utcnow
from krc.cache import TTLCache
from krc.db import insert_unless_taken, is_postgres, url_key
from krc.errors import DomainError, Forbidden, Message, NotFound, invalid
from krc.geo.models import FACILITY, OrgUnit
from krc.identifiers import normalise_phone
from krc.immunization.stock import ledger, sms
from krc.immunization.stock.models import (
    StockBalance,
    StockMessage,
    StockMonth,
    StockReport,
    StockReporter,
    StockSetting,
    StockTransaction,
)
from krc.immunization.stock.params import StockParams, load_stock_params, params_from
from krc.immunization.stock.schemas import ReporterCreate, ReporterUpdate, TransactionCreate

# Who may manage SMS reporters and stock settings (within their subtree).
REPORTERS_MANAGE = frozenset({"admin", "district"})
WEBHOOK_ROLES = INTEGRATION | {"admin"}
SMS_NAMESPACE = uuid.UUID("5b0f3c1e-8a51-4d0e-9a55-3f1d8c2b7e10")
_MONTH_FIELD = {"receipt": "received", "issue": "issued", "consumption": "used",
                "loss": "lost"}


# --------------------------------------------------------------------------- helpers

def _insert(session: Session, table: Any) -> Any:
    """Return the dialect's INSERT (PostgreSQL or SQLite) that supports ON CONFLICT."""
    return (postgresql.insert if is_postgres(session) else sqlite.insert)(table)


def require_write(actor: Actor) -> None:
    """Refuse (403) a role that may not record stock."""
    if actor.role not in OPERATIONS_WRITE:
        raise Forbidden("role_forbidden", Message(
            "Votre rôle ({role}) ne permet pas d'enregistrer des mouvements de stock",
            "Your role ({role}) may not record stock transactions", {"role": actor.role}))


def facility_for_write(session: Session, actor: Actor, code: str,
                       field: str = "facility") -> OrgUnit:
    """Return a health facility (level 4) in the actor's subtree, or raise 422/404."""
    unit = session.scalar(select(OrgUnit).where(OrgUnit.code == code))
    if unit is None or not actor.covers(unit.path):
        raise NotFound("org_unit_unknown", Message(
            "Unité d'organisation inconnue : {code}", "Unknown org unit: {code}",
            {"code": code}), field=field)
    if unit.level != FACILITY:
        raise invalid(field, "org_unit_wrong_level",
                      "{code} n'est pas un établissement de santé (CSCom)",
                      "{code} is not a health facility (CSCom)", code=code)
    return unit


@dataclass(frozen=True)
class Line:
    """One transaction to apply: product, kind, quantity, loss reason, day and id."""

    product: str
    kind: str
    quantity: int
    reason: str | None
    on: date
    id: uuid.UUID
    note: str | None = None


def _line_txns(session: Session, facility_id: int, product: str,
               until: date | None = None) -> list[ledger.Txn]:
    """Return a stock line's transactions (up to day `until`) as ledger Txns."""
    stmt = select(StockTransaction.occurred_on, StockTransaction.kind,
                  StockTransaction.quantity, StockTransaction.pk).where(
        StockTransaction.facility_id == facility_id, StockTransaction.product == product)
    if until is not None:
        stmt = stmt.where(StockTransaction.occurred_on <= until)
    return [ledger.Txn(d, k, q, pk) for d, k, q, pk in session.execute(stmt)]


def _book_balance(session: Session, facility_id: int, product: str, on: date,
                  current: StockBalance | None) -> int:
    """Return the book balance at the end of day `on` (before a new transaction that day)."""
    if current is None:
        return 0
    if on >= current.last_on:
        return current.balance
    return ledger.balance(_line_txns(session, facility_id, product, on)) or 0


def _check_outflow(session: Session, facility: OrgUnit, line: Line) -> None:
    """Refuse (422) an issue, use or loss typed on a page or sent to the API that would
    take the line's balance below zero on its day or later: the book is then wrong (a
    receipt not recorded, a count due), and recording the movement would show a negative
    stock and nonsense wastage. SMS reports are not refused this way: the field's report
    is kept and the district sees the line's discrepancy at the next count."""
    if ledger.MOVEMENTS.get(line.kind, 0) >= 0:
        return
    txns = _line_txns(session, facility.id, line.product)
    new = ledger.Txn(line.on, line.kind, line.quantity, max((t.seq for t in txns), default=0) + 1)
    short = ledger.shortfall(txns, new)
    if short is not None:
        raise invalid("quantity", "stock_insufficient",
                      "Stock insuffisant de {p} à {f} le {d} : il manque {n} dose(s) ; "
                      "enregistrez d'abord la réception ou un inventaire",
                      "Not enough {p} at {f} on {d}: {n} dose(s) short; record the receipt "
                      "or a physical count first", p=line.product, f=facility.name,
                      d=line.on.isoformat(), n=short)


def _recompute_balance(session: Session, facility_id: int, product: str) -> None:
    """Set the line's balance row from its whole ledger (after a backdated count)."""
    txns = _line_txns(session, facility_id, product)
    counts = [t.on for t in txns if t.kind == "count"]
    session.execute(update(StockBalance).where(
        StockBalance.facility_id == facility_id, StockBalance.product == product).values(
        balance=ledger.balance(txns) or 0, last_count_on=max(counts) if counts else None,
        last_on=max(t.on for t in txns)))


# Advisory-lock namespace of a facility's stock rows (balances, months, report). Every
# writer of them takes the facility's lock first, so that writers never wait on each other
# in a cycle (reports of the same facility listing products in different orders).
STOCK_LOCK = 0x53544B


def facility_lock(facility_id: int) -> tuple[int, int]:
    """The advisory lock of a facility's stock rows (for `krc.groupcommit` jobs)."""
    return (STOCK_LOCK, facility_id)


def lock_facility(session: Session, facility_id: int) -> None:
    """Take the facility's stock lock until the transaction ends (PostgreSQL; SQLite has
    one writer at a time)."""
    if is_postgres(session):
        session.execute(text("SELECT pg_advisory_xact_lock(:a, :b)"),
                        {"a": STOCK_LOCK, "b": facility_id})


def apply_lines(session: Session, actor: Actor | None, facility_id: int, lines: Sequence[Line],
                source: str, today: date, params: StockParams,
                message_pk: int | None = None) -> list[dict[str, Any]]:
    """Insert transactions of one facility and keep balances, months and reports current.

    Products must be distinct within `lines`. Returns the inserted rows (dicts)."""
    lock_facility(session, facility_id)
    products = [ln.product for ln in lines]
    current = {b.product: b for b in session.scalars(
        select(StockBalance).where(StockBalance.facility_id == facility_id,
                                   StockBalance.product.in_(products)))} if any(
        ln.kind == "count" for ln in lines) else None
    now = utcnow()
    rows: list[dict[str, Any]] = []
    backdated: list[str] = []
    for ln in lines:
        book = disc = None
        if ln.kind == "count":
            assert current is not None
            cur = current.get(ln.product)
            book = _book_balance(session, facility_id, ln.product, ln.on, cur)
            disc = ln.quantity - book
            if cur is not None and ln.on < cur.last_on:
                backdated.append(ln.product)
        rows.append({"id": ln.id, "facility_id": facility_id, "product": ln.product,
                     "kind": ln.kind, "quantity": ln.quantity, "reason": ln.reason,
                     "occurred_on": ln.on, "book_balance": book, "discrepancy": disc,
                     "source": source, "message_pk": message_pk, "note": ln.note,
                     "created_at": now, "created_by": actor.user_id if actor else None})
    session.execute(insert(StockTransaction), rows)

    # Running balance: a movement adds unless it predates the last count; a count sets it.
    moves = [r for r in rows if r["kind"] != "count"]
    if moves:
        stmt = _insert(session, StockBalance).values([
            {"facility_id": facility_id, "product": r["product"],
             "balance": ledger.MOVEMENTS[r["kind"]] * r["quantity"], "last_count_on": None,
             "last_on": r["occurred_on"]} for r in moves])
        ex = stmt.excluded
        stmt = stmt.on_conflict_do_update(
            index_elements=["facility_id", "product"],
            set_={"balance": case(
                (or_(StockBalance.last_count_on.is_(None),
                     ex.last_on >= StockBalance.last_count_on),
                 StockBalance.balance + ex.balance), else_=StockBalance.balance),
                  "last_on": case((ex.last_on > StockBalance.last_on, ex.last_on),
                                  else_=StockBalance.last_on)})
        session.execute(stmt)
    counts = [r for r in rows if r["kind"] == "count" and r["product"] not in backdated]
    if counts:
        stmt = _insert(session, StockBalance).values([
            {"facility_id": facility_id, "product": r["product"], "balance": r["quantity"],
             "last_count_on": r["occurred_on"], "last_on": r["occurred_on"]} for r in counts])
        ex = stmt.excluded
        stmt = stmt.on_conflict_do_update(
            index_elements=["facility_id", "product"],
            set_={"balance": ex.balance, "last_count_on": ex.last_count_on,
                  "last_on": ex.last_on})
        session.execute(stmt)
    for product in backdated:
        _recompute_balance(session, facility_id, product)

    # Monthly movements (AMC) and the monthly report (completeness, timeliness).
    months: dict[tuple[str, int], dict[str, Any]] = {}
    for r in moves:
        key = (r["product"], ledger.period_of(r["occurred_on"]))
        m = months.setdefault(key, {"facility_id": facility_id, "product": key[0],
                                    "period": key[1], "received": 0, "issued": 0, "used": 0,
                                    "lost": 0, "used_reports": 0})
        m[_MONTH_FIELD[r["kind"]]] += r["quantity"]
        m["used_reports"] += int(r["kind"] == "consumption")
    if months:
        stmt = _insert(session, StockMonth).values(list(months.values()))
        ex = stmt.excluded
        stmt = stmt.on_conflict_do_update(
            index_elements=["facility_id", "product", "period"],
            set_={c: getattr(StockMonth, c) + getattr(ex, c)
                  for c in ("received", "issued", "used", "lost", "used_reports")})
        session.execute(stmt)
    periods = sorted({ledger.report_period(r["occurred_on"], params.due_day) for r in rows})
    stmt = _insert(session, StockReport).values([
        {"facility_id": facility_id, "period": p, "first_received_on": today,
         "on_time": ledger.is_on_time(p, today, params.due_day), "submissions": 1}
        for p in periods])
    ex = stmt.excluded
    stmt = stmt.on_conflict_do_update(
        index_elements=["facility_id", "period"],
        set_={"first_received_on": case(
            (ex.first_received_on < StockReport.first_received_on, ex.first_received_on),
            else_=StockReport.first_received_on),
              "on_time": or_(StockReport.on_time, ex.on_time),
              "submissions": StockReport.submissions + 1})
    session.execute(stmt)
    return rows


# --------------------------------------------------------------------------- transactions

@dataclass
class Recorded:
    """The outcome of recording a transaction: the row and whether this call created it."""

    transaction: StockTransaction
    created: bool


def record_transaction(session: Session, actor: Actor, data: TransactionCreate, today: date,
                       source: str = "api") -> Recorded:
    """Record one stock transaction (idempotent on `data.id`), audited."""
    require_write(actor)
    if data.id is not None:
        existing = session.scalar(select(StockTransaction).where(StockTransaction.id == data.id))
        if existing is not None:
            return _replayed(session, actor, existing)
    params = load_stock_params(session)
    facility = facility_for_write(session, actor, data.facility)
    product = data.product.strip().upper()
    if product not in params.codes:
        raise invalid("product", "product_unknown", "Produit inconnu : {p} ; codes valides : {v}",
                      "Unknown product: {p}; valid codes: {v}", p=data.product,
                      v=", ".join(params.codes))
    if data.kind not in ledger.KINDS:
        raise invalid("kind", "kind_unknown", "Type de mouvement inconnu : {k} ; valides : {v}",
                      "Unknown transaction kind: {k}; valid: {v}", k=data.kind,
                      v=", ".join(ledger.KINDS))
    reason = None
    if data.kind == "loss":
        reason = data.reason or "other"
        if reason not in ledger.LOSS_REASONS:
            raise invalid("reason", "reason_unknown", "Motif de perte inconnu : {r} ; valides : "
                          "{v}", "Unknown loss reason: {r}; valid: {v}", r=reason,
                          v=", ".join(ledger.LOSS_REASONS))
    elif data.reason:
        raise invalid("reason", "reason_not_loss", "Un motif ne s'indique que pour une perte",
                      "A reason is only given for a loss")
    if data.date > today:
        raise invalid("date", "date_future", "La date ({d}) est dans le futur",
                      "The date ({d}) is in the future", d=data.date.isoformat())
    if data.date.year < today.year - 5:
        raise invalid("date", "date_too_old", "La date ({d}) est trop ancienne (plus de 5 ans)",
                      "The date ({d}) is too old (more than 5 years)", d=data.date.isoformat())
    if data.kind != "count" and data.quantity == 0:
        raise invalid("quantity", "quantity_zero", "La quantité doit être positive",
                      "The quantity must be positive")
    line = Line(product, data.kind, data.quantity, reason, data.date, data.id or uuid.uuid4(),
                data.note or None)
    lock_facility(session, facility.id)  # the check and the write see the same ledger
    _check_outflow(session, facility, line)
    try:
        with session.begin_nested():
            apply_lines(session, actor, facility.id, [line], source, today, params)
    except IntegrityError:
        # A concurrent retry with the same id won the race: answer with its record.
        again = session.scalar(select(StockTransaction).where(StockTransaction.id == line.id))
        if again is None:
            raise
        return _replayed(session, actor, again)
    txn = session.scalar(select(StockTransaction).where(StockTransaction.id == line.id))
    assert txn is not None
    audit(session, actor, "create", "stock_transaction", str(txn.id),
          {"facility": facility.code, "product": product, "kind": data.kind,
           "quantity": data.quantity, "date": data.date.isoformat(), "source": source})
    return Recorded(txn, True)


def _replayed(session: Session, actor: Actor, txn: StockTransaction) -> Recorded:
    unit = session.get(OrgUnit, txn.facility_id)
    if unit is None or not actor.covers(unit.path):
        raise DomainError("id_taken", Message("Cet identifiant est déjà utilisé",
                                              "This id is already used"), field="id")
    return Recorded(txn, False)


# --------------------------------------------------------------------------- reporters

def require_manage(actor: Actor) -> None:
    """Refuse (403) a role that may not manage reporters or settings."""
    if actor.role not in REPORTERS_MANAGE:
        raise Forbidden("role_forbidden", Message(
            "Votre rôle ({role}) ne permet pas de gérer les rapporteurs SMS",
            "Your role ({role}) may not manage SMS reporters", {"role": actor.role}))


def add_reporter(session: Session, actor: Actor, data: ReporterCreate) -> StockReporter:
    """Register a phone as the SMS stock reporter of a facility in the actor's subtree."""
    require_manage(actor)
    phone = normalise_phone(data.phone, "phone")
    facility = facility_for_write(session, actor, data.facility)
    if session.scalar(select(StockReporter.id).where(StockReporter.phone == phone)) is not None:
        raise DomainError("phone_taken", Message(
            "Ce numéro est déjà enregistré comme rapporteur : {p}",
            "This number is already a reporter: {p}", {"p": phone}), field="phone")
    now = utcnow()
    rep = StockReporter(phone=phone, facility_id=facility.id, name=data.name,
                        language=data.language, active=True, created_at=now, updated_at=now)
    if not insert_unless_taken(session, rep):  # registered concurrently
        raise DomainError("phone_taken", Message(
            "Ce numéro est déjà enregistré comme rapporteur : {p}",
            "This number is already a reporter: {p}", {"p": phone}), field="phone")
    _REPORTERS.forget(session)
    audit(session, actor, "create", "stock_reporter", str(rep.id),
          {"phone": phone, "facility": facility.code, "language": data.language})
    return rep


def reporter_for_write(session: Session, actor: Actor, reporter_id: int) -> StockReporter:
    """Return a reporter of a facility in the actor's subtree, or raise 404."""
    require_manage(actor)
    row = session.execute(select(StockReporter, OrgUnit.path).join(
        OrgUnit, OrgUnit.id == StockReporter.facility_id).where(
        StockReporter.id == reporter_id)).first()
    if row is None or not actor.covers(row[1]):
        raise NotFound("reporter_not_found", Message("Rapporteur introuvable",
                                                     "Reporter not found"))
    return row[0]


def update_reporter(session: Session, actor: Actor, reporter_id: int,
                    data: ReporterUpdate) -> StockReporter:
    """Change a reporter's facility, name, language or active flag; audited before/after."""
    rep = reporter_for_write(session, actor, reporter_id)
    before: dict[str, Any] = {}
    if data.facility is not None:
        facility = facility_for_write(session, actor, data.facility)
        if facility.id != rep.facility_id:
            before["facility_id"] = rep.facility_id
            rep.facility_id = facility.id
    for key in ("name", "language", "active"):
        value = getattr(data, key)
        if value is not None and value != getattr(rep, key):
            before[key] = getattr(rep, key)
            setattr(rep, key, value)
    rep.updated_at = utcnow()
    _REPORTERS.forget(session)
    audit(session, actor, "update", "stock_reporter", str(rep.id), {"before": before})
    return rep


def set_setting(session: Session, actor: Actor | None, key: str, value: str) -> StockParams:
    """Store one stock setting after checking it parses; return the parameters in force."""
    if actor is not None and actor.role != "admin":
        raise Forbidden("role_forbidden", Message(
            "Seul un administrateur peut changer les paramètres de stock",
            "Only an administrator may change stock settings"))
    current = {k: v for k, v in session.execute(select(StockSetting.key, StockSetting.value))}
    current[key] = value
    params = params_from(current)
    row = session.get(StockSetting, key)
    before = row.value if row else None
    if row is None:
        session.add(StockSetting(key=key, value=value))
    else:
        row.value = value
    audit(session, actor, "update", "stock_setting", key, {"before": before, "after": value})
    _PARAMS.forget(session)
    return params



# --------------------------------------------------------------------------- webhook

@dataclass(frozen=True)
class Inbound:
    """What krc reads from a RapidPro webhook payload (interop.md §2)."""

    key: str
    text: str | None
    phone: str | None


@dataclass(frozen=True)
class Answer:
    """The webhook answer and whether it is the stored answer of an earlier call."""

    status: str
    reply: str
    replay: bool = False


def _get(obj: Any, *keys: str) -> Any:
    for k in keys:
        if not isinstance(obj, dict):
            return None
        obj = obj.get(k)
    return obj


def read_payload(raw: bytes, today: date) -> tuple[Any, Inbound]:
    """Return the decoded payload and its key, text and phone (both RapidPro shapes).

    Key: `input.uuid` when present, else `run.uuid` + the node of the `report` result (or
    the last path node); the default shape has neither, so its key is the SHA-256 of the
    body and the day (a retry the same day is a replay; the same text on another day is a
    new report)."""
    try:
        payload = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        payload = None
    digest = hashlib.sha256(raw).hexdigest()
    if not isinstance(payload, dict):
        return payload, Inbound(f"raw:{digest}:{today.isoformat()}", None, None)
    text = None
    inp = payload.get("input")
    if isinstance(inp, dict) and isinstance(inp.get("text"), str):
        text = inp["text"]
    if text is None:
        value = _get(payload, "results", "report", "value")
        if isinstance(value, str | int | float):
            text = str(value)
    key = None
    if isinstance(inp, dict) and inp.get("uuid"):
        key = f"input:{inp['uuid']}"
    elif _get(payload, "run", "uuid"):
        node = _get(payload, "results", "report", "node_uuid")
        path = payload.get("path")
        if not node and isinstance(path, list) and path and isinstance(path[-1], dict):
            node = path[-1].get("node_uuid")
        key = f"run:{_get(payload, 'run', 'uuid')}:{node or _get(payload, 'flow', 'uuid')}"
    if key is None:
        key = f"body:{digest}:{today.isoformat()}"
    phone = None
    urn = inp.get("urn") if isinstance(inp, dict) else None
    if isinstance(urn, dict) and urn.get("path"):
        phone = _urn_phone(f"{urn.get('scheme')}:{urn['path']}")
    elif isinstance(urn, str):
        phone = _urn_phone(urn)
    if phone is None:
        curn = _get(payload, "contact", "urn")
        if isinstance(curn, str):
            phone = _urn_phone(curn)
    return payload, Inbound(key[:200], text, phone)


def _urn_phone(urn: str) -> str | None:
    """Return the phone of a RapidPro `tel:+223…` or `whatsapp:223…` URN (interop.md §2)."""
    scheme, _, path = urn.partition(":")
    path = path.strip()
    if not path or scheme not in ("tel", "whatsapp"):
        return None
    return path if scheme == "tel" or path.startswith("+") else "+" + path


class _Refusal(Exception):
    """A report refused with a reply to the sender (status error)."""

    def __init__(self, code: str, reply: str) -> None:
        super().__init__(code)
        self.code = code
        self.reply = reply


_NO_TEXT = ("Message vide ou absent : envoyez par ex. STK BCG 20 PENTA 30",
            "Empty or missing message: send e.g. STK BCG 20 PENTA 30")


REPORTER_TTL = 10.0  # seconds the webhook trusts its copy of the phone → reporter map
Reporter = tuple[int, int, str, str, str, bool]
_REPORTERS: TTLCache[str, dict[str, Reporter]] = TTLCache(REPORTER_TTL, max_entries=100)


class CacheMiss(Exception):
    """A cache-only webhook plan needed the database (rerun it with a session)."""


def _reporter_query() -> Any:
    return (select(StockReporter.phone, StockReporter.id, StockReporter.facility_id,
                   OrgUnit.path, OrgUnit.name, StockReporter.language, StockReporter.active)
            .join(OrgUnit, OrgUnit.id == StockReporter.facility_id))


def _reporter(session: Session | None, url: str, phone: str | None) -> Reporter:
    """Return (reporter id, facility id, facility path, facility name, language, active).

    The whole phone → reporter map (one row per reporter, a few thousand nationally) is
    loaded in one query and trusted for REPORTER_TTL seconds, so a busy webhook makes one
    lookup query per process every REPORTER_TTL seconds, whatever the number of phones.
    Reporter changes clear the map of their own process; other workers see a changed
    reporter within the TTL, and a phone registered since the map was loaded at once (a
    phone missing from the map is looked up). Without a session, a lookup that needs the
    database raises CacheMiss."""
    if not phone:
        raise _Refusal("phone_missing", "Numéro de l'expéditeur absent du message")
    try:
        e164 = normalise_phone(phone, "phone")
    except DomainError:
        raise _Refusal("phone_invalid", f"Numéro invalide : {phone[:20]}") from None
    cached = _REPORTERS.peek(url, "map")
    if cached is not None and e164 in cached:
        return cached[e164]
    if session is None:
        raise CacheMiss()
    conn = session.connection()
    if cached is None:
        since = _REPORTERS.generation
        reporters = {r[0]: (r[1], r[2], r[3], r[4], r[5], r[6])
                     for r in conn.execute(_reporter_query())}
        _REPORTERS.put(url, "map", reporters, since)
    else:  # registered since the map was loaded?
        row = conn.execute(_reporter_query().where(StockReporter.phone == e164)).first()
        reporters = cached
        if row is not None:
            reporters[e164] = (row[1], row[2], row[3], row[4], row[5], row[6])
    if e164 not in reporters:
        raise _Refusal("phone_unknown", f"Numéro non enregistré : {e164}. Demandez à votre "
                       "district de vous inscrire comme rapporteur de stock.")
    return reporters[e164]


PARAMS_TTL = 10.0  # seconds the webhook trusts its copy of the stock settings
_PARAMS: TTLCache[str, StockParams] = TTLCache(PARAMS_TTL, max_entries=100)


def webhook_params(session: Session | None, url: str) -> StockParams:
    """Return the stock settings, cached per database for PARAMS_TTL seconds (the webhook's
    hot path; `set_setting` clears the cache of its own process). Without a session, a
    cache miss raises CacheMiss."""
    hit = _PARAMS.peek(url, "params")
    if hit is not None:
        return hit
    if session is None:
        raise CacheMiss()
    since = _PARAMS.generation
    params = load_stock_params(session)
    _PARAMS.put(url, "params", params, since)
    return params


@dataclass(frozen=True)
class Plan:
    """A webhook call read, checked and parsed, ready to be stored (nothing written yet)."""

    actor: Actor
    key: str
    message: dict[str, Any]  # the stock_message row
    report: sms.StockReport | None  # None when refused
    lines: list[Line]
    facility_id: int | None
    params: StockParams
    today: date
    now: datetime

    @property
    def applies(self) -> bool:
        """Whether the report is valid and is to be applied to a facility's ledger."""
        return self.report is not None and self.facility_id is not None

    @property
    def locks(self) -> tuple[tuple[int, int], ...]:
        """The advisory locks its group-commit job takes: the facility's, when it applies."""
        return (facility_lock(self.facility_id),) if self.facility_id is not None and \
            self.report is not None else ()


def plan_report(session: Session | None, url: str, actor: Actor, raw: bytes, today: date,
                now: datetime | None = None) -> Plan:
    """Read, check and parse one RapidPro webhook call (interop.md §2, reference §4).

    A refusal (unknown or inactive phone, out of scope, unparseable text) is a plan too:
    the message is kept with status `error` and the reply naming the fault. Without a
    session only the per-process caches are used (CacheMiss when they do not hold it)."""
    if actor.role not in WEBHOOK_ROLES:
        raise Forbidden("role_forbidden", Message(
            "Seul un compte d'intégration peut envoyer des rapports SMS",
            "Only an integration account may submit SMS reports"))
    now = now or utcnow()
    _payload, inbound = read_payload(raw, today)
    params = webhook_params(session, url)
    reporter_id = facility_id = None
    status, code, reply = "ok", None, ""
    report: sms.StockReport | None = None
    try:
        rid, fid, fpath, facility_name, language, active = _reporter(session, url,
                                                                     inbound.phone)
        reporter_id, facility_id = rid, fid
        lang = sms.sms_language(language)
        if not active:
            raise _Refusal("reporter_inactive", (
                "This number is no longer an active reporter; contact your district"
                if lang == "en" else
                "Ce numéro n'est plus rapporteur actif ; contactez votre district"))
        if not actor.covers(fpath):
            raise _Refusal("out_of_scope", (
                f"{facility_name} is outside this integration's area" if lang == "en" else
                f"{facility_name} est hors de la zone de cette intégration"))
        if not inbound.text or not inbound.text.strip():
            raise _Refusal("sms_empty", _NO_TEXT[1] if lang == "en" else _NO_TEXT[0])
        try:
            report = sms.parse(inbound.text, params.codes)
        except sms.ReportError as exc:
            raise _Refusal(exc.code, exc.text(lang)) from None
        reply = sms.confirmation(report, facility_name, lang)
    except _Refusal as refusal:
        status, code, reply, report = "error", refusal.code, refusal.reply, None
    message = {
        "key": inbound.key, "received_at": now, "payload": raw.decode("utf-8", "replace"),
        "text": (inbound.text or "")[:1600] or None, "phone": (inbound.phone or "")[:40] or None,
        "reporter_id": reporter_id, "facility_id": facility_id, "status": status,
        "error_code": code, "reply": reply[:1000], "lines": len(report.lines) if report else 0,
        "user_id": actor.user_id}
    # Lines in product order: every writer then updates a facility's rows in one order.
    lines = [] if report is None else [
        Line(c, report.kind, q, report.reason, today,
             uuid.uuid5(SMS_NAMESPACE, f"{inbound.key}/{c}")) for c, q in sorted(report.lines)]
    return Plan(actor, inbound.key, message, report, lines, facility_id, params, today, now)


def _replay_answer(plan: Plan, status: str, reply: str) -> Answer | None:
    """The stored answer of an earlier call with the plan's key, or None when the call
    must be processed now: the earlier attempt crashed (its raw body was kept), or it was
    refused and now passes (the default shape has no message id, so a report resent the
    same day after the district registered the phone has the key of the refused one)."""
    if status != "failed" and not (status == "error" and plan.report is not None):
        return Answer(status, reply, replay=True)
    return None


def receive_report(session: Session, actor: Actor, raw: bytes, today: date,
                   now: datetime | None = None) -> Answer:
    """Apply one RapidPro stock report webhook call, all-or-nothing and idempotent.

    The raw body is always stored in `stock_message` under its idempotency key; a replay
    returns the stored answer and applies nothing (reference §4, interop.md §2); only a
    refused report that now passes (sender registered since) is applied, once. On
    PostgreSQL a valid report is stored and applied in one statement (data-modifying CTEs
    that all hang on the message insert, so a replay inserts nothing anywhere); the web
    endpoint sends the same statement through `krc.groupcommit` (`group_statements`)."""
    conn = session.connection()
    plan = plan_report(session, url_key(conn.engine), actor, raw, today, now)
    if plan.applies and is_postgres(session):
        assert plan.facility_id is not None
        lock_facility(session, plan.facility_id)
        stored = conn.execute(_SMS_PG_STATEMENT, _sms_pg_params(plan)).scalar()
    else:
        stored = conn.execute(
            _insert(session, StockMessage).values(**plan.message)
            .on_conflict_do_nothing(index_elements=["key"]).returning(StockMessage.pk)
        ).scalar()
        if stored is not None and plan.applies:
            _apply_sms(session, plan, stored)
    if stored is not None:
        return Answer(plan.message["status"], plan.message["reply"])
    prev = conn.execute(select(StockMessage.pk, StockMessage.status, StockMessage.reply)
                        .where(StockMessage.key == plan.key).with_for_update()).one()
    answer = _replay_answer(plan, prev.status, prev.reply)
    if answer is not None:
        return answer
    conn.execute(update(StockMessage).where(StockMessage.pk == prev.pk).values(
        {k: v for k, v in plan.message.items() if k not in ("key", "payload", "received_at")}))
    if plan.applies:
        _apply_sms(session, plan, prev.pk)
    return Answer(plan.message["status"], plan.message["reply"])


def _apply_sms(session: Session, plan: Plan, message_pk: int) -> None:
    """Apply a parsed SMS report through the general path (SQLite, reprocessing)."""
    assert plan.report is not None and plan.facility_id is not None
    apply_lines(session, plan.actor, plan.facility_id, plan.lines, "sms", plan.today,
                plan.params, message_pk)
    audit(session, plan.actor, "create", "stock_message", str(message_pk),
          {"key": plan.key, "facility_id": plan.facility_id, "kind": plan.report.kind,
           "lines": [list(x) for x in plan.report.lines]}, at=plan.now)


_SMS_PG = """
WITH m AS (
  INSERT INTO stock_message (key, received_at, payload, text, phone, reporter_id, facility_id,
                             status, error_code, reply, lines, user_id)
  VALUES (:key, :received_at, :payload, :text, :phone, :reporter_id, :facility_id, :status,
          :error_code, :reply, :lines, :user_id)
  ON CONFLICT (key) DO NOTHING RETURNING pk
), l AS (
  SELECT u.product, u.qty, u.delta, u.tid, u.ord
  FROM unnest(CAST(:products AS varchar[]), CAST(:qtys AS integer[]),
              CAST(:deltas AS integer[]), CAST(:ids AS uuid[]))
       WITH ORDINALITY AS u(product, qty, delta, tid, ord)
), cur AS (
  SELECT l.product, COALESCE(b.balance, 0) AS book
  FROM l LEFT JOIN stock_balance b ON b.facility_id = :facility_id AND b.product = l.product
), t AS (
  INSERT INTO stock_transaction (id, facility_id, product, kind, quantity, reason, occurred_on,
                                 book_balance, discrepancy, source, message_pk, note,
                                 created_at, created_by)
  SELECT l.tid, :facility_id, l.product, :kind, l.qty, :reason, :on,
         CASE WHEN :is_count THEN cur.book END, CASE WHEN :is_count THEN l.qty - cur.book END,
         'sms', m.pk, NULL, :received_at, :user_id
  FROM m CROSS JOIN l JOIN cur ON cur.product = l.product ORDER BY l.ord
), b AS (
  INSERT INTO stock_balance (facility_id, product, balance, last_count_on, last_on)
  SELECT :facility_id, l.product, l.delta, CASE WHEN :is_count THEN CAST(:on AS date) END,
         :on
  FROM m CROSS JOIN l
  ON CONFLICT (facility_id, product) DO UPDATE SET
    balance = CASE WHEN :is_count THEN EXCLUDED.balance
                   WHEN stock_balance.last_count_on IS NULL
                        OR EXCLUDED.last_on >= stock_balance.last_count_on
                   THEN stock_balance.balance + EXCLUDED.balance
                   ELSE stock_balance.balance END,
    last_count_on = CASE WHEN :is_count THEN EXCLUDED.last_count_on
                         ELSE stock_balance.last_count_on END,
    last_on = GREATEST(stock_balance.last_on, EXCLUDED.last_on)
), mo AS (
  INSERT INTO stock_month (facility_id, product, period, received, issued, used, lost,
                           used_reports)
  SELECT :facility_id, l.product, :period,
         CASE WHEN :kind = 'receipt' THEN l.qty ELSE 0 END, 0,
         CASE WHEN :kind = 'consumption' THEN l.qty ELSE 0 END,
         CASE WHEN :kind = 'loss' THEN l.qty ELSE 0 END,
         CASE WHEN :kind = 'consumption' THEN 1 ELSE 0 END
  FROM m CROSS JOIN l WHERE NOT :is_count
  ON CONFLICT (facility_id, product, period) DO UPDATE SET
    received = stock_month.received + EXCLUDED.received,
    used = stock_month.used + EXCLUDED.used, lost = stock_month.lost + EXCLUDED.lost,
    used_reports = stock_month.used_reports + EXCLUDED.used_reports
), r AS (
  INSERT INTO stock_report (facility_id, period, first_received_on, on_time, submissions)
  SELECT :facility_id, :report_period, :on, :on_time, 1 FROM m
  ON CONFLICT (facility_id, period) DO UPDATE SET
    first_received_on = LEAST(stock_report.first_received_on, EXCLUDED.first_received_on),
    on_time = stock_report.on_time OR EXCLUDED.on_time,
    submissions = stock_report.submissions + 1
), a AS (
  INSERT INTO audit_event (at, user_id, username, action, entity, entity_id, detail)
  SELECT :received_at, :user_id, :username, 'create', 'stock_message', CAST(m.pk AS varchar),
         CAST(:detail AS json)
  FROM m
)
SELECT pk FROM m
"""
_SMS_PG_STATEMENT = text(_SMS_PG)


def pg_array(values: Iterable[object]) -> str:
    """A PostgreSQL array literal of the values, each quoted (cast it in the SQL): the
    driver then sends one text parameter instead of inspecting every element."""
    return "{" + ",".join('"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"'
                          for v in values) + "}"


def _sms_pg_params(plan: Plan) -> dict[str, Any]:
    """Parameters of the store-and-apply statement for a plan whose report applies.

    SMS reports are dated the day received and no transaction may be dated after today, so
    no later transaction exists on these lines (the general path handles backdating)."""
    report = plan.report
    assert report is not None and plan.facility_id is not None
    is_count = report.kind == "count"
    sign = ledger.MOVEMENTS.get(report.kind, 0)
    period = ledger.report_period(plan.today, plan.params.due_day)
    detail = {"key": plan.key, "facility_id": plan.facility_id, "kind": report.kind,
              "lines": [list(x) for x in report.lines]}
    return {
        **plan.message, "products": pg_array(ln.product for ln in plan.lines),
        "qtys": pg_array(ln.quantity for ln in plan.lines),
        "deltas": pg_array(ln.quantity if is_count else sign * ln.quantity
                           for ln in plan.lines),
        "ids": pg_array(ln.id for ln in plan.lines), "kind": report.kind, "reason": report.reason,
        "on": plan.today, "is_count": is_count, "period": ledger.period_of(plan.today),
        "report_period": period,
        "on_time": ledger.is_on_time(period, plan.today, plan.params.due_day),
        "username": plan.actor.username, "detail": json.dumps(detail)}


def _psycopg(stmt: Any) -> str:
    """The statement's SQL as psycopg runs it (SQLAlchemy's compiler for the psycopg
    dialect writes `%(name)s` placeholders), for `krc.groupcommit` jobs."""
    return str(stmt.compile(dialect=psycopg_dialect()))


_MESSAGE_COLUMNS = ("key", "received_at", "payload", "text", "phone", "reporter_id",
                    "facility_id", "status", "error_code", "reply", "lines", "user_id")
_GC_SMS = _psycopg(_SMS_PG_STATEMENT)
_GC_MESSAGE = _psycopg(
    postgresql.insert(StockMessage).values({c: bindparam(c) for c in _MESSAGE_COLUMNS})
    .on_conflict_do_nothing(index_elements=["key"]).returning(StockMessage.pk))
_GC_STORED = _psycopg(select(StockMessage.status, StockMessage.reply)
                      .where(StockMessage.key == bindparam("key")))


def group_statements(plan: Plan) -> list[tuple[str, dict[str, Any]]]:
    """The statement that stores (and applies) a planned call on PostgreSQL, for
    `krc.groupcommit`: the store-and-apply, or the message insert when refused."""
    if plan.applies:
        return [(_GC_SMS, _sms_pg_params(plan))]
    return [(_GC_MESSAGE, dict(plan.message))]


def group_answer(plan: Plan, rows: list[list[tuple[Any, ...]]]) -> Answer | None:
    """The answer when the rows of `group_statements` show the call stored; None when its
    key was already there (a replay: read the stored answer with `stored_statements`)."""
    return Answer(plan.message["status"], plan.message["reply"]) if rows[0] else None


def stored_statements(plan: Plan) -> list[tuple[str, dict[str, Any]]]:
    """The read of the stored answer of the plan's key: a statement of its own, in a later
    transaction than the insert that found the key, so that it sees the message committed
    by a concurrent call."""
    return [(_GC_STORED, {"key": plan.key})]


def stored_answer(plan: Plan, rows: list[list[tuple[Any, ...]]]) -> Answer | None:
    """The stored answer from the rows of `stored_statements`, or None when the call must
    be processed in a transaction (`receive_report`): a crashed or now-passing earlier call."""
    if not rows[0]:
        return None
    status, reply = rows[0][0]
    return _replay_answer(plan, status, reply)


def record_failure(session: Session, actor: Actor | None, raw: bytes, today: date,
                   error: str) -> None:
    """Keep the raw body of a webhook call that crashed (status failed, retried on replay)."""
    _payload, inbound = read_payload(raw, today)
    session.execute(
        _insert(session, StockMessage).values(
            key=inbound.key, received_at=utcnow(), payload=raw.decode("utf-8", "replace"),
            text=(inbound.text or "")[:1600] or None, phone=(inbound.phone or "")[:40] or None,
            status="failed", error_code="internal_error", reply=error[:1000], lines=0,
            user_id=actor.user_id if actor else None)
        .on_conflict_do_nothing(index_elements=["key"]))
