"""Batch evaluation and properties of krc.immunization.schedule (reference/immunization.md §1)."""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from krc.immunization.schedule import (
    STATUSES,
    Age,
    DoseStatus,
    GivenDose,
    ScheduleParams,
    assess_doses,
    batch_slots,
    evaluate,
    evaluate_batch,
    from_epoch_day,
    rule_for,
    seasonal_date,
    to_epoch_day,
    valid_given_days,
)

DISTRICT = "BKO-1"
PARAMS = [
    ScheduleParams(malaria_districts=frozenset({DISTRICT})),
    ScheduleParams(),
    ScheduleParams(malaria_districts=frozenset({DISTRICT}), rota_doses=2, grace_days=0),
    ScheduleParams(
        malaria_districts=frozenset({DISTRICT}),
        grace_days=14,
        bcg_expiry=Age(months=24),
        opv0_expiry=Age(days=28),
        malaria_booster_interval=Age(months=3),
        malaria_window=(7, 9),
    ),
]
SLOTS = batch_slots()
FULL_SLOT_RULES = [rule_for(v, n) for v, n in SLOTS]


def slot_entries(statuses: list[DoseStatus]) -> list[DoseStatus]:
    return [s for s in statuses if s.status != "invalid"]


@st.composite
def records(draw: st.DrawFn, birth: date) -> list[GivenDose]:
    """Recorded doses near their schedule: mostly valid, some early, late, repeated or odd."""
    out: list[GivenDose] = []
    for (vaccine, dose), rule in zip(SLOTS, FULL_SLOT_RULES, strict=True):
        assert rule is not None
        attempts = draw(st.integers(0, 2))
        base = (rule.recommended.after(birth) - birth).days
        for _ in range(attempts):
            offset = draw(st.one_of(st.integers(-20, 60), st.integers(-60, 1900)))
            out.append(GivenDose(vaccine, dose, birth + timedelta(days=max(0, base + offset))))
    if draw(st.booleans()):
        out.append(GivenDose("PENTA", 4, birth + timedelta(days=draw(st.integers(0, 900)))))
    return draw(st.permutations(out))


@st.composite
def children(draw: st.DrawFn) -> tuple[date, list[GivenDose], bool]:
    birth = draw(st.dates(date(2012, 1, 1), date(2027, 12, 31)))
    return birth, draw(records(birth)), draw(st.booleans())


@st.composite
def cases(draw: st.DrawFn) -> tuple[ScheduleParams, date, list[tuple[date, list[GivenDose], bool]]]:
    params = draw(st.sampled_from(PARAMS))
    kids = draw(st.lists(children(), min_size=1, max_size=6))
    first_birth = kids[0][0]
    on = first_birth + timedelta(days=draw(st.integers(-40, 2300)))
    return params, on, kids


def batch_of(
    kids: list[tuple[date, list[GivenDose], bool]], params: ScheduleParams
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    births = np.array([to_epoch_day(b) for b, _, _ in kids], dtype=np.int64)
    given = np.array([valid_given_days(b, doses, params) for b, doses, _ in kids], dtype=np.int64)
    in_district = DISTRICT in params.malaria_districts
    eligible = np.array([e and in_district for _, _, e in kids], dtype=bool)
    return births, given.reshape(len(kids), len(SLOTS)), eligible


def assert_same(row_status: np.ndarray, row_due: np.ndarray, statuses: list[DoseStatus]) -> None:
    entries = slot_entries(statuses)
    assert [(s.vaccine, s.dose) for s in entries] == list(SLOTS)
    expected_codes = [STATUSES.index(s.status) for s in entries]
    expected_due = [to_epoch_day(s.due_date) if s.due_date else -1 for s in entries]
    assert row_status.tolist() == expected_codes
    assert row_due.tolist() == expected_due


@settings(max_examples=150, deadline=None)
@given(cases())
def test_evaluate_batch_agrees_with_evaluate(
    case: tuple[ScheduleParams, date, list[tuple[date, list[GivenDose], bool]]],
) -> None:
    params, on, kids = case
    births, given_days, eligible = batch_of(kids, params)
    slots, codes, due = evaluate_batch(births, given_days, on, eligible, params)
    assert slots == SLOTS
    assert codes.dtype == np.int8 and due.dtype == np.int64
    assert codes.shape == due.shape == (len(kids), len(SLOTS))
    for i, (birth, doses, elig) in enumerate(kids):
        district = DISTRICT if elig else None
        checks = assess_doses(birth, doses, params)
        valid_only = [x for x, c in zip(doses, checks, strict=True) if c.valid]
        assert all(c.valid for c in assess_doses(birth, valid_only, params))
        assert_same(codes[i], due[i], evaluate(birth, valid_only, on, district, params))
        # invalid attempts change reasons only, never statuses or due dates
        assert_same(codes[i], due[i], evaluate(birth, doses, on, district, params))


@settings(max_examples=100, deadline=None)
@given(cases())
def test_status_properties(
    case: tuple[ScheduleParams, date, list[tuple[date, list[GivenDose], bool]]],
) -> None:
    params, on, kids = case
    for birth, doses, elig in kids:
        out = evaluate(birth, doses, on, DISTRICT if elig else None, params)
        entries = slot_entries(out)
        # exactly one status per scheduled slot, in schedule order
        assert [(s.vaccine, s.dose) for s in entries] == list(SLOTS)
        assert all(s.status in STATUSES and s.status != "invalid" for s in entries)
        invalid = [s for s in out if s.status == "invalid"]
        recorded_invalid = [
            c
            for c in assess_doses(birth, [x for x in doses if x.given_on <= on], params)
            if not c.valid
        ]
        assert len(invalid) == len(recorded_invalid)
        assert all(s.reason and s.given_date and s.due_date is None for s in invalid)
        for s in entries:
            rule = rule_for(s.vaccine, s.dose, params)
            if s.due_date is not None:
                assert rule is not None
                assert s.due_date >= rule.recommended.after(birth)
            if s.status in ("due", "overdue", "upcoming") and s.reason != "waits_for_previous":
                assert s.due_date is not None
            if s.status == "due":
                assert s.due_date is not None
                assert s.due_date <= on < s.due_date + timedelta(days=params.grace_days)
            if s.status == "overdue":
                assert s.due_date is not None
                assert on >= s.due_date + timedelta(days=params.grace_days)
            if s.status in ("due", "overdue") and rule is not None and rule.expires is not None:
                assert on < rule.expires.after(birth)
            if s.status == "given":
                assert s.given_date is not None and s.given_date <= on
        # never two doses of one antigen due at once
        for vaccine in {v for v, _ in SLOTS}:
            pending = [
                e for e in entries if e.vaccine == vaccine and e.status in ("due", "overdue")
            ]
            assert len(pending) <= 1


@settings(max_examples=200, deadline=None)
@given(
    st.lists(st.dates(date(1990, 1, 1), date(2040, 12, 31)), min_size=1, max_size=20),
    st.integers(0, 72),
    st.integers(0, 120),
)
def test_vectorised_ages_agree_with_age_after(days: list[date], months: int, extra: int) -> None:
    # the month arithmetic and season window of the batch path, checked directly
    from krc.immunization.schedule import _np_after, _np_seasonal

    age = Age(months=months, days=extra)
    arr = np.array([to_epoch_day(x) for x in days], dtype=np.int64)
    assert [from_epoch_day(v) for v in _np_after(arr, age).tolist()] == [age.after(x) for x in days]
    for window in ((5, 6), (1, 12), (12, 12), (3, 3)):
        got = [from_epoch_day(v) for v in _np_seasonal(arr, window).tolist()]
        assert got == [seasonal_date(x, window) for x in days]


def test_vectorised_ages_of_a_large_register_with_repeated_days() -> None:
    # Above 4,096 values with few distinct days, _np_after computes each distinct day once
    # and spreads the results back: same answers, month ends and leap days included.
    from krc.immunization.schedule import _np_after

    rng = np.random.default_rng(7)
    distinct = [date(2020, 1, 31), date(2020, 2, 29), date(2021, 8, 31), date(2023, 12, 31)]
    distinct += [date(2019, 1, 1) + timedelta(days=int(d)) for d in rng.integers(0, 2500, 300)]
    days = [distinct[int(i)] for i in rng.integers(0, len(distinct), 20_000)]
    arr = np.array([to_epoch_day(x) for x in days], dtype=np.int64)
    for age in (Age(months=1), Age(months=9, days=3), Age(months=60), Age(days=45)):
        got = _np_after(arr, age)
        assert got.shape == arr.shape
        assert [from_epoch_day(v) for v in got.tolist()] == [age.after(x) for x in days]
    column = arr.reshape(4, 5_000)  # any shape is kept
    assert (_np_after(column, Age(months=2)) == _np_after(arr, Age(months=2)).reshape(4, 5_000)
            ).all()


def test_epoch_days() -> None:
    assert to_epoch_day(date(1970, 1, 1)) == 0
    assert to_epoch_day(date(2025, 1, 15)) == 20103
    assert from_epoch_day(20103) == date(2025, 1, 15)


def test_batch_hand_checked_rows() -> None:
    birth = date(2025, 1, 15)
    params = ScheduleParams(malaria_districts=frozenset({DISTRICT}))
    row_given = valid_given_days(birth, [GivenDose("BCG", 1, birth)], params)
    births = np.array([to_epoch_day(birth)] * 3, dtype=np.int64)
    given = np.array([row_given, [-1] * len(SLOTS), row_given], dtype=np.int64)
    slots, codes, due = evaluate_batch(
        births, given, date(2025, 3, 26), np.array([True, False, False]), params
    )
    col = {s: j for j, s in enumerate(slots)}
    name = np.array(STATUSES)
    assert name[codes[0, col[("BCG", 1)]]] == "given"
    assert name[codes[1, col[("BCG", 1)]]] == "overdue"
    assert name[codes[0, col[("OPV", 0)]]] == "expired"
    assert name[codes[0, col[("PENTA", 1)]]] == "overdue"
    assert from_epoch_day(int(due[0, col[("PENTA", 1)]])) == date(2025, 2, 26)
    assert name[codes[0, col[("PENTA", 2)]]] == "upcoming"
    assert due[0, col[("PENTA", 2)]] == -1
    assert name[codes[0, col[("MALARIA", 1)]]] == "upcoming"
    assert from_epoch_day(int(due[0, col[("MALARIA", 1)]])) == date(2025, 6, 15)
    assert name[codes[2, col[("MALARIA", 1)]]] == "not_eligible"
    assert due[2, col[("MALARIA", 1)]] == -1


def test_batch_ignores_doses_after_evaluation_date_and_defaults() -> None:
    birth = date(2025, 1, 15)
    row = valid_given_days(birth, [GivenDose("PENTA", 1, date(2025, 3, 1))])
    _, codes, _ = evaluate_batch(
        np.array([to_epoch_day(birth)], dtype=np.int64),
        np.array([row], dtype=np.int64),
        date(2025, 2, 28),
    )
    assert STATUSES[codes[0, SLOTS.index(("PENTA", 1))]] == "due"
    assert STATUSES[codes[0, SLOTS.index(("MALARIA", 1))]] == "not_eligible"


def test_batch_rota_two_dose_column() -> None:
    birth = date(2025, 1, 15)
    params = ScheduleParams(rota_doses=2)
    assert batch_slots(params) == SLOTS
    _, codes, due = evaluate_batch(
        np.array([to_epoch_day(birth)], dtype=np.int64),
        np.full((1, len(SLOTS)), -1, dtype=np.int64),
        date(2025, 6, 1),
        params=params,
    )
    j = SLOTS.index(("ROTA", 3))
    assert STATUSES[codes[0, j]] == "not_eligible" and due[0, j] == -1


def test_batch_empty_and_shape_errors() -> None:
    slots, codes, due = evaluate_batch(
        np.zeros(0, dtype=np.int64), np.zeros((0, len(SLOTS)), dtype=np.int64), date(2025, 1, 1)
    )
    assert codes.shape == due.shape == (0, len(SLOTS))
    with pytest.raises(ValueError):
        evaluate_batch(
            np.zeros(2, dtype=np.int64), np.zeros((2, 3), dtype=np.int64), date(2025, 1, 1)
        )
    with pytest.raises(ValueError):
        evaluate_batch(
            np.zeros(2, dtype=np.int64),
            np.zeros((2, len(SLOTS)), dtype=np.int64),
            date(2025, 1, 1),
            np.zeros(3, dtype=bool),
        )
