"""Pure stock-ledger rules, tables computed by hand from reference/immunization.md §4."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from krc.immunization.stock import ledger
from krc.immunization.stock.ledger import LevelParams, Txn

D = date
LEDGER = [
    Txn(D(2025, 12, 20), "receipt", 500, 1),   # before the first count: reset by it
    Txn(D(2026, 1, 1), "count", 100, 2),
    Txn(D(2026, 1, 5), "receipt", 200, 3),      # 300
    Txn(D(2026, 1, 10), "consumption", 120, 4),  # 180
    Txn(D(2026, 1, 15), "loss", 10, 5),         # 170
    Txn(D(2026, 1, 20), "issue", 20, 6),        # 150
    Txn(D(2026, 1, 31), "count", 140, 7),       # book 150, discrepancy -10
    Txn(D(2026, 2, 3), "consumption", 50, 8),   # 90
]


@pytest.mark.parametrize(("on", "expected"), [
    (None, 90), (D(2026, 1, 20), 150), (D(2026, 1, 1), 100), (D(2025, 12, 31), 500),
    (D(2025, 12, 1), None), (D(2026, 1, 31), 140),
])
def test_balance_is_last_count_plus_movements_since(on: date | None, expected: int) -> None:
    assert ledger.balance(LEDGER, on) == expected


def test_balance_ignores_input_order_and_orders_same_day_by_recording() -> None:
    shuffled = LEDGER[:]
    random.Random(3).shuffle(shuffled)
    assert ledger.balance(shuffled) == 90
    same_day = [Txn(D(2026, 3, 1), "consumption", 5, 2), Txn(D(2026, 3, 1), "count", 40, 1)]
    assert ledger.balance(same_day) == 35  # count recorded first, then 5 used
    same_day = [Txn(D(2026, 3, 1), "consumption", 5, 1), Txn(D(2026, 3, 1), "count", 40, 2)]
    assert ledger.balance(same_day) == 40


def test_card_records_book_balance_and_discrepancy() -> None:
    rows = ledger.card(LEDGER)
    count = rows[6]
    assert (count.book_before, count.balance_after, count.discrepancy) == (150, 140, -10)
    assert rows[1].discrepancy == 100 - 500
    assert [r.balance_after for r in rows] == [500, 100, 300, 180, 170, 150, 140, 90]


@pytest.mark.parametrize(("physical", "book", "expected"), [
    (100, 90, 0.1), (80, 100, -0.25), (140, 150, -10 / 140), (0, 0, 0.0), (0, 10, None),
    (50, 50, 0.0),
])
def test_discrepancy(physical: int, book: int, expected: float | None) -> None:
    got = ledger.discrepancy(physical, book)
    assert got == (None if expected is None else pytest.approx(expected))


ON = D(2026, 3, 16)


@pytest.mark.parametrize(("months", "expected"), [
    ({202512: 90, 202601: 120, 202602: 150}, 120.0),
    ({202510: 60, 202512: 90, 202602: 150}, 100.0),          # gaps: the last 3 with data
    ({202509: 999, 202510: 60, 202512: 90, 202602: 150}, 100.0),  # a 4th is ignored
    ({202601: 100, 202602: 50}, 75.0),                        # only 2 months with data
    ({202603: 80}, None),                                     # current month: not complete
    ({202502: 100}, None),                                    # older than 12 months
    ({202503: 30}, 30.0),                                     # exactly 12 months back
    ({202602: 0}, 0.0),                                       # a reported 0 is data
    ({}, None),
])
def test_amc_last_three_months_with_data(months: dict[int, int], expected: float | None) -> None:
    assert ledger.amc(months, ON) == expected


def test_monthly_consumption_only_months_reported() -> None:
    assert ledger.monthly_consumption(LEDGER) == {202601: 120, 202602: 50}


@pytest.mark.parametrize(("bal", "avg", "expected"), [
    (90, 120.0, 0.75), (0, 120.0, 0.0), (-5, 100.0, 0.0), (10, None, None), (10, 0.0, None),
    (None, 10.0, None), (240, 120.0, 2.0),
])
def test_months_of_stock(bal: int | None, avg: float | None, expected: float | None) -> None:
    assert ledger.months_of_stock(bal, avg) == expected


@pytest.mark.parametrize(("level", "avg", "expected"), [
    (LevelParams(1, 0.5), 120.0, (30.0, 150.0, 90.0)),    # CSCom (reference §4)
    (LevelParams(3, 1), 120.0, (90.0, 450.0, 210.0)),     # district default
    (LevelParams(1, 0.5), 0.0, (0.0, 0.0, 0.0)),
    (LevelParams(2, 0.25), 40.0, (20.0, 100.0, 30.0)),
])
def test_min_max_reorder(level: LevelParams, avg: float,
                         expected: tuple[float, float, float]) -> None:
    lv = ledger.stock_levels(avg, level)
    assert lv is not None
    assert (lv.minimum, lv.maximum, lv.reorder) == pytest.approx(expected)
    assert ledger.stock_levels(None, level) is None


def test_level_params_bounds() -> None:
    with pytest.raises(ValueError):
        LevelParams(0, 0.5)
    with pytest.raises(ValueError):
        LevelParams(1, -1)
    assert ledger.DEFAULT_LEVELS[4] == LevelParams(1.0, 0.5)


CSCOM = ledger.stock_levels(120.0, LevelParams(1, 0.5))


@pytest.mark.parametrize(("bal", "levels", "expected"), [
    (0, CSCOM, "stock_out"), (-5, CSCOM, "stock_out"), (None, CSCOM, "stock_out"),
    (1, CSCOM, "below_reorder"), (89, CSCOM, "below_reorder"), (90, CSCOM, "ok"),
    (150, CSCOM, "ok"), (151, CSCOM, "above_max"), (10, None, "ok"), (0, None, "stock_out"),
])
def test_line_status(bal: int | None, levels: ledger.Levels | None, expected: str) -> None:
    assert ledger.line_status(bal, levels) == expected


OUTAGE = [Txn(D(2026, 3, 1), "count", 10, 1), Txn(D(2026, 3, 3), "consumption", 10, 2),
          Txn(D(2026, 3, 6), "receipt", 50, 3)]


@pytest.mark.parametrize(("start", "end", "expected"), [
    (D(2026, 3, 1), D(2026, 3, 10), 3),   # 3, 4, 5 March at zero
    (D(2026, 2, 25), D(2026, 3, 2), 0),   # days before the first transaction are unknown
    (D(2026, 3, 4), D(2026, 3, 4), 1),    # carried in from 3 March
    (D(2026, 3, 6), D(2026, 3, 31), 0),
    (D(2026, 3, 10), D(2026, 3, 1), 0),   # empty window
])
def test_stockout_days(start: date, end: date, expected: int) -> None:
    assert ledger.stockout_days(OUTAGE, start, end) == expected


def test_stockout_days_negative_book_balance_counts() -> None:
    txns = [Txn(D(2026, 3, 1), "receipt", 5, 1), Txn(D(2026, 3, 2), "consumption", 8, 2)]
    assert ledger.stockout_days(txns, D(2026, 3, 1), D(2026, 3, 4)) == 3
    assert ledger.stockout_days([], D(2026, 3, 1), D(2026, 3, 4)) == 0


@pytest.mark.parametrize(("given_", "used", "usage", "wastage", "factor"), [
    (90, 100, 90.0, 10.0, 100 / 90),
    (40, 100, 40.0, 60.0, 2.5),
    (100, 100, 100.0, 0.0, 1.0),
    (0, 100, 0.0, 100.0, None),
    (10, 0, None, None, None),
])
def test_usage_wastage(given_: int, used: int, usage: float | None, wastage: float | None,
                       factor: float | None) -> None:
    assert ledger.usage_rate(given_, used) == usage
    assert ledger.wastage_rate(given_, used) == wastage
    f = ledger.wastage_factor(wastage)
    assert f == (None if factor is None else pytest.approx(factor))


@pytest.mark.parametrize(("product", "wastage", "ok"), [
    ("BCG", 50.0, True), ("BCG", 60.0, False), ("MCV", 25.0, True), ("MCV", 26.0, False),
    ("OPV", 10.0, True), ("PENTA", 15.0, True), ("PENTA", 16.0, False), ("ROTA", 5.0, True),
    ("ROTA", 6.0, False), ("SAB", 3.0, None), ("BCG", None, None),
])
def test_wastage_acceptable(product: str, wastage: float | None, ok: bool | None) -> None:
    assert ledger.wastage_acceptable(product, wastage) is ok


@pytest.mark.parametrize(("day", "due_day", "period"), [
    (D(2026, 3, 5), 5, 202602), (D(2026, 3, 6), 5, 202603), (D(2026, 1, 3), 5, 202512),
    (D(2026, 3, 16), 5, 202603), (D(2026, 3, 9), 10, 202602), (D(2026, 3, 31), 5, 202603),
])
def test_report_period(day: date, due_day: int, period: int) -> None:
    assert ledger.report_period(day, due_day) == period


@pytest.mark.parametrize(("period", "received", "due_day", "on_time"), [
    (202602, D(2026, 3, 5), 5, True), (202602, D(2026, 3, 6), 5, False),
    (202612, D(2027, 1, 5), 5, True), (202612, D(2027, 1, 6), 5, False),
    (202602, D(2026, 3, 10), 10, True), (202602, D(2026, 2, 20), 5, True),
])
def test_on_time(period: int, received: date, due_day: int, on_time: bool) -> None:
    assert ledger.is_on_time(period, received, due_day) is on_time


@pytest.mark.parametrize(("period", "months", "expected"), [
    (202601, -1, 202512), (202612, 1, 202701), (202603, -12, 202503), (202603, 0, 202603),
    (202601, -13, 202412),
])
def test_add_period(period: int, months: int, expected: int) -> None:
    assert ledger.add_period(period, months) == expected


def test_rate_and_vials() -> None:
    assert ledger.rate(2, 3) == 66.7
    assert ledger.rate(0, 0) is None
    assert ledger.round_up_to_vials(21, "BCG") == 40
    assert ledger.round_up_to_vials(0, "BCG") == 0
    assert ledger.round_up_to_vials(3, "SAB") == 3


def test_line_summary() -> None:
    txns = [Txn(D(2026, 1, 2), "count", 300, 1), Txn(D(2026, 1, 20), "consumption", 120, 2),
            Txn(D(2026, 2, 20), "consumption", 120, 3), Txn(D(2026, 3, 2), "receipt", 30, 4)]
    out = ledger.line_summary(txns, D(2026, 3, 16), LevelParams(1, 0.5))
    assert out["balance"] == 90 and out["amc"] == 120.0
    assert out["months_of_stock"] == 0.75 and out["status"] == "ok"
    out = ledger.line_summary(txns, D(2026, 2, 25), LevelParams(1, 0.5))
    assert out["balance"] == 60 and out["status"] == "below_reorder"


kinds = st.sampled_from(ledger.KINDS)
txn_lists = st.lists(st.builds(Txn, st.dates(D(2025, 1, 1), D(2026, 12, 31)), kinds,
                               st.integers(0, 10_000)), max_size=40).map(
    lambda ts: [Txn(t.on, t.kind, t.quantity, i) for i, t in enumerate(ts)])


@given(txn_lists)
def test_card_ends_at_balance_and_is_order_free(txns: list[Txn]) -> None:
    rows = ledger.card(txns)
    assert (rows[-1].balance_after if rows else None) == ledger.balance(txns)
    assert ledger.balance(list(reversed(txns))) == ledger.balance(txns)


@given(txn_lists)
def test_without_counts_balance_is_the_sum_of_movements(txns: list[Txn]) -> None:
    moves = [t for t in txns if t.kind != "count"]
    expected = sum(ledger.MOVEMENTS[t.kind] * t.quantity for t in moves)
    assert ledger.balance(moves) == (expected if moves else None)


@given(txn_lists, st.dates(D(2025, 1, 1), D(2026, 12, 31)), st.integers(0, 400))
def test_stockout_days_bounded(txns: list[Txn], start: date, length: int) -> None:
    end = start + timedelta(days=length)
    n = ledger.stockout_days(txns, start, end)
    assert 0 <= n <= length + 1


@given(st.dictionaries(st.integers(2024, 2026).flatmap(
    lambda y: st.integers(1, 12).map(lambda m: y * 100 + m)), st.integers(0, 5000)),
    st.dates(D(2025, 1, 1), D(2026, 12, 31)))
def test_amc_within_data_range(months: dict[int, int], on: date) -> None:
    avg = ledger.amc(months, on)
    if avg is not None:
        assert min(months.values()) <= avg <= max(months.values())


DAY = date(2026, 3, 1)
COUNTED = [Txn(DAY, "count", 50, 1), Txn(DAY + timedelta(days=2), "consumption", 30, 2),
          Txn(DAY + timedelta(days=5), "count", 100, 3)]


@pytest.mark.parametrize(("new", "expected"), [
    (Txn(DAY, "consumption", 20, 9), None),                          # 50 → 30 → 0: fits
    (Txn(DAY, "consumption", 21, 9), 1),                             # the use on day 3: −1
    (Txn(DAY + timedelta(days=1), "issue", 60, 9), 40),              # −10 that day, −40 after
    (Txn(DAY + timedelta(days=3), "loss", 20, 9), None),             # 20 left: fits
    (Txn(DAY + timedelta(days=6), "consumption", 101, 9), 1),        # after the second count
    (Txn(DAY + timedelta(days=1), "receipt", 500, 9), None),         # inflows never fall short
    (Txn(DAY + timedelta(days=1), "count", 0, 9), None),             # a count sets the balance
    (Txn(DAY - timedelta(days=1), "consumption", 1, 9), 1),          # before any stock
])
def test_shortfall_until_the_next_count(new: Txn, expected: int | None) -> None:
    assert ledger.shortfall(COUNTED, new) == expected
