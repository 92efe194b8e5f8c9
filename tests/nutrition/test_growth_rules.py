"""The growth engine's rules, from reference/nutrition.md §1, as tables and properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from krc.nutrition import tables
from krc.nutrition.growth import (
    COLUMNS,
    DAYS_PER_MONTH,
    GrowthInputError,
    anthro_zscores,
    lms_z,
    lms_z_restricted,
    present,
    r_round,
    round_half_up,
    zscores_one,
)


def lms(name: str, sex: int, key: int) -> tuple[float, float, float]:
    t = tables.load(name)
    i = key - t.first
    return float(t.l[sex - 1, i]), float(t.m[sex - 1, i]), float(t.s[sex - 1, i])


def at_sd(lms_row: tuple[float, float, float], k: float) -> float:
    l, m, s = lms_row  # noqa: E741
    return m * (1 + l * s * k) ** (1 / l)


# ------------------------------------------------------------------ tables shipped

def test_tables_shipped_with_notice() -> None:
    assert "World Health Organization" in tables.notice()
    expected = {"weianthro": (0, 1826), "lenanthro": (0, 1826), "bmianthro": (0, 1826),
                "hcanthro": (0, 1826), "acanthro": (91, 1826), "tsanthro": (91, 1826),
                "ssanthro": (91, 1826), "wflanthro": (450, 1100), "wfhanthro": (650, 1200)}
    for name, (first, last) in expected.items():
        t = tables.load(name)
        assert (t.first, t.last) == (first, last)
        assert not np.isnan(t.m).any()
    assert lms("weianthro", 1, 0) == (0.3487, 3.3464, 0.14602)
    assert lms("wflanthro", 1, 450) == (-0.3521, 2.441, 0.09182)


# ------------------------------------------------------------------ age (§1 "Age")

@pytest.mark.parametrize(("x", "expected"), [
    (730.5, 731), (730.49, 730), (0.5, 1), (0.49999, 0), (1826.5, 1827), (12.0, 12),
])
def test_age_rounds_half_up(x: float, expected: int) -> None:
    assert round_half_up(np.array([x]))[0] == expected


@pytest.mark.parametrize(("age", "months", "has_z"), [
    (1826, False, True), (1826.4, False, False), (1827, False, False),
    (59.99, True, True), (60, True, False), (None, False, False),
])
def test_60_month_limit(age: float | None, months: bool, has_z: bool) -> None:
    r = anthro_zscores(1, age, months, weight=15.0)
    assert (not np.isnan(r["zwei"][0])) is has_z


def test_age_in_months_converts_with_30_4375() -> None:
    assert DAYS_PER_MONTH == 30.4375
    # 24 months = 730.5 days -> 731: a recumbent length is corrected to a height (−0.7)
    r = anthro_zscores(1, 24, True, lenhei=88.0, measure="l")
    assert r["clenhei"][0] == pytest.approx(87.3)
    r = anthro_zscores(1, 23.99, True, lenhei=88.0, measure="l")
    assert r["clenhei"][0] == 88.0


# ------------------------------------------------------------------ length vs height

@pytest.mark.parametrize(("age", "measure", "lenhei", "clenhei", "cmeasure", "c9mo"), [
    (400, "h", 75.0, 75.7, "h", 0),     # standing under 731 days: +0.7
    (400, "l", 75.0, 75.0, "l", 0),
    (800, "l", 85.0, 84.3, "l", 0),     # recumbent from 731 days: −0.7
    (800, "h", 85.0, 85.0, "h", 0),
    (730, "h", 85.0, 85.7, "h", 0),
    (731, "l", 85.0, 84.3, "l", 0),
    (800, None, 85.0, 85.0, "", 0),     # missing measure: no correction
    (200, "h", 65.0, 65.0, "", 1),      # standing under 9 months: measure dropped, flagged
    (274, "H", 68.0, 68.7, "h", 0),     # 274 days = 9.002 months
    (None, "h", 85.0, 85.0, "h", 0),    # no age: no correction
])
def test_length_height_correction(age: float | None, measure: str | None, lenhei: float,
                                  clenhei: float, cmeasure: str, c9mo: int) -> None:
    r = anthro_zscores("m", age, weight=10.0, lenhei=lenhei, measure=measure)
    assert r["clenhei"][0] == pytest.approx(clenhei)
    assert r["cmeasure"][0] == cmeasure
    assert r["c9mo_flag"][0] == c9mo


# ------------------------------------------------------------------ LMS and tails

def test_lms_at_median_is_zero_and_at_sd_is_k() -> None:
    row = lms("weianthro", 2, 365)
    l, m, s = (np.array([v]) for v in row)  # noqa: E741
    assert lms_z(m.copy(), l, m, s)[0] == pytest.approx(0.0)
    for k in (-2.5, -1.0, 1.0, 2.5):
        y = np.array([at_sd(row, k)])
        assert lms_z(y, l, m, s)[0] == pytest.approx(k)
        assert lms_z_restricted(y, l, m, s)[0] == pytest.approx(k)


@pytest.mark.parametrize("k", [0.0, 0.25, 1.0, 3.7])
def test_restricted_tails_are_linear_beyond_3(k: float) -> None:
    row = lms("weianthro", 1, 500)
    l, m, s = (np.array([v]) for v in row)  # noqa: E741
    sd2, sd3 = at_sd(row, 2), at_sd(row, 3)
    sdm2, sdm3 = at_sd(row, -2), at_sd(row, -3)
    heavy = np.array([sd3 + k * (sd3 - sd2)])
    light = np.array([sdm3 - k * (sdm2 - sdm3)])
    assert lms_z_restricted(heavy, l, m, s)[0] == pytest.approx(3 + k)
    if light[0] > 0:
        assert lms_z_restricted(light, l, m, s)[0] == pytest.approx(-3 - k)


def test_tails_not_restricted_for_length_and_head() -> None:
    row = lms("lenanthro", 1, 400)
    y = at_sd(row, 4.5)
    r = anthro_zscores(1, 400, lenhei=y, measure="l")
    assert r["zlen"][0] == pytest.approx(4.5)
    hc = lms("hcanthro", 1, 400)
    r = anthro_zscores(1, 400, headc=at_sd(hc, -4.5))
    assert r["zhc"][0] == pytest.approx(-4.5)


# ------------------------------------------------------------------ weight-for-length/height

def test_wfl_interpolates_lms_between_tenths() -> None:
    lo, up = lms("wflanthro", 2, 800), lms("wflanthro", 2, 801)
    mid = ((lo[0] + up[0]) / 2, (lo[1] + up[1]) / 2, (lo[2] + up[2]) / 2)
    y = at_sd(mid, 1.2)
    r = anthro_zscores(2, 300, weight=y, lenhei=80.05, measure="l")
    assert r["zwfl"][0] == pytest.approx(1.2, abs=1e-9)


@pytest.mark.parametrize(("age", "measure", "lenhei", "table"), [
    (300, "l", 80.0, "wflanthro"), (800, "h", 80.0, "wfhanthro"),
    (300, "h", 79.3, "wflanthro"),   # under 731 days the length table, whatever the measure
    (None, "l", 90.0, "wflanthro"), (None, "h", 80.0, "wfhanthro"),
    (None, None, 86.9, "wflanthro"), (None, None, 87.0, "wfhanthro"),  # the 87 cm rule
])
def test_wfl_table_choice(age: float | None, measure: str | None, lenhei: float,
                          table: str) -> None:
    key = round((lenhei + (0.7 if age == 300 and measure == "h" else 0)) * 10)
    y = at_sd(lms(table, 1, key), -1.5)
    r = anthro_zscores(1, age, weight=y, lenhei=lenhei, measure=measure)
    assert r["zwfl"][0] == pytest.approx(-1.5, abs=1e-9)


@pytest.mark.parametrize(("age", "lenhei", "inside"), [
    (300, 44.99, False), (300, 45.0, True), (300, 110.0, True), (300, 110.01, False),
    (800, 64.99, False), (800, 65.0, True), (800, 120.0, True), (800, 120.01, False),
])
def test_wfl_outside_table_has_no_zscore(age: int, lenhei: float, inside: bool) -> None:
    r = anthro_zscores(1, age, weight=9.0, lenhei=lenhei, measure="l" if age < 731 else "h")
    assert (not np.isnan(r["zwfl"][0])) is inside


# ------------------------------------------------------------------ oedema, age windows

@pytest.mark.parametrize("code", ["y", "Y", "1", 1, True])
def test_oedema_removes_weight_based_zscores(code: object) -> None:
    r = anthro_zscores(2, 500, weight=8.0, lenhei=75.0, measure="l", armc=12.0, oedema=[code])
    assert np.isnan(r["zwei"][0]) and np.isnan(r["zwfl"][0]) and np.isnan(r["zbmi"][0])
    assert np.isnan(r["fwei"][0])
    assert not np.isnan(r["zlen"][0]) and not np.isnan(r["zac"][0])


@pytest.mark.parametrize("code", ["n", "N", "2", 2, None, "", False])
def test_no_oedema(code: object) -> None:
    r = anthro_zscores(2, 500, weight=8.0, lenhei=75.0, measure="l", oedema=[code])
    assert not np.isnan(r["zwei"][0]) and not np.isnan(r["zwfl"][0])


@pytest.mark.parametrize(("age", "has"), [(90, False), (91, True), (1826, True)])
def test_muac_and_skinfolds_from_day_91(age: int, has: bool) -> None:
    r = anthro_zscores(1, age, armc=14.0, triskin=8.0, subskin=6.0)
    for col in ("zac", "zts", "zss"):
        assert (not np.isnan(r[col][0])) is has


# ------------------------------------------------------------------ flags (§1 "Flags")

@pytest.mark.parametrize(("z", "column", "flag"), [
    (-6.004, "len", 0), (-6.006, "len", 1), (6.004, "len", 0), (6.006, "len", 1),
    (-6.004, "wei", 0), (-6.006, "wei", 1), (5.004, "wei", 0), (5.006, "wei", 1),
    (-5.004, "hc", 0), (-5.006, "hc", 1), (5.004, "ac", 0), (5.006, "ac", 1),
])
def test_flags_on_the_rounded_zscore(z: float, column: str, flag: int) -> None:
    name = {"len": "lenanthro", "wei": "weianthro", "hc": "hcanthro", "ac": "acanthro"}[column]
    row = lms(name, 1, 400)
    if column in ("len", "hc"):
        y = at_sd(row, z)
    else:  # restricted tails
        sd = (at_sd(row, 3), at_sd(row, 2)) if z > 0 else (at_sd(row, -3), at_sd(row, -2))
        y = sd[0] + (z - math.copysign(3, z)) * abs(sd[0] - sd[1])
    arg = {"len": "lenhei", "wei": "weight", "hc": "headc", "ac": "armc"}[column]
    r = anthro_zscores(1, 400, measure="l", **{arg: y})  # type: ignore[arg-type]
    assert r["f" + column][0] == flag
    assert present(r)["z" + column][0] == r_round(z, 2)


# ------------------------------------------------------------------ inputs

def test_sex_codes_and_missing_values() -> None:
    r = anthro_zscores(["1", "2", "m", "f", "M", "F", "", None], 400, weight=9.0)
    assert list(r["csex"][:6]) == [1, 2, 1, 2, 1, 2]
    assert np.isnan(r["csex"][6:]).all() and np.isnan(r["zwei"][6:]).all()
    assert np.isnan(r["fwei"][6:]).all()


def test_scalars_are_recycled_and_lists_accepted() -> None:
    r = anthro_zscores(1, [100, 200, 300], weight=[5.0, None, 7.0])
    assert r["zwei"].shape == (3,)
    assert np.isnan(r["zwei"][1]) and not np.isnan(r["zwei"][2])


def test_text_in_numeric_column_refused() -> None:
    with pytest.raises(GrowthInputError) as info:
        anthro_zscores(1, 100, weight=np.array(["5", "abc"], dtype=object))
    assert (info.value.column, info.value.index) == ("weight", 1)


def test_zscores_one() -> None:
    one = zscores_one("f", 400, weight=8.5, lenhei=72.0, measure="l", armc=14.0)
    assert set(one) == set(COLUMNS)
    assert one["csex"] == 2 and one["cmeasure"] == "l" and one["fwei"] == 0
    assert isinstance(one["zwei"], float) and one["zhc"] is None and one["fhc"] is None
    vec = anthro_zscores(2, 400, weight=8.5, lenhei=72.0, measure="l", armc=14.0)
    assert one["zwfl"] == vec["zwfl"][0]
    sam = zscores_one(1, 500, weight=6.0, lenhei=78.0, measure="l", oedema=True)
    assert sam["zwfl"] is None and sam["zlen"] is not None


def test_chunks_do_not_change_results() -> None:
    rng = np.random.default_rng(3)
    n = 1000
    args = dict(sex=rng.integers(1, 3, n), age=rng.uniform(0, 1900, n),
                weight=rng.uniform(2, 25, n), lenhei=rng.uniform(40, 125, n),
                measure=rng.choice(np.array(["l", "h", ""]), n), armc=rng.uniform(9, 20, n))
    a = anthro_zscores(**args)  # type: ignore[arg-type]
    b = anthro_zscores(**args, chunk_size=37)  # type: ignore[arg-type]
    for col in COLUMNS:
        assert np.array_equal(a[col], b[col], equal_nan=col != "cmeasure")


# ------------------------------------------------------------------ properties

@settings(max_examples=200, deadline=None)
@given(sex=st.sampled_from([1, 2]), age=st.integers(0, 1826),
       w1=st.floats(0.5, 40), w2=st.floats(0.5, 40), lenhei=st.floats(45, 110))
def test_zscores_increase_with_weight(sex: int, age: int, w1: float, w2: float,
                                      lenhei: float) -> None:
    lo, hi = min(w1, w2), max(w1, w2)
    r = anthro_zscores(sex, age, weight=[lo, hi], lenhei=lenhei, measure="l")
    for col in ("zwei", "zbmi"):
        assert r[col][0] <= r[col][1] + 1e-12
    if not np.isnan(r["zwfl"][0]):
        assert r["zwfl"][0] <= r["zwfl"][1] + 1e-12


@settings(max_examples=200, deadline=None)
@given(sex=st.sampled_from([1, 2]), age=st.integers(91, 1826), k=st.floats(0, 5),
       name=st.sampled_from(["weianthro", "bmianthro", "acanthro", "tsanthro", "ssanthro"]))
def test_tails_symmetric_and_continuous(sex: int, age: int, k: float, name: str) -> None:
    row = lms(name, sex, age)
    l, m, s = (np.array([v]) for v in row)  # noqa: E741
    sd3, sd2 = at_sd(row, 3), at_sd(row, 2)
    sdm3, sdm2 = at_sd(row, -3), at_sd(row, -2)
    up = lms_z_restricted(np.array([sd3 + k * (sd3 - sd2)]), l, m, s)[0]
    assert up == pytest.approx(3 + k, abs=1e-9)
    y_low = sdm3 - k * (sdm2 - sdm3)
    if y_low > 0:
        down = lms_z_restricted(np.array([y_low]), l, m, s)[0]
        assert down == pytest.approx(-3 - k, abs=1e-9)


@settings(max_examples=300, deadline=None)
@given(x=st.floats(-1e6, 1e6, allow_nan=False))
def test_r_round_is_within_half_a_cent(x: float) -> None:
    r = float(r_round(x, 2))
    assert abs(r - x) <= 0.005 + 1e-9
    assert round(r * 100) == pytest.approx(r * 100, abs=1e-6)
