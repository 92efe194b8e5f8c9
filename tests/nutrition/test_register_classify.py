"""Table tests of the pure rules of the register (reference/nutrition.md §2, §5): each limit
of the classification, referral destinations, discharge, growth faltering, entry checks."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from krc.errors import DomainError
from krc.nutrition.register.classify import (
    Measures,
    WeightPoint,
    check_visit,
    check_woman_muac,
    classify,
    discharge_ready,
    growth_faltering,
    referral_destination,
    woman_at_risk,
)

AGE = 400  # 13 months: MUAC cut-offs apply


@pytest.mark.parametrize(("zwfl", "muac", "oedema", "status", "criteria"), [
    (-3.01, None, False, "sam", ("zwfl",)),
    (-3.0, None, False, "mam", ("zwfl",)),  # −3 ≤ zwfl < −2 is MAM
    (-2.01, None, False, "mam", ("zwfl",)),
    (-2.0, None, False, "normal", ()),
    (None, 114.9, False, "sam", ("muac",)),
    (None, 115.0, False, "mam", ("muac",)),  # 115 ≤ MUAC < 125 is MAM
    (None, 124.9, False, "mam", ("muac",)),
    (None, 125.0, False, "normal", ()),
    (None, None, True, "sam", ("oedema",)),  # bilateral pitting oedema
    (-2.5, 140.0, True, "sam", ("oedema",)),  # MAM by zwfl but oedema: SAM, not MAM
    (-3.5, 110.0, False, "sam", ("zwfl", "muac")),
    (-2.5, 120.0, False, "mam", ("zwfl", "muac")),
    (-1.0, 120.0, False, "mam", ("muac",)),
    (None, None, False, "unknown", ()),
])
def test_sam_mam_limits(zwfl: float | None, muac: float | None, oedema: bool, status: str,
                        criteria: tuple[str, ...]) -> None:
    c = classify(Measures(AGE, zwfl=zwfl, muac_mm=muac, oedema=oedema))
    assert (c.status, c.criteria) == (status, criteria)


@pytest.mark.parametrize(("z", "moderate", "severe"), [
    (-3.01, True, True), (-3.0, True, False), (-2.01, True, False), (-2.0, False, False),
    (0.0, False, False), (None, None, None),
])
def test_stunting_wasting_underweight_limits(z: float | None, moderate: bool | None,
                                             severe: bool | None) -> None:
    c = classify(Measures(AGE, zlen=z, zwei=z, zwfl=z))
    assert (c.stunting, c.severe_stunting) == (moderate, severe)
    assert (c.wasting, c.severe_wasting) == (moderate, severe)
    assert (c.underweight, c.severe_underweight) == (moderate, severe)


@pytest.mark.parametrize(("zwfl", "overweight"), [(2.0, False), (2.01, True), (None, None)])
def test_overweight_limit(zwfl: float | None, overweight: bool | None) -> None:
    assert classify(Measures(AGE, zwfl=zwfl)).overweight is overweight


def test_flagged_zscores_are_not_used() -> None:
    """A flagged z-score counts as absent (as prevalence excludes it, §1 and §3)."""
    c = classify(Measures(AGE, zlen=-6.5, flen=True, zwei=-6.2, fwei=True, zwfl=-5.5,
                          fwfl=True))
    assert c.status == "unknown"
    assert c.stunting is None and c.underweight is None and c.wasting is None
    # MUAC is read as measured: a flagged zwfl does not hide a SAM by MUAC.
    c = classify(Measures(AGE, zwfl=-5.5, fwfl=True, muac_mm=110))
    assert (c.status, c.criteria) == ("sam", ("muac",))


def test_oedema_counts_as_severe_for_weight_indicators() -> None:
    c = classify(Measures(AGE, zlen=-1.0, oedema=True))  # engine gives no zwei/zwfl
    assert c.severe_wasting is True and c.severe_underweight is True
    assert c.stunting is False and c.overweight is None


@pytest.mark.parametrize(("age", "status"), [(182, "normal"), (183, "sam")])
def test_muac_cut_offs_from_six_months(age: int, status: str) -> None:
    assert classify(Measures(age, zwfl=-1.0, muac_mm=100)).status == status


def test_muac_alone_under_six_months_is_unknown() -> None:
    assert classify(Measures(100, muac_mm=100)).status == "unknown"


@pytest.mark.parametrize(("status", "complications", "appetite", "destination"), [
    ("sam", True, None, "stabilisation"),
    ("sam", None, "failed", "stabilisation"),
    ("sam", False, "failed", "stabilisation"),
    ("sam", False, "passed", "otp"),
    ("sam", None, None, "otp"),
    ("mam", None, None, "tsfp"),
    ("mam", True, "failed", "tsfp"),
    ("faltering", None, None, "assessment"),
    ("normal", None, None, None),
    ("unknown", None, None, None),
])
def test_referral_destination(status: str, complications: bool | None, appetite: str | None,
                              destination: str | None) -> None:
    assert referral_destination(status, complications, appetite) == destination


D = date(2026, 3, 1)


@pytest.mark.parametrize(("criteria", "muac", "zwfl", "oedema", "last_oedema", "ready"), [
    (["muac"], 125.0, None, False, None, True),
    (["muac"], 124.9, -1.0, False, None, False),  # admitted on MUAC: zwfl does not count
    (["zwfl"], 110.0, -2.0, False, None, True),
    (["zwfl"], 130.0, -2.01, False, None, False),
    (["zwfl", "muac"], 125.0, -2.0, False, None, True),
    (["zwfl", "muac"], 125.0, -2.1, False, None, False),
    (["oedema"], 126.0, None, False, D - timedelta(days=14), True),
    (["oedema"], 126.0, None, False, D - timedelta(days=13), False),  # not 2 weeks yet
    (["oedema"], None, -1.5, False, D - timedelta(days=20), True),
    (["oedema"], None, None, False, D - timedelta(days=20), False),
    (["muac"], 130.0, None, True, None, False),  # oedema now
])
def test_discharge_on_admission_criterion(criteria: list[str], muac: float | None,
                                          zwfl: float | None, oedema: bool,
                                          last_oedema: date | None, ready: bool) -> None:
    assert discharge_ready(criteria, muac, zwfl, oedema, last_oedema, D) is ready


def _pt(days: int, w: float | None, z: float | None) -> WeightPoint:
    return WeightPoint(D + timedelta(days=days), w, z)


@pytest.mark.parametrize(("history", "current", "reasons"), [
    ([_pt(0, 8.0, -1.00)], _pt(30, 8.3, -1.67), []),  # 0.67 exactly: not more
    ([_pt(0, 8.0, -1.00)], _pt(30, 8.3, -1.68), ["waz_drop"]),
    ([_pt(0, 8.0, -1.00), _pt(30, 8.5, None)], _pt(60, 8.6, -1.80), ["waz_drop"]),
    ([_pt(0, 8.0, -1.0), _pt(30, 8.2, -1.1)], _pt(60, 8.0, -1.5), ["no_gain"]),
    ([_pt(0, 8.0, -1.0), _pt(30, 7.9, -1.2)], _pt(60, 8.01, -1.3), []),  # gained over two
    ([_pt(0, 8.0, -1.0), _pt(30, 7.9, -1.2)], _pt(90, 7.9, -1.4), []),  # 60-day gap
    ([_pt(0, 8.0, -1.0), _pt(10, 8.0, -1.0)], _pt(40, 8.0, -1.2), []),  # 10-day gap
    ([_pt(0, 9.0, 0.0), _pt(30, 8.5, -0.5)], _pt(60, 8.0, -1.4), ["waz_drop", "no_gain"]),
    ([], _pt(0, 8.0, -1.0), []),
])
def test_growth_faltering(history: list[WeightPoint], current: WeightPoint,
                          reasons: list[str]) -> None:
    assert growth_faltering(history, current) == reasons


def test_faltering_threshold_is_configurable() -> None:
    assert growth_faltering([_pt(0, 8, -1.0)], _pt(30, 8.2, -1.5), waz_drop=0.4) == [
        "waz_drop"]
    assert growth_faltering([_pt(0, 8, -1.0)], _pt(30, 8.2, -1.5)) == []


@pytest.mark.parametrize(("muac", "threshold", "risk"), [
    (229.9, 230.0, True), (230.0, 230.0, False), (None, 230.0, None), (225.0, 220.0, False),
])
def test_woman_muac_at_risk(muac: float | None, threshold: float, risk: bool | None) -> None:
    assert woman_at_risk(muac, threshold) is risk


BIRTH, TODAY = date(2025, 6, 1), date(2026, 3, 16)


@pytest.mark.parametrize(("over", "code"), [
    ({"weight": -1.0}, "weight_not_positive"),
    ({"weight": 0.0}, "weight_not_positive"),
    ({"weight": 80.0}, "weight_impossible"),
    ({"lenhei": 34.9}, "lenhei_out_of_range"),
    ({"lenhei": 140.1}, "lenhei_out_of_range"),
    ({"muac": 40.0}, "muac_impossible"),
    ({"muac": 11.5}, "muac_impossible"),  # centimetres typed instead of millimetres
    ({"on": BIRTH - timedelta(days=1)}, "date_before_birth"),
    ({"on": TODAY + timedelta(days=1)}, "date_future"),
    ({"measure": "x"}, "measure_invalid"),
    ({"weight": None, "lenhei": None, "muac": None}, "no_measurement"),
    ({"weight": float("nan")}, "not_a_number"),
])
def test_impossible_measurements_are_refused(over: dict[str, object], code: str) -> None:
    args: dict[str, object] = {"on": date(2026, 3, 1), "weight": 8.0, "lenhei": 70.0,
                               "measure": "l", "muac": 130.0}
    args.update(over)
    with pytest.raises(DomainError) as err:
        check_visit(BIRTH, args["on"], TODAY, args["weight"], args["lenhei"],  # type: ignore[arg-type]
                    args["measure"], args["muac"])  # type: ignore[arg-type]
    assert err.value.code == code
    assert err.value.text("fr") and err.value.text("en") != err.value.text("fr")


def test_limits_themselves_are_accepted() -> None:
    check_visit(BIRTH, BIRTH, TODAY, 0.01, 35.0, "l", 50.0)
    check_visit(BIRTH, TODAY, TODAY, 50.0, 140.0, "h", 300.0)


def test_age_of_60_months_is_refused() -> None:
    birth = date(2020, 1, 1)
    with pytest.raises(DomainError) as err:
        check_visit(birth, birth + timedelta(days=1827), date(2026, 1, 1), 15.0, None, None,
                    None)
    assert err.value.code == "age_over_59_months"
    check_visit(birth, birth + timedelta(days=1826), date(2026, 1, 1), 15.0, None, None, None)


def test_several_faults_are_all_named() -> None:
    with pytest.raises(DomainError) as err:
        check_visit(BIRTH, date(2026, 3, 1), TODAY, -2.0, 20.0, "l", 1000.0)
    assert {e.code for e in err.value.errors} == {"weight_not_positive",
                                                  "lenhei_out_of_range", "muac_impossible"}


def test_woman_muac_check() -> None:
    check_woman_muac(None)
    check_woman_muac(230.0)
    with pytest.raises(DomainError):
        check_woman_muac(23.0)


@given(zwfl=st.one_of(st.none(), st.floats(-8, 8)), muac=st.one_of(st.none(), st.floats(50, 300)),
       oedema=st.booleans(), age=st.integers(0, 1826))
def test_sam_and_mam_are_exclusive_and_follow_the_rules(zwfl: float | None, muac: float | None,
                                                        oedema: bool, age: int) -> None:
    c = classify(Measures(age, zwfl=zwfl, muac_mm=muac, oedema=oedema))
    use_muac = muac is not None and age >= 183
    is_sam = oedema or (zwfl is not None and zwfl < -3) or (use_muac and muac < 115)  # type: ignore[operator]
    is_mam = not is_sam and ((zwfl is not None and zwfl < -2)
                             or (use_muac and muac < 125))  # type: ignore[operator]
    assert (c.status == "sam") is is_sam
    assert (c.status == "mam") is is_mam
    if c.status in ("sam", "mam"):
        assert c.criteria
        assert referral_destination(c.status) in ("otp", "tsfp")
