"""The vaccine stock ledger as pure functions (reference/immunization.md §4).

No I/O and no clock: every function takes plain data (transactions, dates, settings) and
returns numbers, so the rules are tested from the reference by hand-computed tables.

Conventions chosen where the reference is silent (also in the report to the lead):
- Transactions of one day apply in recording order (`seq`); a `count` sets the balance to
  the counted quantity after the movements recorded before it that day.
- AMC uses complete calendar months before the month of `on` (up to `lookback` months back);
  a month "has data" when at least one consumption was reported in it (a reported 0 counts).
- A stock-out day is a day whose end-of-day balance is ≤ 0; days before the first
  transaction are unknown and not counted.
- With no AMC (no consumption data) min/max/reorder are unknown: a line is then
  `stock_out` when its balance is ≤ 0, else `ok`.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

KINDS = ("receipt", "issue", "consumption", "loss", "count")
MOVEMENTS = {"receipt": 1, "issue": -1, "consumption": -1, "loss": -1}
LOSS_REASONS = ("expired", "broken", "frozen", "vvm", "other")
STATUSES = ("stock_out", "below_reorder", "above_max", "ok")
REPORT_MISSING = "report_missing"

# Routine antigens (reference/immunization.md §1) in the order pages list them.
VACCINES = ("BCG", "OPV", "PENTA", "PCV", "ROTA", "IPV", "MCV", "YF", "MENA", "MALARIA")
# Doses per vial of the presentations used in Mali (demo consumption, wastage class).
VIAL_DOSES = {"BCG": 20, "OPV": 20, "PENTA": 10, "PCV": 4, "ROTA": 1, "IPV": 5, "MCV": 10,
              "YF": 10, "MENA": 10, "MALARIA": 2}
# Indicative acceptable wastage (%) of reference §4: 50 BCG, 25 MCV, 10 OPV, 15 multi-dose
# liquid (≥ 10 doses), 5 for 1-2-dose vials. Not in the reference, chosen: YF and MENA are
# lyophilised 10-dose vials like MCV (25); PCV (4 doses) and IPV (5 doses) take 10.
ACCEPTABLE_WASTAGE = {"BCG": 50.0, "MCV": 25.0, "OPV": 10.0, "PENTA": 15.0, "YF": 25.0,
                      "MENA": 25.0, "PCV": 10.0, "IPV": 10.0, "ROTA": 5.0, "MALARIA": 5.0}
MIN_FACTOR = 0.25  # min stock = 0.25 × supply-period need (reference §4)


@dataclass(frozen=True)
class Txn:
    """One ledger transaction: its day, kind, quantity (doses) and recording order."""

    on: date
    kind: str
    quantity: int
    seq: int = 0


@dataclass(frozen=True)
class LedgerRow:
    """A transaction on the stock card with the book balance before and the balance after."""

    txn: Txn
    book_before: int
    balance_after: int
    discrepancy: int | None  # counts only: physical − book


def ordered(txns: Iterable[Txn]) -> list[Txn]:
    """Return the transactions in ledger order: by day, then recording order."""
    return sorted(txns, key=lambda t: (t.on, t.seq))


def apply(balance: int, txn: Txn) -> int:
    """Return the balance after one transaction (a count sets it; reference §4)."""
    if txn.kind == "count":
        return txn.quantity
    return balance + MOVEMENTS[txn.kind] * txn.quantity


def card(txns: Iterable[Txn]) -> list[LedgerRow]:
    """Return the stock card: each transaction in order with balances (reference §4)."""
    rows: list[LedgerRow] = []
    bal = 0
    for t in ordered(txns):
        after = apply(bal, t)
        rows.append(LedgerRow(t, bal, after, t.quantity - bal if t.kind == "count" else None))
        bal = after
    return rows


def shortfall(txns: Iterable[Txn], new: Txn) -> int | None:
    """Return by how many doses an outflow (issue, consumption, loss) would take the
    balance below zero on its day or any later day before the next physical count; None
    when it fits, or for a receipt or a count. A line with no transaction before `new`
    starts at zero (balance = last count + receipts − outflows since, reference §4)."""
    if MOVEMENTS.get(new.kind, 0) >= 0:
        return None
    worst = 0
    for row in card([*txns, new]):
        t = row.txn
        if (t.on, t.seq) < (new.on, new.seq):
            continue
        if t.kind == "count" and t is not new:
            break  # a count sets the balance: what follows no longer depends on `new`
        worst = min(worst, row.balance_after)
    return -worst if worst < 0 else None


def balance(txns: Iterable[Txn], on: date | None = None) -> int | None:
    """Return last count + receipts − issues − consumption − losses since, at the end of
    day `on` (default: after every transaction); None when no transaction (reference §4)."""
    bal: int | None = None
    for t in ordered(txns):
        if on is not None and t.on > on:
            break
        bal = apply(bal or 0, t)
    return bal


def discrepancy(physical: int, book: int) -> float | None:
    """Return (physical count − book balance) ÷ physical count; None when the count is 0
    and the book is not (undefined), 0.0 when both are 0 (reference §4)."""
    if physical == 0:
        return 0.0 if book == 0 else None
    return (physical - book) / physical


def period_of(d: date) -> int:
    """Return the month of a date as YYYYMM."""
    return d.year * 100 + d.month


def add_period(period: int, months: int) -> int:
    """Return the month `months` after (or before, when negative) a YYYYMM month."""
    index = (period // 100) * 12 + (period % 100 - 1) + months
    return (index // 12) * 100 + index % 12 + 1


def monthly_consumption(txns: Iterable[Txn]) -> dict[int, int]:
    """Return doses used per month (YYYYMM), only for months with a consumption report."""
    out: dict[int, int] = {}
    for t in txns:
        if t.kind == "consumption":
            p = period_of(t.on)
            out[p] = out.get(p, 0) + t.quantity
    return out


def amc(consumption: Mapping[int, int], on: date, months: int = 3,
        lookback: int = 12) -> float | None:
    """Return the average monthly consumption over the last `months` complete months with
    data before the month of `on`, looking back `lookback` months; None without data
    (reference §4)."""
    current = period_of(on)
    found: list[int] = []
    for back in range(1, lookback + 1):
        p = add_period(current, -back)
        if p in consumption:
            found.append(consumption[p])
            if len(found) == months:
                break
    if not found:
        return None
    return sum(found) / len(found)


def months_of_stock(balance_: int | None, amc_: float | None) -> float | None:
    """Return balance ÷ AMC (None when either is unknown or AMC is 0; reference §4)."""
    if balance_ is None or not amc_:
        return None
    return max(balance_, 0) / amc_


@dataclass(frozen=True)
class LevelParams:
    """Supply period and lead time (months) of one level of the supply chain."""

    supply_months: float
    lead_time_months: float

    def __post_init__(self) -> None:
        if not (0 < self.supply_months <= 24) or not (0 <= self.lead_time_months <= 12):
            raise ValueError("supply period must be in (0, 24] months and lead time in "
                             "[0, 12] months")


# Defaults per org-unit level (configurable as data, `stock_setting`). CSCom (4): 1 month /
# 0.5 month (reference §4). Chosen, not in the reference: district store (3) supplied
# quarterly with 1 month lead time; region (2) quarterly, 1 month; national (1) 6 months, 3.
DEFAULT_LEVELS: dict[int, LevelParams] = {
    4: LevelParams(1.0, 0.5), 3: LevelParams(3.0, 1.0), 2: LevelParams(3.0, 1.0),
    1: LevelParams(6.0, 3.0),
}


@dataclass(frozen=True)
class Levels:
    """Stock levels of one line, in doses."""

    minimum: float
    maximum: float
    reorder: float


def stock_levels(amc_: float | None, params: LevelParams) -> Levels | None:
    """Return min = 0.25 × supply-period need, max = need + min, reorder = lead-time need +
    min, the need being AMC × months (reference §4); None without AMC."""
    if amc_ is None:
        return None
    need = amc_ * params.supply_months
    minimum = MIN_FACTOR * need
    return Levels(minimum, need + minimum, amc_ * params.lead_time_months + minimum)


def line_status(balance_: int | None, levels: Levels | None) -> str:
    """Return the alert of a stock line: stock_out (balance ≤ 0), below_reorder (balance <
    reorder level), above_max (balance > max) or ok (reference §4 "Alerts")."""
    if balance_ is None or balance_ <= 0:
        return "stock_out"
    if levels is None:
        return "ok"
    if balance_ < levels.reorder:
        return "below_reorder"
    if balance_ > levels.maximum:
        return "above_max"
    return "ok"


def stockout_days(txns: Iterable[Txn], start: date, end: date) -> int:
    """Return the days in [start, end] whose end-of-day balance is ≤ 0, days before the
    first transaction being unknown (reference §4 "Stock-out days")."""
    if end < start:
        return 0
    by_day: dict[date, int] = {}
    bal = 0
    for t in ordered(txns):
        bal = apply(bal, t)
        by_day[t.on] = bal
    if not by_day:
        return 0
    days = sorted(by_day)
    count = 0
    current: int | None = None
    i = 0
    while i < len(days) and days[i] < start:
        current = by_day[days[i]]
        i += 1
    d = start
    while d <= end:
        if i < len(days) and days[i] == d:
            current = by_day[d]
            i += 1
        if current is not None and current <= 0:
            count += 1
        d += timedelta(days=1)
    return count


def usage_rate(administered: int, used: int) -> float | None:
    """Return doses administered ÷ doses used × 100 (None when nothing used; reference §4)."""
    if used <= 0:
        return None
    return administered / used * 100


def wastage_rate(administered: int, used: int) -> float | None:
    """Return 100 − usage rate (reference §4)."""
    usage = usage_rate(administered, used)
    return None if usage is None else 100 - usage


def wastage_factor(wastage: float | None) -> float | None:
    """Return 100 ÷ (100 − wastage rate) (reference §4); None when undefined."""
    if wastage is None or wastage >= 100:
        return None
    return 100 / (100 - wastage)


def wastage_acceptable(product: str, wastage: float | None) -> bool | None:
    """Return whether a wastage rate is within the indicative limit of reference §4."""
    limit = ACCEPTABLE_WASTAGE.get(product)
    if limit is None or wastage is None:
        return None
    return wastage <= limit


# --------------------------------------------------------------------------- reporting

DEFAULT_DUE_DAY = 5  # a report for month M is on time when received by day 5 of M+1


def report_period(data_date: date, due_day: int = DEFAULT_DUE_DAY) -> int:
    """Return the month (YYYYMM) a stock report counts for: the month of its data date,
    except that data dated on or before the due day count for the previous month (the
    closing report of that month)."""
    p = period_of(data_date)
    return add_period(p, -1) if data_date.day <= due_day else p


def due_date(period: int, due_day: int = DEFAULT_DUE_DAY) -> date:
    """Return the last day on which the report of a month (YYYYMM) is on time: day D of
    the next month."""
    nxt = add_period(period, 1)
    return date(nxt // 100, nxt % 100, due_day)


def is_on_time(period: int, received_on: date, due_day: int = DEFAULT_DUE_DAY) -> bool:
    """Return True when a report of `period` received on `received_on` is on time."""
    return received_on <= due_date(period, due_day)


def rate(part: int, whole: int) -> float | None:
    """Return part ÷ whole × 100, rounded to 0.1 (None when whole is 0)."""
    return None if whole <= 0 else round(part / whole * 100, 1)


def round_up_to_vials(doses: int, product: str) -> int:
    """Return doses rounded up to whole vials of the product (1 dose when unknown)."""
    size = VIAL_DOSES.get(product, 1)
    return math.ceil(doses / size) * size if doses > 0 else 0


def line_summary(txns: Sequence[Txn], on: date, params: LevelParams) -> dict[str, object]:
    """Return balance, AMC, months of stock, levels and status of one line on a day."""
    upto = [t for t in txns if t.on <= on]
    bal = balance(upto)
    avg = amc(monthly_consumption(upto), on)
    levels = stock_levels(avg, params)
    return {"balance": bal, "amc": avg, "months_of_stock": months_of_stock(bal, avg),
            "levels": levels, "status": line_status(bal, levels)}
