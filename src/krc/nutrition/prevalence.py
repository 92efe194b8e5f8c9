"""Survey prevalence: the table of WHO anthro's `anthro_prevalence`, from z-scores (pure).

reference/nutrition.md §3. Takes the z-scores and flags of `anthro_zscores` (our engine's
or R's), with sex, age, oedema, the design (cluster, strata, sampling weights) and the
optional groupings, and returns anthro's table: the same `Group` rows (All, age groups, sex,
age + sex, area, geographical region, wealth quintile, maternal education, other grouping)
and the same columns in the same order (`HAZ_pop, HAZ_unwpop, HA_3_r, HA_3_se, HA_3_ll,
HA_3_ul, …, HA_r, HA_se, HA_ll, HA_ul, HA_stdev`, then WA, BMI, WH, `HA_2_WH_2_…`,
`HA_2_WH2_…`), followed by our design effects (`HA_3_deff`, …), which anthro lacks.

Inclusion as anthro: records older than 1826 days are left out (no age is kept); with a
design, records without cluster or stratum are left out and a missing weight counts as 0;
flagged z-scores are missing; oedema counts as z = −3.1 in the weight-based prevalences and
sample sizes (its z-score is missing for the means). Percentages for prevalences (r, se,
ll, ul); z units for means.

anthro computes in three ways, reproduced here: no design at all (its fast path: rows in
order of appearance of the groups, t on N − 1 df), weights only (its hybrid path), and the
`survey` package (rows sorted, df = #PSUs − #strata). Two quirks of anthro are kept so that
results agree: with weights, a prevalence of exactly 1 % gets the interval [1, 1] (anthro
tests `r == 1` after scaling to percent), and the means of the weights-only path use N − 1
df.
"""

from __future__ import annotations

import math
import unicodedata
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from numpy.typing import ArrayLike, NDArray

from krc.errors import invalid
from krc.nutrition import survey
from krc.nutrition.survey import FloatArray, IntArray

DAYS_PER_MONTH = 30.4375
MAX_AGE_DAYS = 1826
OEDEMA_Z = -3.1

#: (prefix, z-score column suffix, oedema counts as −3.1)
INDICATORS: tuple[tuple[str, str, bool], ...] = (
    ("HA", "len", False),
    ("WA", "wei", True),
    ("BMI", "bmi", True),
    ("WH", "wfl", True),
)
#: (cut-off, column suffix): < −3, < −2, < −1, > 1, > 2, > 3 SD
CUTOFFS: tuple[tuple[int, str], ...] = ((-3, "_3"), (-2, "_2"), (-1, "_1"), (1, "1"),
                                        (2, "2"), (3, "3"))
AGE_GROUPS = ("00-05 mo", "06-11 mo", "12-23 mo", "24-35 mo", "36-47 mo", "48-59 mo")
AGE_BREAKS = (0.0, 6.0, 12.0, 24.0, 36.0, 48.0, 60.0)
SEX_LEVELS = ("Female", "Male")
WEALTH_LEVELS = ("Q1: Poorest", "Q2", "Q3", "Q4", "Q5: Richest")
#: optional groupings of anthro_prevalence: argument name → row label
OPTIONAL_GROUPINGS: tuple[tuple[str, str], ...] = (
    ("typeres", "Area"),
    ("gregion", "Geographical region"),
    ("wealthq", "Wealth quintile"),
    ("mothered", "Maternal education"),
    ("othergr", "Other grouping"),
)
ZSCORE_COLUMNS = ("zlen", "flen", "zwei", "fwei", "zwfl", "fwfl", "zbmi", "fbmi")


def prevalence_names() -> list[str]:
    """Return the names of the prevalence indicators in anthro's order (HA_3 … HA_2_WH2)."""
    names = [f"{prefix}{suffix}" for prefix, _, _ in INDICATORS for _, suffix in CUTOFFS]
    return [*names, "HA_2_WH_2", "HA_2_WH2"]


def anthro_columns() -> list[str]:
    """Return anthro_prevalence's columns after `Group`, in its order."""
    cols: list[str] = []
    for prefix, _, _ in INDICATORS:
        cols += [f"{prefix}Z_pop", f"{prefix}Z_unwpop"]
        for _, suffix in CUTOFFS:
            cols += [f"{prefix}{suffix}_{s}" for s in ("r", "se", "ll", "ul")]
        cols += [f"{prefix}_{s}" for s in ("r", "se", "ll", "ul", "stdev")]
    cols += ["HA_2_WH_2_pop", "HA_2_WH_2_unwpop"]
    cols += [f"HA_2_WH_2_{s}" for s in ("r", "se", "ll", "ul")]
    cols += [f"HA_2_WH2_{s}" for s in ("r", "se", "ll", "ul")]
    return cols


def table_columns() -> list[str]:
    """Return our table's columns after `Group`: anthro's, then one `<name>_deff` each."""
    return anthro_columns() + [f"{name}_deff" for name in prevalence_names()]


@dataclass(frozen=True)
class PrevalenceTable:
    """anthro_prevalence's table: one row per group, `values[i, j]` for column j (NaN = NA).

    `method` is "simple" (no design), "weighted" (weights only) or "survey"; `df` the
    degrees of freedom of the prevalence intervals; the counts say which records were left
    out (age over 1826 days; missing cluster or stratum) or weighted 0 (missing weight).
    """

    groups: tuple[str, ...]
    columns: tuple[str, ...]
    values: FloatArray
    method: str
    df: float
    records: int
    excluded_age: int = 0
    excluded_design: int = 0
    zero_weights: int = 0
    notes: tuple[str, ...] = field(default=())

    def column(self, name: str) -> FloatArray:
        """Return one column of the table (by name)."""
        return np.asarray(self.values[:, self.columns.index(name)], dtype=np.float64)

    def row(self, group: str) -> dict[str, float]:
        """Return the row of one group as a dict column → value."""
        i = self.groups.index(group)
        return dict(zip(self.columns, (float(v) for v in self.values[i]), strict=True))

    def rows(self) -> Iterator[tuple[str, FloatArray]]:
        """Yield (Group, values) in table order."""
        for i, group in enumerate(self.groups):
            yield group, self.values[i]


# --- input normalisation (as anthro) -------------------------------------------------------

def _is_missing(v: object) -> bool:
    if v is None:
        return True
    if isinstance(v, float | np.floating):
        return math.isnan(float(v))
    return isinstance(v, str) and v == ""


def r_label(v: object) -> str:
    """Return R's `as.character` of a group value (numbers with up to 15 digits)."""
    if isinstance(v, bool | np.bool_):
        return "TRUE" if v else "FALSE"
    if isinstance(v, int | np.integer):
        return str(int(v))
    if isinstance(v, float | np.floating):
        x = float(v)
        return str(int(x)) if x.is_integer() and abs(x) < 1e15 else f"{x:.15g}"
    return str(v)


def r_collation_key(text: str) -> tuple[str, tuple[str, ...], tuple[bool, ...]]:
    """Return a sort key for text as R sorts it with ICU's root collation (Debian's R):
    letters first without accents or case, then accents, then lower case before upper."""
    decomposed = unicodedata.normalize("NFD", text)
    base = "".join(c for c in decomposed if not unicodedata.combining(c))
    marks: list[str] = []
    for c in decomposed:
        if unicodedata.combining(c):
            marks[-1:] = [(marks[-1] if marks else "") + c]
        else:
            marks.append("")
    return base.casefold(), tuple(marks), tuple(c.isupper() for c in base)


@dataclass(frozen=True)
class Labels:
    """A categorical input as R's `as.character` sees it: `text` ("" where missing),
    `missing`, and `numbers` when the input is numeric (R sorts those as numbers)."""

    text: NDArray[np.str_]
    missing: NDArray[np.bool_]
    numbers: FloatArray | None

    def take(self, rows: IntArray) -> Labels:
        """Return the labels of the given rows."""
        return Labels(self.text[rows], self.missing[rows],
                      None if self.numbers is None else self.numbers[rows])


def _format_numbers(x: FloatArray) -> NDArray[np.str_]:
    finite = np.isfinite(x)
    integral = finite & (np.abs(np.where(finite, x, 0)) < 1e15) & (np.floor(x) == x)
    out = np.where(integral, np.where(integral, x, 0).astype(np.int64).astype(str), "")
    out = out.astype(object)
    for i in np.flatnonzero(~integral & ~np.isnan(x)):
        out[i] = r_label(float(x[i]))
    return np.asarray(out.astype(str))


def labels(values: ArrayLike | Sequence[object], n: int, name: str) -> Labels:
    """Return the Labels of an input column (numbers, text, or Python objects)."""
    arr = np.asarray(values)
    if arr.ndim != 1 or arr.shape[0] != n:
        raise invalid(name, "length_mismatch", "{f} : {m} valeurs pour {n} enregistrements",
                      "{f}: {m} values for {n} records", f=name, m=arr.size, n=n)
    if arr.dtype.kind in "iu":
        nums = arr.astype(np.float64)
        return Labels(arr.astype(np.int64).astype(str), np.zeros(n, dtype=bool), nums)
    if arr.dtype.kind == "f":
        nums = arr.astype(np.float64)
        return Labels(_format_numbers(nums), np.isnan(nums), nums)
    if arr.dtype.kind in "US":
        text = arr.astype(str)
        return Labels(text, text == "", None)
    items = list(arr.astype(object))
    missing = np.array([_is_missing(v) for v in items], dtype=bool)
    text = np.array(["" if m else r_label(v) for v, m in zip(items, missing, strict=True)],
                    dtype=str)
    numeric = all(isinstance(v, int | float | np.integer | np.floating)
                  and not isinstance(v, bool | np.bool_)
                  for v, m in zip(items, missing, strict=True) if not m)
    numbers = (np.array([math.nan if m else float(v)
                         for v, m in zip(items, missing, strict=True)]) if numeric else None)
    return Labels(text, missing, numbers)


def _lower(lab: Labels) -> NDArray[np.str_]:
    return np.asarray(np.char.lower(np.char.strip(lab.text)))


def standardize_sex(sex: ArrayLike | Sequence[object]) -> NDArray[np.int8]:
    """Return 1 (male), 2 (female) or 0 (missing): m/M/1 and f/F/2 as anthro accepts."""
    lab = labels(sex, len(np.asarray(sex)), "sex")
    s = _lower(lab)
    out = np.where(np.isin(s, ("m", "1")), 1, np.where(np.isin(s, ("f", "2")), 2, 0))
    return np.where(lab.missing, 0, out).astype(np.int8)


def standardize_oedema(oedema: ArrayLike | Sequence[object] | None, n: int) -> NDArray[np.bool_]:
    """Return True where oedema is reported: y/Y/1 (anything else is no oedema)."""
    if oedema is None:
        return np.zeros(n, dtype=bool)
    lab = labels(oedema, n, "oedema")
    return np.asarray(np.isin(_lower(lab), ("y", "1")) & ~lab.missing)


def age_groups(age_in_months: FloatArray) -> IntArray:
    """Return the age group code 0–5 of ages in months ([0, 6), [6, 12) … [48, 60)), −1 else."""
    codes = np.searchsorted(np.asarray(AGE_BREAKS), age_in_months, side="right") - 1
    ok = ~np.isnan(age_in_months) & (age_in_months >= 0) & (age_in_months < AGE_BREAKS[-1])
    return np.where(ok, codes, -1).astype(np.int64)


def _round_half_up(x: FloatArray) -> FloatArray:
    floor = np.floor(x)
    return np.where(x - floor >= 0.5, floor + 1, floor)


def _float_array(values: ArrayLike | None, n: int, name: str) -> FloatArray:
    if values is None:
        return np.full(n, np.nan)
    if isinstance(values, np.ndarray) and values.dtype.kind in "fiu":
        arr = values.astype(np.float64).reshape(-1)
    else:
        arr = np.array([np.nan if _is_missing(v) else v
                        for v in np.asarray(values, dtype=object).reshape(-1)],
                       dtype=np.float64)
    if arr.shape[0] != n:
        raise invalid(name, "length_mismatch", "{f} : {m} valeurs pour {n} enregistrements",
                      "{f}: {m} values for {n} records", f=name, m=arr.shape[0], n=n)
    return arr


@dataclass
class _Grouping:
    label: str
    levels: list[str]
    codes: IntArray


def _factor(label: str, levels: Sequence[str], codes: IntArray) -> _Grouping:
    return _Grouping(label, list(levels), codes)


def _character(label: str, lab: Labels, sort: bool) -> _Grouping:
    """Group a character or numeric column: sorted levels (survey) or order of appearance
    with a level "NA" for missing values (anthro's fast and weights-only paths)."""
    present = ~lab.missing
    uniq, first, inverse = np.unique(lab.text, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    if sort:
        values = [u for u, f in zip(uniq.tolist(), first.tolist(), strict=True)
                  if present[f]]
        if lab.numbers is not None:
            num = {t: float(lab.numbers[f]) for t, f in zip(uniq.tolist(), first.tolist(),
                                                            strict=True) if present[f]}
            ordered = sorted(values, key=lambda t: num[t])
        else:
            ordered = sorted(values, key=r_collation_key)
        rank = {t: i for i, t in enumerate(ordered)}
        code_of_unique = np.array([rank.get(u, -1) if present[f] else -1
                                   for u, f in zip(uniq.tolist(), first.tolist(), strict=True)],
                                  dtype=np.int64)
        return _Grouping(label, ordered, code_of_unique[inverse])
    order = np.argsort(first, kind="stable")
    levels = ["NA" if not present[first[j]] else str(uniq[j]) for j in order]
    position = np.empty(uniq.size, dtype=np.int64)
    position[order] = np.arange(uniq.size)
    codes = np.where(present, position[inverse], -1).astype(np.int64)
    return _Grouping(label, levels, codes)


WEALTH_CODES = {**{str(q): q - 1 for q in range(1, 6)}, **{f"Q{q}": q - 1 for q in range(1, 6)}}


def _wealth(lab: Labels) -> tuple[IntArray, int]:
    uniq, inverse = np.unique(lab.text, return_inverse=True)
    code_of_unique = np.array([WEALTH_CODES.get(u, -1) for u in uniq.tolist()], dtype=np.int64)
    codes = np.where(lab.missing, -1, code_of_unique[inverse.reshape(-1)]).astype(np.int64)
    return codes, int(((codes < 0) & ~lab.missing).sum())


# --- the table -----------------------------------------------------------------------------

def prevalence_table(
    zscores: Mapping[str, ArrayLike],
    sex: Sequence[object] | NDArray[np.generic],
    age: ArrayLike | None = None,
    is_age_in_month: bool = False,
    oedema: Sequence[object] | NDArray[np.generic] | None = None,
    sw: ArrayLike | None = None,
    cluster: Sequence[object] | NDArray[np.generic] | None = None,
    strata: Sequence[object] | NDArray[np.generic] | None = None,
    typeres: Sequence[object] | NDArray[np.generic] | None = None,
    gregion: Sequence[object] | NDArray[np.generic] | None = None,
    wealthq: Sequence[object] | NDArray[np.generic] | None = None,
    mothered: Sequence[object] | NDArray[np.generic] | None = None,
    othergr: Sequence[object] | NDArray[np.generic] | None = None,
) -> PrevalenceTable:
    """Return anthro_prevalence's table (plus design effects) from anthro_zscores' output.

    `zscores` holds zlen, flen, zwei, fwei, zwfl, fwfl, zbmi, fbmi (NaN = missing);
    reference/nutrition.md §3. Raises DomainError on inconsistent input (lengths, negative
    ages or weights, nothing left to analyse).
    """
    n = len(sex)
    missing = [c for c in ZSCORE_COLUMNS if c not in zscores]
    if missing:
        raise invalid("zscores", "zscores_missing", "Colonnes de z-scores absentes : {c}",
                      "Missing z-score columns: {c}", c=", ".join(missing))
    z = {c: _float_array(zscores[c], n, c) for c in ZSCORE_COLUMNS}
    age_arr = _float_array(age, n, "age")
    if np.any(age_arr < 0):
        row = int(np.flatnonzero(age_arr < 0)[0]) + 1
        raise invalid("age", "age_negative", "Âge négatif (enregistrement {r})",
                      "Negative age (record {r})", r=row)
    days = _round_half_up(age_arr * DAYS_PER_MONTH if is_age_in_month else age_arr)
    months = age_arr if is_age_in_month else age_arr / DAYS_PER_MONTH
    keep = np.isnan(days) | (days <= MAX_AGE_DAYS)
    excluded_age = int(n - keep.sum())

    # design columns: records without cluster or stratum are left out (with a design)
    cluster_lab = None if cluster is None else labels(cluster, n, "cluster")
    strata_lab = None if strata is None else labels(strata, n, "strata")
    usable = keep.copy()
    for lab in (cluster_lab, strata_lab):
        if lab is not None:
            usable &= ~lab.missing
    excluded_design = int((keep & ~usable).sum())
    rows = np.flatnonzero(usable)
    big_n = rows.size
    if big_n == 0:
        raise invalid("records", "nothing_to_analyse",
                      "Aucun enregistrement à analyser après les exclusions (âge > 1826 jours, "
                      "grappe ou strate manquante)",
                      "No record left to analyse after exclusions (age over 1826 days, "
                      "missing cluster or stratum)")

    weights = None
    zero_weights = 0
    if sw is not None:
        w_all = _float_array(sw, n, "sw")
        if np.any(w_all < 0):
            r = int(np.flatnonzero(w_all < 0)[0]) + 1
            raise invalid("sw", "weight_negative", "Poids de sondage négatif (enregistrement {r})",
                          "Negative sampling weight (record {r})", r=r)
        weights = w_all[rows]
        zero_weights = int(np.isnan(weights).sum())
        weights = np.where(np.isnan(weights), 0.0, weights)

    has_design = cluster is not None or strata is not None
    if not has_design and (weights is None or bool(np.all(weights == 1))):
        method = "simple"
        design = survey.make_design(big_n)
    elif not has_design:
        method = "weighted"
        design = survey.make_design(big_n, weights=weights)
    else:
        method = "survey"
        design = survey.make_design(
            big_n,
            cluster=None if cluster_lab is None else cluster_lab.text[rows],
            strata=None if strata_lab is None else strata_lab.text[rows],
            weights=weights)
    sort_levels = method == "survey"

    # groupings
    sex_std = standardize_sex(sex)[rows]
    sex_code = np.where(sex_std == 2, 0, np.where(sex_std == 1, 1, -1)).astype(np.int64)
    age_code = age_groups(months[rows])
    groupings: list[_Grouping] = [
        _Grouping("All", ["All"], np.zeros(big_n, dtype=np.int64)),
        _factor("Age group", AGE_GROUPS, age_code),
        _factor("Sex", SEX_LEVELS, sex_code),
        _factor("Age + sex", [f"{a}.{s}" for s in SEX_LEVELS for a in AGE_GROUPS],
                np.where((age_code >= 0) & (sex_code >= 0), sex_code * 6 + age_code, -1)),
    ]
    optional = {"typeres": typeres, "gregion": gregion, "wealthq": wealthq,
                "mothered": mothered, "othergr": othergr}
    notes: list[str] = []
    for name, label in OPTIONAL_GROUPINGS:
        group_values = optional[name]
        if group_values is None:
            continue
        kept = labels(group_values, n, name).take(rows)
        if name == "wealthq":
            codes, bad = _wealth(kept)
            if bad:
                notes.append(f"wealthq: {bad}")
            groupings.append(_factor(label, WEALTH_LEVELS, codes))
        else:
            groupings.append(_character(label, kept, sort_levels))
    groupings = [g for g in groupings if np.any(g.codes >= 0) or g.label == "All"]

    # variables: flagged z-scores missing; oedema −3.1 in the auxiliary (prevalence) columns
    oed = standardize_oedema(oedema, n)[rows]
    zz: dict[str, FloatArray] = {}
    aux: dict[str, FloatArray] = {}
    for prefix, col, with_oedema in INDICATORS:
        value = z[f"z{col}"][rows].copy()
        flag = z[f"f{col}"][rows]
        value[flag == 1] = np.nan
        if with_oedema:
            value[oed] = np.nan
            aux[prefix] = np.where(oed, OEDEMA_Z, value)
        else:
            aux[prefix] = value
        zz[prefix] = value

    def indicator(x: FloatArray, above: bool, cut: float) -> FloatArray:
        with np.errstate(invalid="ignore"):
            hit = x > cut if above else x < cut
        return np.where(np.isnan(x), np.nan, hit.astype(np.float64))

    zlen, wfl = zz["HA"], aux["WH"]
    both = np.isnan(zlen) | np.isnan(wfl)
    with np.errstate(invalid="ignore"):
        stunted_wasted = np.where(both, np.nan, ((zlen < -2) & (wfl < -2)).astype(np.float64))
        stunted_over = np.where(both, np.nan, ((zlen < -2) & (wfl > 2)).astype(np.float64))

    columns = table_columns()
    col_index = {c: i for i, c in enumerate(columns)}
    blocks: list[FloatArray] = []
    group_names: list[str] = []
    prev_df = float(design.df)
    mean_df = float(design.df) if method == "survey" else float(big_n - 1)

    for g in groupings:
        k = len(g.levels)
        out = np.full((k, len(columns)), np.nan)

        def put(name: str, values: FloatArray, out: FloatArray = out) -> None:
            out[:, col_index[name]] = values

        def prevalence(name: str, y: FloatArray, g: _Grouping = g) -> None:
            est = survey.domain_means(y, g.codes, len(g.levels), design)
            p, se = est.mean, est.se
            if method == "simple":
                ll, ul = survey.logit_interval(p, se, prev_df)
            else:
                ll, ul = survey.glm_logit_interval(y, g.codes, len(g.levels), design, prev_df)
                one = p * 100 == 1
                ll = np.where(one, 0.01, ll)
                ul = np.where(one, 0.01, ul)
            put(f"{name}_r", p * 100)
            put(f"{name}_se", se * 100)
            put(f"{name}_ll", ll * 100)
            put(f"{name}_ul", ul * 100)
            put(f"{name}_deff", survey.design_effect(p, se, est.n))

        def sizes(pop: str, unwpop: str, y: FloatArray, g: _Grouping = g) -> None:
            ok = ~np.isnan(y) & (g.codes >= 0)
            put(unwpop, np.bincount(g.codes[ok], minlength=len(g.levels)).astype(np.float64))
            put(pop, np.asarray(np.bincount(g.codes[ok], weights=design.weights[ok],
                                            minlength=len(g.levels)), dtype=np.float64))

        for prefix, _, _ in INDICATORS:
            sizes(f"{prefix}Z_pop", f"{prefix}Z_unwpop", aux[prefix])
            for cut, suffix in CUTOFFS:
                prevalence(f"{prefix}{suffix}", indicator(aux[prefix], cut > 0, float(cut)))
            est = survey.domain_means(zz[prefix], g.codes, k, design)
            lo, hi = survey.mean_interval(est.mean, est.se, mean_df)
            count = None if method == "survey" else est.n
            var = survey.domain_variance_of_values(zz[prefix], g.codes, k, design, count)
            put(f"{prefix}_r", est.mean)
            put(f"{prefix}_se", est.se)
            put(f"{prefix}_ll", lo)
            put(f"{prefix}_ul", hi)
            put(f"{prefix}_stdev", np.sqrt(var))
        sizes("HA_2_WH_2_pop", "HA_2_WH_2_unwpop", stunted_wasted)
        prevalence("HA_2_WH_2", stunted_wasted)
        prevalence("HA_2_WH2", stunted_over)
        blocks.append(out)
        group_names += [lvl if g.label == "All" else f"{g.label}: {lvl}" for lvl in g.levels]

    return PrevalenceTable(
        groups=tuple(group_names), columns=tuple(columns), values=np.vstack(blocks),
        method=method, df=prev_df, records=big_n, excluded_age=excluded_age,
        excluded_design=excluded_design, zero_weights=zero_weights, notes=tuple(notes))


# --- thresholds of public-health significance ----------------------------------------------

#: de Onis et al. 2019, lower bounds (percent) of low, medium, high, very high
THRESHOLDS: dict[str, tuple[float, float, float, float]] = {
    "stunting": (2.5, 10.0, 20.0, 30.0),
    "wasting": (2.5, 5.0, 10.0, 15.0),
    "overweight": (2.5, 5.0, 10.0, 15.0),
}
LEVELS = ("very_low", "low", "medium", "high", "very_high")


def public_health_significance(indicator: str, prevalence_percent: float) -> str | None:
    """Return the prevalence level (very_low … very_high) of de Onis et al. 2019.

    reference/nutrition.md §3: stunting ≥ 30 % very high, 20–30 high, 10–20 medium,
    2.5–10 low (below: very low); wasting ≥ 15 very high, 10–15 high, 5–10 medium,
    2.5–5 low; overweight as wasting (de Onis 2019). Lower bounds are inclusive. None for a
    missing prevalence.
    """
    bounds = THRESHOLDS.get(indicator)
    if bounds is None:
        raise invalid("indicator", "indicator_unknown", "Indicateur inconnu : {i}",
                      "Unknown indicator: {i}", i=indicator)
    if prevalence_percent is None or math.isnan(prevalence_percent):
        return None
    level = 0
    for bound in bounds:
        if prevalence_percent >= bound:
            level += 1
    return LEVELS[level]
