"""DHIS2 period codes (reference/interop.md §1)."""

from __future__ import annotations

from datetime import date

import pytest

from krc.errors import DomainError
from krc.results.periods import parse_period


@pytest.mark.parametrize(("code", "first", "last", "start", "end"), [
    ("2025", 1, 12, date(2025, 1, 1), date(2025, 12, 31)),
    ("2025Q1", 1, 3, date(2025, 1, 1), date(2025, 3, 31)),
    ("2024Q1", 1, 3, date(2024, 1, 1), date(2024, 3, 31)),
    ("2025Q4", 10, 12, date(2025, 10, 1), date(2025, 12, 31)),
    ("2025S2", 7, 12, date(2025, 7, 1), date(2025, 12, 31)),
    ("202402", 2, 2, date(2024, 2, 1), date(2024, 2, 29)),
])
def test_parse(code: str, first: int, last: int, start: date, end: date) -> None:
    p = parse_period(code)
    assert (p.first, p.last, p.start, p.end) == (first, last, start, end)
    assert p.cumulative_range == (p.year * 100 + 1, p.year * 100 + last)


@pytest.mark.parametrize("code", ["", "2025Q5", "202513", "2024W5", "20240315", "abc", "25"])
def test_refused_with_the_formats(code: str) -> None:
    with pytest.raises(DomainError) as e:
        parse_period(code)
    assert "2025Q1" in e.value.text("fr") and "2025Q1" in e.value.text("en")
