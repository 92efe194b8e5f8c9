"""Temperature alarms of a 2–8 °C vaccine refrigerator: WHO PQS 30-DTR single-event rules.

Reference: reference/immunization.md §5. Pure functions over numpy arrays (no I/O, no clock):
timestamps are int64 seconds since the Unix epoch (UTC), temperatures float64 °C.

Exact semantics (every threshold is a parameter, `AlarmParams`, stored as data):

- A reading is *heat* when °C > `heat_above` (+8.0, strict), *freeze* when °C ≤ `freeze_at`
  (−0.5; with `freeze_inclusive=False`, when °C < −0.5), otherwise *within*.
- A *gap* is two consecutive readings more than `max_gap_minutes` apart (strictly longer:
  exactly 60 min is not a gap). Every gap gives one `data_gap` notice (start = the reading
  before the gap, end = the reading after it, duration = the gap), whether or not an
  excursion was running: the device did not record, which the programme must know.
- An *excursion* is a maximal run of consecutive heat (or freeze) readings with no gap
  inside. It starts at its first reading. It ends at the first reading back within the limit
  (for heat: any reading ≤ +8.0, a freeze reading included) and lasts end − start. If the
  last reading of the trace is still beyond, the excursion is *open*: end is None and the
  duration is last − start. The timer resets on recovery, so short excursions never add up.
- An excursion interrupted by a gap ends at the reading before the gap (end = that reading,
  duration = that reading − start). It is an alarm when that duration already reached the
  limit; otherwise it is *not* an alarm and is not joined with the readings after the gap
  (a new excursion may start there). The `data_gap` notice is raised in both cases.
- An excursion lasting ≥ `heat_minutes` (600) or ≥ `freeze_minutes` (60) is one alarm
  (type, start, end or open, duration, min/max °C over its beyond readings).
- `no_data`: the newest reading is `no_data_hours` (24) or more before `now` (passed in).

Input order: readings are sorted by time (stable); a repeated timestamp keeps its first
reading (as the database does with its unique (device, at) key). NaN and infinite
temperatures are refused with the index of the first one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from krc.errors import invalid

HEAT, FREEZE, DATA_GAP, NO_DATA = "heat", "freeze", "data_gap", "no_data"
ALARM_TYPES = (HEAT, FREEZE, DATA_GAP, NO_DATA)

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True)
class AlarmParams:
    """Thresholds of the 30-DTR alarm rules (reference/immunization.md §5), all configurable."""

    heat_above: float = 8.0
    heat_minutes: int = 600
    freeze_at: float = -0.5
    freeze_inclusive: bool = True
    freeze_minutes: int = 60
    max_gap_minutes: int = 60
    no_data_hours: int = 24

    def __post_init__(self) -> None:
        if self.freeze_at >= self.heat_above:
            raise ValueError("freeze_at must be below heat_above")
        for name in ("heat_minutes", "freeze_minutes", "max_gap_minutes", "no_data_hours"):
            if getattr(self, name) <= 0:
                raise ValueError(f"{name} must be positive")


@dataclass(frozen=True)
class Event:
    """One alarm or notice: heat/freeze excursion that reached its limit, data_gap, no_data.

    Times are epoch seconds (UTC); `end` is None while open.
    """

    type: str
    start: int
    end: int | None
    duration_s: int
    min_celsius: float | None = None
    max_celsius: float | None = None

    @property
    def duration_minutes(self) -> int:
        """Return the duration in whole minutes (rounded down)."""
        return self.duration_s // 60


@dataclass(frozen=True)
class Excursions:
    """Every excursion of a trace (reaching the limit or not), as parallel arrays."""

    kind: npt.NDArray[np.int8]  # +1 heat, −1 freeze
    start: IntArray
    end: IntArray  # end time; for open excursions the last reading's time
    open: npt.NDArray[np.bool_]
    by_gap: npt.NDArray[np.bool_]  # ended at the reading before a gap
    duration: IntArray  # seconds
    min_celsius: FloatArray
    max_celsius: FloatArray
    alarm: npt.NDArray[np.bool_]  # reached its limit
    group: IntArray  # device index (batch form), 0 for a single trace


def prepare(times: npt.ArrayLike, celsius: npt.ArrayLike) -> tuple[IntArray, FloatArray]:
    """Return (times, celsius) sorted by time without repeated timestamps (first kept);
    raise a DomainError on NaN/infinite values or mismatched lengths."""
    t = np.asarray(times, dtype=np.int64)
    c = np.asarray(celsius, dtype=np.float64)
    if t.shape != c.shape or t.ndim != 1:
        raise invalid("readings", "readings_shape", "Horodatages et températures en nombre "
                      "différent", "Timestamps and temperatures differ in number")
    bad = ~np.isfinite(c)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise invalid("readings", "reading_not_finite",
                      "Lecture n° {i} : température non numérique ({v})",
                      "Reading #{i}: temperature is not a number ({v})", i=i + 1, v=str(c[i]))
    if t.size > 1 and not (np.diff(t) > 0).all():
        order = np.argsort(t, kind="stable")
        t, c = t[order], c[order]
        keep = np.ones(t.size, dtype=bool)
        keep[1:] = t[1:] != t[:-1]
        t, c = t[keep], c[keep]
    return t, c


def states(celsius: FloatArray, params: AlarmParams) -> npt.NDArray[np.int8]:
    """Return +1 (heat), −1 (freeze) or 0 (within) for each reading (§5 limits)."""
    s = np.zeros(celsius.shape, dtype=np.int8)
    s[celsius > params.heat_above] = 1
    frozen = celsius <= params.freeze_at if params.freeze_inclusive \
        else celsius < params.freeze_at
    s[frozen] = -1
    return s


def _excursions(t: IntArray, c: FloatArray, group: IntArray, params: AlarmParams
                ) -> tuple[Excursions, npt.NDArray[np.bool_]]:
    """Return every excursion of sorted traces (one per group) and the gap-after flags."""
    n = t.size
    s = states(c, params)
    gap_after = np.zeros(n, dtype=bool)  # a gap between reading i and reading i + 1
    same_next = np.zeros(n, dtype=bool)  # reading i + 1 belongs to the same device
    if n > 1:
        same_next[:-1] = group[1:] == group[:-1]
        gap_after[:-1] = same_next[:-1] & ((t[1:] - t[:-1]) > params.max_gap_minutes * 60)
    boundary = np.ones(n, dtype=bool)
    if n > 1:
        boundary[1:] = (s[1:] != s[:-1]) | gap_after[:-1] | ~same_next[:-1]
    starts = np.flatnonzero(boundary)
    if starts.size == 0:
        empty_i = np.zeros(0, dtype=np.int64)
        empty_f = np.zeros(0, dtype=np.float64)
        empty_b = np.zeros(0, dtype=bool)
        return Excursions(np.zeros(0, dtype=np.int8), empty_i, empty_i, empty_b, empty_b,
                          empty_i, empty_f, empty_f, empty_b, empty_i), gap_after
    lows = np.minimum.reduceat(c, starts)
    highs = np.maximum.reduceat(c, starts)
    lasts = np.empty_like(starts)
    lasts[:-1] = starts[1:] - 1
    lasts[-1] = n - 1
    beyond = s[starts] != 0
    starts, lasts, lows, highs = starts[beyond], lasts[beyond], lows[beyond], highs[beyond]
    kind = s[starts]
    has_next = same_next[lasts]
    by_gap = gap_after[lasts]
    is_open = ~has_next
    recovered = has_next & ~by_gap
    nxt = np.minimum(lasts + 1, n - 1)
    end = np.where(recovered, t[nxt], t[lasts])
    duration = end - t[starts]
    limit = np.where(kind > 0, params.heat_minutes * 60, params.freeze_minutes * 60)
    return Excursions(kind, t[starts], end, is_open, by_gap, duration, lows, highs,
                      duration >= limit, group[starts]), gap_after


def excursions(times: npt.ArrayLike, celsius: npt.ArrayLike,
               params: AlarmParams = AlarmParams()) -> Excursions:
    """Return every heat/freeze excursion of one device's trace, alarm or not (§5)."""
    t, c = prepare(times, celsius)
    return _excursions(t, c, np.zeros(t.size, dtype=np.int64), params)[0]


def _events(t: IntArray, group: IntArray, ex: Excursions, gap_after: npt.NDArray[np.bool_],
            ) -> list[tuple[int, Event]]:
    out: list[tuple[int, Event]] = []
    idx = np.flatnonzero(ex.alarm)
    for k, st, en, op, du, lo, hi, g in zip(
            ex.kind[idx].tolist(), ex.start[idx].tolist(), ex.end[idx].tolist(),
            ex.open[idx].tolist(), ex.duration[idx].tolist(), ex.min_celsius[idx].tolist(),
            ex.max_celsius[idx].tolist(), ex.group[idx].tolist(), strict=True):
        out.append((g, Event(HEAT if k > 0 else FREEZE, st, None if op else en, du, lo, hi)))
    gi = np.flatnonzero(gap_after)
    for a, b, g in zip(t[gi].tolist(), t[gi + 1].tolist(), group[gi].tolist(), strict=True):
        out.append((g, Event(DATA_GAP, a, b, b - a)))
    out.sort(key=lambda ge: (ge[0], ge[1].start, ALARM_TYPES.index(ge[1].type)))
    return out


def no_data(last_reading: int | None, now: int, params: AlarmParams = AlarmParams()
            ) -> Event | None:
    """Return the open `no_data` notice when nothing was recorded for `no_data_hours` (§5)."""
    if last_reading is None or now - last_reading < params.no_data_hours * 3600:
        return None
    return Event(NO_DATA, last_reading, None, now - last_reading)


def detect(times: npt.ArrayLike, celsius: npt.ArrayLike, params: AlarmParams = AlarmParams(),
           now: int | None = None) -> list[Event]:
    """Return one device's alarms and notices in time order: heat and freeze excursions that
    reached their limit, data gaps, and no_data as of `now` when given (§5)."""
    t, c = prepare(times, celsius)
    group = np.zeros(t.size, dtype=np.int64)
    ex, gap_after = _excursions(t, c, group, params)
    events = [e for _, e in _events(t, group, ex, gap_after)]
    if now is not None and t.size:
        nd = no_data(int(t[-1]), now, params)
        if nd is not None:
            events.append(nd)
    return events


def detect_batch(group: npt.ArrayLike, times: npt.ArrayLike, celsius: npt.ArrayLike,
                 params: AlarmParams = AlarmParams()) -> list[tuple[int, Event]]:
    """Return (device index, event) for many devices at once (no no_data).

    Readings must be sorted by (group, time) without repeated (group, time) pairs; each
    device's trace is analysed exactly as `detect` does.
    """
    g = np.asarray(group, dtype=np.int64)
    t = np.asarray(times, dtype=np.int64)
    c = np.asarray(celsius, dtype=np.float64)
    if not (g.shape == t.shape == c.shape):
        raise invalid("readings", "readings_shape", "Tableaux de tailles différentes",
                      "Arrays of different sizes")
    if not np.isfinite(c).all():
        i = int(np.flatnonzero(~np.isfinite(c))[0])
        raise invalid("readings", "reading_not_finite",
                      "Lecture n° {i} : température non numérique ({v})",
                      "Reading #{i}: temperature is not a number ({v})", i=i + 1, v=str(c[i]))
    if g.size > 1:
        dg, dt = np.diff(g), np.diff(t)
        if ((dg < 0) | ((dg == 0) & (dt <= 0))).any():
            raise invalid("readings", "readings_unsorted", "Lectures non triées par appareil "
                          "et heure", "Readings not sorted by device and time")
    ex, gap_after = _excursions(t, c, g, params)
    return _events(t, g, ex, gap_after)
