"""Unit tests of the indicator formulas against hand-computed examples (immunization.md §2)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from krc.immunization import indicators as ind


@pytest.mark.parametrize(("doses", "target", "pct", "over"), [
    (450, 600, 75.0, False), (600, 600, 100.0, False), (660, 600, 110.0, True), (0, 600, 0, False),
])
def test_coverage(doses: int, target: float, pct: float, over: bool) -> None:
    c = ind.coverage(doses, target)
    assert c.percent == pytest.approx(pct) and c.over_100 is over


def test_coverage_without_target_is_unknown() -> None:
    assert ind.coverage(10, 0).percent is None


def test_prorated_target() -> None:
    assert ind.prorated_target(1200, 3) == 300
    assert ind.prorated_target(1200, 12) == 1200


@pytest.mark.parametrize(("first", "last", "pct", "negative"), [
    (400, 360, 10.0, False), (400, 400, 0.0, False), (100, 110, -10.0, True),
])
def test_dropout(first: int, last: int, pct: float, negative: bool) -> None:
    d = ind.dropout(first, last)
    assert d.percent == pytest.approx(pct) and d.negative is negative


def test_dropout_of_nothing() -> None:
    assert ind.dropout(0, 0).percent is None
    assert ind.dropout(0, 3).negative is True


@pytest.mark.parametrize(("access", "drop", "cat"), [
    (80.0, 9.9, 1), (80.0, 10.0, 2), (79.9, 5.0, 3), (50.0, 30.0, 4), (95.0, 10.0, 2),
])
def test_red_rec_default_thresholds(access: float, drop: float, cat: int) -> None:
    assert ind.red_rec_category(access, drop) == cat


def test_red_rec_who_app_variant() -> None:
    assert ind.red_rec_category(90.0, 10.0, ind.WHO_APP_THRESHOLDS) == 1
    assert ind.red_rec_category(89.9, 10.0, ind.WHO_APP_THRESHOLDS) == 3
    assert ind.red_rec_category(None, 10.0) is None


def test_zero_dose_and_under_immunized() -> None:
    assert ind.zero_dose_aggregate(1000, 870) == 130
    assert ind.under_immunized_aggregate(1000, 760) == 240


def test_target_kinds() -> None:
    assert ind.target_kind("BCG", 1) == "live_births"
    assert ind.target_kind("OPV", 0) == "live_births"
    assert ind.target_kind("PENTA", 3) == "surviving_infants"
    assert ind.target_kind("MCV", 2) == "cohort_12_23"


@pytest.mark.parametrize(("delay", "bucket"), [
    (-3, 0), (0, 0), (27, 27), (28, 28), (29, 35), (35, 35), (36, 42), (400, 365), (363, 364),
])
def test_delay_buckets(delay: int, bucket: int) -> None:
    assert ind.delay_bucket(delay) == bucket


def test_median_delay() -> None:
    assert ind.median_delay({}) is None
    assert ind.median_delay({0: 3, 5: 1, 10: 1}) == 0
    assert ind.median_delay({2: 1, 4: 1}) == 3
    assert ind.median_delay({1: 1, 3: 1, 9: 1}) == 3


@given(st.lists(st.integers(0, 28), min_size=1, max_size=50))
def test_median_matches_statistics_when_exact(values: list[int]) -> None:
    import statistics
    hist: dict[int, int] = {}
    for v in values:
        hist[ind.delay_bucket(v)] = hist.get(ind.delay_bucket(v), 0) + 1
    assert ind.median_delay(hist) == pytest.approx(statistics.median(values))


def test_timeliness() -> None:
    assert ind.timeliness(45, 60) == 75
    assert ind.timeliness(0, 0) is None
