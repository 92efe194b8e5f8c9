"""Pure rules of outreach sessions (reference/immunization.md §3): table-driven and
hypothesis properties."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from krc.immunization.outreach import rules
from krc.immunization.outreach.rules import (
    PlannedSession,
    SessionDose,
    SessionFacts,
    VillageNeed,
    check_coordinates,
    check_session,
    check_transition,
    distance_km,
    rank_villages,
    session_report,
    sessions_near,
)

TODAY = date(2026, 3, 16)


def facts(**over: object) -> SessionFacts:
    base: dict[str, object] = {"date": date(2026, 3, 20), "strategy": "outreach",
                               "place_type": "market", "place_name": "Marché de Kati",
                               "latitude": 12.74, "longitude": -8.07, "status": "planned"}
    base.update(over)
    return SessionFacts(**base)  # type: ignore[arg-type]


@pytest.mark.parametrize(("over", "codes"), [
    ({}, []),
    ({"strategy": "fixed", "place_type": None, "place_name": None, "latitude": None,
      "longitude": None}, []),
    ({"strategy": "campaign", "place_type": None, "place_name": None}, []),
    ({"strategy": "door"}, ["strategy_unknown"]),
    ({"place_type": None}, ["place_type_required"]),
    ({"strategy": "mobile", "place_type": None}, ["place_type_required"]),
    ({"place_type": "church"}, ["place_type_unknown"]),
    ({"place_name": "  "}, ["place_name_required"]),
    ({"strategy": "fixed", "place_type": "school", "place_name": None},
     ["place_name_required"]),
    ({"latitude": 91.0}, ["latitude_out_of_range"]),
    ({"longitude": -180.5}, ["longitude_out_of_range"]),
    ({"latitude": None}, ["coordinates_incomplete"]),
    ({"latitude": -8.07, "longitude": 12.74}, ["coordinates_outside_mali"]),
    ({"latitude": float("nan")}, ["latitude_out_of_range"]),
    ({"date": TODAY - timedelta(days=367)}, ["date_too_old"]),
    ({"date": TODAY - timedelta(days=366)}, []),
    ({"date": TODAY + timedelta(days=366)}, []),
    ({"date": TODAY + timedelta(days=367)}, ["date_too_far"]),
    ({"status": "held"}, ["held_in_future"]),
    ({"status": "held", "date": TODAY}, []),
    ({"status": "done"}, ["status_unknown"]),
    ({"strategy": "door", "place_type": "church"}, ["strategy_unknown", "place_type_unknown"]),
])
def test_check_session(over: dict[str, object], codes: list[str]) -> None:
    assert [e.code for e in check_session(facts(**over), TODAY)] == codes


def test_messages_in_both_languages() -> None:
    err = check_session(facts(place_type=None), TODAY)[0]
    assert "type de lieu" in err.message.text("fr")
    assert "place type" in err.message.text("en")
    assert err.field == "place_type"


@pytest.mark.parametrize(("current", "new", "doses", "day", "code"), [
    ("planned", "held", 0, TODAY, None),
    ("planned", "held", 0, TODAY + timedelta(days=1), "held_in_future"),
    ("planned", "cancelled", 0, TODAY, None),
    ("planned", "cancelled", 3, TODAY, "session_has_doses"),
    ("held", "cancelled", 1, TODAY, "session_has_doses"),
    ("held", "planned", 0, TODAY, None),
    ("held", "planned", 2, TODAY, "session_has_doses"),
    ("cancelled", "planned", 0, TODAY + timedelta(days=5), None),
    ("cancelled", "held", 0, TODAY, "session_cancelled"),
    ("held", "held", 4, TODAY, None),
    ("cancelled", "cancelled", 0, TODAY, None),
    ("planned", "finished", 0, TODAY, "status_unknown"),
])
def test_transitions(current: str, new: str, doses: int, day: date, code: str | None) -> None:
    fault = check_transition(current, new, doses, day, TODAY)
    assert (fault.code if fault else None) == code


def test_coordinates_edges() -> None:
    assert check_coordinates(None, None) == []
    assert check_coordinates(10.0, -12.3) == []
    assert check_coordinates(25.1, 4.3) == []
    assert [e.code for e in check_coordinates(9.99, -8.0)] == ["coordinates_outside_mali"]
    assert [e.code for e in check_coordinates(None, 3.0)] == ["coordinates_incomplete"]


# --------------------------------------------------------------------------- report

DAY = date(2026, 3, 10)


def dose(child: str, vaccine: str, n: int, *, valid: bool = True,
         birth: date = date(2025, 10, 1), penta: date | None = DAY,
         first: date | None = DAY) -> SessionDose:
    return SessionDose(child, vaccine, n, valid, birth, penta, first)


def test_report_counts_children_antigens_and_both_zero_dose_definitions() -> None:
    doses = [
        # a: never vaccinated before (first vaccine and first PENTA here), 5 months old
        dose("a", "PENTA", 1), dose("a", "OPV", 1), dose("a", "BCG", 1),
        # b: had BCG at birth elsewhere; first PENTA here
        dose("b", "PENTA", 1, first=date(2025, 10, 1)),
        # c: routine PENTA2 (first PENTA long ago)
        dose("c", "PENTA", 2, penta=date(2026, 1, 5), first=date(2025, 10, 2)),
        # d: a newborn's BCG: first vaccine ever, no PENTA
        dose("d", "BCG", 1, birth=DAY, penta=None),
        # e: 7 weeks old, first PENTA on time: first PENTA here but not zero-dose (§2)
        dose("e", "PENTA", 1, birth=DAY - timedelta(weeks=7), first=date(2026, 1, 20)),
        # f: early (invalid) PENTA1: not counted as found
        dose("f", "PENTA", 1, valid=False, penta=None, first=None),
    ]
    r = session_report(DAY, doses, order=(("BCG", 1), ("OPV", 1), ("PENTA", 1), ("PENTA", 2)))
    assert r.children == 6 and r.doses == 8 and r.valid_doses == 7
    assert [(a.vaccine, a.dose, a.doses, a.valid) for a in r.by_antigen] == [
        ("BCG", 1, 2, 2), ("OPV", 1, 1, 1), ("PENTA", 1, 4, 3), ("PENTA", 2, 1, 1)]
    assert r.zero_dose_first_penta == 3  # a, b, e
    assert r.found == ("a", "b", "e")
    assert r.zero_dose_first_vaccine == 2  # a, d
    assert r.zero_dose_register == 2  # a, b (e is under 10 weeks)


def test_report_of_no_dose() -> None:
    r = session_report(DAY, [])
    assert (r.children, r.doses, r.by_antigen, r.zero_dose_first_penta) == (0, 0, (), 0)


def test_register_age_window_edges() -> None:
    ten_weeks = DAY - timedelta(weeks=10)
    assert session_report(DAY, [dose("x", "PENTA", 1, birth=ten_weeks)]).zero_dose_register == 1
    assert session_report(DAY, [dose("x", "PENTA", 1, birth=ten_weeks + timedelta(days=1))]
                          ).zero_dose_register == 0
    five_years = date(2021, 3, 10)
    assert session_report(DAY, [dose("x", "PENTA", 1, birth=five_years)]
                          ).zero_dose_register == 0
    assert session_report(DAY, [dose("x", "PENTA", 1, birth=five_years + timedelta(days=1))]
                          ).zero_dose_register == 1


session_doses = st.lists(st.builds(
    SessionDose, child=st.sampled_from("abcdefgh"),
    vaccine=st.sampled_from(["BCG", "OPV", "PENTA", "MCV"]), dose=st.integers(0, 3),
    valid=st.booleans(), birth_date=st.dates(date(2020, 1, 1), DAY),
    first_penta_on=st.one_of(st.none(), st.just(DAY), st.dates(date(2020, 1, 1), DAY)),
    first_dose_on=st.one_of(st.none(), st.just(DAY), st.dates(date(2020, 1, 1), DAY))),
    max_size=30)


@given(session_doses)
def test_report_properties(doses: list[SessionDose]) -> None:
    r = session_report(DAY, doses)
    assert sum(a.doses for a in r.by_antigen) == r.doses == len(doses)
    assert sum(a.valid for a in r.by_antigen) == r.valid_doses <= r.doses
    assert r.children == len({d.child for d in doses})
    assert r.zero_dose_register <= r.zero_dose_first_penta <= r.children
    assert r.zero_dose_first_vaccine <= r.children
    # the order of the rows never changes the report
    assert session_report(DAY, list(reversed(doses))) == r


# --------------------------------------------------------------------------- micro-plan

def test_rank_villages_zero_dose_first_then_defaulters_then_name() -> None:
    ranked = rank_villages([
        VillageNeed(1, "Diago", 10, 1), VillageNeed(2, "Kati Coro", 4, 3),
        VillageNeed(3, "Sébénikoro", 10, 1), VillageNeed(None, "", 12, 1),
        VillageNeed(4, "Ouézindougou", 0, 0)])
    assert [v.village_id for v in ranked] == [2, None, 1, 3, 4]


def test_sessions_near_targets_then_distance_then_date() -> None:
    village = VillageNeed(7, "Kati Coro", 3, 1, latitude=12.74, longitude=-8.07)
    sessions = [
        PlannedSession("late", date(2026, 4, 30), None, None),
        PlannedSession("far", date(2026, 3, 20), 13.5, -7.0),
        PlannedSession("near", date(2026, 4, 10), 12.75, -8.08),
        PlannedSession("early", date(2026, 3, 18), None, None),
        PlannedSession("target", date(2026, 5, 1), None, None, frozenset({7})),
    ]
    got = sessions_near(village, sessions, limit=5)
    assert [s.id for s, _ in got] == ["target", "near", "far", "early", "late"]
    assert got[0][1] is None and got[1][1] is not None and got[1][1] < 2.0
    no_coords = VillageNeed(8, "Diago", 0, 0)
    assert [s.id for s, _ in sessions_near(no_coords, sessions)] == ["early", "far", "near"]


@pytest.mark.parametrize(("a", "b", "km"), [
    ((12.6392, -8.0029), (12.6392, -8.0029), 0.0),
    ((0.0, 0.0), (0.0, 90.0), 10_007.5),  # a quarter of the equator
    ((0.0, 0.0), (0.0, 1.0), 111.2),
])
def test_distance_km(a: tuple[float, float], b: tuple[float, float], km: float) -> None:
    assert distance_km(*a, *b) == pytest.approx(km, abs=2.0)


@given(st.floats(-89, 89), st.floats(-179, 179), st.floats(-89, 89), st.floats(-179, 179))
def test_distance_is_symmetric_and_bounded(a: float, b: float, c: float, d: float) -> None:
    assert distance_km(a, b, c, d) == pytest.approx(distance_km(c, d, a, b), abs=1e-6)
    assert 0.0 <= distance_km(a, b, c, d) <= 20_016.0


def test_constants_follow_the_reference() -> None:
    assert rules.STRATEGIES == ("fixed", "outreach", "mobile", "campaign")
    assert rules.PLACE_TYPES == ("market", "school", "place_of_worship", "bus_station", "other")
