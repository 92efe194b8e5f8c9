"""Infant and young child feeding indicators (WHO/UNICEF 2021) from a previous-day recall, as
pure functions (reference/nutrition.md §4). No I/O and no clock.

Age bands exactly as §4: "0–5 months" is under 6 completed months; "6–23" is
6 ≤ age < 24; MMF splits 6–8 and 9–23 for breastfed children; CBF is 12–23; EIBF takes the
children born in the last 24 months (age < 24).

Choices where the reference is silent (also in the report to the lead):
- Age is in completed months. A recall linked to a child takes calendar months between the
  birth date and the recall day (`completed_months`); a survey row given in days takes
  `floor(days / 30.4375)` (`months_from_days`, the average month of WHO Anthro).
- "Ate solid, semi-solid or soft food" (ISSSF, MMF) is `solid_feeds ≥ 1` or any solid food
  group eaten (groups 2, 3, 5, 6, 7, 8: grains, pulses, flesh, eggs, fruits and vegetables);
  dairy (group 4) may be a liquid and does not by itself count as solid.
- EIBF with "don't know" (None) stays in the denominator and outside the numerator.
- EBF: breast milk yesterday and nothing else: no other liquid (ORS, drops and syrups are
  allowed and are not recorded as "other liquids"), no milk feed, no food of groups 2–8,
  no solid feed.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

# The 8 food groups of §4, in order; group 1 (breast milk) is `Recall.breastfed`.
FOOD_GROUPS = ("breast_milk", "grains", "pulses", "dairy", "flesh", "eggs", "vita_fv",
               "other_fv")
SOLID_GROUPS = ("grains", "pulses", "flesh", "eggs", "vita_fv", "other_fv")
INDICATORS = ("EIBF", "EBF", "CBF", "ISSSF", "MDD", "MMF", "MMFF", "MAD", "EFF", "ZVF")
MDD_MIN_GROUPS = 5  # ≥ 5 of the 8 groups
MAX_FEEDS = 20  # more feeds in one day is not a plausible answer (entry check)
DAYS_PER_MONTH = 30.4375


@dataclass(frozen=True)
class Recall:
    """One child's answers to the standard 24-hour (previous-day) recall."""

    age_months: int  # completed months on the day of the interview
    breastfed: bool  # fed breast milk yesterday (food group 1)
    early_bf: bool | None = None  # put to the breast within 1 hour of birth (None: unknown)
    other_liquids: bool = False  # any liquid other than breast milk, ORS, drops, syrups
    grains: bool = False  # 2 grains, roots, tubers, plantains
    pulses: bool = False  # 3 pulses, nuts, seeds
    dairy: bool = False  # 4 dairy (milk, formula, yoghurt, cheese)
    flesh: bool = False  # 5 flesh foods (meat, fish, poultry, organ meat)
    eggs: bool = False  # 6 eggs
    vita_fv: bool = False  # 7 vitamin-A-rich fruits and vegetables
    other_fv: bool = False  # 8 other fruits and vegetables
    solid_feeds: int = 0  # times the child ate solid, semi-solid or soft food yesterday
    milk_feeds: int = 0  # milk feeds (formula, animal milk, yoghurt drinks)


@dataclass(frozen=True)
class Share:
    """One indicator over a list of recalls: numerator, denominator and percentage."""

    numerator: int
    denominator: int

    @property
    def value(self) -> float | None:
        """Return 100 × numerator ÷ denominator, or None when the denominator is 0."""
        return None if self.denominator == 0 else 100.0 * self.numerator / self.denominator


def completed_months(birth: date, on: date) -> int:
    """Return the completed calendar months between a birth date and a day (negative if
    the day is before the birth)."""
    months = (on.year - birth.year) * 12 + on.month - birth.month
    if on.day < birth.day:
        # the month anniversary falls later in the month (or on the month's last day)
        last = _month_end_day(on.year, on.month)
        if not (on.day == last and birth.day > last):
            months -= 1
    return months


def _month_end_day(year: int, month: int) -> int:
    nxt = date(year + (month == 12), month % 12 + 1, 1)
    return (nxt.toordinal() - date(year, month, 1).toordinal())


def months_from_days(days: int) -> int:
    """Return completed months from an age in days: floor(days / 30.4375)."""
    return math.floor(days / DAYS_PER_MONTH)


def groups_eaten(r: Recall) -> int:
    """Return the number of the 8 food groups eaten yesterday (breast milk included, §4).

    A milk feed (infant formula, animal milk, yoghurt drink) is a dairy product (group 4 of
    WHO/UNICEF 2021), so `milk_feeds ≥ 1` counts the dairy group even when the dairy
    question was left unticked.
    """
    dairy = r.dairy or r.milk_feeds > 0
    return sum((r.breastfed, r.grains, r.pulses, dairy, r.flesh, r.eggs, r.vita_fv,
                r.other_fv))


def ate_solids(r: Recall) -> bool:
    """Return True when the child ate solid, semi-solid or soft food yesterday."""
    return r.solid_feeds >= 1 or any(getattr(r, g) for g in SOLID_GROUPS)


def in_band(age: int, low: int, high: int) -> bool:
    """Return True when low ≤ age < high (months)."""
    return low <= age < high


def membership(r: Recall) -> dict[str, tuple[bool, bool]]:
    """Return, for each indicator of §4, (in denominator, in numerator) for one child.

    A child is in a numerator only when it is in the denominator.
    """
    age = r.age_months
    under6 = in_band(age, 0, 6)
    c623 = in_band(age, 6, 24)
    mdd = c623 and groups_eaten(r) >= MDD_MIN_GROUPS
    if r.breastfed:
        needed = 2 if in_band(age, 6, 9) else 3
        mmf = c623 and r.solid_feeds >= needed
        mmff_den, mmff = False, False
        mad = mdd and mmf
    else:
        mmf = c623 and r.solid_feeds + r.milk_feeds >= 4 and r.solid_feeds >= 1
        mmff_den = c623
        mmff = c623 and r.milk_feeds >= 2
        mad = mdd and mmf and mmff
    only_breast_milk = (r.breastfed and not r.other_liquids and r.milk_feeds == 0
                        and r.solid_feeds == 0 and groups_eaten(r) == 1)
    return {
        "EIBF": (in_band(age, 0, 24), in_band(age, 0, 24) and r.early_bf is True),
        "EBF": (under6, under6 and only_breast_milk),
        "CBF": (in_band(age, 12, 24), in_band(age, 12, 24) and r.breastfed),
        "ISSSF": (in_band(age, 6, 9), in_band(age, 6, 9) and ate_solids(r)),
        "MDD": (c623, mdd),
        "MMF": (c623, mmf),
        "MMFF": (mmff_den, mmff),
        "MAD": (c623, mad),
        "EFF": (c623, c623 and (r.eggs or r.flesh)),
        "ZVF": (c623, c623 and not (r.vita_fv or r.other_fv)),
    }


def indicators(recalls: Iterable[Recall]) -> dict[str, Share]:
    """Return every IYCF 2021 indicator (numerator, denominator, %) over the recalls (§4)."""
    num = dict.fromkeys(INDICATORS, 0)
    den = dict.fromkeys(INDICATORS, 0)
    for r in recalls:
        for code, (d, n) in membership(r).items():
            den[code] += d
            num[code] += n
    return {code: Share(num[code], den[code]) for code in INDICATORS}


def add_shares(parts: Sequence[dict[str, Share]]) -> dict[str, Share]:
    """Return the indicators of the union of groups of recalls (numerators and denominators
    add up)."""
    return {code: Share(sum(p[code].numerator for p in parts),
                        sum(p[code].denominator for p in parts)) for code in INDICATORS}


@dataclass(frozen=True)
class Fault:
    """One fault of a recall's answers: field, code, French and English text."""

    field: str
    code: str
    fr: str
    en: str


def check_recall(r: Recall) -> list[Fault]:
    """Return the faults of a recall (impossible answers), empty when it is acceptable.

    The recall is for children under 24 months (§4); counts of feeds are 0..20.
    """
    out: list[Fault] = []
    if r.age_months < 0:
        out.append(Fault("age", "age_negative", "L'âge ne peut pas être négatif",
                         "The age cannot be negative"))
    elif r.age_months >= 24:
        out.append(Fault("age", "age_over_23_months",
                         "Le rappel alimentaire concerne les enfants de 0 à 23 mois",
                         "The feeding recall is for children aged 0–23 months"))
    for name in ("solid_feeds", "milk_feeds"):
        n = getattr(r, name)
        if n < 0 or n > MAX_FEEDS:
            out.append(Fault(name, "feeds_out_of_range",
                             f"Nombre de repas entre 0 et {MAX_FEEDS}",
                             f"Number of feeds between 0 and {MAX_FEEDS}"))
    return out


def latest_birth(on: date, months: int) -> date:
    """Return the latest birth date for which a child has at least `months` completed
    months on `on` (the inverse of `completed_months`, for age-band queries)."""
    total = on.year * 12 + (on.month - 1) - months
    year, month = divmod(total, 12)
    month += 1
    end = _month_end_day(year, month)
    if on.day == _month_end_day(on.year, on.month):
        return date(year, month, end)
    return date(year, month, min(on.day, end))
