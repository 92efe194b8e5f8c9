"""Mali's routine immunization schedule (PEV) and dose status rules.

Implements reference/immunization.md §1: the schedule table as data, the validity of recorded
doses, and the status of every scheduled dose on a given date. Pure functions: no I/O and no
clock (the evaluation date is always a parameter).

Design choices for rules the reference leaves open (each is tested):

* **Series are strictly sequential.** Dose N of a series (N > 1, or any dose that has a minimum
  interval) counts only if dose N-1 was validly given before it; otherwise it is invalid with
  reason ``previous_dose_missing``. The valid doses of a series are therefore always 1..k, so
  the "previous valid dose" of dose N is dose N-1, and at most one dose of a series is ever
  due or overdue. OPV0 is its own series: it does not count toward OPV1-3 and OPV1 has no
  predecessor. MCV2 follows MCV1, MALARIA4 follows MALARIA3, MALARIA5 follows MALARIA4.
* **Late doses count.** Validity is the reference's rule only (minimum age and minimum
  interval); a dose recorded after its expiry age is still valid (WHO: late doses are not
  repeated). Expiry only decides whether a missing dose is still offered.
* **A recorded dose wins over eligibility.** A valid MALARIA dose of a child outside the
  eligible districts (e.g. a child who moved) is shown ``given``; the missing doses are
  ``not_eligible``.
* **Seasonal doses (MALARIA4, MALARIA5).** Due date = the first date on or after
  max(birth + recommended age, previous valid dose + booster interval) that lies in the season
  window (default May 1 - June 30): that date itself when inside the window, May 1 of its year
  when before the window, May 1 of the next year when after it. The table gives no age for
  these doses; the series' minimum age (5 months) is used as recommended and minimum age, a
  floor that the booster interval always exceeds.
* **A dose that can no longer be preceded** (its previous dose is expired and was never given,
  e.g. MALARIA4 after MALARIA3 expired at 36 months) is ``expired`` with reason
  ``previous_dose_expired``, instead of waiting for ever.
* **Given slots keep their due date** (useful for timeliness); waiting, not-eligible and
  previous-expired slots have none.
"""

from __future__ import annotations

import calendar
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import lru_cache

import numpy as np
import numpy.typing as npt

__all__ = [
    "REASONS",
    "STATUSES",
    "VACCINES",
    "Age",
    "DoseCheck",
    "DoseRule",
    "DoseStatus",
    "GivenDose",
    "ScheduleParams",
    "add_months",
    "assess_doses",
    "batch_slots",
    "describe",
    "evaluate",
    "evaluate_batch",
    "from_epoch_day",
    "fully_immunized",
    "is_defaulter",
    "mali_schedule",
    "max_dose",
    "rule_for",
    "seasonal_date",
    "to_epoch_day",
    "valid_given_days",
]

STATUSES = ("given", "invalid", "upcoming", "due", "overdue", "expired", "not_eligible")
_GIVEN, _INVALID, _UPCOMING, _DUE, _OVERDUE, _EXPIRED, _NOT_ELIGIBLE = range(len(STATUSES))

VACCINES: frozenset[str] = frozenset(
    {"BCG", "OPV", "PENTA", "PCV", "ROTA", "IPV", "MCV", "YF", "MENA", "MALARIA"}
)

_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


# --------------------------------------------------------------------------- dates and ages


def to_epoch_day(d: date) -> int:
    """Return the number of days from 1970-01-01 to `d`."""
    return d.toordinal() - _EPOCH_ORDINAL


def from_epoch_day(n: int) -> date:
    """Return the date `n` days after 1970-01-01."""
    return date.fromordinal(int(n) + _EPOCH_ORDINAL)


def add_months(d: date, months: int) -> date:
    """Return `d` plus calendar months, clamped to the month end (31 Jan + 1 month: 28/29 Feb)."""
    total = d.year * 12 + (d.month - 1) + months
    year, month0 = divmod(total, 12)
    last = calendar.monthrange(year, month0 + 1)[1]
    return date(year, month0 + 1, min(d.day, last))


@dataclass(frozen=True)
class Age:
    """An age: calendar months then days from birth (weeks are 7 days), reference §1."""

    months: int = 0
    days: int = 0

    def __post_init__(self) -> None:
        if self.months < 0 or self.days < 0:
            raise ValueError(f"age must not be negative: {self!r}")

    def after(self, d: date) -> date:
        """Return the date this age is reached by someone born on `d` (months first, then days)."""
        return add_months(d, self.months) + timedelta(days=self.days)


def _weeks(n: int) -> Age:
    return Age(days=7 * n)


_FIVE_YEARS = Age(months=60)
_FOUR_WEEKS = _weeks(4)


def seasonal_date(d: date, window: tuple[int, int] = (5, 6)) -> date:
    """Return the first date on or after `d` inside the season window of months (reference §1)."""
    start, end = window
    if start <= d.month <= end:
        return d
    if d.month < start:
        return date(d.year, start, 1)
    return date(d.year + 1, start, 1)


# --------------------------------------------------------------------------- the schedule


@dataclass(frozen=True)
class DoseRule:
    """One row of the schedule table of reference/immunization.md §1."""

    vaccine: str
    dose: int
    recommended: Age
    minimum: Age
    min_interval: Age | None
    expires: Age | None
    restricted: bool = False
    seasonal: bool = False


_DEFAULT_FULLY_IMMUNIZED: tuple[tuple[str, int], ...] = (
    ("BCG", 1),
    ("OPV", 1),
    ("OPV", 2),
    ("OPV", 3),
    ("PENTA", 1),
    ("PENTA", 2),
    ("PENTA", 3),
    ("PCV", 1),
    ("PCV", 2),
    ("PCV", 3),
    ("ROTA", 1),
    ("ROTA", 2),
    ("ROTA", 3),
    ("IPV", 1),
    ("MCV", 1),
    ("YF", 1),
    ("MENA", 1),
)


@dataclass(frozen=True)
class ScheduleParams:
    """The configurable values of reference/immunization.md §1, with their defaults."""

    grace_days: int = 28
    bcg_expiry: Age = Age(months=12)
    opv0_expiry: Age = Age(days=14)
    rota_doses: int = 3
    malaria_districts: frozenset[str] = frozenset()
    malaria_booster_interval: Age = Age(months=6)
    malaria_window: tuple[int, int] = (5, 6)
    fully_immunized: tuple[tuple[str, int], ...] = field(default=_DEFAULT_FULLY_IMMUNIZED)

    def __post_init__(self) -> None:
        if self.grace_days < 0:
            raise ValueError("grace_days must be >= 0")
        if self.rota_doses not in (2, 3):
            raise ValueError("rota_doses must be 2 or 3")
        start, end = self.malaria_window
        if not 1 <= start <= end <= 12:
            raise ValueError("malaria_window must be months (start, end), 1 <= start <= end <= 12")
        known = {(r.vaccine, r.dose) for r in _table(self.bcg_expiry, self.opv0_expiry, 3, Age())}
        unknown = [item for item in self.fully_immunized if tuple(item) not in known]
        if unknown:
            raise ValueError(f"fully_immunized names doses not in the schedule: {unknown}")


def _table(bcg_expiry: Age, opv0_expiry: Age, rota_doses: int, booster: Age) -> list[DoseRule]:
    rows: list[DoseRule] = [
        DoseRule("BCG", 1, Age(), Age(), None, bcg_expiry),
        DoseRule("OPV", 0, Age(), Age(), None, opv0_expiry),
    ]
    for vaccine, expires, count in (
        ("OPV", _FIVE_YEARS, 3),
        ("PENTA", _FIVE_YEARS, 3),
        ("PCV", _FIVE_YEARS, 3),
        ("ROTA", Age(months=24), rota_doses),
    ):
        for n, weeks in zip(range(1, count + 1), (6, 10, 14), strict=False):
            interval = None if n == 1 else _FOUR_WEEKS
            rows.append(DoseRule(vaccine, n, _weeks(weeks), _weeks(6), interval, expires))
    rows += [
        DoseRule("IPV", 1, _weeks(14), _weeks(14), None, _FIVE_YEARS),
        DoseRule("MCV", 1, Age(months=9), Age(months=9), None, _FIVE_YEARS),
        DoseRule("MCV", 2, Age(months=15), Age(months=15), _FOUR_WEEKS, _FIVE_YEARS),
        DoseRule("YF", 1, Age(months=9), Age(months=9), None, _FIVE_YEARS),
        DoseRule("MENA", 1, Age(months=9), Age(months=9), None, _FIVE_YEARS),
    ]
    for n, months in ((1, 5), (2, 6), (3, 7)):
        interval = None if n == 1 else _FOUR_WEEKS
        rows.append(
            DoseRule(
                "MALARIA",
                n,
                Age(months=months),
                Age(months=5),
                interval,
                Age(months=36),
                restricted=True,
            )
        )
    for n in (4, 5):
        rows.append(
            DoseRule(
                "MALARIA",
                n,
                Age(months=5),
                Age(months=5),
                booster,
                _FIVE_YEARS,
                restricted=True,
                seasonal=True,
            )
        )
    return rows


@dataclass(frozen=True)
class _Slot:
    vaccine: str
    dose: int
    rule: DoseRule | None  # None: not in the schedule for these params (ROTA3, 2-dose product)
    pred: int | None  # index of the previous dose of the series in the slot list


@dataclass(frozen=True)
class _Compiled:
    schedule: tuple[DoseRule, ...]
    rules: dict[tuple[str, int], DoseRule]
    slots: tuple[_Slot, ...]


@lru_cache(maxsize=32)
def _compile(params: ScheduleParams) -> _Compiled:
    full = _table(params.bcg_expiry, params.opv0_expiry, 3, params.malaria_booster_interval)
    schedule = tuple(r for r in full if not (r.vaccine == "ROTA" and r.dose > params.rota_doses))
    rules = {(r.vaccine, r.dose): r for r in schedule}
    index = {(r.vaccine, r.dose): i for i, r in enumerate(full)}
    slots = tuple(
        _Slot(
            r.vaccine,
            r.dose,
            rules.get((r.vaccine, r.dose)),
            None if r.min_interval is None else index[(r.vaccine, r.dose - 1)],
        )
        for r in full
    )
    return _Compiled(schedule, rules, slots)


def mali_schedule(params: ScheduleParams = ScheduleParams()) -> tuple[DoseRule, ...]:
    """Return the schedule table of reference/immunization.md §1 as rules, in table order."""
    return _compile(params).schedule


def rule_for(vaccine: str, dose: int, params: ScheduleParams = ScheduleParams()) -> DoseRule | None:
    """Return the rule of one dose, or None when that dose is not in the schedule (§1)."""
    return _compile(params).rules.get((vaccine, dose))


def max_dose(vaccine: str, params: ScheduleParams = ScheduleParams()) -> int:
    """Return the highest dose number of a vaccine in the schedule (ValueError if unknown)."""
    doses = [r.dose for r in _compile(params).schedule if r.vaccine == vaccine]
    if not doses:
        raise ValueError(f"unknown vaccine code: {vaccine!r}")
    return max(doses)


def batch_slots(params: ScheduleParams = ScheduleParams()) -> tuple[tuple[str, int], ...]:
    """Return the (vaccine, dose) slots in schedule order: the columns of evaluate_batch.

    The columns are the same for every params (ROTA3 is a column even for a two-dose product,
    where it is always ``not_eligible``).
    """
    return tuple((s.vaccine, s.dose) for s in _compile(params).slots)


# --------------------------------------------------------------------------- dose validity


@dataclass(frozen=True)
class GivenDose:
    """A dose recorded in the register."""

    vaccine: str
    dose: int
    given_on: date
    id: str | None = None


@dataclass(frozen=True)
class DoseCheck:
    """The validity of one recorded dose (reference §1); reason is None when valid."""

    id: str | None
    vaccine: str
    dose: int
    given_on: date
    valid: bool
    reason: str | None


@dataclass(frozen=True)
class DoseStatus:
    """The status of one scheduled dose (or one invalid recorded dose) on a date (§1)."""

    vaccine: str
    dose: int
    status: str
    due_date: date | None
    given_date: date | None
    reason: str | None


def assess_doses(
    birth_date: date, doses: Sequence[GivenDose], params: ScheduleParams = ScheduleParams()
) -> list[DoseCheck]:
    """Return one DoseCheck per recorded dose, in input order (reference/immunization.md §1).

    Doses are examined in date order (then dose number). A dose is valid iff, in this order of
    checks (the first failing one gives the reason):

    * ``unknown_dose``: the vaccine code or dose number is not in the schedule
      (``product_two_doses`` for ROTA3 when a two-dose rotavirus product is configured);
    * ``duplicate_dose``: the same dose of the series was already validly given;
    * ``before_minimum_age``: given before birth + minimum age;
    * ``previous_dose_missing``: the dose has a predecessor in its series (dose N-1; OPV0 is
      not a predecessor of OPV1) and that predecessor was not validly given before it. Series
      are counted strictly in sequence, so that at most one dose of a series is ever due;
    * ``interval_too_short``: given before the previous valid dose + minimum interval.

    Expiry does not make a recorded dose invalid (late doses count).
    """
    compiled = _compile(params)
    order = sorted(range(len(doses)), key=lambda i: (doses[i].given_on, doses[i].dose, i))
    valid_on: dict[tuple[str, int], date] = {}
    reasons: dict[int, str | None] = {}
    for i in order:
        rec = doses[i]
        key = (rec.vaccine, rec.dose)
        rule = compiled.rules.get(key)
        reason: str | None = None
        if rule is None:
            two_dose = rec.vaccine == "ROTA" and rec.dose == 3 and params.rota_doses == 2
            reason = "product_two_doses" if two_dose else "unknown_dose"
        elif key in valid_on:
            reason = "duplicate_dose"
        elif rec.given_on < rule.minimum.after(birth_date):
            reason = "before_minimum_age"
        elif rule.min_interval is not None:
            previous = valid_on.get((rec.vaccine, rec.dose - 1))
            if previous is None:
                reason = "previous_dose_missing"
            elif rec.given_on < rule.min_interval.after(previous):
                reason = "interval_too_short"
        if reason is None:
            valid_on[key] = rec.given_on
        reasons[i] = reason
    return [
        DoseCheck(d.id, d.vaccine, d.dose, d.given_on, reasons[i] is None, reasons[i])
        for i, d in enumerate(doses)
    ]


def valid_given_days(
    birth_date: date, doses: Sequence[GivenDose], params: ScheduleParams = ScheduleParams()
) -> list[int]:
    """Return one row of evaluate_batch's given_days: valid dose day per slot, -1 when none."""
    valid = {
        (c.vaccine, c.dose): c.given_on for c in assess_doses(birth_date, doses, params) if c.valid
    }
    return [to_epoch_day(valid[slot]) if slot in valid else -1 for slot in batch_slots(params)]


# --------------------------------------------------------------------------- status on a date


def _due_from(
    rule: DoseRule, birth_date: date, previous: date | None, params: ScheduleParams
) -> date:
    due = rule.recommended.after(birth_date)
    if previous is not None and rule.min_interval is not None:
        due = max(due, rule.min_interval.after(previous))
    if rule.seasonal:
        due = seasonal_date(due, params.malaria_window)
    return due


def evaluate(
    birth_date: date,
    doses: Sequence[GivenDose],
    on: date,
    district: str | None = None,
    params: ScheduleParams = ScheduleParams(),
) -> list[DoseStatus]:
    """Return the status of every scheduled dose on `on`, plus the invalid recorded doses (§1).

    One entry per slot of batch_slots(), in schedule order, with exactly one status:

    * ``given``: validly given (due_date is when it was due, given_date when it was given);
    * ``not_eligible``: MALARIA outside params.malaria_districts or district None (reason
      ``district_not_eligible``), ROTA3 for a two-dose product (``product_two_doses``);
    * ``expired``: on >= birth + expiry age and never given; also (reason
      ``previous_dose_expired``) when the previous dose of the series expired without being given;
    * ``upcoming`` with due_date None and reason ``waits_for_previous`` when the previous dose of
      the series is not validly given;
    * otherwise, with due = max(birth + recommended age, previous valid dose + minimum interval)
      (seasonal doses: moved into the season window): ``upcoming`` if on < due, ``due`` if
      due <= on < due + grace, ``overdue`` if on >= due + grace.

    A slot with an invalid attempt gets reason ``previous_attempt_invalid`` (unless it waits for
    its previous dose or its previous dose expired). Each invalid recorded dose adds an entry
    with status ``invalid`` (given_date and the DoseCheck reason set, due_date None) right after
    its slot, in date order; invalid doses with no slot come last. Doses recorded after `on`
    are ignored.
    """
    compiled = _compile(params)
    recorded = [d for d in doses if d.given_on <= on]
    checks = assess_doses(birth_date, recorded, params)
    valid = {(c.vaccine, c.dose): c.given_on for c in checks if c.valid}
    invalid: dict[tuple[str, int], list[DoseCheck]] = {}
    for c in sorted((c for c in checks if not c.valid), key=lambda c: c.given_on):
        invalid.setdefault((c.vaccine, c.dose), []).append(c)
    eligible = district is not None and district in params.malaria_districts
    grace = timedelta(days=params.grace_days)

    out: list[DoseStatus] = []
    codes: list[int] = []
    for slot in compiled.slots:
        key = (slot.vaccine, slot.dose)
        rule = slot.rule
        given = valid.get(key)
        attempts = invalid.pop(key, [])
        previous: date | None = None
        if slot.pred is not None:
            pred_slot = compiled.slots[slot.pred]
            previous = valid.get((pred_slot.vaccine, pred_slot.dose))
        due: date | None = None
        reason: str | None = None
        if rule is None:
            code, reason = _NOT_ELIGIBLE, "product_two_doses"
        elif given is not None:
            code, due = _GIVEN, _due_from(rule, birth_date, previous, params)
        elif rule.restricted and not eligible:
            code, reason = _NOT_ELIGIBLE, "district_not_eligible"
        else:
            expired = rule.expires is not None and on >= rule.expires.after(birth_date)
            reason = "previous_attempt_invalid" if attempts else None
            if slot.pred is not None and previous is None:
                if codes[slot.pred] == _EXPIRED:
                    code, reason = _EXPIRED, "previous_dose_expired"
                elif expired:
                    code = _EXPIRED
                else:
                    code, reason = _UPCOMING, "waits_for_previous"
            else:
                due = _due_from(rule, birth_date, previous, params)
                if expired:
                    code = _EXPIRED
                elif on < due:
                    code = _UPCOMING
                elif on < due + grace:
                    code = _DUE
                else:
                    code = _OVERDUE
        codes.append(code)
        out.append(DoseStatus(slot.vaccine, slot.dose, STATUSES[code], due, given, reason))
        out.extend(_invalid_entry(c) for c in attempts)
    for rest in sorted(
        (c for cs in invalid.values() for c in cs), key=lambda c: (c.given_on, c.vaccine, c.dose)
    ):
        out.append(_invalid_entry(rest))
    return out


def _invalid_entry(check: DoseCheck) -> DoseStatus:
    return DoseStatus(check.vaccine, check.dose, "invalid", None, check.given_on, check.reason)


def is_defaulter(statuses: Sequence[DoseStatus]) -> bool:
    """Return True when at least one dose is overdue (a defaulter, reference §1)."""
    return any(s.status == "overdue" for s in statuses)


def fully_immunized(
    birth_date: date, doses: Sequence[GivenDose], params: ScheduleParams = ScheduleParams()
) -> bool:
    """Return True when every params.fully_immunized dose is valid by the first birthday (§1).

    "By the first birthday" includes the birthday itself. Listed doses that are not in the
    schedule for these params (ROTA3 with a two-dose product) are not required.
    """
    birthday = add_months(birth_date, 12)
    valid = {
        (c.vaccine, c.dose)
        for c in assess_doses(birth_date, doses, params)
        if c.valid and c.given_on <= birthday
    }
    required = [item for item in params.fully_immunized if rule_for(*item, params) is not None]
    return all(tuple(item) in valid for item in required)


# --------------------------------------------------------------------------- reason texts

_REASON_TEXT: dict[str, tuple[str, str]] = {
    "unknown_dose": (
        "vaccin ou numéro de dose inconnu dans le calendrier",
        "vaccine or dose number not in the schedule",
    ),
    "product_two_doses": (
        "le vaccin rotavirus utilisé n'a que deux doses",
        "the rotavirus product in use has only two doses",
    ),
    "duplicate_dose": (
        "cette dose a déjà été donnée valablement",
        "this dose was already validly given",
    ),
    "before_minimum_age": (
        "dose donnée avant l'âge minimum",
        "dose given before the minimum age",
    ),
    "previous_dose_missing": (
        "la dose précédente de la série n'avait pas été donnée valablement",
        "the previous dose of the series had not been validly given",
    ),
    "interval_too_short": (
        "intervalle trop court depuis la dose précédente",
        "interval since the previous dose too short",
    ),
    "district_not_eligible": (
        "vaccin non offert dans ce district",
        "vaccine not offered in this district",
    ),
    "waits_for_previous": (
        "attend que la dose précédente soit donnée",
        "waits for the previous dose to be given",
    ),
    "previous_attempt_invalid": (
        "une dose déjà enregistrée n'est pas valide et doit être redonnée",
        "a recorded dose is not valid and must be given again",
    ),
    "previous_dose_expired": (
        "la dose précédente a expiré sans être donnée",
        "the previous dose expired without being given",
    ),
}

REASONS: tuple[str, ...] = tuple(_REASON_TEXT)


def describe(reason: str, lang: str = "fr") -> str:
    """Return the human text of a reason code in French (default) or English ("en")."""
    try:
        fr, en = _REASON_TEXT[reason]
    except KeyError:
        raise ValueError(f"unknown reason code: {reason!r}") from None
    if lang.startswith("en"):
        return en
    if lang.startswith("fr"):
        return fr
    raise ValueError(f"unsupported language: {lang!r}")


# --------------------------------------------------------------------------- batch

_I64 = npt.NDArray[np.int64]


def _np_after(days: _I64, age: Age) -> _I64:
    """Vectorised Age.after on epoch days (months clamped to the month's end, then days).

    A register has far fewer distinct days than children (a district's 55,000 children
    under five were born on some 1,800 days), so month arithmetic on a large array is done
    once per distinct day: the datetime64 conversions were most of evaluate_batch's time.
    """
    if age.months == 0:
        return days + age.days
    if days.size > 4096:
        distinct, index = np.unique(days, return_inverse=True)
        if distinct.size * 4 < days.size:
            spread: _I64 = _np_after(distinct, age)[index.reshape(days.shape)]
            return spread
    as_dates = days.astype("datetime64[D]")
    month = as_dates.astype("datetime64[M]")
    day_index = (as_dates - month.astype("datetime64[D]")).astype(np.int64)
    target = month + np.timedelta64(age.months, "M")
    start = target.astype("datetime64[D]").astype(np.int64)
    length = (target + np.timedelta64(1, "M")).astype("datetime64[D]").astype(np.int64) - start
    result: _I64 = start + np.minimum(day_index, length - 1) + age.days
    return result


def _np_seasonal(days: _I64, window: tuple[int, int]) -> _I64:
    """Vectorised seasonal_date on epoch days."""
    start, end = window
    months = days.astype("datetime64[D]").astype("datetime64[M]").astype(np.int64)
    month0 = months % 12
    january = months - month0
    target = np.where(month0 < start - 1, january + start - 1, january + 12 + start - 1)
    first = target.astype("datetime64[M]").astype("datetime64[D]").astype(np.int64)
    inside = (month0 >= start - 1) & (month0 <= end - 1)
    return np.where(inside, days, first).astype(np.int64)


def evaluate_batch(
    birth_days: npt.NDArray[np.int64],
    given_days: npt.NDArray[np.int64],
    on: date,
    eligible_malaria: npt.NDArray[np.bool_] | None = None,
    params: ScheduleParams = ScheduleParams(),
) -> tuple[tuple[tuple[str, int], ...], npt.NDArray[np.int8], npt.NDArray[np.int64]]:
    """Return (slots, status codes indexing STATUSES, due days or -1) for many children (§1).

    Vectorised equivalent of evaluate() for children whose recorded doses are valid:
    birth_days are days since 1970-01-01 (n,), given_days (n, len(slots)) the day of the valid
    dose per slot (-1 when none; days after `on` are ignored), eligible_malaria (n,) whether
    the child lives in a MALARIA district (None: nobody). Never returns ``invalid``.
    """
    compiled = _compile(params)
    slots = batch_slots(params)
    birth = np.asarray(birth_days, dtype=np.int64)
    if birth.ndim != 1:
        raise ValueError("birth_days must have shape (n,)")
    n = birth.shape[0]
    given_in = np.asarray(given_days, dtype=np.int64)
    if given_in.shape != (n, len(slots)):
        raise ValueError(f"given_days must have shape ({n}, {len(slots)})")
    if eligible_malaria is None:
        eligible = np.zeros(n, dtype=bool)
    else:
        eligible = np.asarray(eligible_malaria, dtype=bool)
        if eligible.shape != (n,):
            raise ValueError(f"eligible_malaria must have shape ({n},)")

    today = to_epoch_day(on)
    given_mask = (given_in >= 0) & (given_in <= today)
    status = np.empty((n, len(slots)), dtype=np.int8)
    due_out = np.full((n, len(slots)), -1, dtype=np.int64)
    ages: dict[Age, _I64] = {}

    def birth_plus(age: Age) -> _I64:
        if age not in ages:
            ages[age] = _np_after(birth, age)
        return ages[age]

    for j, slot in enumerate(compiled.slots):
        rule = slot.rule
        if rule is None:
            status[:, j] = _NOT_ELIGIBLE
            continue
        due = birth_plus(rule.recommended)
        waits = np.zeros(n, dtype=bool)
        pred_expired = np.zeros(n, dtype=bool)
        if slot.pred is not None and rule.min_interval is not None:
            pred_given = given_mask[:, slot.pred]
            after_pred = _np_after(given_in[:, slot.pred], rule.min_interval)
            due = np.where(pred_given, np.maximum(due, after_pred), due)
            waits = ~pred_given
            pred_expired = waits & (status[:, slot.pred] == _EXPIRED)
        if rule.seasonal:
            due = _np_seasonal(due, params.malaria_window)
        if rule.expires is None:
            expired = np.zeros(n, dtype=bool)
        else:
            expired = today >= birth_plus(rule.expires)
        code = np.where(
            today < due, _UPCOMING, np.where(today < due + params.grace_days, _DUE, _OVERDUE)
        )
        code = np.where(waits, _UPCOMING, code)
        code = np.where(expired | pred_expired, _EXPIRED, code)
        given = given_mask[:, j]
        if rule.restricted:
            code = np.where(~eligible, _NOT_ELIGIBLE, code)
        code = np.where(given, _GIVEN, code)
        status[:, j] = code
        no_due = waits | ~eligible if rule.restricted else waits
        has_due = given | ~no_due
        due_out[:, j] = np.where(has_due, due, -1)
    return slots, status, due_out
