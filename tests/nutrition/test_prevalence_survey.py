"""Pure design-based estimators (krc.nutrition.survey): hand-computed tables, R's qt, properties.

Reference: reference/nutrition.md §3.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from krc.nutrition import survey

# R 4.x: sprintf("%.17g", qt(0.975, df))
R_QT_975 = [
    (1, 12.706204736174694), (2, 4.3026527297494619), (3, 3.1824463052837078),
    (5, 2.5705818356363137), (10, 2.2281388519862739), (30, 2.0422724563012378),
    (41, 2.0195409704413754), (100, 1.9839715185235516), (869, 1.9626976123902604),
    (10000, 1.9602012398906257), (math.inf, 1.9599639845400536),
]


@pytest.mark.parametrize(("df", "expected"), R_QT_975)
def test_t_quantile_matches_r_qt(df: float, expected: float) -> None:
    # lgamma differences lose a few digits for very large df: 1e-11 is still 1e-11 of a CI
    assert survey.t_quantile(0.975, df) == pytest.approx(expected, rel=1e-11)


def test_t_quantile_other_levels_and_bad_df() -> None:
    assert survey.t_quantile(0.9, 4) == pytest.approx(1.5332062740589429, rel=1e-13)
    assert survey.t_quantile(0.025, 7) == pytest.approx(-2.3646242515927844, rel=1e-13)
    assert survey.t_quantile(0.5, 12) == 0.0
    assert math.isnan(survey.t_quantile(0.975, 0))
    assert math.isnan(survey.t_quantile(0.975, -3))
    assert math.isnan(survey.t_quantile(0.975, math.nan))


def test_incomplete_beta_and_t_cdf_match_r() -> None:
    assert survey.betainc(2.5, 0.5, 0.3) == pytest.approx(0.018927124071945644, rel=1e-12)
    assert survey.t_cdf(1.3, 6) == pytest.approx(0.87934741268860694, rel=1e-13)
    assert survey.betainc(2, 3, 0) == 0.0
    assert survey.betainc(2, 3, 1) == 1.0


# Example design: stratum A = PSUs a1 (2 rows) and a2 (1 row); stratum B = b1 (1 row) and
# b2 (2 rows). Hand computation (docstring of each test): p = 4/7, V = 58/2401.
STRATA = ["A", "A", "A", "B", "B", "B"]
CLUSTER = [1, 1, 2, 1, 2, 2]          # numbered within stratum (nested)
WEIGHTS = [1.0, 1.0, 2.0, 1.0, 1.0, 1.0]
Y = np.array([1.0, 0.0, 1.0, 0.0, 0.0, 1.0])


def _design() -> survey.Design:
    return survey.make_design(6, cluster=CLUSTER, strata=STRATA, weights=WEIGHTS)


def test_make_design_nests_clusters_in_strata() -> None:
    d = _design()
    assert d.psu.tolist() == [0, 0, 1, 2, 3, 3]
    assert d.psu_stratum.tolist() == [0, 0, 1, 1]
    assert d.stratum_size.tolist() == [2, 2]
    assert d.df == 2                     # 4 PSUs − 2 strata


def test_make_design_defaults_and_single_cluster() -> None:
    d = survey.make_design(5)
    assert d.psu.tolist() == [0, 1, 2, 3, 4] and d.df == 4
    one = survey.make_design(4, cluster=[7, 7, 7, 7])   # one cluster = no clustering
    assert one.psu.tolist() == [0, 1, 2, 3] and one.df == 3
    zero = survey.make_design(4, weights=[1, 0, 2, 1])  # degf ignores zero weights
    assert zero.df == 2 and zero.stratum_size.tolist() == [4]


@pytest.mark.parametrize(("rows", "p", "var"), [
    # whole sample: z = (−1, 6, −4, −1)/49 per PSU; A: 2·Σ(±7/98)² = 1/49; B: 9/2401
    ([0, 1, 2, 3, 4, 5], 4 / 7, 58 / 2401),
    # domain = stratum A: p = 3/4, PSU totals ∓1/8, stratum B contributes 0
    ([0, 1, 2], 3 / 4, 1 / 16),
    # domain = stratum B: p = 1/3, PSU totals ∓1/9
    ([3, 4, 5], 1 / 3, 4 / 81),
    # domain with one PSU per stratum: absent PSUs count as 0 in the stratum mean
    ([2, 3], 2 / 3, 8 / 81),
])
def test_domain_means_hand_computed(rows: list[int], p: float, var: float) -> None:
    domain = np.full(6, -1, dtype=np.int64)
    domain[rows] = 0
    est = survey.domain_means(Y, domain, 1, _design())
    assert est.mean[0] == pytest.approx(p, rel=1e-14)
    assert est.var[0] == pytest.approx(var, rel=1e-12)
    assert est.n[0] == len(rows)
    assert est.weight[0] == pytest.approx(sum(WEIGHTS[i] for i in rows))


def test_lonely_psu_is_centred_at_the_population_mean() -> None:
    # add stratum C with a single PSU (y = 1, w = 1): p = 5/8, V = 1/64 + 9/4096 + (3/64)²
    d = survey.make_design(7, cluster=[*CLUSTER, 1], strata=[*STRATA, "C"],
                           weights=[*WEIGHTS, 1.0])
    assert d.df == 2                     # 5 PSUs − 3 strata
    est = survey.domain_means(np.append(Y, 1.0), np.zeros(7, dtype=np.int64), 1, d)
    assert est.mean[0] == pytest.approx(5 / 8)
    assert est.var[0] == pytest.approx(82 / 4096, rel=1e-12)


def test_domains_in_one_pass_equal_domains_one_by_one() -> None:
    domain = np.array([0, 1, 0, 1, -1, 0], dtype=np.int64)
    both = survey.domain_means(Y, domain, 3, _design())
    for k in (0, 1):
        alone = survey.domain_means(Y, np.where(domain == k, 0, -1), 1, _design())
        assert both.mean[k] == pytest.approx(alone.mean[0])
        assert both.var[k] == pytest.approx(alone.var[0])
    assert math.isnan(both.mean[2]) and math.isnan(both.var[2])   # empty domain: NA
    assert both.n[2] == 0


def test_missing_values_are_left_out_of_the_domain() -> None:
    y = Y.copy()
    y[1] = np.nan
    est = survey.domain_means(y, np.zeros(6, dtype=np.int64), 1, _design())
    assert est.mean[0] == pytest.approx(4 / 6)
    assert est.n[0] == 5


def test_svyvar_counts_domain_rows_with_or_without_value() -> None:
    y = np.array([1.0, 2.0, np.nan, 3.0])
    d = survey.make_design(4)
    dom = np.zeros(4, dtype=np.int64)
    # Σ (y − 2)² / 3 = 2/3, times m/(m − 1): svyvar's m = 4 rows, anthro's fast path m = 3
    assert survey.domain_variance_of_values(y, dom, 1, d)[0] == pytest.approx(8 / 9)
    assert survey.domain_variance_of_values(y, dom, 1, d, np.array([3.0]))[0] == \
        pytest.approx(1.0)
    one = survey.domain_variance_of_values(np.array([1.0]), np.zeros(1, dtype=np.int64), 1,
                                           survey.make_design(1))
    assert math.isnan(one[0])


def test_simple_proportion_hand_computed() -> None:
    # 3 of 10 among N = 20 records: se = sqrt(20/19 · 0.21/10)
    p, se, ll, ul = survey.simple_proportion(3, 10, 20)
    assert p == 0.3
    assert se == pytest.approx(math.sqrt(20 / 19 * 0.21 / 10))
    t = 2.0930240544083092   # R: qt(0.975, 19)
    half = t * math.sqrt(20 / 19 / (10 * 0.21))
    assert ll == pytest.approx(1 / (1 + math.exp(-(math.log(0.3 / 0.7) - half))), rel=1e-12)
    assert ul == pytest.approx(1 / (1 + math.exp(-(math.log(0.3 / 0.7) + half))), rel=1e-12)
    assert survey.simple_proportion(0, 10, 20)[2:] == (0.0, 0.0)
    assert survey.simple_proportion(10, 10, 20)[2:] == (1.0, 1.0)
    assert all(math.isnan(v) for v in survey.simple_proportion(0, 0, 20))


def test_logit_and_mean_intervals() -> None:
    p = np.array([0.0, 1.0, 0.25, np.nan])
    se = np.array([0.0, 0.0, 0.05, np.nan])
    ll, ul = survey.logit_interval(p, se, 10)
    assert ll[:2].tolist() == [0.0, 1.0] and ul[:2].tolist() == [0.0, 1.0]
    t = 2.2281388519862739
    assert ll[2] == pytest.approx(1 / (1 + math.exp(-(math.log(1 / 3) - t * 0.05 / 0.1875))))
    assert math.isnan(ll[3]) and math.isnan(ul[3])
    lo, hi = survey.mean_interval(np.array([-1.0]), np.array([0.1]), 10)
    assert lo[0] == pytest.approx(-1 - t * 0.1) and hi[0] == pytest.approx(-1 + t * 0.1)


def test_design_effect() -> None:
    deff = survey.design_effect(np.array([0.2, 0.0, 0.5]), np.array([0.04, 0.0, 0.1]),
                                np.array([100.0, 50.0, 0.0]))
    assert deff[0] == pytest.approx(0.0016 / (0.16 / 100))
    assert math.isnan(deff[1]) and math.isnan(deff[2])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.booleans(), min_size=2, max_size=40), st.integers(0, 30))
def test_no_design_equals_the_simple_formula(flags: list[bool], extra: int) -> None:
    """Each record its own PSU, one stratum, weights 1: Taylor = sqrt(N/(N−1)·p(1−p)/n)."""
    n = len(flags)
    big_n = n + extra
    y = np.concatenate([np.array(flags, dtype=float), np.full(extra, np.nan)])
    d = survey.make_design(big_n)
    est = survey.domain_means(y, np.zeros(big_n, dtype=np.int64), 1, d)
    p, se, ll, ul = survey.simple_proportion(sum(flags), n, big_n)
    assert est.mean[0] == pytest.approx(p)
    assert est.se[0] == pytest.approx(se, abs=1e-12)
    lo, hi = survey.logit_interval(est.mean, est.se, d.df)
    assert lo[0] == pytest.approx(ll, abs=1e-12) and hi[0] == pytest.approx(ul, abs=1e-12)
    if 0 < p < 1:
        assert survey.design_effect(est.mean, est.se, est.n)[0] == pytest.approx(
            big_n / (big_n - 1))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 5), st.integers(0, 2), st.booleans(),
                          st.floats(0.2, 5.0)), min_size=4, max_size=60))
@example([(0, 0, False, 2.0), (0, 0, False, 2.0), (0, 0, False, 2.0), (0, 0, False, 3.0),
          (0, 0, False, 4.0), (0, 0, True, 0.3125), (1, 0, False, 3.0)])  # differed by 1.8e-8
def test_glm_interval_agrees_with_the_delta_method(rows: list[tuple[int, int, bool, float]]
                                                   ) -> None:
    """svyciprop's IRLS fit lands on logit(p) to its stopping precision: its interval is
    the delta-method one within 1e-7 (far inside the 1e-6 prevalence agreement required)."""
    cluster = [r[0] for r in rows]
    strata = [r[1] for r in rows]
    y = np.array([float(r[2]) for r in rows])
    w = [r[3] for r in rows]
    d = survey.make_design(len(rows), cluster=cluster, strata=strata, weights=w)
    dom = np.zeros(len(rows), dtype=np.int64)
    est = survey.domain_means(y, dom, 1, d)
    a_ll, a_ul = survey.logit_interval(est.mean, est.se, d.df)
    b_ll, b_ul = survey.glm_logit_interval(y, dom, 1, d, d.df)
    if d.df <= 0:
        assert math.isnan(b_ll[0]) or est.mean[0] in (0.0, 1.0)
        return
    assert b_ll[0] == pytest.approx(a_ll[0], abs=1e-7)
    assert b_ul[0] == pytest.approx(a_ul[0], abs=1e-7)
    if 0 < est.mean[0] < 1:
        assert b_ll[0] <= est.mean[0] <= b_ul[0]
