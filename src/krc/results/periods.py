"""DHIS2 period codes (reference/interop.md §1) as month ranges for monthly facts."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from krc.errors import invalid

_YEAR = re.compile(r"^(\d{4})$")
_MONTH = re.compile(r"^(\d{4})(\d{2})$")
_QUARTER = re.compile(r"^(\d{4})Q([1-4])$")
_SIX = re.compile(r"^(\d{4})S([12])$")


@dataclass(frozen=True)
class Period:
    """A period made of whole months of one year: `first`..`last` (1–12), inclusive."""

    code: str
    year: int
    first: int
    last: int

    @property
    def months(self) -> int:
        """Return the number of months in the period."""
        return self.last - self.first + 1

    @property
    def start(self) -> date:
        """Return the first day of the period."""
        return date(self.year, self.first, 1)

    @property
    def end(self) -> date:
        """Return the last day of the period."""
        if self.last == 12:
            return date(self.year, 12, 31)
        return date.fromordinal(date(self.year, self.last + 1, 1).toordinal() - 1)

    def yyyymm(self, month: int) -> int:
        """Return the YYYYMM key of a month of this period's year."""
        return self.year * 100 + month

    @property
    def fact_range(self) -> tuple[int, int]:
        """Return the inclusive YYYYMM range of the period's months."""
        return self.yyyymm(self.first), self.yyyymm(self.last)

    @property
    def cumulative_range(self) -> tuple[int, int]:
        """Return the YYYYMM range from January to the period's last month (WHO IA app)."""
        return self.yyyymm(1), self.yyyymm(self.last)


def parse_period(code: str) -> Period:
    """Return the Period of a DHIS2 yearly, six-monthly, quarterly or monthly code.

    Weekly and daily codes are refused: immunization facts are monthly.
    """
    c = (code or "").strip()
    if m := _YEAR.match(c):
        return Period(c, int(m[1]), 1, 12)
    if m := _QUARTER.match(c):
        q = int(m[2])
        return Period(c, int(m[1]), 3 * q - 2, 3 * q)
    if m := _SIX.match(c):
        s = int(m[2])
        return Period(c, int(m[1]), 6 * s - 5, 6 * s)
    if (m := _MONTH.match(c)) and 1 <= int(m[2]) <= 12:
        return Period(c, int(m[1]), int(m[2]), int(m[2]))
    raise invalid("period", "period_invalid",
                  "Période invalide : « {p} » ; formats acceptés : 2025, 2025S1, 2025Q1, 202501",
                  "Invalid period: '{p}'; accepted formats: 2025, 2025S1, 2025Q1, 202501", p=code)


def month_key(d: date) -> int:
    """Return the YYYYMM key of a date."""
    return d.year * 100 + d.month
