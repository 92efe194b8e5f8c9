"""The prevalence table against WHO anthro's `anthro_prevalence` (R), to 1e-6 on every cell.

Fixtures made by `fixtures/prevalence/make_fixtures.R` with anthro 1.1.0.9000 and survey
4.1.1 (see the README there). Reference: reference/nutrition.md §3.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from krc.errors import DomainError
from krc.nutrition import prevalence as prev
from krc.nutrition.prevalence import prevalence_table, public_health_significance

FIXTURES = Path(__file__).parent / "fixtures" / "prevalence"
TOLERANCE = 1e-6

# name, anthro's path, age in months, design columns
CASES = [
    ("survey", "survey", False, ("cluster", "strata", "sw")),
    ("simple", "simple", True, ()),
    ("weighted", "weighted", False, ("sw",)),
    ("clustered", "survey", False, ("cluster",)),
]
GROUP_ARGS = ("typeres", "gregion", "wealthq", "mothered", "othergr")


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def _num(v: str) -> float:
    return math.nan if v in ("", "NA") else float(v)


def _column(rows: list[dict[str, str]], name: str) -> list[Any]:
    cells = [r[name] for r in rows]
    try:
        return [None if c == "" else float(c) for c in cells]
    except ValueError:
        return [None if c == "" else c for c in cells]


def _table(name: str, months: bool, design: tuple[str, ...]) -> prev.PrevalenceTable:
    inp = _read(FIXTURES / f"{name}_input.csv")
    zs = _read(FIXTURES / f"{name}_zscores.csv")
    z = {c: np.array([_num(r[c]) for r in zs]) for c in prev.ZSCORE_COLUMNS}
    kwargs: dict[str, Any] = {}
    if "sw" in design:
        kwargs["sw"] = np.array([_num(r["sw"]) for r in inp])
    for c in ("cluster", "strata"):
        if c in design:
            kwargs[c] = _column(inp, c)
    for c in GROUP_ARGS:
        if c in inp[0]:
            kwargs[c] = _column(inp, c)
    return prevalence_table(z, sex=_column(inp, "sex"),
                            age=np.array([_num(r["age"]) for r in inp]),
                            is_age_in_month=months, oedema=[r["oedema"] for r in inp], **kwargs)


@pytest.fixture(scope="module", params=CASES, ids=[c[0] for c in CASES])
def case(request: pytest.FixtureRequest) -> tuple[str, str, prev.PrevalenceTable,
                                                   list[dict[str, str]]]:
    name, method, months, design = request.param
    return name, method, _table(name, months, design), _read(FIXTURES / f"{name}_expected.csv")


def test_columns_are_anthros_then_design_effects(case: Any) -> None:
    _, _, table, expected = case
    header = list(expected[0].keys())
    assert header[0] == "Group"
    assert prev.anthro_columns() == header[1:]
    assert list(table.columns) == header[1:] + [f"{n}_deff" for n in prev.prevalence_names()]
    assert len(prev.prevalence_names()) == 26


def test_groups_in_anthros_order(case: Any) -> None:
    _, method, table, expected = case
    assert table.method == method
    assert list(table.groups) == [r["Group"] for r in expected]


def test_every_cell_matches_r_to_1e_6(case: Any) -> None:
    name, _, table, expected = case
    mismatches = []
    checked = 0
    for i, row in enumerate(expected):
        for col, text in row.items():
            if col == "Group":
                continue
            ours = float(table.values[i, table.columns.index(col)])
            theirs = _num(text)
            if math.isnan(theirs) or math.isnan(ours):
                if not (math.isnan(theirs) and math.isnan(ours)):
                    mismatches.append((row["Group"], col, ours, theirs))
                continue
            checked += 1
            if abs(ours - theirs) > TOLERANCE:
                mismatches.append((row["Group"], col, ours, theirs))
    assert not mismatches, f"{name}: {mismatches[:10]}"
    assert checked > 1000


def test_fixtures_cover_the_hard_cases() -> None:
    """The survey fixture exercises what differs between designs (so the tests above bite)."""
    t = _table("survey", False, ("cluster", "strata", "sw"))
    assert (t.excluded_age, t.excluded_design, t.zero_weights) == (54, 2, 5)
    assert t.df == 41            # 45 PSUs (one lonely) − 4 strata
    c = t.row("Other grouping: C")                          # two stunted children
    assert c["HA_2_r"] == 100 and c["HA_2_ll"] == 100 and c["HA_2_ul"] == 100
    assert c["WH_stdev"] == 0                               # svyvar counts rows without value
    assert math.isnan(t.row("Other grouping: D")["WH_stdev"])
    assert t.row("All")["HA_3_r"] > 0 and t.row("Age group: 00-05 mo")["HA3_ll"] == 0
    w = _table("weighted", False, ("sw",))
    first_seen = list(dict.fromkeys(r["typeres"] for r in _read(FIXTURES / "weighted_input.csv")))
    assert w.zero_weights == 4
    assert w.groups[-2:] == tuple(f"Area: {v}" for v in first_seen)  # not sorted
    s = _table("simple", True, ())
    assert "Geographical region: NA" in s.groups             # fast path keeps an NA row
    assert s.row("Geographical region: NA")["HAZ_pop"] == 0


def _one(z: dict[str, list[float]], **kw: Any) -> prev.PrevalenceTable:
    n = len(next(iter(z.values())))
    full = {c: np.array(z.get(c, [math.nan] * n), dtype=float) for c in prev.ZSCORE_COLUMNS}
    for c in ("flen", "fwei", "fwfl", "fbmi"):
        if c not in z:
            full[c] = np.zeros(n)
    kw.setdefault("sex", [1] * n)
    kw.setdefault("age", [400.0] * n)
    return prevalence_table(full, **kw)


def test_oedema_counts_as_minus_3_1_for_weight_based_indicators_only() -> None:
    t = _one({"zlen": [-1.0, -2.5, 0.0, 0.5], "zwfl": [0.0, -1.0, math.nan, 1.0],
              "zwei": [0.5, 0.5, 0.5, 0.5]}, oedema=["n", "n", "y", "Y"])
    row = t.row("All")
    assert row["WHZ_unwpop"] == 4           # the oedema case without z-score counts
    assert row["WH_3_r"] == 50.0            # two of four below −3 (−3.1)
    assert row["WH_r"] == pytest.approx(-0.5)   # means leave oedema cases out
    assert row["WA_3_r"] == 50.0 and row["WA_r"] == 0.5
    assert row["HA_2_r"] == 25.0            # length-for-age ignores oedema
    assert row["HA_2_WH_2_r"] == 0.0 and row["HA_2_WH_2_unwpop"] == 4


def test_flagged_values_are_left_out() -> None:
    t = _one({"zlen": [-7.0, -2.5, -1.0, 0.0], "flen": [1, 0, 0, 0]})
    row = t.row("All")
    assert row["HAZ_unwpop"] == 3 and row["HA_2_r"] == pytest.approx(100 / 3)
    assert row["HA_r"] == pytest.approx(-3.5 / 3)


def test_age_limits_and_age_groups() -> None:
    t = _one({"zlen": [-2.5, -2.5, 1.0, 1.0, 0.0]}, age=[1826, 1827, 0, None, 182.7])
    assert t.excluded_age == 1 and t.records == 4
    assert t.row("All")["HAZ_unwpop"] == 4
    assert t.row("Age group: 00-05 mo")["HAZ_unwpop"] == 1   # day 0
    assert t.row("Age group: 06-11 mo")["HAZ_unwpop"] == 1   # 182.7 days = 6.002 months
    assert t.row("Age group: 48-59 mo")["HAZ_unwpop"] == 1   # 1826 days = 59.99 months
    months = _one({"zlen": [0.0, 0.0]}, age=[59.99, 60.0], is_age_in_month=True)
    assert months.row("All")["HAZ_unwpop"] == 2              # 60 mo = 1826.25 → day 1826
    assert months.row("Age group: 48-59 mo")["HAZ_unwpop"] == 1


def test_groups_without_values_are_not_reported() -> None:
    t = _one({"zlen": [0.0, 1.0]}, sex=[None, "x"], age=None)
    assert t.groups == ("All",)
    w = _one({"zlen": [0.0, 1.0, 2.0]}, wealthq=["Q1", 5, "9"])
    assert w.groups[-5:] == ("Wealth quintile: Q1: Poorest", "Wealth quintile: Q2",
                             "Wealth quintile: Q3", "Wealth quintile: Q4",
                             "Wealth quintile: Q5: Richest")
    assert w.notes == ("wealthq: 1",)


def test_design_groups_are_sorted_and_simple_groups_in_order_of_appearance() -> None:
    z = {"zlen": [0.0, -3.0, 1.0, -2.5]}
    simple = _one(z, othergr=["b", "a", None, 10])
    assert simple.groups[-4:] == ("Other grouping: b", "Other grouping: a",
                                  "Other grouping: NA", "Other grouping: 10")
    design = _one(z, othergr=["b", "a", None, "c"], cluster=[1, 1, 2, 2])
    assert design.groups[-3:] == ("Other grouping: a", "Other grouping: b",
                                  "Other grouping: c")
    numeric = _one(z, othergr=[10.0, 9.0, 2.5, 10.0], cluster=[1, 1, 2, 2])
    assert numeric.groups[-3:] == ("Other grouping: 2.5", "Other grouping: 9",
                                   "Other grouping: 10")


def test_refusals() -> None:
    with pytest.raises(DomainError) as e:
        prevalence_table({"zlen": [0.0]}, sex=[1])
    assert e.value.code == "zscores_missing"
    with pytest.raises(DomainError) as e:
        _one({"zlen": [0.0, 1.0]}, age=[-1, 3])
    assert e.value.code == "age_negative" and "enregistrement 1" in e.value.text("fr")
    with pytest.raises(DomainError) as e:
        _one({"zlen": [0.0, 1.0]}, sw=[1.0, -2.0])
    assert e.value.code == "weight_negative" and "record 2" in e.value.text("en")
    with pytest.raises(DomainError) as e:
        _one({"zlen": [0.0]}, age=[2000])
    assert e.value.code == "nothing_to_analyse"
    with pytest.raises(DomainError) as e:
        _one({"zlen": [0.0, 1.0]}, gregion=["a"])
    assert e.value.code == "length_mismatch"


def test_the_quirk_of_exactly_one_percent_with_weights_is_kept() -> None:
    """anthro sets the interval to [1, 1] when a weighted prevalence is exactly 1 %."""
    zlen = [-2.5] + [0.0] * 99
    weighted = _one({"zlen": zlen}, sw=[2.0] * 100)
    assert weighted.row("All")["HA_2_r"] == 1.0
    assert weighted.row("All")["HA_2_ll"] == 1.0 and weighted.row("All")["HA_2_ul"] == 1.0
    simple = _one({"zlen": zlen})
    assert simple.row("All")["HA_2_ll"] < 1.0 < simple.row("All")["HA_2_ul"]


@pytest.mark.parametrize(("indicator", "percent", "level"), [
    ("stunting", 0.0, "very_low"), ("stunting", 2.49, "very_low"), ("stunting", 2.5, "low"),
    ("stunting", 9.99, "low"), ("stunting", 10.0, "medium"), ("stunting", 19.9, "medium"),
    ("stunting", 20.0, "high"), ("stunting", 29.99, "high"), ("stunting", 30.0, "very_high"),
    ("stunting", 62.0, "very_high"),
    ("wasting", 2.4, "very_low"), ("wasting", 2.5, "low"), ("wasting", 4.99, "low"),
    ("wasting", 5.0, "medium"), ("wasting", 9.99, "medium"), ("wasting", 10.0, "high"),
    ("wasting", 14.99, "high"), ("wasting", 15.0, "very_high"),
    ("overweight", 3.0, "low"), ("overweight", 15.0, "very_high"),
])
def test_public_health_significance_de_onis_2019(indicator: str, percent: float,
                                                 level: str) -> None:
    assert public_health_significance(indicator, percent) == level


def test_public_health_significance_missing_and_unknown() -> None:
    assert public_health_significance("wasting", math.nan) is None
    with pytest.raises(DomainError):
        public_health_significance("anaemia", 40.0)


def test_weights_all_one_are_no_weights() -> None:
    """anthro 1.1.0.9000 stops on weights all equal to 1 ("unused argument"); we analyse
    them as the unweighted sample they are."""
    z = {"zlen": [-2.5, -1.0, 0.3, -3.2, 1.0]}
    plain = _one(z)
    ones = _one(z, sw=[1.0] * 5)
    assert ones.method == plain.method == "simple"
    assert np.array_equal(ones.values, plain.values, equal_nan=True)
