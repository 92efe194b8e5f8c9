"""Reads of stock, always through the caller's org-unit scope (reference/immunization.md §4).

Current balances come from `stock_balance` and consumption from `stock_month` (kept by
services), so a district status table reads two small tables; a date in the past is
answered from the ledger itself.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session, aliased

from krc.accounts.roles import ROLES, Actor
from krc.errors import Forbidden, Message, invalid
from krc.geo.models import DISTRICT, FACILITY, OrgUnit
from krc.geo.queries import unit_in_scope
from krc.immunization.models import DoseFact
from krc.immunization.stock import ledger
from krc.immunization.stock.models import (
    StockBalance,
    StockMessage,
    StockMonth,
    StockReport,
    StockReporter,
    StockTransaction,
)
from krc.immunization.stock.params import StockParams

STOCK_READ = frozenset(ROLES) - {"integration"}


def require_read(actor: Actor) -> None:
    """Refuse (403) a role that may not read stock (machine accounts)."""
    if actor.role not in STOCK_READ:
        raise Forbidden("role_forbidden", Message(
            "Votre rôle ({role}) ne donne pas accès aux stocks",
            "Your role ({role}) gives no access to stock", {"role": actor.role}))


def facility_in_scope(session: Session, actor: Actor, code: str | None) -> OrgUnit:
    """Return a health facility in the actor's subtree (404 unknown, 403 outside, 422
    not a facility)."""
    require_read(actor)
    unit = unit_in_scope(session, actor, code)
    if unit.level != FACILITY:
        raise invalid("facility", "org_unit_wrong_level",
                      "{code} n'est pas un établissement de santé (CSCom)",
                      "{code} is not a health facility (CSCom)", code=unit.code)
    return unit


def facilities_under(session: Session, unit: OrgUnit) -> list[OrgUnit]:
    """Return the health facilities in a unit's subtree (the unit itself if one), by name."""
    if unit.level == FACILITY:
        return [unit]
    return list(session.scalars(select(OrgUnit).where(
        OrgUnit.level == FACILITY, OrgUnit.path.startswith(unit.path + "/"))
        .order_by(OrgUnit.name)))


def _txns(session: Session, facility_ids: list[int], on: date | None = None,
          product: str | None = None) -> dict[tuple[int, str], list[ledger.Txn]]:
    q = select(StockTransaction.facility_id, StockTransaction.product,
               StockTransaction.occurred_on, StockTransaction.kind, StockTransaction.quantity,
               StockTransaction.pk).where(StockTransaction.facility_id.in_(facility_ids))
    if on is not None:
        q = q.where(StockTransaction.occurred_on <= on)
    if product is not None:
        q = q.where(StockTransaction.product == product)
    out: dict[tuple[int, str], list[ledger.Txn]] = defaultdict(list)
    for fid, prod, d, kind, qty, pk in session.execute(q):
        out[(fid, prod)].append(ledger.Txn(d, kind, qty, pk))
    return out


def balances(session: Session, facility_ids: list[int], on: date,
             today: date) -> dict[tuple[int, str], tuple[int, date | None]]:
    """Return (balance, last count day) per (facility, product) at the end of day `on`."""
    if not facility_ids:
        return {}
    if on >= today:
        return {(f, p): (b, c) for f, p, b, c in session.execute(
            select(StockBalance.facility_id, StockBalance.product, StockBalance.balance,
                   StockBalance.last_count_on)
            .where(StockBalance.facility_id.in_(facility_ids)))}
    out: dict[tuple[int, str], tuple[int, date | None]] = {}
    for key, txns in _txns(session, facility_ids, on).items():
        counts = [t.on for t in txns if t.kind == "count"]
        out[key] = (ledger.balance(txns) or 0, max(counts) if counts else None)
    return out


def consumption(session: Session, facility_ids: list[int],
                on: date) -> dict[tuple[int, str], dict[int, int]]:
    """Return doses used per month with data, per (facility, product), for the 12 complete
    months before the month of `on` (the AMC window)."""
    if not facility_ids:
        return {}
    current = ledger.period_of(on)
    out: dict[tuple[int, str], dict[int, int]] = defaultdict(dict)
    for f, p, period, used in session.execute(
            select(StockMonth.facility_id, StockMonth.product, StockMonth.period, StockMonth.used)
            .where(StockMonth.facility_id.in_(facility_ids), StockMonth.used_reports > 0,
                   StockMonth.period >= ledger.add_period(current, -12),
                   StockMonth.period < current)):
        out[(f, p)][period] = used
    return out


def _order(product: str, params: StockParams) -> tuple[int, str]:
    codes = params.codes
    return (codes.index(product) if product in codes else len(codes), product)


def line_dict(product: str, bal: int | None, last_count: date | None,
              used: dict[int, int], on: date, level: ledger.LevelParams) -> dict[str, Any]:
    """Return one stock line: balance, AMC, months of stock, levels and status."""
    avg = ledger.amc(used, on)
    levels = ledger.stock_levels(avg, level)
    mos = ledger.months_of_stock(bal, avg)
    return {"vaccine": product, "balance": bal,
            "amc": None if avg is None else round(avg, 1),
            "months_of_stock": None if mos is None else round(mos, 2),
            "status": ledger.line_status(bal, levels),
            "min": None if levels is None else round(levels.minimum, 1),
            "max": None if levels is None else round(levels.maximum, 1),
            "reorder": None if levels is None else round(levels.reorder, 1),
            "last_count_on": last_count}


def facility_lines(session: Session, facility: OrgUnit, on: date, today: date,
                   params: StockParams) -> list[dict[str, Any]]:
    """Return the stock lines of a facility on a day (products with any transaction)."""
    return _lines_by_facility(session, [facility.id], on, today, params).get(facility.id, [])


def _lines_by_facility(session: Session, ids: list[int], on: date, today: date,
                       params: StockParams) -> dict[int, list[dict[str, Any]]]:
    bals = balances(session, ids, on, today)
    used = consumption(session, ids, on)
    out: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for (fid, product) in sorted(set(bals) | set(used), key=lambda k: (k[0], _order(k[1],
                                                                                     params))):
        bal, last = bals.get((fid, product), (None, None))
        out[fid].append(line_dict(product, bal, last, used.get((fid, product), {}), on,
                                  params.level(FACILITY)))
    return out


def last_due_period(on: date, due_day: int) -> int:
    """Return the latest month whose report was due before `on` (its due day has passed)."""
    p = ledger.add_period(ledger.period_of(on), -1)
    return p if on > ledger.due_date(p, due_day) else ledger.add_period(p, -1)


def status_table(session: Session, actor: Actor, unit: OrgUnit, on: date, today: date,
                 params: StockParams) -> dict[str, Any]:
    """Return every facility's stock lines and alerts under a unit, with counts by status
    and `report_missing` for facilities without a report for the last due month."""
    require_read(actor)
    facilities = facilities_under(session, unit)
    ids = [f.id for f in facilities]
    lines = _lines_by_facility(session, ids, on, today, params)
    due = last_due_period(on, params.due_day)
    reported = set(session.scalars(select(StockReport.facility_id).where(
        StockReport.period == due, StockReport.facility_id.in_(ids)))) if ids else set()
    districts = {d.id: d for d in session.scalars(select(OrgUnit).where(
        OrgUnit.id.in_({f.parent_id for f in facilities if f.parent_id})))}
    summary: dict[str, int] = dict.fromkeys((*ledger.STATUSES, ledger.REPORT_MISSING), 0)
    rows = []
    for f in facilities:
        flines = lines.get(f.id, [])
        alerts = dict.fromkeys(ledger.STATUSES, 0)
        for ln in flines:
            alerts[ln["status"]] += 1
            summary[ln["status"]] += 1
        missing = f.id not in reported
        summary[ledger.REPORT_MISSING] += int(missing)
        d = districts.get(f.parent_id or -1)
        rows.append({"code": f.code, "name": f.name,
                     "district": {"code": d.code, "name": d.name} if d else None,
                     "report_missing": missing, "alerts": alerts, "lines": flines})
    return {"org_unit": {"code": unit.code, "name": unit.name, "level": unit.level},
            "on": on, "report_period": str(due), "summary": summary, "facilities": rows}


def administered(session: Session, facility_id: int, product: str, start: int,
                 end: int) -> int:
    """Return the valid doses of a vaccine given at a facility in [start, end] (YYYYMM), read
    from the dose facts (basis 1: vaccinating facility)."""
    return int(session.scalar(select(func.coalesce(func.sum(DoseFact.doses), 0)).where(
        DoseFact.org_unit_id == facility_id, DoseFact.basis == 1, DoseFact.vaccine == product,
        DoseFact.period >= start, DoseFact.period <= end)) or 0)


def stock_card(session: Session, facility: OrgUnit, product: str, start: date, end: date,
               params: StockParams) -> dict[str, Any]:
    """Return the stock card of one line over [start, end]: transactions with balances,
    totals, stock-out days and usage/wastage (reference §4)."""
    txns = _txns(session, [facility.id], end, product).get((facility.id, product), [])
    meta = {pk: (src, reason, note) for pk, src, reason, note in session.execute(
        select(StockTransaction.pk, StockTransaction.source, StockTransaction.reason,
               StockTransaction.note)
        .where(StockTransaction.facility_id == facility.id, StockTransaction.product == product,
               StockTransaction.occurred_on >= start, StockTransaction.occurred_on <= end))}
    rows = ledger.card(txns)
    opening = ledger.balance([t for t in txns if t.on < start])
    shown = [r for r in rows if r.txn.on >= start]
    totals = dict.fromkeys(ledger.KINDS, 0)
    for r in shown:
        totals[r.txn.kind] += r.txn.quantity
    given = administered(session, facility.id, product, ledger.period_of(start),
                         ledger.period_of(end)) if product in ledger.VACCINES else None
    used = totals["consumption"]
    wastage = ledger.wastage_rate(given, used) if given is not None else None
    usage = ledger.usage_rate(given, used) if given is not None else None
    return {
        "facility": {"code": facility.code, "name": facility.name}, "product": product,
        "start": start, "end": end, "opening_balance": opening,
        "closing_balance": ledger.balance(txns),
        "received": totals["receipt"], "issued": totals["issue"], "used": used,
        "lost": totals["loss"], "stockout_days": ledger.stockout_days(txns, start, end),
        "administered": given,
        "usage_rate": None if usage is None else round(usage, 1),
        "wastage_rate": None if wastage is None else round(wastage, 1),
        "wastage_factor": None if (f := ledger.wastage_factor(wastage)) is None
        else round(f, 2),
        "acceptable_wastage": ledger.ACCEPTABLE_WASTAGE.get(product),
        "wastage_ok": ledger.wastage_acceptable(product, wastage),
        "transactions": [{
            "date": r.txn.on, "kind": r.txn.kind, "quantity": r.txn.quantity,
            "reason": meta.get(r.txn.seq, (None, None, None))[1],
            "source": meta.get(r.txn.seq, (None, None, None))[0],
            "note": meta.get(r.txn.seq, (None, None, None))[2],
            "book_before": r.book_before, "balance": r.balance_after,
            "discrepancy": r.discrepancy,
            "discrepancy_rate": None if r.discrepancy is None else (
                None if (x := ledger.discrepancy(r.txn.quantity, r.book_before)) is None
                else round(x * 100, 1)),
        } for r in shown],
    }


def recent_transactions(session: Session, facility: OrgUnit, limit: int = 20
                        ) -> list[dict[str, Any]]:
    """Return the facility's latest transactions, newest first."""
    rows = session.scalars(select(StockTransaction).where(
        StockTransaction.facility_id == facility.id)
        .order_by(StockTransaction.occurred_on.desc(), StockTransaction.pk.desc()).limit(limit))
    return [transaction_dict(t, facility.code) for t in rows]


def transaction_dict(t: StockTransaction, facility_code: str) -> dict[str, Any]:
    """Return the API shape of a transaction."""
    return {"id": t.id, "facility": facility_code, "product": t.product, "kind": t.kind,
            "quantity": t.quantity, "reason": t.reason, "date": t.occurred_on,
            "book_balance": t.book_balance, "discrepancy": t.discrepancy, "source": t.source,
            "note": t.note}


# --------------------------------------------------------------------------- reporting

def parse_month(text: str) -> int:
    """Return a YYYYMM month from text, or raise 422."""
    t = (text or "").strip()
    if len(t) == 6 and t.isdigit() and 1 <= int(t[4:]) <= 12 and 2000 <= int(t[:4]) <= 2100:
        return int(t)
    raise invalid("period", "period_invalid", "Mois invalide : {p} (format AAAAMM)",
                  "Invalid month: {p} (format YYYYMM)", p=text)


def completeness(session: Session, actor: Actor, unit: OrgUnit, period: int, today: date,
                 params: StockParams) -> dict[str, Any]:
    """Return reporting completeness and timeliness for a month, per facility and district:
    a report for month M is on time when received by day D of M+1 (D = report_due_day)."""
    require_read(actor)
    facilities = facilities_under(session, unit)
    ids = [f.id for f in facilities]
    reports = {r.facility_id: r for r in session.scalars(select(StockReport).where(
        StockReport.period == period, StockReport.facility_id.in_(ids)))} if ids else {}
    district_ids = {f.parent_id for f in facilities if f.parent_id}
    districts = {d.id: d for d in session.scalars(select(OrgUnit).where(
        OrgUnit.id.in_(district_ids)))} if district_ids else {}
    due = ledger.due_date(period, params.due_day)
    per_district: dict[int, dict[str, Any]] = {}
    rows = []
    for f in facilities:
        r = reports.get(f.id)
        d = districts.get(f.parent_id or -1)
        status = "on_time" if r and r.on_time else "late" if r else (
            "missing" if today > due else "pending")
        rows.append({"code": f.code, "name": f.name, "district": d.code if d else None,
                     "reported": r is not None, "on_time": bool(r and r.on_time),
                     "first_received_on": r.first_received_on if r else None,
                     "status": status})
        if d is not None:
            agg = per_district.setdefault(d.id, {"code": d.code, "name": d.name,
                                                 "expected": 0, "reported": 0, "on_time": 0})
            agg["expected"] += 1
            agg["reported"] += int(r is not None)
            agg["on_time"] += int(bool(r and r.on_time))
    for agg in per_district.values():
        agg["completeness"] = ledger.rate(agg["reported"], agg["expected"])
        agg["timeliness"] = ledger.rate(agg["on_time"], agg["expected"])
    reported = sum(1 for r in rows if r["reported"])
    on_time = sum(1 for r in rows if r["on_time"])
    return {"org_unit": {"code": unit.code, "name": unit.name, "level": unit.level},
            "period": str(period), "due_date": due, "due_day": params.due_day,
            "expected": len(rows), "reported": reported, "on_time": on_time,
            "completeness": ledger.rate(reported, len(rows)),
            "timeliness": ledger.rate(on_time, len(rows)),
            "districts": sorted(per_district.values(), key=lambda a: a["name"]),
            "facilities": rows}


@dataclass(frozen=True)
class LateFacility:
    """A facility that has not reported its stock for a month, with its SMS reporters."""

    facility_id: int
    facility_code: str
    facility_name: str
    district_id: int
    reporters: list[tuple[str, str, str]] = field(default_factory=list)  # (name, phone, lang)


def late_facilities(session: Session, period: str, today: date) -> list[LateFacility]:
    """Return the facilities without a stock report for `period` (YYYYMM) once `today` is
    past its due day (empty before), with their active reporters, by district and code."""
    from krc.immunization.stock.params import load_stock_params
    p = parse_month(period)
    params = load_stock_params(session)
    if today <= ledger.due_date(p, params.due_day):
        return []
    reported = select(StockReport.facility_id).where(StockReport.period == p)
    facilities = list(session.execute(
        select(OrgUnit.id, OrgUnit.code, OrgUnit.name, OrgUnit.parent_id)
        .where(OrgUnit.level == FACILITY, OrgUnit.id.not_in(reported))
        .order_by(OrgUnit.parent_id, OrgUnit.code)))
    reporters: dict[int, list[tuple[str, str, str]]] = defaultdict(list)
    ids = [f[0] for f in facilities]
    for i in range(0, len(ids), 5000):
        for fid, name, phone, lang in session.execute(
                select(StockReporter.facility_id, StockReporter.name, StockReporter.phone,
                       StockReporter.language)
                .where(StockReporter.active.is_(True),
                       StockReporter.facility_id.in_(ids[i:i + 5000]))
                .order_by(StockReporter.id)):
            reporters[fid].append((name, phone, lang))
    return [LateFacility(fid, code, name, parent or 0, reporters.get(fid, []))
            for fid, code, name, parent in facilities]


# --------------------------------------------------------------------------- reporters

def reporters(session: Session, actor: Actor, unit: OrgUnit) -> list[dict[str, Any]]:
    """Return the SMS reporters of facilities under a unit (managers of that subtree)."""
    from krc.immunization.stock.services import require_manage
    require_manage(actor)
    fac = aliased(OrgUnit)
    rows = session.execute(
        select(StockReporter, fac.code, fac.name).join(fac, fac.id == StockReporter.facility_id)
        .where(or_(fac.path == unit.path, fac.path.startswith(unit.path + "/")))
        .order_by(fac.name, StockReporter.name)).all()
    return [reporter_dict(r, code, name) for r, code, name in rows]


def last_messages(session: Session, reporter_ids: list[int]) -> dict[int, datetime]:
    """Return when each reporter's last SMS was received (reporters that sent one)."""
    if not reporter_ids:
        return {}
    return {rid: at for rid, at in session.execute(
        select(StockMessage.reporter_id, func.max(StockMessage.received_at))
        .where(StockMessage.reporter_id.in_(reporter_ids))
        .group_by(StockMessage.reporter_id)) if rid is not None}


def districts_under(session: Session, unit: OrgUnit) -> list[tuple[str, str]]:
    """Return (code, name) of the health districts under a unit, by name."""
    return [(c, n) for c, n in session.execute(
        select(OrgUnit.code, OrgUnit.name).where(
            OrgUnit.level == DISTRICT, OrgUnit.hierarchy == "health",
            OrgUnit.path.startswith(unit.path + "/")).order_by(OrgUnit.name))]


def reporter_dict(r: StockReporter, facility_code: str, facility_name: str) -> dict[str, Any]:
    """Return the API shape of a reporter."""
    return {"id": r.id, "phone": r.phone, "facility": facility_code,
            "facility_name": facility_name, "name": r.name, "language": r.language,
            "active": r.active}


def default_window(on: date) -> tuple[date, date]:
    """Return the default stock-card window: the three months before `on`'s month to `on`."""
    p = ledger.add_period(ledger.period_of(on), -3)
    return date(p // 100, p % 100, 1), on

