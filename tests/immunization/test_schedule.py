"""Tests of krc.immunization.schedule against reference/immunization.md §1.

Expected dates are computed by hand (never with the module under test).
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from krc.immunization.schedule import (
    REASONS,
    STATUSES,
    VACCINES,
    Age,
    DoseStatus,
    GivenDose,
    ScheduleParams,
    add_months,
    assess_doses,
    batch_slots,
    describe,
    evaluate,
    fully_immunized,
    is_defaulter,
    mali_schedule,
    max_dose,
    rule_for,
    seasonal_date,
)

BIRTH = date(2025, 1, 15)
MALARIA_PARAMS = ScheduleParams(malaria_districts=frozenset({"BKO-1"}))


def d(text: str) -> date:
    return date.fromisoformat(text)


def slot(statuses: list[DoseStatus], vaccine: str, dose: int) -> DoseStatus:
    """The scheduled (non-invalid) entry of one dose."""
    found = [
        s for s in statuses if (s.vaccine, s.dose) == (vaccine, dose) and s.status != "invalid"
    ]
    assert len(found) == 1
    return found[0]


def g(vaccine: str, dose: int, on: str, id: str | None = None) -> GivenDose:
    return GivenDose(vaccine, dose, d(on), id)


# --------------------------------------------------------------------------- ages and table


@pytest.mark.parametrize(
    ("start", "months", "expected"),
    [
        ("2025-01-31", 1, "2025-02-28"),
        ("2024-01-31", 1, "2024-02-29"),
        ("2024-02-29", 12, "2025-02-28"),
        ("2024-02-29", 48, "2028-02-29"),
        ("2024-03-31", 1, "2024-04-30"),
        ("2024-08-31", 6, "2025-02-28"),
        ("2024-12-15", 1, "2025-01-15"),
        ("2025-01-15", 0, "2025-01-15"),
        ("2023-05-31", 9, "2024-02-29"),
    ],
)
def test_add_months_clamps_to_month_end(start: str, months: int, expected: str) -> None:
    assert add_months(d(start), months) == d(expected)


def test_age_after_is_months_then_days() -> None:
    assert Age(days=42).after(BIRTH) == d("2025-02-26")
    assert Age(months=1, days=1).after(d("2025-01-31")) == d("2025-03-01")
    with pytest.raises(ValueError):
        Age(months=-1)


def test_schedule_table_matches_reference() -> None:
    rows = {(r.vaccine, r.dose): r for r in mali_schedule()}
    assert len(rows) == 24
    assert {r.vaccine for r in rows.values()} == VACCINES
    assert rows[("BCG", 1)].expires == Age(months=12)
    assert rows[("OPV", 0)].expires == Age(days=14)
    assert rows[("OPV", 1)].min_interval is None  # OPV0 does not count toward 1-3
    assert rows[("OPV", 3)].recommended == Age(days=98)
    assert rows[("ROTA", 2)].expires == Age(months=24)
    assert rows[("IPV", 1)].minimum == Age(days=98)
    assert rows[("MCV", 2)].min_interval == Age(days=28)
    assert rows[("MALARIA", 2)].recommended == Age(months=6)
    assert rows[("MALARIA", 3)].expires == Age(months=36)
    assert rows[("MALARIA", 4)].seasonal and rows[("MALARIA", 4)].restricted
    assert rows[("MALARIA", 5)].min_interval == Age(months=6)
    assert not rows[("PENTA", 1)].restricted
    assert max_dose("OPV") == 3
    assert max_dose("MALARIA") == 5
    assert max_dose("ROTA") == 3
    assert max_dose("ROTA", ScheduleParams(rota_doses=2)) == 2
    assert rule_for("PENTA", 4) is None
    assert rule_for("ROTA", 3, ScheduleParams(rota_doses=2)) is None
    with pytest.raises(ValueError):
        max_dose("XYZ")


def test_configurable_values_reach_the_table() -> None:
    params = ScheduleParams(
        bcg_expiry=Age(months=24),
        opv0_expiry=Age(days=28),
        malaria_booster_interval=Age(months=3),
    )
    rows = {(r.vaccine, r.dose): r for r in mali_schedule(params)}
    assert rows[("BCG", 1)].expires == Age(months=24)
    assert rows[("OPV", 0)].expires == Age(days=28)
    assert rows[("MALARIA", 4)].min_interval == Age(months=3)
    assert rows[("MALARIA", 5)].min_interval == Age(months=3)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"grace_days": -1},
        {"rota_doses": 1},
        {"malaria_window": (7, 5)},
        {"malaria_window": (0, 5)},
        {"fully_immunized": (("PENTA", 4),)},
    ],
)
def test_params_are_validated(kwargs: dict[str, object]) -> None:
    with pytest.raises(ValueError):
        ScheduleParams(**kwargs)  # type: ignore[arg-type]


# --------------------------------------------------------------------------- due dates


@pytest.mark.parametrize(
    ("birth", "vaccine", "dose", "expected"),
    [
        ("2025-01-15", "BCG", 1, "2025-01-15"),
        ("2025-01-15", "OPV", 0, "2025-01-15"),
        ("2025-01-15", "OPV", 1, "2025-02-26"),
        ("2025-01-15", "PENTA", 1, "2025-02-26"),
        ("2025-01-15", "PCV", 1, "2025-02-26"),
        ("2025-01-15", "ROTA", 1, "2025-02-26"),
        ("2025-01-15", "IPV", 1, "2025-04-23"),
        ("2025-01-15", "MCV", 1, "2025-10-15"),
        ("2025-01-15", "YF", 1, "2025-10-15"),
        ("2025-01-15", "MENA", 1, "2025-10-15"),
        ("2024-12-31", "PENTA", 1, "2025-02-11"),
        ("2024-05-31", "MCV", 1, "2025-02-28"),
        ("2023-05-31", "MCV", 1, "2024-02-29"),
        ("2024-02-29", "MCV", 1, "2024-11-29"),
        ("2024-01-01", "IPV", 1, "2024-04-08"),
    ],
)
def test_first_dose_due_on_recommended_age(
    birth: str, vaccine: str, dose: int, expected: str
) -> None:
    entry = slot(evaluate(d(birth), [], d(birth)), vaccine, dose)
    assert entry.due_date == d(expected)


def test_series_due_dates_on_schedule() -> None:
    doses = [g("PENTA", 1, "2025-02-26"), g("PENTA", 2, "2025-03-26")]
    out = evaluate(BIRTH, doses, d("2025-03-27"))
    assert slot(out, "PENTA", 1).due_date == d("2025-02-26")
    assert slot(out, "PENTA", 2).due_date == d("2025-03-26")  # 10 weeks
    assert slot(out, "PENTA", 3).due_date == d("2025-04-23")  # 14 weeks
    assert slot(out, "PENTA", 3).status == "upcoming"


def test_late_previous_dose_pushes_due_date_by_interval() -> None:
    # PENTA1 late on 10 March: PENTA2 = max(26 March, 10 March + 28 days = 7 April)
    out = evaluate(BIRTH, [g("PENTA", 1, "2025-03-10")], d("2025-04-06"))
    assert slot(out, "PENTA", 2).due_date == d("2025-04-07")
    assert slot(out, "PENTA", 2).status == "upcoming"
    out = evaluate(BIRTH, [g("PENTA", 1, "2025-03-10")], d("2025-04-07"))
    assert slot(out, "PENTA", 2).status == "due"


def test_mcv2_due_date() -> None:
    on_time = evaluate(BIRTH, [g("MCV", 1, "2025-10-15")], d("2026-04-15"))
    assert slot(on_time, "MCV", 2).due_date == d("2026-04-15")
    assert slot(on_time, "MCV", 2).status == "due"
    late = evaluate(BIRTH, [g("MCV", 1, "2026-04-01")], d("2026-04-15"))
    assert slot(late, "MCV", 2).due_date == d("2026-04-29")
    assert slot(late, "MCV", 2).status == "upcoming"


# --------------------------------------------------------------------------- status boundaries


@pytest.mark.parametrize(
    ("on", "status"),
    [
        ("2025-02-25", "upcoming"),  # due_date - 1
        ("2025-02-26", "due"),  # due_date
        ("2025-03-25", "due"),  # due_date + grace - 1
        ("2025-03-26", "overdue"),  # due_date + grace
        ("2029-01-15", "overdue"),  # 4 years: not expired
        ("2030-01-14", "overdue"),  # expiry - 1
        ("2030-01-15", "expired"),  # 5 years
    ],
)
def test_penta1_status_boundaries(on: str, status: str) -> None:
    assert slot(evaluate(BIRTH, [], d(on)), "PENTA", 1).status == status


@pytest.mark.parametrize(
    ("on", "status"),
    [
        ("2025-01-14", "upcoming"),  # before birth
        ("2025-01-15", "due"),
        ("2025-01-28", "due"),  # expiry - 1
        ("2025-01-29", "expired"),  # 14 days
        ("2025-02-11", "expired"),  # due + grace - 1
        ("2025-02-12", "expired"),  # due + grace: never overdue
    ],
)
def test_opv0_expires_and_is_never_overdue(on: str, status: str) -> None:
    assert slot(evaluate(BIRTH, [], d(on)), "OPV", 0).status == status


@pytest.mark.parametrize(
    ("on", "status"),
    [
        ("2025-02-11", "due"),
        ("2025-02-12", "overdue"),
        ("2026-01-14", "overdue"),
        ("2026-01-15", "expired"),
    ],
)
def test_bcg_boundaries(on: str, status: str) -> None:
    assert slot(evaluate(BIRTH, [], d(on)), "BCG", 1).status == status


def test_bcg_expiry_is_configurable() -> None:
    params = ScheduleParams(bcg_expiry=Age(months=24))
    assert slot(evaluate(BIRTH, [], d("2026-01-15"), params=params), "BCG", 1).status == "overdue"
    assert slot(evaluate(BIRTH, [], d("2027-01-15"), params=params), "BCG", 1).status == "expired"


@pytest.mark.parametrize(
    ("on", "status"),
    [("2027-01-14", "overdue"), ("2027-01-15", "expired"), ("2027-02-15", "expired")],
)
def test_rota_expires_at_24_months(on: str, status: str) -> None:
    out = evaluate(BIRTH, [], d(on))
    assert slot(out, "ROTA", 1).status == status
    assert slot(out, "PENTA", 1).status == "overdue"  # PENTA is not shown expired wrongly


def test_grace_is_configurable() -> None:
    params = ScheduleParams(grace_days=14)
    assert slot(evaluate(BIRTH, [], d("2025-03-11"), params=params), "PENTA", 1).status == "due"
    out = evaluate(BIRTH, [], d("2025-03-12"), params=params)
    assert slot(out, "PENTA", 1).status == "overdue"
    zero = ScheduleParams(grace_days=0)
    assert slot(evaluate(BIRTH, [], d("2025-02-26"), params=zero), "PENTA", 1).status == "overdue"


def test_due_then_expiry_before_grace_ends() -> None:
    # ROTA2 due at 23 months + 28 days is past 24 months: due, then expired, never overdue
    doses = [g("ROTA", 1, "2026-12-01")]
    out = evaluate(BIRTH, doses, d("2026-12-29"))
    assert slot(out, "ROTA", 2).status == "due"
    assert slot(out, "ROTA", 2).due_date == d("2026-12-29")
    assert slot(evaluate(BIRTH, doses, d("2027-01-14")), "ROTA", 2).status == "due"
    assert slot(evaluate(BIRTH, doses, d("2027-01-15")), "ROTA", 2).status == "expired"


# --------------------------------------------------------------------------- validity


@pytest.mark.parametrize(
    ("doses", "reasons"),
    [
        ([g("PENTA", 1, "2025-02-25")], ["before_minimum_age"]),
        ([g("PENTA", 1, "2025-02-26")], [None]),
        ([g("IPV", 1, "2025-04-22")], ["before_minimum_age"]),
        ([g("IPV", 1, "2025-04-23")], [None]),
        ([g("MCV", 1, "2025-10-14")], ["before_minimum_age"]),
        ([g("OPV", 0, "2025-01-14")], ["before_minimum_age"]),
        ([g("OPV", 0, "2025-01-15"), g("OPV", 1, "2025-02-26")], [None, None]),
        # OPV0 is not a predecessor of OPV1
        ([g("OPV", 1, "2025-02-26")], [None]),
        # minimum age for PENTA2 is 6 weeks, the interval from PENTA1 is what matters
        ([g("PENTA", 1, "2025-02-26"), g("PENTA", 2, "2025-03-25")], [None, "interval_too_short"]),
        ([g("PENTA", 1, "2025-02-26"), g("PENTA", 2, "2025-03-26")], [None, None]),
        ([g("PENTA", 2, "2025-03-26")], ["previous_dose_missing"]),
        ([g("MCV", 2, "2026-04-15")], ["previous_dose_missing"]),
        ([g("MCV", 1, "2025-10-15"), g("MCV", 2, "2026-04-14")], [None, "before_minimum_age"]),
        ([g("MCV", 1, "2026-04-01"), g("MCV", 2, "2026-04-28")], [None, "interval_too_short"]),
        ([g("MCV", 1, "2026-04-01"), g("MCV", 2, "2026-04-29")], [None, None]),
        ([g("PENTA", 1, "2025-02-26"), g("PENTA", 1, "2025-03-01")], [None, "duplicate_dose"]),
        ([g("PENTA", 4, "2025-06-01")], ["unknown_dose"]),
        ([g("XYZ", 1, "2025-06-01")], ["unknown_dose"]),
        ([g("penta", 1, "2025-06-01")], ["unknown_dose"]),
        # late doses count: ROTA1 after 24 months is valid
        ([g("ROTA", 1, "2027-03-01")], [None]),
    ],
)
def test_assess_doses(doses: list[GivenDose], reasons: list[str | None]) -> None:
    checks = assess_doses(BIRTH, doses)
    assert [c.reason for c in checks] == reasons
    assert [c.valid for c in checks] == [r is None for r in reasons]


def test_assess_doses_keeps_input_order_and_ids() -> None:
    doses = [
        g("PENTA", 2, "2025-03-26", "b"),
        g("PENTA", 1, "2025-02-26", "a"),
        g("PENTA", 1, "2025-02-20", "early"),
    ]
    checks = assess_doses(BIRTH, doses)
    assert [c.id for c in checks] == ["b", "a", "early"]
    assert [c.reason for c in checks] == [None, None, "before_minimum_age"]
    assert checks[0].given_on == d("2025-03-26")


def test_same_day_doses_of_one_series() -> None:
    checks = assess_doses(BIRTH, [g("PENTA", 2, "2025-03-01"), g("PENTA", 1, "2025-03-01")])
    assert [c.reason for c in checks] == ["interval_too_short", None]


def test_invalid_interval_is_measured_from_last_valid_dose() -> None:
    doses = [
        g("PENTA", 1, "2025-02-26"),
        g("PENTA", 2, "2025-03-10"),  # too short
        g("PENTA", 2, "2025-03-26"),  # 28 days after PENTA1, valid
        g("PENTA", 3, "2025-04-10"),  # 15 days after the valid PENTA2
    ]
    assert [c.reason for c in assess_doses(BIRTH, doses)] == [
        None,
        "interval_too_short",
        None,
        "interval_too_short",
    ]


def test_early_dose_is_invalid_and_slot_stays_due() -> None:
    doses = [g("PENTA", 1, "2025-02-20", "x1")]
    out = evaluate(BIRTH, doses, d("2025-03-01"))
    keys = [(s.vaccine, s.dose, s.status) for s in out]
    i = keys.index(("PENTA", 1, "due"))
    assert out[i].reason == "previous_attempt_invalid"
    assert out[i].due_date == d("2025-02-26")
    assert out[i + 1] == DoseStatus(
        "PENTA", 1, "invalid", None, d("2025-02-20"), "before_minimum_age"
    )
    assert slot(out, "PENTA", 2).reason == "waits_for_previous"
    # the same slot becomes overdue later, still with the reason
    later = slot(evaluate(BIRTH, doses, d("2025-04-01")), "PENTA", 1)
    assert (later.status, later.reason) == ("overdue", "previous_attempt_invalid")


def test_interval_too_short_slot_stays_due() -> None:
    doses = [g("PCV", 1, "2025-02-26"), g("PCV", 2, "2025-03-20")]
    out = evaluate(BIRTH, doses, d("2025-03-27"))
    entry = slot(out, "PCV", 2)
    assert (entry.status, entry.due_date, entry.reason) == (
        "due",
        d("2025-03-26"),
        "previous_attempt_invalid",
    )
    invalid = [s for s in out if s.status == "invalid"]
    assert [(s.vaccine, s.dose, s.reason) for s in invalid] == [("PCV", 2, "interval_too_short")]
    assert out.index(invalid[0]) == out.index(entry) + 1


def test_waiting_slot_with_invalid_attempt_says_it_waits() -> None:
    out = evaluate(BIRTH, [g("PENTA", 2, "2025-03-26")], d("2025-04-01"))
    entry = slot(out, "PENTA", 2)
    assert (entry.status, entry.due_date, entry.reason) == ("upcoming", None, "waits_for_previous")
    assert slot(out, "PENTA", 1).status == "overdue"


def test_unknown_doses_are_listed_last_in_date_order() -> None:
    doses = [g("XYZ", 1, "2025-03-02"), g("PENTA", 4, "2025-03-01")]
    out = evaluate(BIRTH, doses, d("2025-04-01"))
    assert len(out) == len(batch_slots()) + 2
    assert [(s.vaccine, s.status, s.reason) for s in out[-2:]] == [
        ("PENTA", "invalid", "unknown_dose"),
        ("XYZ", "invalid", "unknown_dose"),
    ]


def test_duplicate_of_given_dose_is_listed_after_given_slot() -> None:
    doses = [g("BCG", 1, "2025-01-15"), g("BCG", 1, "2025-02-01")]
    out = evaluate(BIRTH, doses, d("2025-03-01"))
    assert [(s.status, s.reason) for s in out[:2]] == [
        ("given", None),
        ("invalid", "duplicate_dose"),
    ]
    assert out[0].given_date == d("2025-01-15")
    assert out[0].due_date == d("2025-01-15")


def test_doses_after_evaluation_date_are_ignored() -> None:
    doses = [g("PENTA", 1, "2025-03-01")]
    before = evaluate(BIRTH, doses, d("2025-02-28"))
    assert slot(before, "PENTA", 1).status == "due"
    assert slot(before, "PENTA", 1).given_date is None
    assert slot(evaluate(BIRTH, doses, d("2025-03-01")), "PENTA", 1).status == "given"


def test_late_dose_after_expiry_is_given() -> None:
    out = evaluate(BIRTH, [g("OPV", 0, "2025-02-01")], d("2025-03-01"))
    assert slot(out, "OPV", 0).status == "given"


# --------------------------------------------------------------------------- one due per series


def test_never_two_doses_of_one_antigen_due_at_once() -> None:
    for on in ("2025-03-01", "2025-06-01", "2026-06-01", "2029-06-01"):
        out = evaluate(BIRTH, [g("PENTA", 1, "2025-02-26")], d(on), "BKO-1", MALARIA_PARAMS)
        for vaccine in VACCINES:
            pending = [s for s in out if s.vaccine == vaccine and s.status in ("due", "overdue")]
            assert len(pending) <= 1, (on, vaccine, pending)


def test_waiting_dose_expires_at_its_own_expiry() -> None:
    out = evaluate(BIRTH, [], d("2030-01-15"))
    entry = slot(out, "PENTA", 3)
    assert (entry.status, entry.due_date) == ("expired", None)
    assert slot(evaluate(BIRTH, [], d("2030-01-14")), "PENTA", 3).status == "upcoming"


def test_every_slot_once_in_schedule_order() -> None:
    out = evaluate(BIRTH, [g("PENTA", 1, "2025-02-01")], d("2025-06-01"))
    scheduled = [(s.vaccine, s.dose) for s in out if s.status != "invalid"]
    assert tuple(scheduled) == batch_slots()
    assert all(s.status in STATUSES for s in out)


# --------------------------------------------------------------------------- malaria


@pytest.mark.parametrize(
    ("district", "params"),
    [
        (None, MALARIA_PARAMS),
        ("KYS-2", MALARIA_PARAMS),
        ("BKO-1", ScheduleParams()),
    ],
)
def test_malaria_not_eligible_outside_districts(
    district: str | None, params: ScheduleParams
) -> None:
    out = evaluate(BIRTH, [], d("2025-07-01"), district, params)
    malaria = [s for s in out if s.vaccine == "MALARIA"]
    assert [(s.dose, s.status, s.reason, s.due_date) for s in malaria] == [
        (n, "not_eligible", "district_not_eligible", None) for n in range(1, 6)
    ]


def test_malaria_given_before_moving_stays_given() -> None:
    out = evaluate(BIRTH, [g("MALARIA", 1, "2025-06-15")], d("2025-08-01"), "KYS-2", MALARIA_PARAMS)
    assert slot(out, "MALARIA", 1).status == "given"
    assert slot(out, "MALARIA", 2).status == "not_eligible"


@pytest.mark.parametrize(
    ("dose", "due", "status"),
    [(1, "2025-06-15", "overdue"), (2, None, "upcoming"), (3, None, "upcoming")],
)
def test_malaria_eligible_schedule(dose: int, due: str | None, status: str) -> None:
    entry = slot(evaluate(BIRTH, [], d("2025-07-15"), "BKO-1", MALARIA_PARAMS), "MALARIA", dose)
    assert entry.status == status
    assert entry.due_date == (d(due) if due else None)


def test_malaria_primary_due_dates() -> None:
    doses = [g("MALARIA", 1, "2025-06-15"), g("MALARIA", 2, "2025-07-15")]
    out = evaluate(BIRTH, doses, d("2025-08-15"), "BKO-1", MALARIA_PARAMS)
    assert slot(out, "MALARIA", 2).due_date == d("2025-07-15")
    assert (slot(out, "MALARIA", 3).status, slot(out, "MALARIA", 3).due_date) == (
        "due",
        d("2025-08-15"),
    )
    assert slot(out, "MALARIA", 4).reason == "waits_for_previous"


@pytest.mark.parametrize(
    ("dose3", "dose4_due"),
    [
        ("2025-08-15", "2026-05-01"),  # +6 months = 15 Feb: before the window
        ("2025-11-20", "2026-05-20"),  # +6 months inside the window
        ("2025-10-31", "2026-05-01"),  # +6 months = 30 April
        ("2025-11-01", "2026-05-01"),  # +6 months = 1 May
        ("2025-12-31", "2026-06-30"),  # +6 months = 30 June, last day
        ("2026-01-01", "2027-05-01"),  # +6 months = 1 July: next year's window
    ],
)
def test_malaria4_seasonal_due_date(dose3: str, dose4_due: str) -> None:
    doses = [g("MALARIA", 1, "2025-06-15"), g("MALARIA", 2, "2025-07-15"), g("MALARIA", 3, dose3)]
    out = evaluate(BIRTH, doses, d(dose3), "BKO-1", MALARIA_PARAMS)
    entry = slot(out, "MALARIA", 4)
    assert (entry.status, entry.due_date) == ("upcoming", d(dose4_due))


def test_malaria5_a_year_later_and_booster_validity() -> None:
    primary = [g("MALARIA", 1, "2025-06-15"), g("MALARIA", 2, "2025-07-15")]
    primary.append(g("MALARIA", 3, "2025-08-15"))
    doses = [*primary, g("MALARIA", 4, "2026-05-10")]
    out = evaluate(BIRTH, doses, d("2026-06-01"), "BKO-1", MALARIA_PARAMS)
    assert slot(out, "MALARIA", 4).status == "given"
    assert slot(out, "MALARIA", 4).due_date == d("2026-05-01")
    entry = slot(out, "MALARIA", 5)
    assert (entry.status, entry.due_date) == ("upcoming", d("2027-05-01"))
    due = slot(evaluate(BIRTH, doses, d("2027-05-01"), "BKO-1", MALARIA_PARAMS), "MALARIA", 5)
    assert due.status == "due"
    overdue = slot(evaluate(BIRTH, doses, d("2027-05-29"), "BKO-1", MALARIA_PARAMS), "MALARIA", 5)
    assert overdue.status == "overdue"
    # a booster less than 6 months after dose 3 is invalid even inside the window
    early = [g("MALARIA", 1, "2025-06-15"), g("MALARIA", 2, "2025-07-15")]
    early += [g("MALARIA", 3, "2025-11-20"), g("MALARIA", 4, "2026-05-19")]
    assert assess_doses(BIRTH, early, MALARIA_PARAMS)[3].reason == "interval_too_short"


def test_malaria_window_and_interval_configurable() -> None:
    params = ScheduleParams(
        malaria_districts=frozenset({"BKO-1"}),
        malaria_window=(7, 9),
        malaria_booster_interval=Age(months=3),
    )
    doses = [g("MALARIA", 1, "2025-06-15"), g("MALARIA", 2, "2025-07-15")]
    doses.append(g("MALARIA", 3, "2025-08-15"))
    out = evaluate(BIRTH, doses, d("2025-09-01"), "BKO-1", params)
    assert slot(out, "MALARIA", 4).due_date == d("2026-07-01")  # 15 Nov is after September


@pytest.mark.parametrize(
    ("day", "window", "expected"),
    [
        ("2026-02-15", (5, 6), "2026-05-01"),
        ("2026-05-01", (5, 6), "2026-05-01"),
        ("2026-06-30", (5, 6), "2026-06-30"),
        ("2026-07-01", (5, 6), "2027-05-01"),
        ("2026-12-31", (5, 6), "2027-05-01"),
        ("2026-04-30", (5, 6), "2026-05-01"),
        ("2026-12-31", (12, 12), "2026-12-31"),
        ("2026-01-10", (1, 1), "2026-01-10"),
    ],
)
def test_seasonal_date(day: str, window: tuple[int, int], expected: str) -> None:
    assert seasonal_date(d(day), window) == d(expected)


def test_malaria_boosters_expire_when_primary_series_expired() -> None:
    out = evaluate(BIRTH, [], d("2028-01-15"), "BKO-1", MALARIA_PARAMS)
    assert [slot(out, "MALARIA", n).status for n in range(1, 6)] == ["expired"] * 5
    assert slot(out, "MALARIA", 4).reason == "previous_dose_expired"
    assert slot(out, "MALARIA", 5).reason == "previous_dose_expired"
    before = evaluate(BIRTH, [], d("2028-01-14"), "BKO-1", MALARIA_PARAMS)
    assert [slot(before, "MALARIA", n).status for n in range(1, 6)] == [
        "overdue",
        *["upcoming"] * 4,
    ]


# --------------------------------------------------------------------------- rotavirus products


def test_rota_two_dose_product() -> None:
    params = ScheduleParams(rota_doses=2)
    doses = [g("ROTA", 1, "2025-02-26"), g("ROTA", 2, "2025-03-26"), g("ROTA", 3, "2025-04-23")]
    out = evaluate(BIRTH, doses, d("2025-05-01"), params=params)
    rota3 = slot(out, "ROTA", 3)
    assert (rota3.status, rota3.reason, rota3.due_date) == (
        "not_eligible",
        "product_two_doses",
        None,
    )
    assert out[out.index(rota3) + 1].reason == "product_two_doses"
    assert slot(out, "ROTA", 2).status == "given"
    three = evaluate(BIRTH, doses, d("2025-05-01"))
    assert slot(three, "ROTA", 3).status == "given"


# --------------------------------------------------------------------------- defaulters, FIC


def test_is_defaulter() -> None:
    bcg = [g("BCG", 1, "2025-01-15")]
    assert not is_defaulter(evaluate(BIRTH, bcg, d("2025-03-25")))
    assert is_defaulter(evaluate(BIRTH, bcg, d("2025-03-26")))
    assert is_defaulter(evaluate(BIRTH, [], d("2025-02-12")))  # BCG overdue
    # OPV0 past 14 days is expired, which does not make a defaulter
    assert not is_defaulter(evaluate(BIRTH, [g("BCG", 1, "2025-01-15")], d("2025-02-20")))


def complete_first_year(mcv_on: str = "2025-10-15") -> list[GivenDose]:
    doses = [g("BCG", 1, "2025-01-15"), g("OPV", 0, "2025-01-15")]
    for vaccine in ("OPV", "PENTA", "PCV", "ROTA"):
        doses += [
            g(vaccine, 1, "2025-02-26"),
            g(vaccine, 2, "2025-03-26"),
            g(vaccine, 3, "2025-04-23"),
        ]
    doses += [
        g("IPV", 1, "2025-04-23"),
        g("MCV", 1, mcv_on),
        g("YF", 1, "2025-10-15"),
        g("MENA", 1, "2025-10-15"),
    ]
    return doses


def test_fully_immunized() -> None:
    assert fully_immunized(BIRTH, complete_first_year())
    assert fully_immunized(BIRTH, complete_first_year(mcv_on="2026-01-15"))  # on the birthday
    assert not fully_immunized(BIRTH, complete_first_year(mcv_on="2026-01-16"))
    assert not fully_immunized(BIRTH, complete_first_year(mcv_on="2025-10-14"))  # too early
    missing = [x for x in complete_first_year() if x.vaccine != "MENA"]
    assert not fully_immunized(BIRTH, missing)
    no_rota3 = [x for x in complete_first_year() if (x.vaccine, x.dose) != ("ROTA", 3)]
    assert not fully_immunized(BIRTH, no_rota3)
    assert fully_immunized(BIRTH, no_rota3, ScheduleParams(rota_doses=2))
    short = ScheduleParams(fully_immunized=(("BCG", 1),))
    assert fully_immunized(BIRTH, [g("BCG", 1, "2025-01-20")], short)
    assert not fully_immunized(BIRTH, [], short)


def test_complete_child_has_no_due_dose_at_one_year() -> None:
    out = evaluate(BIRTH, complete_first_year(), d("2026-01-15"))
    assert not is_defaulter(out)
    assert slot(out, "MCV", 2).status == "upcoming"
    assert slot(out, "MCV", 2).due_date == d("2026-04-15")
    assert not [s for s in out if s.status == "invalid"]


# --------------------------------------------------------------------------- describe


@pytest.mark.parametrize("reason", REASONS)
def test_describe_every_reason_in_french_and_english(reason: str) -> None:
    fr, en = describe(reason), describe(reason, "en")
    assert fr and en and fr != en
    assert describe(reason, "fr") == fr


def test_every_reason_produced_is_described() -> None:
    produced = {
        "unknown_dose",
        "product_two_doses",
        "duplicate_dose",
        "before_minimum_age",
        "previous_dose_missing",
        "interval_too_short",
        "district_not_eligible",
        "waits_for_previous",
        "previous_attempt_invalid",
        "previous_dose_expired",
    }
    assert set(REASONS) == produced


def test_describe_rejects_unknown_code_and_language() -> None:
    with pytest.raises(ValueError):
        describe("nope")
    with pytest.raises(ValueError):
        describe("unknown_dose", "bm")


def test_evaluate_on_birth_day_has_no_past_dates() -> None:
    out = evaluate(BIRTH, [], BIRTH - timedelta(days=1))
    assert all(s.status == "upcoming" for s in out if s.vaccine != "MALARIA")
