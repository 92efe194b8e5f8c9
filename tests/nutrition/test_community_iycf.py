"""IYCF 2021 indicators (reference/nutrition.md §4) and MNP rules (§5) as pure functions:
rule tables at every age band limit and count limit, and properties."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from krc.errors import DomainError
from krc.nutrition.community import iycf, mnp
from krc.nutrition.community.iycf import Recall, indicators, membership
from krc.nutrition.community.survey import parse_survey


def rec(age: int, **kw: Any) -> Recall:
    base: dict[str, Any] = {"breastfed": True}
    base.update(kw)
    return Recall(age_months=age, **base)


def den_num(r: Recall, code: str) -> tuple[bool, bool]:
    return membership(r)[code]


# --------------------------------------------------------------------------- age bands

@pytest.mark.parametrize("age,eibf,ebf,cbf,isssf,c623", [
    (0, True, True, False, False, False),
    (5, True, True, False, False, False),
    (6, True, False, False, True, True),
    (8, True, False, False, True, True),
    (9, True, False, False, False, True),
    (11, True, False, False, False, True),
    (12, True, False, True, False, True),
    (23, True, False, True, False, True),
    (24, False, False, False, False, False),
])
def test_denominators_follow_the_age_bands(age: int, eibf: bool, ebf: bool, cbf: bool,
                                           isssf: bool, c623: bool) -> None:
    m = membership(rec(age))
    assert m["EIBF"][0] is eibf
    assert m["EBF"][0] is ebf
    assert m["CBF"][0] is cbf
    assert m["ISSSF"][0] is isssf
    for code in ("MDD", "MMF", "MAD", "EFF", "ZVF"):
        assert m[code][0] is c623, code
    assert m["MMFF"][0] is False  # breastfed children are outside MMFF
    assert membership(rec(age, breastfed=False))["MMFF"][0] is c623


# --------------------------------------------------------------------------- EIBF, EBF, CBF

@pytest.mark.parametrize("early,counted", [(True, True), (False, False), (None, False)])
def test_eibf_unknown_stays_in_the_denominator(early: bool | None, counted: bool) -> None:
    assert den_num(rec(3, early_bf=early), "EIBF") == (True, counted)
    assert den_num(rec(24, early_bf=True), "EIBF") == (False, False)


@pytest.mark.parametrize("kw,exclusive", [
    ({}, True),  # breast milk only (ORS, drops, syrups are not "other liquids")
    ({"other_liquids": True}, False),  # water, tea, juice…
    ({"milk_feeds": 1}, False),
    ({"dairy": True}, False),
    ({"grains": True}, False),
    ({"solid_feeds": 1}, False),
    ({"breastfed": False}, False),
])
def test_ebf_is_breast_milk_only(kw: dict[str, Any], exclusive: bool) -> None:
    assert den_num(rec(4, **kw), "EBF") == (True, exclusive)
    assert den_num(rec(6, **kw), "EBF") == (False, False)


@pytest.mark.parametrize("age,bf,expected", [
    (11, True, (False, False)), (12, True, (True, True)), (12, False, (True, False)),
    (23, True, (True, True)), (24, True, (False, False)),
])
def test_cbf_12_to_23_months(age: int, bf: bool, expected: tuple[bool, bool]) -> None:
    assert den_num(rec(age, breastfed=bf), "CBF") == expected


@pytest.mark.parametrize("kw,ate", [
    ({}, False), ({"solid_feeds": 1}, True), ({"grains": True}, True),
    ({"flesh": True}, True), ({"vita_fv": True}, True), ({"dairy": True}, False),
    ({"milk_feeds": 3}, False),
])
def test_isssf_solid_semi_solid_or_soft(kw: dict[str, Any], ate: bool) -> None:
    assert den_num(rec(7, **kw), "ISSSF") == (True, ate)
    assert den_num(rec(9, **kw), "ISSSF") == (False, False)


# --------------------------------------------------------------------------- MDD

GROUPS = ("grains", "pulses", "dairy", "flesh", "eggs", "vita_fv", "other_fv")


@pytest.mark.parametrize("bf,extra,mdd", [
    (True, 3, False),  # 4 groups with breast milk
    (True, 4, True),  # 5 groups with breast milk
    (False, 4, False),
    (False, 5, True),
    (True, 7, True),
])
def test_mdd_five_of_eight_groups_breast_milk_included(bf: bool, extra: int, mdd: bool) -> None:
    r = rec(10, breastfed=bf, solid_feeds=3, **dict.fromkeys(GROUPS[:extra], True))
    assert iycf.groups_eaten(r) == extra + bf
    assert den_num(r, "MDD") == (True, mdd)


# --------------------------------------------------------------------------- MMF, MMFF

@pytest.mark.parametrize("age,feeds,ok", [
    (6, 1, False), (6, 2, True), (8, 2, True), (9, 2, False), (9, 3, True), (23, 3, True),
    (23, 2, False),
])
def test_mmf_breastfed_by_age(age: int, feeds: int, ok: bool) -> None:
    assert den_num(rec(age, solid_feeds=feeds), "MMF") == (True, ok)


@pytest.mark.parametrize("solid,milk,mmf,mmff", [
    (4, 0, True, False), (3, 1, True, False), (2, 2, True, True), (1, 3, True, True),
    (0, 4, False, True), (0, 5, False, True), (1, 2, False, True), (3, 0, False, False),
    (2, 1, False, False),
])
def test_mmf_and_mmff_non_breastfed(solid: int, milk: int, mmf: bool, mmff: bool) -> None:
    for age in (6, 8, 9, 23):
        r = rec(age, breastfed=False, solid_feeds=solid, milk_feeds=milk)
        assert den_num(r, "MMF") == (True, mmf)
        assert den_num(r, "MMFF") == (True, mmff)


# --------------------------------------------------------------------------- MAD, EFF, ZVF

def test_mad_breastfed_needs_mdd_and_mmf() -> None:
    five = dict.fromkeys(GROUPS[:4], True)
    assert den_num(rec(10, solid_feeds=3, **five), "MAD") == (True, True)
    assert den_num(rec(10, solid_feeds=2, **five), "MAD") == (True, False)
    assert den_num(rec(10, solid_feeds=3, **dict.fromkeys(GROUPS[:3], True)), "MAD") == (
        True, False)


def test_milk_feeds_count_the_dairy_group() -> None:
    # WHO/UNICEF 2021 group 4 (dairy) holds infant formula, milk and yoghurt drinks: a
    # non-breastfed child with 2 milk feeds and 4 other groups reached 5 groups.
    four = {"grains": True, "pulses": True, "flesh": True, "vita_fv": True}
    r = rec(15, breastfed=False, solid_feeds=2, milk_feeds=2, **four)
    assert iycf.groups_eaten(r) == 5
    assert den_num(r, "MDD") == (True, True) and den_num(r, "MAD") == (True, True)
    assert iycf.groups_eaten(rec(15, breastfed=False, dairy=True, milk_feeds=2)) == 1
    assert den_num(rec(15, breastfed=False, solid_feeds=2, **four), "MDD") == (True, False)


def test_mad_non_breastfed_needs_mdd_mmf_and_mmff() -> None:
    five = dict.fromkeys(GROUPS[:5], True)
    assert den_num(rec(15, breastfed=False, solid_feeds=2, milk_feeds=2, **five),
                   "MAD") == (True, True)
    # MDD and MMF (4 feeds, ≥ 1 solid) but a single milk feed: no MMFF, no MAD
    assert den_num(rec(15, breastfed=False, solid_feeds=3, milk_feeds=1, **five),
                   "MAD") == (True, False)


@pytest.mark.parametrize("kw,eff,zvf", [
    ({}, False, True), ({"eggs": True}, True, True), ({"flesh": True}, True, True),
    ({"vita_fv": True}, False, False), ({"other_fv": True}, False, False),
    ({"eggs": True, "other_fv": True}, True, False),
])
def test_eff_and_zvf(kw: dict[str, Any], eff: bool, zvf: bool) -> None:
    assert den_num(rec(12, **kw), "EFF") == (True, eff)
    assert den_num(rec(12, **kw), "ZVF") == (True, zvf)
    assert den_num(rec(5, **kw), "EFF") == (False, False)


def test_indicators_over_a_list() -> None:
    out = indicators([rec(2), rec(3, other_liquids=True), rec(4, breastfed=False),
                      rec(30)])
    assert (out["EBF"].numerator, out["EBF"].denominator) == (1, 3)
    assert out["EBF"].value == pytest.approx(100 / 3)
    assert out["MDD"].denominator == 0 and out["MDD"].value is None


# --------------------------------------------------------------------------- properties

recalls = st.builds(
    Recall, age_months=st.integers(0, 30), breastfed=st.booleans(),
    early_bf=st.none() | st.booleans(), other_liquids=st.booleans(), grains=st.booleans(),
    pulses=st.booleans(), dairy=st.booleans(), flesh=st.booleans(), eggs=st.booleans(),
    vita_fv=st.booleans(), other_fv=st.booleans(), solid_feeds=st.integers(0, 8),
    milk_feeds=st.integers(0, 8))


@given(recalls)
def test_numerator_implies_denominator_and_mad_within_mdd_and_mmf(r: Recall) -> None:
    m = membership(r)
    for code, (d, n) in m.items():
        assert d or not n, code
    if m["MAD"][1]:
        assert m["MDD"][1] and m["MMF"][1]
        if not r.breastfed:
            assert m["MMFF"][1]
    if m["EBF"][1]:
        assert not m["ISSSF"][1]


@given(st.lists(recalls, max_size=40))
def test_percentages_and_denominators(rs: list[Recall]) -> None:
    out = indicators(rs)
    n623 = sum(1 for r in rs if 6 <= r.age_months < 24)
    assert out["MDD"].denominator == out["MAD"].denominator == n623
    assert out["EFF"].denominator == out["ZVF"].denominator == out["MMF"].denominator == n623
    assert out["EBF"].denominator == sum(1 for r in rs if r.age_months < 6)
    assert out["EIBF"].denominator == sum(1 for r in rs if r.age_months < 24)
    assert out["MMFF"].denominator == sum(1 for r in rs if 6 <= r.age_months < 24
                                          and not r.breastfed)
    assert out["MAD"].numerator <= min(out["MDD"].numerator, out["MMF"].numerator)
    for share in out.values():
        assert share.value is None or 0.0 <= share.value <= 100.0


@given(st.dates(date(2000, 1, 1), date(2030, 1, 1)), st.integers(0, 4000))
def test_completed_months_matches_latest_birth(birth: date, days: int) -> None:
    on = birth + timedelta(days=days)
    months = iycf.completed_months(birth, on)
    assert months >= 0
    assert birth <= iycf.latest_birth(on, months)
    assert birth > iycf.latest_birth(on, months + 1)


@pytest.mark.parametrize("birth,on,months", [
    (date(2025, 1, 31), date(2025, 2, 28), 1), (date(2025, 1, 31), date(2025, 2, 27), 0),
    (date(2024, 2, 29), date(2025, 2, 28), 12), (date(2025, 3, 16), date(2025, 9, 15), 5),
    (date(2025, 3, 16), date(2025, 9, 16), 6),
])
def test_completed_months_table(birth: date, on: date, months: int) -> None:
    assert iycf.completed_months(birth, on) == months


def test_months_from_days_and_checks() -> None:
    assert iycf.months_from_days(182) == 5 and iycf.months_from_days(183) == 6
    assert iycf.months_from_days(730) == 23 and iycf.months_from_days(731) == 24
    assert [f.code for f in iycf.check_recall(rec(24))] == ["age_over_23_months"]
    assert [f.code for f in iycf.check_recall(rec(-1))] == ["age_negative"]
    assert [f.code for f in iycf.check_recall(rec(3, solid_feeds=21))] == ["feeds_out_of_range"]
    assert iycf.check_recall(rec(23, solid_feeds=20)) == []


# --------------------------------------------------------------------------- MNP

@pytest.mark.parametrize("age,ok,round_no", [
    (5, False, None), (6, True, 1), (11, True, 1), (12, True, 2), (17, True, 2), (18, True, 3),
    (23, True, 3), (24, False, None),
])
def test_mnp_eligibility_and_rounds(age: int, ok: bool, round_no: int | None) -> None:
    assert mnp.eligible(age) is ok
    assert mnp.round_for_age(age) == round_no


def test_mnp_adherence_is_consumed_over_90() -> None:
    assert mnp.adherence(90) == 100.0 and mnp.adherence(45) == 50.0
    st_ = mnp.round_status(1, [30, 30], [(date(2026, 2, 1), 1, 20), (date(2026, 3, 1), 2, 50)])
    assert (st_.distributed, st_.consumed) == (60, 50)
    assert st_.adherence == pytest.approx(100 * 50 / 90)
    assert mnp.round_status(2, [90], []).adherence is None
    assert mnp.overall_adherence([90, 45]) == (135, 2, 75.0)
    assert mnp.overall_adherence([]) == (0, 0, None)


def test_mnp_ledger_balance_and_shortfall() -> None:
    d = date(2026, 3, 1)
    lines = [mnp.Line(d, "receipt", 300, 1), mnp.Line(d + timedelta(1), "distribution", 90, 2),
             mnp.Line(d + timedelta(5), "count", 200, 3),
             mnp.Line(d + timedelta(6), "distribution", 30, 4)]
    assert mnp.balance(lines) == 170
    assert mnp.balance_on(lines, d + timedelta(2)) == 210
    assert [b for _l, b in mnp.stock_card(lines)] == [300, 210, 200, 170]
    assert mnp.shortfall(lines, mnp.Line(d + timedelta(7), "distribution", 171, 5)) == 1
    assert mnp.shortfall(lines, mnp.Line(d + timedelta(7), "distribution", 170, 5)) is None
    # a back-dated distribution must fit until the next physical count
    assert mnp.shortfall(lines, mnp.Line(d + timedelta(2), "loss", 211, 5)) == 1
    assert mnp.shortfall(lines, mnp.Line(d + timedelta(2), "receipt", 5, 5)) is None


@given(st.lists(st.tuples(st.integers(0, 30), st.sampled_from(mnp.STOCK_KINDS),
                          st.integers(0, 500)), max_size=30))
def test_ledger_card_ends_at_the_balance(raw: list[tuple[int, str, int]]) -> None:
    lines = [mnp.Line(date(2026, 1, 1) + timedelta(d), k, q, i) for i, (d, k, q) in
             enumerate(raw)]
    card = mnp.stock_card(lines)
    assert (card[-1][1] if card else 0) == mnp.balance(lines)


# --------------------------------------------------------------------------- survey file

HEADER = ("row_id;org_unit;date;age_months;breastfed;early_bf;other_liquids;grains;pulses;"
          "dairy;flesh;eggs;vita_fv;other_fv;solid_feeds;milk_feeds")


def test_survey_file_parses_french_answers_and_unknowns() -> None:
    text = "\ufeff" + HEADER + "\nR1;V1;2026-03-01;4;oui;nsp;non;0;0;0;0;0;0;0;;\n" \
        "R2;V1;01/03/2026;14;1;1;0;1;1;1;1;0;1;0;3;dk\n"
    rows = parse_survey(text)
    assert [r.row_id for r in rows] == ["R1", "R2"]
    assert rows[0].recall.early_bf is None and rows[0].day == date(2026, 3, 1)
    assert rows[1].recall.solid_feeds == 3 and rows[1].recall.milk_feeds == 0
    assert iycf.groups_eaten(rows[1].recall) == 6


def test_survey_file_with_age_in_days_and_default_unit() -> None:
    rows = parse_survey("row_id,date,age_days,breastfed\nA,2026-01-10,183,yes\n", "V9")
    assert rows[0].recall.age_months == 6 and rows[0].age_days == 183
    assert rows[0].org_unit == "V9"


def test_survey_file_names_every_bad_cell() -> None:
    text = HEADER + "\nR1;V1;2026-13-01;4;peut-être;;;0;0;0;0;0;0;0;0;0\n" \
        "R1;V1;2026-03-01;30;1;;0;0;0;0;0;0;0;0;0;0\nR3;V1;2026-03-01;3;1\n"
    with pytest.raises(DomainError) as exc:
        parse_survey(text)
    fields = [e.field for e in exc.value.errors]
    assert "ligne 2, date" in fields and "ligne 2, breastfed" in fields
    assert "ligne 2, other_liquids" in fields  # empty answer in a present column
    assert "ligne 3, age_months" in fields  # 30 months: outside 0–23
    assert any(f.startswith("ligne 4") for f in fields)  # wrong number of cells
    msg = next(e for e in exc.value.errors if e.field == "ligne 2, breastfed").message
    assert "peut-être" in msg.text("fr") and "Line 2, column breastfed" in msg.text("en")


def test_survey_file_refuses_unknown_columns_and_repeats() -> None:
    with pytest.raises(DomainError) as exc:
        parse_survey("row_id;date;age_months;breastfed;colour\nA;2026-01-01;3;1;red\n", "V")
    assert exc.value.errors[0].code == "column_unknown"
    with pytest.raises(DomainError) as exc:
        parse_survey("row_id;date;age_months;breastfed\nA;2026-01-01;3;1\nA;2026-01-01;4;1\n",
                     "V")
    assert exc.value.errors[0].code == "row_id_repeated"
    with pytest.raises(DomainError) as exc:
        parse_survey("row_id;date;breastfed\n", None)
    assert {e.code for e in exc.value.errors} == {"column_missing"}
    with pytest.raises(DomainError):
        parse_survey("")
