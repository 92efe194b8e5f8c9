"""Pure rules of outreach sessions: validation, status changes, the session report and the
ranking of a micro-plan (reference/immunization.md §3, with §2 for zero-dose).

No I/O and no clock: "today" is always an argument.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from krc.errors import FieldError, Message

# reference/immunization.md §3
STRATEGIES = ("fixed", "outreach", "mobile", "campaign")
PLACE_TYPES = ("market", "school", "place_of_worship", "bus_station", "other")
STATUSES = ("planned", "held", "cancelled")
# Strategies held away from the CSCom, where the gathering place is required (§3 names
# outreach; a mobile team also goes to a gathering place).
PLACE_REQUIRED = frozenset({"outreach", "mobile"})

# A session date further than this from today is refused as a typing error.
MAX_PAST_DAYS = 366
MAX_FUTURE_DAYS = 366
# Mali's bounding box (with a small margin): coordinates outside are refused, which
# catches swapped latitude/longitude (reference/geography.md).
MALI_LAT = (10.0, 25.1)
MALI_LON = (-12.3, 4.3)
# §2: a child is zero-dose from 10 weeks (6 weeks + 4 weeks' grace) to 5 years.
ZERO_DOSE_WEEKS = 10


def _err(name: str, code: str, fr: str, en: str, **params: object) -> FieldError:
    return FieldError(name, code, Message(fr, en, dict(params)))


@dataclass(frozen=True)
class SessionFacts:
    """What a session says about itself, as checked by `check_session`."""

    date: date
    strategy: str
    place_type: str | None
    place_name: str | None
    latitude: float | None
    longitude: float | None
    status: str = "planned"


def check_session(facts: SessionFacts, today: date) -> list[FieldError]:
    """Return every fault of a session's facts (empty when valid), reference §3.

    Strategy from the list; for outreach and mobile a gathering place type from the list
    and a place name; a place type always needs a name; coordinates both or neither, in
    range and inside Mali; the date within a year of today; a held session not in the
    future.
    """
    errors: list[FieldError] = []
    if facts.strategy not in STRATEGIES:
        errors.append(_err("strategy", "strategy_unknown",
                           "Stratégie inconnue : {s} ; valides : {v}",
                           "Unknown strategy: {s}; valid: {v}",
                           s=facts.strategy, v=", ".join(STRATEGIES)))
    if facts.status not in STATUSES:
        errors.append(_err("status", "status_unknown", "Statut inconnu : {s} ; valides : {v}",
                           "Unknown status: {s}; valid: {v}", s=facts.status,
                           v=", ".join(STATUSES)))
    if facts.place_type is not None and facts.place_type not in PLACE_TYPES:
        errors.append(_err("place_type", "place_type_unknown",
                           "Type de lieu inconnu : {t} ; valides : {v}",
                           "Unknown place type: {t}; valid: {v}",
                           t=facts.place_type, v=", ".join(PLACE_TYPES)))
    elif facts.place_type is None and facts.strategy in PLACE_REQUIRED:
        errors.append(_err("place_type", "place_type_required",
                           "Indiquez le type de lieu de rassemblement ({v}) pour une séance "
                           "en stratégie {s}",
                           "Give the gathering place type ({v}) for a {s} session",
                           v=", ".join(PLACE_TYPES), s=facts.strategy))
    if (facts.place_type is not None or facts.strategy in PLACE_REQUIRED) \
            and not (facts.place_name or "").strip():
        errors.append(_err("place_name", "place_name_required",
                           "Indiquez le nom du lieu (ex. « Marché de Kati »)",
                           "Give the name of the place (e.g. \"Marché de Kati\")"))
    errors += check_coordinates(facts.latitude, facts.longitude)
    if facts.date < today - timedelta(days=MAX_PAST_DAYS):
        errors.append(_err("date", "date_too_old",
                           "La date {d} est à plus d'un an dans le passé",
                           "The date {d} is more than a year in the past",
                           d=facts.date.isoformat()))
    elif facts.date > today + timedelta(days=MAX_FUTURE_DAYS):
        errors.append(_err("date", "date_too_far",
                           "La date {d} est à plus d'un an dans le futur",
                           "The date {d} is more than a year in the future",
                           d=facts.date.isoformat()))
    elif facts.status == "held" and facts.date > today:
        errors.append(_err("status", "held_in_future",
                           "Une séance du {d} ne peut pas être déjà tenue",
                           "A session on {d} cannot have been held yet",
                           d=facts.date.isoformat()))
    return errors


def check_coordinates(latitude: float | None, longitude: float | None) -> list[FieldError]:
    """Return the faults of a coordinate pair: both or neither, in range, inside Mali."""
    if latitude is None and longitude is None:
        return []
    if latitude is None or longitude is None:
        missing = "latitude" if latitude is None else "longitude"
        return [_err(missing, "coordinates_incomplete",
                     "Donnez la latitude et la longitude, ou aucune des deux",
                     "Give both latitude and longitude, or neither")]
    errors: list[FieldError] = []
    if not math.isfinite(latitude) or not -90.0 <= latitude <= 90.0:
        errors.append(_err("latitude", "latitude_out_of_range",
                           "Latitude hors limites ({v}) : entre -90 et 90",
                           "Latitude out of range ({v}): between -90 and 90", v=latitude))
    if not math.isfinite(longitude) or not -180.0 <= longitude <= 180.0:
        errors.append(_err("longitude", "longitude_out_of_range",
                           "Longitude hors limites ({v}) : entre -180 et 180",
                           "Longitude out of range ({v}): between -180 and 180", v=longitude))
    if errors:
        return errors
    if not (MALI_LAT[0] <= latitude <= MALI_LAT[1] and MALI_LON[0] <= longitude <= MALI_LON[1]):
        errors.append(_err("latitude", "coordinates_outside_mali",
                           "Le point ({lat}, {lon}) est hors du Mali ; latitude et longitude "
                           "inversées ?",
                           "The point ({lat}, {lon}) is outside Mali; latitude and longitude "
                           "swapped?", lat=latitude, lon=longitude))
    return errors


def check_transition(current: str, new: str, linked_doses: int, session_date: date,
                     today: date) -> FieldError | None:
    """Return why a status change is refused, or None when allowed.

    planned → held (on or after the session date), planned → cancelled (no dose recorded),
    cancelled → planned (reinstated), held → planned only without doses; the same status
    is always accepted (a replayed request changes nothing).
    """
    if new not in STATUSES:
        return _err("status", "status_unknown", "Statut inconnu : {s} ; valides : {v}",
                    "Unknown status: {s}; valid: {v}", s=new, v=", ".join(STATUSES))
    if new == current:
        return None
    if new == "held" and current == "cancelled":
        return _err("status", "session_cancelled",
                    "Cette séance est annulée ; replanifiez-la d'abord",
                    "This session is cancelled; plan it again first")
    if new == "held" and session_date > today:
        return _err("status", "held_in_future", "Une séance du {d} ne peut pas être déjà tenue",
                    "A session on {d} cannot have been held yet", d=session_date.isoformat())
    if new in ("cancelled", "planned") and linked_doses:
        return _err("status", "session_has_doses",
                    "{n} dose(s) sont enregistrées à cette séance : elle a eu lieu",
                    "{n} dose(s) are recorded at this session: it took place", n=linked_doses)
    return None


# --------------------------------------------------------------------------- report

@dataclass(frozen=True)
class SessionDose:
    """One live dose recorded at a session, with the facts of its child the report needs.

    `first_penta_on` and `first_dose_on` are the child's first valid PENTA and first valid
    dose of any vaccine (child.penta1_on, child.first_dose_on).
    """

    child: str
    vaccine: str
    dose: int
    valid: bool
    birth_date: date
    first_penta_on: date | None
    first_dose_on: date | None


@dataclass(frozen=True)
class AntigenCount:
    """Doses of one vaccine-dose at a session: all recorded, and the valid ones."""

    vaccine: str
    dose: int
    doses: int
    valid: int


@dataclass(frozen=True)
class SessionReport:
    """The report of a session (reference/immunization.md §3).

    - `children`: children with at least one dose recorded at the session;
    - `doses` / `valid_doses`: doses recorded / valid among them;
    - `by_antigen`: per vaccine-dose, in schedule order of the codes given;
    - `zero_dose_first_penta`: children whose first valid PENTA was given at the session;
    - `zero_dose_first_vaccine`: children whose first valid vaccine ever was given at it;
    - `zero_dose_register`: among the first, those aged 10 weeks to 5 years on the day,
      i.e. counted zero-dose in the register (§2) the day before.
    """

    children: int
    doses: int
    valid_doses: int
    by_antigen: tuple[AntigenCount, ...]
    zero_dose_first_penta: int
    zero_dose_first_vaccine: int
    zero_dose_register: int
    found: tuple[str, ...] = field(default=())  # children counted in zero_dose_first_penta


def _add_months(d: date, months: int) -> date:
    y, m = divmod(d.month - 1 + months, 12)
    y += d.year
    m += 1
    leap = y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)
    last = (31, 29 if leap else 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)[m - 1]
    return date(y, m, min(d.day, last))


def session_report(session_date: date, doses: Iterable[SessionDose],
                   order: Sequence[tuple[str, int]] = (),
                   zero_dose_weeks: int = ZERO_DOSE_WEEKS) -> SessionReport:
    """Return the report of a session from its doses (reference/immunization.md §3).

    Zero-dose found has both definitions of §3, counted separately: the child's first
    valid PENTA was given at the session (`first_penta_on` == session date and a valid
    PENTA dose at the session), or the child's first valid vaccine ever was (`first_dose_on`
    == session date and a valid dose at the session). `order` sorts the antigens (schedule
    slot order); others follow by code.
    """
    rows = list(doses)
    counts: dict[tuple[str, int], list[int]] = {}
    children: set[str] = set()
    penta: set[str] = set()
    first_any: set[str] = set()
    register: set[str] = set()
    for r in rows:
        children.add(r.child)
        c = counts.setdefault((r.vaccine, r.dose), [0, 0])
        c[0] += 1
        c[1] += int(r.valid)
        if not r.valid:
            continue
        if r.vaccine == "PENTA" and r.first_penta_on == session_date:
            penta.add(r.child)
            old_enough = r.birth_date <= session_date - timedelta(weeks=zero_dose_weeks)
            if old_enough and r.birth_date > _add_months(session_date, -60):
                register.add(r.child)
        if r.first_dose_on == session_date:
            first_any.add(r.child)
    rank = {k: i for i, k in enumerate(order)}
    keys = sorted(counts, key=lambda k: (rank.get(k, len(rank)), k))
    return SessionReport(
        children=len(children), doses=len(rows), valid_doses=sum(int(r.valid) for r in rows),
        by_antigen=tuple(AntigenCount(v, d, counts[(v, d)][0], counts[(v, d)][1])
                         for v, d in keys),
        zero_dose_first_penta=len(penta), zero_dose_first_vaccine=len(first_any),
        zero_dose_register=len(register), found=tuple(sorted(penta)))


# --------------------------------------------------------------------------- micro-plan

@dataclass(frozen=True)
class VillageNeed:
    """Defaulters and zero-dose children of one village (None: village not recorded)."""

    village_id: int | None
    name: str
    defaulters: int
    zero_dose: int
    no_vaccine: int = 0
    latitude: float | None = None
    longitude: float | None = None


def rank_villages(villages: Iterable[VillageNeed]) -> list[VillageNeed]:
    """Return villages most in need first: by zero-dose children, then defaulters, then name.

    Zero-dose children come first because the programme targets them (IA2030, reference
    §2 "Priority districts" ranks by the number of zero-dose children, then the rest).
    """
    return sorted(villages, key=lambda v: (-v.zero_dose, -v.defaulters, v.village_id is None,
                                           v.name))


@dataclass(frozen=True)
class PlannedSession:
    """A planned session as the micro-plan places it near villages."""

    id: str
    date: date
    latitude: float | None
    longitude: float | None
    villages: frozenset[int] = frozenset()


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Return the great-circle distance in km (haversine, Earth radius 6,371 km)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * 6371.0 * math.asin(min(1.0, math.sqrt(a)))


def sessions_near(village: VillageNeed, sessions: Iterable[PlannedSession],
                  limit: int = 3) -> list[tuple[PlannedSession, float | None]]:
    """Return the sessions nearest a village, with the distance in km when known.

    Sessions that target the village come first; then, when the village and the session
    both have coordinates, by distance; the others after, by date (org units carry no
    coordinates, so this is the usual case).
    """
    def key(s: PlannedSession) -> tuple[int, int, float, date, str]:
        d = _distance(village, s)
        return (0 if village.village_id in s.villages else 1, 0 if d is not None else 1,
                d if d is not None else 0.0, s.date, s.id)

    ranked = sorted(sessions, key=key)[:limit]
    return [(s, _distance(village, s)) for s in ranked]


def _distance(village: VillageNeed, s: PlannedSession) -> float | None:
    if None in (village.latitude, village.longitude, s.latitude, s.longitude):
        return None
    return distance_km(village.latitude, village.longitude,  # type: ignore[arg-type]
                       s.latitude, s.longitude)  # type: ignore[arg-type]
