"""Design-based estimates of means and proportions for surveys (pure numpy, no I/O).

What WHO anthro's survey analysis asks of R's `survey` package, written from the method
(reference/nutrition.md §3): a stratified cluster design with sampling weights (all
optional), the weighted mean of a domain (a ratio) with its Taylor-linearised variance as
`survey::svymean` gives it (ultimate clusters nested in strata, with-replacement, domain
estimation over the full design, single-PSU strata centred at the population mean as
`options(survey.lonely.psu = "adjust")`), 95 % intervals on the logit scale with the design
degrees of freedom (#PSUs − #strata, as `svyciprop(method = "logit")` with `degf`), the
unweighted no-design formulas, and the design effect `Var_design(p) / (p(1 − p)/n)`.

Domains are given as integer codes (``-1`` = in no domain) so that every domain of one
grouping is computed in one pass; missing values are NaN.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from numpy.typing import NDArray

FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]

CONFIDENCE = 0.95


# --- Student's t quantile (no scipy) -------------------------------------------------------

def _betacf(a: float, b: float, x: float) -> float:
    """Return the continued fraction of the regularised incomplete beta (modified Lentz)."""
    tiny = 1e-300
    qab, qap, qam = a + b, a + 1.0, a - 1.0
    c = 1.0
    d = 1.0 - qab * x / qap
    d = tiny if abs(d) < tiny else d
    d = 1.0 / d
    h = d
    for m in range(1, 100_000):
        m2 = 2 * m
        aa = m * (b - m) * x / ((qam + m2) * (a + m2))
        d = 1.0 + aa * d
        d = tiny if abs(d) < tiny else d
        c = 1.0 + aa / c
        c = tiny if abs(c) < tiny else c
        d = 1.0 / d
        h *= d * c
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2))
        d = 1.0 + aa * d
        d = tiny if abs(d) < tiny else d
        c = 1.0 + aa / c
        c = tiny if abs(c) < tiny else c
        d = 1.0 / d
        delta = d * c
        h *= delta
        if abs(delta - 1.0) < 1e-16:
            break
    return h


def betainc(a: float, b: float, x: float) -> float:
    """Return the regularised incomplete beta function I_x(a, b)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    log_front = (math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                 + a * math.log(x) + b * math.log1p(-x))
    if x < (a + 1.0) / (a + b + 2.0):
        return math.exp(log_front) * _betacf(a, b, x) / a
    return 1.0 - math.exp(log_front) * _betacf(b, a, 1.0 - x) / b


def t_cdf(t: float, df: float) -> float:
    """Return P(T ≤ t) for Student's t with `df` degrees of freedom (df = inf: normal)."""
    if math.isinf(df):
        return 0.5 * math.erfc(-t / math.sqrt(2.0))
    tail = 0.5 * betainc(df / 2.0, 0.5, df / (df + t * t))
    return 1.0 - tail if t > 0 else tail


def _t_pdf(t: float, df: float) -> float:
    if math.isinf(df):
        return math.exp(-0.5 * t * t) / math.sqrt(2.0 * math.pi)
    return math.exp(math.lgamma((df + 1) / 2) - math.lgamma(df / 2)
                    - 0.5 * math.log(df * math.pi) - (df + 1) / 2 * math.log1p(t * t / df))


def _normal_quantile(p: float) -> float:
    # Bisection start then Newton on the normal CDF: exact to machine precision.
    lo, hi = -40.0, 40.0
    for _ in range(60):
        mid = (lo + hi) / 2
        if 0.5 * math.erfc(-mid / math.sqrt(2.0)) < p:
            lo = mid
        else:
            hi = mid
    return (lo + hi) / 2


@lru_cache(maxsize=1024)
def t_quantile(p: float, df: float) -> float:
    """Return the p-quantile of Student's t with `df` degrees of freedom (R's `qt(p, df)`).

    NaN when df ≤ 0 or is NaN, as R gives for a design with no degrees of freedom.
    """
    if math.isnan(df) or df <= 0 or not 0.0 < p < 1.0:
        return math.nan
    if p < 0.5:
        return -t_quantile(1.0 - p, df)
    if p == 0.5:
        return 0.0
    t = _normal_quantile(p)
    if not math.isinf(df):
        # bracket then Newton (bisection fallback keeps it safe for tiny df)
        lo, hi = 0.0, max(2.0 * t, 1.0)
        while t_cdf(hi, df) < p:
            hi *= 2.0
        t = min(max(t, lo), hi)
        for _ in range(200):
            f = t_cdf(t, df) - p
            if f > 0:
                hi = t
            else:
                lo = t
            step = f / _t_pdf(t, df)
            nxt = t - step
            if not lo <= nxt <= hi:
                nxt = (lo + hi) / 2
            if abs(nxt - t) <= 4e-16 * max(1.0, abs(t)) or hi - lo <= 4e-16 * hi:
                t = nxt
                break
            t = nxt
    return t


def expit(x: FloatArray) -> FloatArray:
    """Return the inverse logit 1 / (1 + exp(−x)), elementwise."""
    with np.errstate(over="ignore"):
        return np.asarray(1.0 / (1.0 + np.exp(-x)), dtype=np.float64)


# --- survey design -------------------------------------------------------------------------

@dataclass(frozen=True)
class Design:
    """A one-stage (ultimate cluster) stratified design over n rows.

    `psu[i]` is the PSU code of row i (PSUs nested in strata), `psu_stratum[j]` the stratum of
    PSU j, `stratum_size[h]` the number of PSUs of stratum h (every row counts, as
    `svydesign` counts them), `weights[i]` the sampling weight (0 = excluded), `df` the design
    degrees of freedom (PSUs − strata among rows of non-zero weight, as `survey::degf`).
    """

    psu: IntArray
    psu_stratum: IntArray
    stratum_size: IntArray
    weights: FloatArray
    df: int

    @property
    def n(self) -> int:
        """Return the number of rows."""
        return int(self.psu.shape[0])


def _codes(values: Sequence[object] | NDArray[np.generic]) -> IntArray:
    """Return integer codes of the distinct values of `values` (order irrelevant)."""
    arr = np.asarray(values)
    if arr.dtype.kind in "iuf":
        _, inv = np.unique(arr, return_inverse=True)
    else:
        _, inv = np.unique(arr.astype(str), return_inverse=True)
    return inv.astype(np.int64).reshape(-1)


def make_design(n: int, cluster: Sequence[object] | NDArray[np.generic] | None = None,
                strata: Sequence[object] | NDArray[np.generic] | None = None,
                weights: Sequence[float] | NDArray[np.floating] | None = None) -> Design:
    """Return the design of n rows (none given: each row its own PSU, one stratum, weight 1).

    As anthro builds it with `svydesign(ids = ~cluster, strata = ~strata, weights = ~sw,
    nest = TRUE)`: a cluster variable with a single value means no clustering.
    """
    stratum = _codes(strata) if strata is not None else np.zeros(n, dtype=np.int64)
    if cluster is not None:
        cl = _codes(cluster)
        if np.unique(cl).size <= 1:
            cl = np.arange(n, dtype=np.int64)
    else:
        cl = np.arange(n, dtype=np.int64)
    # nest = TRUE: a PSU is a (stratum, cluster) pair
    pair = stratum * (int(cl.max(initial=0)) + 1) + cl
    uniq, psu = np.unique(pair, return_inverse=True)
    psu = psu.astype(np.int64).reshape(-1)
    n_psu = uniq.size
    psu_stratum = np.zeros(n_psu, dtype=np.int64)
    psu_stratum[psu] = stratum
    n_strata = int(stratum.max(initial=-1)) + 1
    stratum_size = np.bincount(psu_stratum, minlength=n_strata).astype(np.int64)
    w = (np.ones(n, dtype=np.float64) if weights is None
         else np.asarray(weights, dtype=np.float64).reshape(-1))
    inset = w != 0
    df = int(np.unique(psu[inset]).size - np.unique(stratum[inset]).size)
    return Design(psu=psu, psu_stratum=psu_stratum, stratum_size=stratum_size, weights=w, df=df)


# --- domain estimates ----------------------------------------------------------------------

@dataclass(frozen=True)
class DomainEstimates:
    """Per-domain weighted mean of a variable and its design-based variance.

    `n` counts the rows with a value (unweighted), `weight` sums their weights; `mean` and
    `var` are NaN for a domain without weight.
    """

    mean: FloatArray
    var: FloatArray
    n: FloatArray
    weight: FloatArray

    @property
    def se(self) -> FloatArray:
        """Return the standard errors sqrt(var)."""
        return np.asarray(np.sqrt(self.var), dtype=np.float64)


def domain_means(y: FloatArray, domain: IntArray, n_domains: int,
                 design: Design) -> DomainEstimates:
    """Return the weighted mean of y per domain and its Taylor-linearised variance.

    As `svyby(~y, ~domain, design, svymean, na.rm = TRUE)` with
    `survey.lonely.psu = "adjust"` (reference/nutrition.md §3): the linearised variable
    z_i = w_i (y_i − ȳ_d) / Σ_d w over the domain's rows with a value (0 elsewhere) is summed
    per PSU; a stratum of n_h ≥ 2 PSUs adds n_h/(n_h − 1) Σ (Z_hj − Z̄_h)², with Z̄_h the mean
    over all n_h PSUs; a stratum of a single PSU adds Z_h1² (centred at the population mean).
    """
    ok = ~np.isnan(y) & (domain >= 0)
    g = domain[ok]
    w = design.weights[ok]
    yy = y[ok]
    n = np.bincount(g, minlength=n_domains).astype(np.float64)
    wsum = np.asarray(np.bincount(g, weights=w, minlength=n_domains), dtype=np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.bincount(g, weights=w * yy, minlength=n_domains) / wsum
        z = w * (yy - mean[g]) / wsum[g]
    var = linearised_variance(z, g, design.psu[ok], n_domains, design)
    var = np.where(wsum > 0, var, np.nan)
    return DomainEstimates(mean=mean, var=var, n=n, weight=wsum)


def linearised_variance(z: FloatArray, domain: IntArray, psu: IntArray, n_domains: int,
                        design: Design) -> FloatArray:
    """Return the with-replacement variance of the total of a linearised variable per domain.

    `z[i]` belongs to `domain[i]` and PSU `psu[i]` (rows outside a domain simply absent):
    Σ_h n_h/(n_h − 1) Σ_j (Z_hj − Z̄_h)² over strata of n_h ≥ 2 PSUs (Z̄_h the mean over all
    n_h PSUs of the design, so PSUs without rows count as 0), plus Z_h1² for a stratum of a
    single PSU: `survey::svyrecvar` with `survey.lonely.psu = "adjust"`.
    """
    n_psu = design.psu_stratum.size
    z_psu = np.bincount(domain * n_psu + psu, weights=z,
                        minlength=n_domains * n_psu).reshape(n_domains, n_psu)
    size = design.stratum_size
    n_strata = size.size
    index = (np.arange(n_domains, dtype=np.int64)[:, None] * n_strata
             + design.psu_stratum[None, :]).ravel()
    sums = np.bincount(index, weights=z_psu.ravel(),
                       minlength=n_domains * n_strata).reshape(n_domains, n_strata)
    lonely = size <= 1
    centre = np.where(lonely, 0.0, sums / np.maximum(size, 1))
    scale = np.where(lonely, 1.0, size / np.maximum(size - 1, 1)).astype(np.float64)
    dev = z_psu - centre[:, design.psu_stratum]
    return np.asarray((dev * dev) @ scale[design.psu_stratum], dtype=np.float64)


def domain_variance_of_values(y: FloatArray, domain: IntArray, n_domains: int, design: Design,
                              count: FloatArray | None = None) -> FloatArray:
    """Return the design-based population variance of y per domain, as `survey::svyvar`.

    Σ w (y − ȳ)² / Σ w over the rows with a value, times m/(m − 1); m counts the domain's
    rows of non-zero weight, with or without a value, as svyvar counts them, unless `count`
    gives it per domain (anthro's weights-only path counts the rows with a value). NaN when
    m ≤ 1.
    """
    est = domain_means(y, domain, n_domains, design)
    ok = ~np.isnan(y) & (domain >= 0)
    g = domain[ok]
    w = design.weights[ok]
    dev = y[ok] - est.mean[g]
    if count is None:
        in_domain = domain >= 0
        m = np.asarray(np.bincount(domain[in_domain],
                                   weights=(design.weights[in_domain] != 0).astype(np.float64),
                                   minlength=n_domains), dtype=np.float64)
    else:
        m = count
    with np.errstate(invalid="ignore", divide="ignore"):
        mse = np.bincount(g, weights=w * dev * dev, minlength=n_domains) / est.weight
        var = mse * m / (m - 1)
    return np.where(m > 1, var, np.nan)


# --- intervals -----------------------------------------------------------------------------

def logit_interval(p: FloatArray, se: FloatArray, df: float,
                   level: float = CONFIDENCE) -> tuple[FloatArray, FloatArray]:
    """Return the logit-scale interval of proportions p (fractions) with standard errors se.

    logit(p) ± t(df) · se / (p(1 − p)), mapped back with expit: the interval of
    `svyciprop(method = "logit", df = degf(design))` (reference/nutrition.md §3). p = 0
    gives [0, 0] and p = 1 gives [1, 1] (anthro's convention).
    """
    t = t_quantile(1.0 - (1.0 - level) / 2.0, df)
    with np.errstate(invalid="ignore", divide="ignore"):
        logit = np.log(p / (1.0 - p))
        se_logit = se / (p * (1.0 - p))
        ll = expit(logit - t * se_logit)
        ul = expit(logit + t * se_logit)
    ll = np.where(p == 0, 0.0, np.where(p == 1, 1.0, ll))
    ul = np.where(p == 0, 0.0, np.where(p == 1, 1.0, ul))
    return ll, ul


def glm_logit_interval(y: FloatArray, domain: IntArray, n_domains: int, design: Design,
                       df: float, level: float = CONFIDENCE,
                       max_iterations: int = 25,
                       epsilon: float = 1e-8) -> tuple[FloatArray, FloatArray]:
    """Return the logit interval of a 0/1 variable per domain exactly as `svyciprop` fits it.

    `svyciprop(method = "logit")` fits an intercept-only quasi-binomial `svyglm` on the domain
    (prior weights = sampling weights over their mean in the domain) by R's iteratively
    reweighted least squares (start μ = (w·y + 0.5)/(w + 1), stop when the deviance changes
    by less than 1e-8 relatively, at most 25 iterations), and takes coef ± t(df)·SE with the
    sandwich SE over the design. The fitted intercept is logit(p) only to the precision at
    which IRLS stops, so the limits differ from `logit_interval` by about 1e-8 (1.8e-8 seen
    on a two-cluster design); it is kept so that tables agree
    with WHO anthro to the last digits. p = 0 gives [0, 0] and p = 1 gives [1, 1].
    """
    in_domain = domain >= 0
    dom_all = domain[in_domain]
    w_all = design.weights[in_domain]
    count = np.bincount(dom_all, minlength=n_domains).astype(np.float64)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_w = np.bincount(dom_all, weights=w_all, minlength=n_domains) / count
    ok = in_domain & ~np.isnan(y)
    g = domain[ok]
    yy = y[ok]
    with np.errstate(invalid="ignore", divide="ignore"):
        pw = design.weights[ok] / mean_w[g]
    sw = np.bincount(g, weights=pw, minlength=n_domains)
    s1 = np.bincount(g, weights=pw * yy, minlength=n_domains)
    s0 = sw - s1
    with np.errstate(invalid="ignore", divide="ignore"):
        p = s1 / sw
    fit = (sw > 0) & (p > 0) & (p < 1)

    def deviance(mu: FloatArray, sel: NDArray[np.bool_] | slice = slice(None)) -> FloatArray:
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.asarray(-2.0 * (s1[sel] * np.log(mu) + s0[sel] * np.log1p(-mu)),
                              dtype=np.float64)

    # iteration 1 starts from a different μ on each row
    mu0 = (pw * yy + 0.5) / (pw + 1.0)
    eta0 = np.log(mu0 / (1.0 - mu0))
    mu0 = 1.0 / (1.0 + np.exp(-eta0))
    v0 = mu0 * (1.0 - mu0)
    with np.errstate(invalid="ignore", divide="ignore"):
        dev_old = np.bincount(g, weights=-2.0 * pw * (yy * np.log(mu0)
                                                       + (1 - yy) * np.log1p(-mu0)),
                              minlength=n_domains)
        w2 = pw * v0
        coef = (np.bincount(g, weights=w2 * eta0 + pw * (yy - mu0), minlength=n_domains)
                / np.bincount(g, weights=w2, minlength=n_domains))
    mu = 1.0 / (1.0 + np.exp(-coef))
    dev = deviance(mu)
    with np.errstate(invalid="ignore", divide="ignore"):
        done = ~fit | (np.abs(dev - dev_old) / (np.abs(dev) + 0.1) < epsilon)
    first_only = done.copy()
    for _ in range(1, max_iterations):
        if done.all():
            break
        active = ~done
        m = mu[active]
        step = (s1[active] - m * sw[active]) / (sw[active] * m * (1.0 - m))
        coef[active] = coef[active] + step
        mu[active] = 1.0 / (1.0 + np.exp(-coef[active]))
        dev_old_a = dev[active]
        dev[active] = deviance(mu[active], active)
        conv = np.abs(dev[active] - dev_old_a) / (np.abs(dev[active]) + 0.1) < epsilon
        done[np.flatnonzero(active)[conv]] = True

    # sandwich variance of the intercept: estfun · Ainv, over the design
    v = mu * (1.0 - mu)
    with np.errstate(invalid="ignore", divide="ignore"):
        u = pw * (yy - mu[g]) / (v[g] * sw[g])
        # converged at the first iteration: working weights of the starting μ
        if first_only.any():
            sel = first_only[g]
            w2_first = np.bincount(g, weights=pw * v0, minlength=n_domains)
            u[sel] = (pw[sel] * v0[sel] * (yy[sel] - mu[g][sel])
                      / (v[g][sel] * w2_first[g][sel]))
    u = np.where(np.isfinite(u), u, 0.0)
    var = linearised_variance(u, g, design.psu[ok], n_domains, design)
    t = t_quantile(1.0 - (1.0 - level) / 2.0, df)
    se = np.sqrt(var)
    ll = np.asarray(expit(coef - t * se), dtype=np.float64)
    ul = np.asarray(expit(coef + t * se), dtype=np.float64)
    ll = np.where(fit, ll, np.where(p == 0, 0.0, np.where(p == 1, 1.0, np.nan)))
    ul = np.where(fit, ul, np.where(p == 0, 0.0, np.where(p == 1, 1.0, np.nan)))
    return ll, ul


def mean_interval(mean: FloatArray, se: FloatArray, df: float,
                  level: float = CONFIDENCE) -> tuple[FloatArray, FloatArray]:
    """Return the symmetric t interval mean ± t(df)·se (as `confint(svymean, df = …)`)."""
    t = t_quantile(1.0 - (1.0 - level) / 2.0, df)
    return mean - t * se, mean + t * se


# --- no design (simple random sample) ------------------------------------------------------

def simple_proportion(successes: int, n: int, total: int,
                      level: float = CONFIDENCE) -> tuple[float, float, float, float]:
    """Return (p, se, ll, ul) as fractions for a simple random sample without weights.

    p = successes/n, se = sqrt(N/(N − 1) · p(1 − p)/n) and the logit interval with
    se_logit = sqrt(N/(N − 1) / (n p (1 − p))) on N − 1 degrees of freedom, N being the
    number of records of the whole analysis (reference/nutrition.md §3, anthro's fast path).
    """
    if n == 0:
        return (math.nan,) * 4
    p = successes / n
    scale = total / (total - 1) if total > 1 else math.nan
    se = math.sqrt(scale * p * (1 - p) / n)
    if p in (0.0, 1.0):
        return p, se, p, p
    se_logit = math.sqrt(scale / (n * p * (1 - p)))
    t = t_quantile(1.0 - (1.0 - level) / 2.0, total - 1)
    logit = math.log(p / (1 - p))
    lo = 1.0 / (1.0 + math.exp(-(logit - t * se_logit)))
    hi = 1.0 / (1.0 + math.exp(-(logit + t * se_logit)))
    return p, se, lo, hi


def design_effect(p: FloatArray, se: FloatArray, n: FloatArray) -> FloatArray:
    """Return Var_design(p) / (p(1 − p)/n): the design effect of proportions (fractions).

    reference/nutrition.md §3 (anthro does not report it); NaN when p is 0 or 1 or n = 0.
    """
    with np.errstate(invalid="ignore", divide="ignore"):
        srs = p * (1.0 - p) / n
        out = se * se / srs
    return np.where((srs > 0) & np.isfinite(srs), out, np.nan)
