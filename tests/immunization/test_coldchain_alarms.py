"""WHO PQS 30-DTR alarm rules (reference/immunization.md §5): table-driven edge cases and
hypothesis properties of the pure, vectorised `alarms` module."""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from krc.errors import DomainError
from krc.immunization.coldchain.alarms import (
    AlarmParams,
    Event,
    detect,
    detect_batch,
    excursions,
    no_data,
    prepare,
)

P = AlarmParams()
T0 = 1_773_619_200  # 2026-03-16 00:00 UTC
M = 60


def trace(*parts: tuple[int, int, float], step: int = 10) -> tuple[list[int], list[float]]:
    """Readings every `step` minutes over [start, end) minutes for each (start, end, °C)."""
    times: list[int] = []
    temps: list[float] = []
    for start, end, celsius in parts:
        for minute in range(start, end, step):
            times.append(T0 + minute * M)
            temps.append(celsius)
    return times, temps


def at(minute: int, celsius: float) -> tuple[int, int, float]:
    """One reading at a given minute."""
    return (minute, minute + 1, celsius)


def kinds(events: list[Event]) -> list[str]:
    return [e.type for e in events]


# ---------------------------------------------------------------- table: limits and durations

LIMIT_CASES = [
    # (name, parts, params, expected [(type, start minute, end minute | None, duration min)])
    ("heat 9 h 59 is no alarm",
     [(0, 60, 5.0), (60, 659, 9.0), at(659, 5.0)], P, []),
    ("heat exactly 10 h is an alarm",
     [(0, 60, 5.0), (60, 660, 9.0), at(660, 5.0)], P, [("heat", 60, 660, 600)]),
    ("8.0 °C is within (strictly above 8.0 is heat)",
     [(0, 60, 5.0), (60, 900, 8.0), at(900, 5.0)], P, []),
    ("8.1 °C for 14 h is heat",
     [(0, 60, 5.0), (60, 900, 8.1), at(900, 5.0)], P, [("heat", 60, 900, 840)]),
    ("freeze 59 min is no alarm",
     [(0, 60, 4.0), (60, 119, -1.0), at(119, 3.0)], P, []),
    ("freeze exactly 60 min is an alarm",
     [(0, 60, 4.0), (60, 120, -1.0), at(120, 3.0)], P, [("freeze", 60, 120, 60)]),
    ("-0.5 counts as freezing by default",
     [(0, 60, 4.0), (60, 130, -0.5), at(130, 3.0)], P, [("freeze", 60, 130, 70)]),
    ("-0.5 does not count when not inclusive",
     [(0, 60, 4.0), (60, 130, -0.5), at(130, 3.0)], replace(P, freeze_inclusive=False), []),
    ("-0.4 is within (inclusive)",
     [(0, 60, 4.0), (60, 200, -0.4), at(200, 3.0)], P, []),
    ("-0.4 is within (exclusive)",
     [(0, 60, 4.0), (60, 200, -0.4), at(200, 3.0)], replace(P, freeze_inclusive=False), []),
    ("-0.6 is freezing (exclusive)",
     [(0, 60, 4.0), (60, 130, -0.6), at(130, 3.0)], replace(P, freeze_inclusive=False),
     [("freeze", 60, 130, 70)]),
    ("short excursions never add up (timer resets)",
     [(0, 360, 9.0), (360, 370, 6.0), (370, 730, 9.0), at(730, 6.0)], P, []),
    ("two long excursions are two alarms",
     [(0, 600, 9.0), (600, 610, 6.0), (610, 1210, 9.5), at(1210, 6.0)], P,
     [("heat", 0, 600, 600), ("heat", 610, 1210, 600)]),
    ("open heat alarm: still beyond at the last reading",
     [(0, 60, 5.0), (60, 720, 10.0), at(720, 10.0)], P, [("heat", 60, None, 660)]),
    ("open excursion below the limit is no alarm",
     [(0, 60, 5.0), (60, 600, 10.0)], P, []),
    ("heat straight into freeze: heat ends at the first freeze reading",
     [(0, 600, 9.0), (600, 700, -2.0), at(700, 4.0)], P,
     [("heat", 0, 600, 600), ("freeze", 600, 700, 100)]),
    ("configurable limits: heat after 2 h",
     [(0, 60, 5.0), (60, 180, 9.0), at(180, 5.0)], replace(P, heat_minutes=120),
     [("heat", 60, 180, 120)]),
]


@pytest.mark.parametrize("name,parts,params,expected", LIMIT_CASES,
                         ids=[c[0] for c in LIMIT_CASES])
def test_limits(name: str, parts: list[tuple[int, int, float]], params: AlarmParams,
                expected: list[tuple[str, int, int | None, int]]) -> None:
    times, temps = trace(*parts)
    got = [(e.type, (e.start - T0) // M, None if e.end is None else (e.end - T0) // M,
            e.duration_minutes) for e in detect(times, temps, params)]
    assert got == expected, name


def test_min_max_over_the_beyond_readings() -> None:
    times, temps = trace((0, 60, 5.0), (60, 400, 9.0), (400, 700, 12.5), at(700, 3.0))
    [alarm] = detect(times, temps)
    assert (alarm.min_celsius, alarm.max_celsius) == (9.0, 12.5)
    times, temps = trace((0, 60, 5.0), (60, 100, -0.5), (100, 130, -3.25), at(130, 3.0))
    [alarm] = detect(times, temps)
    assert (alarm.type, alarm.min_celsius, alarm.max_celsius) == ("freeze", -3.25, -0.5)


# ---------------------------------------------------------------- gaps

def test_gap_of_exactly_max_is_not_a_gap() -> None:
    times, temps = trace((0, 100, 5.0), at(150, 5.0), at(160, 5.0))  # 90 → 150: 60 min
    assert detect(times, temps) == []


def test_gap_of_max_plus_one_minute_is_a_data_gap() -> None:
    times, temps = trace((0, 100, 5.0), at(151, 5.0), at(161, 5.0))
    [gap] = detect(times, temps)
    assert (gap.type, (gap.start - T0) // M, gap.end, gap.duration_minutes) == (
        "data_gap", 90, T0 + 151 * M, 61)


def test_gap_limit_is_configurable() -> None:
    times, temps = trace((0, 100, 5.0), at(151, 5.0))
    assert detect(times, temps, replace(P, max_gap_minutes=120)) == []


def test_alarm_that_hits_a_gap_ends_at_the_reading_before_it() -> None:
    # Heat from minute 0 to 660 (last heat reading 660), then 2 h without data.
    times, temps = trace((0, 670, 9.0), (790, 850, 9.0), at(850, 5.0))
    events = detect(times, temps)
    assert kinds(events) == ["heat", "data_gap"]
    heat, gap = events
    assert (heat.start - T0, heat.end, heat.duration_minutes) == (0, T0 + 660 * M, 660)
    assert (gap.start, gap.end) == (T0 + 660 * M, T0 + 790 * M)


def test_excursion_below_limit_cut_by_gap_is_no_alarm_and_not_joined() -> None:
    # 5 h of heat, a 2 h gap, 6 h of heat: never 10 h continuously known.
    times, temps = trace((0, 300, 9.0), (420, 780, 9.0), at(780, 5.0))
    events = detect(times, temps)
    assert kinds(events) == ["data_gap"]
    ex = excursions(times, temps)
    assert ex.by_gap.tolist() == [True, False]
    assert ex.alarm.tolist() == [False, False]


def test_open_gap_free_single_reading_excursion() -> None:
    times, temps = trace((0, 100, 5.0), at(100, 9.0))
    ex = excursions(times, temps)
    assert ex.open.tolist() == [True] and ex.duration.tolist() == [0]
    assert detect(times, temps) == []


# ---------------------------------------------------------------- input handling

def test_unsorted_input_gives_the_same_events() -> None:
    times, temps = trace((0, 60, 5.0), (60, 700, 9.0), at(700, 5.0))
    order = np.random.default_rng(3).permutation(len(times))
    assert detect(np.asarray(times)[order], np.asarray(temps)[order]) == detect(times, temps)


def test_duplicate_timestamps_keep_the_first_reading() -> None:
    t, c = prepare([T0, T0 + 600, T0 + 600, T0 + 1200], [5.0, 9.0, 3.0, 4.0])
    assert t.tolist() == [T0, T0 + 600, T0 + 1200]
    assert c.tolist() == [5.0, 9.0, 4.0]


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_temperatures_are_refused(bad: float) -> None:
    with pytest.raises(DomainError) as exc:
        detect([T0, T0 + 600, T0 + 1200], [5.0, bad, 4.0])
    assert exc.value.code == "reading_not_finite"
    assert "n° 2" in exc.value.text("fr") and "#2" in exc.value.text("en")


def test_mismatched_lengths_are_refused() -> None:
    with pytest.raises(DomainError):
        detect([T0, T0 + 600], [5.0])


def test_empty_trace_has_no_events() -> None:
    assert detect([], []) == []
    assert detect([], [], now=T0) == []


def test_params_are_checked() -> None:
    with pytest.raises(ValueError):
        AlarmParams(freeze_at=9.0)
    with pytest.raises(ValueError):
        AlarmParams(heat_minutes=0)


# ---------------------------------------------------------------- no_data

@pytest.mark.parametrize("hours_ago,minutes_extra,expected", [
    (23, 59, False), (24, 0, True), (30, 0, True)])
def test_no_data_after_24_hours(hours_ago: int, minutes_extra: int, expected: bool) -> None:
    last = T0
    now = T0 + hours_ago * 3600 + minutes_extra * 60
    notice = no_data(last, now)
    assert (notice is not None) == expected
    if notice is not None:
        assert (notice.type, notice.start, notice.end) == ("no_data", last, None)
        assert notice.duration_s == now - last
    events = detect([last - 600, last], [5.0, 5.0], now=now)
    assert kinds(events) == (["no_data"] if expected else [])


def test_no_data_is_configurable() -> None:
    assert no_data(T0, T0 + 7 * 3600, replace(P, no_data_hours=6)) is not None
    assert no_data(None, T0) is None


# ---------------------------------------------------------------- properties

TEMPS = st.sampled_from([-2.0, -0.5, -0.4, 0.5, 4.0, 7.9, 8.0, 8.1, 12.0])


@st.composite
def traces(draw: st.DrawFn) -> tuple[list[int], list[float]]:
    n = draw(st.integers(0, 120))
    steps = draw(st.lists(st.sampled_from([5, 10, 30, 60, 61, 90, 240]), min_size=n,
                          max_size=n))
    temps = draw(st.lists(TEMPS, min_size=n, max_size=n))
    times = (T0 + np.cumsum(np.asarray(steps, dtype=np.int64) * M)).tolist() if n else []
    return times, temps


FAST = replace(P, heat_minutes=120, freeze_minutes=30)


def _covers(whole: list[Event], part: Event, last_whole: int) -> bool:
    for w in whole:
        if w.type != part.type:
            continue
        w_end = w.end if w.end is not None else last_whole
        p_end = part.end if part.end is not None else part.start + part.duration_s
        if w.start <= part.start and w_end >= p_end and w.duration_s >= part.duration_s:
            return True
    return False


@settings(max_examples=300, deadline=None)
@given(traces(), st.integers(0, 120), st.booleans())
def test_splitting_never_creates_alarms(tr: tuple[list[int], list[float]], k: int,
                                        inclusive: bool) -> None:
    times, temps = tr
    params = replace(FAST, freeze_inclusive=inclusive)
    whole = [e for e in detect(times, temps, params) if e.type in ("heat", "freeze")]
    k = min(k, len(times))
    for part_t, part_c in ((times[:k], temps[:k]), (times[k:], temps[k:])):
        for e in detect(part_t, part_c, params):
            if e.type in ("heat", "freeze"):
                assert _covers(whole, e, times[-1]), (e, whole)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.floats(-0.4, 8.0), max_size=200), st.sampled_from([1, 10, 60]))
def test_in_range_trace_has_no_events(temps: list[float], step: int) -> None:
    times = [T0 + i * step * M for i in range(len(temps))]
    assert detect(times, temps) == []


@settings(max_examples=200, deadline=None)
@given(traces())
def test_alarm_invariants(tr: tuple[list[int], list[float]]) -> None:
    times, temps = tr
    for e in detect(times, temps, FAST):
        if e.type == "heat":
            assert e.duration_s >= FAST.heat_minutes * 60
            assert e.min_celsius is not None and e.min_celsius > FAST.heat_above
        elif e.type == "freeze":
            assert e.duration_s >= FAST.freeze_minutes * 60
            assert e.max_celsius is not None and e.max_celsius <= FAST.freeze_at
        else:
            assert e.type == "data_gap"
            assert e.end is not None and e.duration_s > FAST.max_gap_minutes * 60


@settings(max_examples=100, deadline=None)
@given(st.lists(traces(), min_size=1, max_size=5))
def test_batch_equals_one_device_at_a_time(many: list[tuple[list[int], list[float]]]) -> None:
    groups = np.concatenate([np.full(len(t), i, dtype=np.int64) for i, (t, _) in
                             enumerate(many)])
    times = np.concatenate([np.asarray(t, dtype=np.int64) for t, _ in many])
    temps = np.concatenate([np.asarray(c, dtype=np.float64) for _, c in many])
    batch = detect_batch(groups, times, temps, FAST)
    single = [(i, e) for i, (t, c) in enumerate(many) for e in detect(t, c, FAST)]
    assert batch == single


def test_batch_refuses_unsorted_input() -> None:
    with pytest.raises(DomainError) as exc:
        detect_batch([0, 0], [T0 + 600, T0], [5.0, 5.0])
    assert exc.value.code == "readings_unsorted"
