"""Synthetic stock histories for the demo: 12 months per facility and vaccine, reporters and a
few raw SMS reports (some with errors).

Monthly receipts top the line up to its maximum (some late, a few oversized); doses used are
doses given rounded up to whole vials with a wastage near the indicative rate; a few losses;
a physical count every quarter with a small discrepancy. Transactions and their aggregates
(`stock_balance`, `stock_month`, `stock_report`) are written in bulk, computed with the same
pure ledger the services use; the SMS messages go through `services.receive_report`.
"""

from __future__ import annotations

import json
import random
import uuid
from collections import defaultdict
from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session

from krc.accounts.roles import Actor
from krc.accounts.services import utcnow
from krc.demo.names import BOYS, FAMILY_NAMES, GIRLS, PHONE_PREFIXES, SOUTH
from krc.geo.models import FACILITY, OrgUnit
from krc.immunization.facts import FACILITY_BASIS
from krc.immunization.models import DoseFact
from krc.immunization.stock import ledger, services
from krc.immunization.stock.models import (
    StockBalance,
    StockMonth,
    StockReport,
    StockReporter,
    StockTransaction,
)

MAX_FACILITIES = 200
# Doses per surviving infant (schedule, reference §1): a facility whose register holds no
# doses yet gets synthetic monthly use from these.
DOSES_PER_CHILD = {"BCG": 1, "OPV": 4, "PENTA": 3, "PCV": 3, "ROTA": 3, "IPV": 1, "MCV": 2,
                   "YF": 1, "MENA": 1, "MALARIA": 4}
REASONS = ("expired", "broken", "frozen", "vvm")
DEMO_ACTOR = Actor(None, "demo", "admin", 0, "")


def _month_start(period: int) -> date:
    return date(period // 100, period % 100, 1)


def _phone(rng: random.Random, used: set[str]) -> str:
    while True:
        p = f"+223{rng.choice(PHONE_PREFIXES)}{rng.randint(0, 999_999):06d}"
        if p not in used:
            used.add(p)
            return p


def _line(rng: random.Random, first: int, months: int, today: date, product: str,
          given_by_month: dict[int, int], new_id: Callable[[], uuid.UUID], target: float = 1.25
          ) -> list[tuple[ledger.Txn, str | None, uuid.UUID]]:
    """Return one line's transactions (Txn, loss reason, id) in ledger order.

    Doses used follow the doses the register shows given at the facility each month
    (`given_by_month`, from the dose facts), in two session days a month, each opening
    whole vials; so usage and wastage rates read against the register are plausible.
    Each monthly receipt tops the balance up to `target` months of use (facilities
    differ: some run short and stock out, most sit near their maximum, a few are
    overstocked).
    """
    vial = ledger.VIAL_DOSES[product]
    spill = rng.uniform(0.0, 0.08)  # doses lost beyond the opened-vial rounding

    def used_for(given: int) -> int:
        return ledger.round_up_to_vials(int(given / (1 - spill) + 0.5), product) if given else 0

    def month_use(period: int) -> int:
        given = given_by_month.get(period, 0)
        half = given // 2
        return used_for(half) + used_for(given - half)

    known = [month_use(ledger.add_period(first, m)) for m in range(months)]
    typical = max(vial, int(sum(known) / max(1, sum(1 for k in known if k))) if any(known)
                  else vial)
    out: list[tuple[ledger.Txn, str | None, uuid.UUID]] = []
    bal = 0
    seq = 0

    def add(day: date, kind: str, qty: int, reason: str | None = None) -> None:
        nonlocal bal, seq
        seq += 1
        t = ledger.Txn(day, kind, qty, seq)
        bal = ledger.apply(bal, t)
        out.append((t, reason, new_id()))

    start = _month_start(first)
    add(start, "count", ledger.round_up_to_vials(int(typical * 1.2), product))
    for m in range(months):
        p = ledger.add_period(first, m)
        d0 = _month_start(p)
        if d0 > today:
            break
        late = rng.random() < 0.08
        receipt_day = d0 + timedelta(days=rng.randint(16, 22) if late else rng.randint(1, 5))
        top_up = max(0, int(typical * target) - bal)
        if rng.random() < 0.05:
            top_up = int(typical * 3)  # an oversized delivery
        if top_up and receipt_day <= today:
            add(receipt_day, "receipt", ledger.round_up_to_vials(top_up, product))
        given = given_by_month.get(p, 0)
        halves = (given // 2, given - given // 2)
        for day, part in zip((14, 27), halves, strict=True):
            when = d0 + timedelta(days=day - 1)
            if when > today:
                break
            used = min(used_for(part), max(bal, 0))
            if used:
                add(when, "consumption", used)
        if rng.random() < 0.15 and bal >= vial and d0 + timedelta(days=19) <= today:
            add(d0 + timedelta(days=19), "loss", vial, rng.choice(REASONS))
        end = d0 + timedelta(days=27)
        if m % 3 == 2 and end <= today:
            physical = max(0, int(bal * rng.uniform(0.97, 1.01)))
            add(end, "count", physical)
    return out


def add_stock_demo(session: Session, seed: int, today: date,
                   facility_codes: list[str]) -> dict[str, int]:
    """Add 12 months of stock histories, reporters and a few SMS messages for the first
    200 of the given facilities; return the counts created."""
    rng = random.Random(seed)
    codes = facility_codes[:MAX_FACILITIES]
    units = {u.code: u for u in session.scalars(select(OrgUnit).where(
        OrgUnit.code.in_(codes), OrgUnit.level == FACILITY))}
    facilities = [units[c] for c in codes if c in units]
    first = ledger.add_period(ledger.period_of(today), -12)
    now = utcnow()
    params = services.load_stock_params(session)

    def new_id() -> uuid.UUID:
        return uuid.UUID(int=rng.getrandbits(128), version=4)

    txn_rows: list[dict[str, Any]] = []
    balances: list[dict[str, Any]] = []
    months: list[dict[str, Any]] = []
    reports: list[dict[str, Any]] = []
    reporters: list[dict[str, Any]] = []
    phones: set[str] = set(session.scalars(select(StockReporter.phone)))
    # Doses given a month at each facility, per product, from the register's facts, so that
    # the stock used matches the doses given (usage and wastage rates are plausible).
    given: dict[tuple[int, str], dict[int, int]] = defaultdict(dict)
    for fid, vaccine, period, n in session.execute(
            select(DoseFact.org_unit_id, DoseFact.vaccine, DoseFact.period,
                   func.sum(DoseFact.doses)).where(
                DoseFact.org_unit_id.in_([f.id for f in facilities]),
                DoseFact.basis == FACILITY_BASIS, DoseFact.period >= first)
            .group_by(DoseFact.org_unit_id, DoseFact.vaccine, DoseFact.period)):
        given[(int(fid), str(vaccine))][int(period)] = int(n or 0)
    for f in facilities:
        if not any(key[0] == f.id for key in given):  # an empty register: synthetic use
            infants = rng.uniform(25, 140)
            for product, per_child in DOSES_PER_CHILD.items():
                for month in range(13):
                    given[(f.id, product)][ledger.add_period(first, month)] = max(0, int(
                        rng.gauss(infants * per_child, infants * per_child / 5)))
        target = rng.choice((0.8, 1.25, 1.6, 1.9, 1.9, 2.2, 3.2))  # months of need stocked
        for product in ledger.VACCINES:
            if product == "MALARIA" and rng.random() < 0.6:
                continue  # only in eligible districts
            line = _line(rng, first, 13, today, product, given.get((f.id, product), {}),
                         new_id, target * rng.uniform(0.9, 1.1))
            txns = [t for t, _, _ in line]
            for (t, reason, tid), row in zip(line, ledger.card(txns), strict=True):
                txn_rows.append({
                    "id": tid, "facility_id": f.id, "product": product, "kind": t.kind,
                    "quantity": t.quantity, "reason": reason, "occurred_on": t.on,
                    "book_balance": row.book_before if t.kind == "count" else None,
                    "discrepancy": row.discrepancy, "source": rng.choice(("web", "sms", "sms")),
                    "message_pk": None, "note": None, "created_at": now, "created_by": None})
            counts = [t.on for t in txns if t.kind == "count"]
            balances.append({"facility_id": f.id, "product": product,
                             "balance": ledger.balance(txns) or 0,
                             "last_count_on": max(counts) if counts else None,
                             "last_on": max(t.on for t in txns)})
            per: dict[int, dict[str, int]] = {}
            for t in txns:
                if t.kind == "count":
                    continue
                m = per.setdefault(ledger.period_of(t.on), {"received": 0, "issued": 0,
                                                            "used": 0, "lost": 0,
                                                            "used_reports": 0})
                m[{"receipt": "received", "issue": "issued", "consumption": "used",
                   "loss": "lost"}[t.kind]] += t.quantity
                m["used_reports"] += int(t.kind == "consumption")
            months += [{"facility_id": f.id, "product": product, "period": p, **v}
                       for p, v in per.items()]
        # Monthly reports: most on time, some late, a few missing.
        for k in range(12):
            p = ledger.add_period(first, k)
            due = ledger.due_date(p, params.due_day)
            if due - timedelta(days=params.due_day) > today or rng.random() < 0.08:
                continue
            received = due - timedelta(days=params.due_day - 1) + timedelta(
                days=rng.choice((0, 1, 2, 2, 3, 4, 6, 9)))
            if received > today:
                continue
            reports.append({"facility_id": f.id, "period": p, "first_received_on": received,
                            "on_time": ledger.is_on_time(p, received, params.due_day),
                            "submissions": rng.randint(1, 3)})
        for _ in range(rng.choice((1, 1, 2))):
            pool = BOYS[SOUTH] + GIRLS[SOUTH]
            reporters.append({
                "phone": _phone(rng, phones), "facility_id": f.id,
                "name": f"{rng.choice(pool)} {rng.choice(FAMILY_NAMES[SOUTH])}",
                # Mostly French, often Bambara, rarely English (staff of CSComs in Mali).
                "language": rng.choices(("fra", "bam", "eng"), weights=(12, 7, 1))[0],
                "active": True,
                "created_at": now, "updated_at": now})
    for table, rows in ((StockTransaction, txn_rows), (StockBalance, balances),
                        (StockMonth, months), (StockReport, reports),
                        (StockReporter, reporters)):
        for i in range(0, len(rows), 5000):
            session.execute(insert(table), rows[i:i + 5000])
    messages = _demo_messages(session, rng, today, reporters[:3])
    return {"stock_transactions": len(txn_rows), "stock_reporters": len(reporters),
            "stock_messages": messages, "stock_reports": len(reports)}


def _demo_messages(session: Session, rng: random.Random, today: date,
                   reporters: list[dict[str, Any]]) -> int:
    """Send a few SMS reports through the webhook service (one valid, errors, unknown)."""
    texts = ["STK BCG 40 PENTA 60 OPV 80", "utl penta 20, opv 20", "STK PENTO 10",
             "REC BCG", "PRT GEL PENTA 10"]
    bodies: list[dict[str, Any]] = []
    for i, rep in enumerate(reporters):
        for text in texts[i::max(1, len(reporters))]:
            bodies.append(_payload(rng, rep["phone"], text))
    bodies.append(_payload(rng, "+22365000000", "STK BCG 10"))  # unknown phone
    for body in bodies:
        services.receive_report(session, DEMO_ACTOR, json.dumps(body).encode(), today)
    return len(bodies)


def _payload(rng: random.Random, phone: str, text: str) -> dict[str, Any]:
    def u() -> str:
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))

    return {"contact": {"uuid": u(), "name": "", "urn": f"tel:{phone}"},
            "flow": {"uuid": u(), "name": "Stock"}, "run": {"uuid": u(), "created_on": ""},
            "results": {"report": {"name": "report", "value": text, "category": "Has Text"}},
            "input": {"uuid": u(), "type": "msg", "text": text, "attachments": [],
                      "urn": {"scheme": "tel", "path": phone, "display": ""}}}
