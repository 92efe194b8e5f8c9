"""Immunization indicators as pure functions (reference/immunization.md §2)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

# Fact keys of the doses the indicators need.
PENTA1, PENTA3, MCV1, MCV2 = ("PENTA", 1), ("PENTA", 3), ("MCV", 1), ("MCV", 2)

# Which target population each dose uses (§2 "Target populations").
BIRTH_DOSES = frozenset({("BCG", 1), ("OPV", 0)})


def target_kind(vaccine: str, dose: int) -> str:
    """Return the denominator of a dose: live_births, surviving_infants or cohort_12_23."""
    if (vaccine, dose) in BIRTH_DOSES:
        return "live_births"
    if (vaccine, dose) == MCV2:
        return "cohort_12_23"
    return "surviving_infants"


# The coverage line drawn on the cumulative chart. The reference gives no national goal;
# 90 % is the IA2030 coverage target for DTP3 and MCV, used until the CNI sets another.
COVERAGE_GOAL = 90.0


def prorated_target(annual: float, months: int) -> float:
    """Return the annual target prorated to `months` months (annual ÷ 12 × months)."""
    return annual / 12 * months


@dataclass(frozen=True)
class Coverage:
    """A coverage value with its inputs; `over_100` flags a denominator problem."""

    doses: int
    target: float
    percent: float | None
    over_100: bool


def coverage(doses: int, target: float) -> Coverage:
    """Return coverage % = doses ÷ target × 100, never capped; >100 % is flagged (§2)."""
    if target <= 0:
        return Coverage(doses, target, None, False)
    pct = doses / target * 100
    return Coverage(doses, target, pct, pct > 100)


@dataclass(frozen=True)
class Dropout:
    """A dropout rate between two doses; `negative` flags a data-quality problem."""

    first: int
    last: int
    percent: float | None
    negative: bool


def dropout(first: int, last: int) -> Dropout:
    """Return dropout % = (first − last) ÷ first × 100 (§2); None when first is 0."""
    if first <= 0:
        return Dropout(first, last, None, last > 0)
    pct = (first - last) / first * 100
    return Dropout(first, last, pct, pct < 0)


@dataclass(frozen=True)
class RedRecThresholds:
    """Access and utilisation thresholds (§2 RED/REC; defaults of the WHO RED guide)."""

    access_good_min: float = 80.0
    dropout_good_below: float = 10.0
    dropout_inclusive: bool = False  # WHO/DHIS2 app variant: good when dropout ≤ 10 %


WHO_APP_THRESHOLDS = RedRecThresholds(90.0, 10.0, True)


def red_rec_category(penta1_coverage: float | None, penta13_dropout: float | None,
                     t: RedRecThresholds = RedRecThresholds()) -> int | None:
    """Return the RED/REC category 1–4 from PENTA1 coverage and PENTA1→3 dropout (§2).

    1 good access and utilisation, 2 good access poor utilisation, 3 poor access good
    utilisation, 4 both poor; None when either input is unknown.
    """
    if penta1_coverage is None or penta13_dropout is None:
        return None
    good_access = penta1_coverage >= t.access_good_min
    good_use = (penta13_dropout <= t.dropout_good_below if t.dropout_inclusive
                else penta13_dropout < t.dropout_good_below)
    if good_access:
        return 1 if good_use else 2
    return 3 if good_use else 4


def zero_dose_aggregate(surviving_infants: float, penta1: int) -> float:
    """Return zero-dose children = surviving infants − PENTA1 doses (IA2030 2.1, §2)."""
    return surviving_infants - penta1


def under_immunized_aggregate(surviving_infants: float, penta3: int) -> float:
    """Return under-immunized children = surviving infants − PENTA3 doses (§2)."""
    return surviving_infants - penta3


MAX_DELAY = 365


def delay_bucket(delay_days: int) -> int:
    """Return the histogram bucket of a delay: days 0–28 exact, then weeks, capped at 365."""
    d = max(0, min(delay_days, MAX_DELAY))
    if d <= 28:
        return d
    return min(MAX_DELAY, 28 + 7 * -(-(d - 28) // 7))


def median_delay(histogram: Mapping[int, int]) -> float | None:
    """Return the median delay (days) from a bucket histogram; exact up to 28 days (§2)."""
    total = sum(histogram.values())
    if total == 0:
        return None
    lower, upper = (total - 1) // 2, total // 2  # 0-based positions of the middle values
    found: dict[int, int] = {}
    seen = 0
    for k in sorted(histogram):
        n = histogram[k]
        for pos in (lower, upper):
            if seen <= pos < seen + n:
                found[pos] = k
        seen += n
    return (found[lower] + found[upper]) / 2


def timeliness(timely: int, doses: int) -> float | None:
    """Return the share (%) of doses given within the grace window of their due date (§2)."""
    return None if doses == 0 else timely / doses * 100


def doses_of(facts: Mapping[tuple[str, int], int], key: tuple[str, int]) -> int:
    """Return the dose count for a (vaccine, dose) key, 0 when absent."""
    return int(facts.get(key, 0))
