"""WHO Child Growth Standards z-scores, exactly as WHO's R package `anthro` computes them.

Reference: reference/nutrition.md §1 (authority: WHO `anthro` 1.1.0.9000, `anthro_zscores`).
Pure numpy, no I/O besides the shipped tables (`tables.py`), vectorised and processed in
chunks so that a million children need little memory.

Public API (stable; used by the survey prevalence and the growth-monitoring register):

- `anthro_zscores(sex, age, is_age_in_month, weight, lenhei, measure, headc, armc, triskin,
  subskin, oedema)` → dict of the 21 anthro columns at full precision (z-scores unrounded;
  validity and flags exactly as anthro, flags being set on the z-score rounded to 2 decimals).
- `present(result)` → the same columns as anthro prints them (z-scores rounded to 2 decimals).
- `zscores_one(sex, age_days, ...)` → one measurement as a dict of Python scalars.
- `r_round(x, digits)` → R's `round()` (R ≥ 4.0 algorithm), vectorised.

Column types: `clenhei`, `cbmi` and `z*` are float64 with NaN for R's NA; `csex`,
`c9mo_flag` and `f*` hold R integers as float64 (0, 1, 2; NaN for NA); `cmeasure` is a
`<U1` array of "l", "h" or "" (R's NA).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np

from krc.nutrition import tables

DAYS_PER_MONTH = 30.4375  # anthro's ANTHRO_DAYS_OF_MONTH
MAX_AGE_DAYS = 1856  # upper bound of anthro's allowed age range (tables end at 1826)
CHUNK = 32_768
WORKERS = max(1, min(4, os.cpu_count() or 1))

COLUMNS: tuple[str, ...] = (
    "clenhei", "cmeasure", "c9mo_flag", "cbmi", "csex",
    "zlen", "flen", "zwei", "fwei", "zwfl", "fwfl", "zbmi", "fbmi",
    "zhc", "fhc", "zac", "fac", "zts", "fts", "zss", "fss",
)
Z_COLUMNS: tuple[str, ...] = tuple(c for c in COLUMNS if c.startswith("z"))
FLAG_COLUMNS: tuple[str, ...] = tuple(c for c in COLUMNS if c.startswith("f"))
INTEGER_COLUMNS: tuple[str, ...] = ("c9mo_flag", "csex", *FLAG_COLUMNS)
INPUT_COLUMNS: tuple[str, ...] = ("sex", "age", "weight", "lenhei", "measure", "headc", "armc",
                                  "triskin", "subskin", "oedema")


@dataclass(frozen=True)
class Indicator:
    """One age-based indicator: table, output suffix, tails restricted or not, flag limits,
    first allowed day (reference/nutrition.md §1)."""

    name: str
    table: str
    restricted: bool
    flag_low: float
    flag_high: float
    first_day: int = 0


LEN = Indicator("len", "lenanthro", False, -6.0, 6.0)
WEI = Indicator("wei", "weianthro", True, -6.0, 5.0)
BMI = Indicator("bmi", "bmianthro", True, -5.0, 5.0)
HC = Indicator("hc", "hcanthro", False, -5.0, 5.0)
AC = Indicator("ac", "acanthro", True, -5.0, 5.0, 91)
TS = Indicator("ts", "tsanthro", True, -5.0, 5.0, 91)
SS = Indicator("ss", "ssanthro", True, -5.0, 5.0, 91)
WFL_FLAG = 5.0
WFL_RANGE = (45.0, 110.0)  # recumbent length, cm (table wflanthro)
WFH_RANGE = (65.0, 120.0)  # standing height, cm (table wfhanthro)


class GrowthInputError(ValueError):
    """An input value anthro refuses: which column, which row (0-based), which value, why
    (`fr`/`en` are str.format templates with a `{value}` field)."""

    def __init__(self, column: str, index: int, value: Any, code: str, fr: str, en: str) -> None:
        super().__init__(f"{column}[{index}]: {en.format(value=value)}")
        self.column = column
        self.index = index
        self.value = value
        self.code = code
        self.fr = fr
        self.en = en


# --------------------------------------------------------------------------- pure arithmetic

def lms_z(y: np.ndarray, l: np.ndarray, m: np.ndarray, s: np.ndarray  # noqa: E741
          ) -> np.ndarray:
    """Return the LMS z-score ((y/M)^L − 1)/(S·L) (reference/nutrition.md §1, "LMS")."""
    with np.errstate(all="ignore"):
        return (np.power(y / m, l) - 1.0) / (s * l)


def _sd(l: np.ndarray, m: np.ndarray, s: np.ndarray, k: float) -> np.ndarray:  # noqa: E741
    """Return the measurement at k SD: M·(1 + L·S·k)^(1/L)."""
    with np.errstate(all="ignore"):
        return m * np.power(1.0 + l * s * k, 1.0 / l)


def lms_z_restricted(y: np.ndarray, l: np.ndarray, m: np.ndarray,  # noqa: E741
                     s: np.ndarray) -> np.ndarray:
    """Return the LMS z-score with WHO's restricted tails beyond ±3 SD
    (reference/nutrition.md §1, "Restricted tails")."""
    return _restrict(lms_z(y, l, m, s), y, l, m, s)


def round_half_up(x: np.ndarray) -> np.ndarray:
    """Return x rounded to an integer, .5 upwards, NaN kept (anthro's age rounding;
    reference/nutrition.md §1, "Age"): 730.5 → 731."""
    floor = np.floor(x)
    with np.errstate(invalid="ignore"):
        return np.where(x - floor >= 0.5, floor + 1.0, floor)


def _r_round_exact(arr: np.ndarray, digits: int) -> np.ndarray:
    """R's round() step by step: of the two decimal neighbours of |x| (as doubles) the nearer
    one, a tie going to the even last digit; NaN/Inf/0 and x beyond 15 digits unchanged."""
    ax = np.abs(arr)
    p10 = 10.0 ** digits
    with np.errstate(all="ignore"):
        x10 = ax * p10
        i10 = np.floor(x10)
        xd = i10 / p10
        xu = np.ceil(x10) / p10
        du = xu - ax
        dd = ax - xd
        up = (du < dd) | ((du == dd) & (np.fmod(i10, 2.0) == 1.0))
        rounded = np.where(up, xu, xd)
        exponent = np.frexp(ax)[1] - 1  # logb
        keep = ~np.isfinite(arr) | (arr == 0) | ((exponent + 0.5) * np.log10(2.0) + digits > 15)
    return np.where(keep, arr, np.copysign(rounded, arr))


def r_round(x: np.ndarray | float, digits: int = 2) -> np.ndarray:
    """Return R's `round(x, digits)` (R ≥ 4.0 algorithm), vectorised: rint(x·10^d)/10^d,
    which is R's choice except near a tie, where R's own steps are applied."""
    arr = np.asarray(x, dtype=np.float64)
    if arr.ndim == 0:
        return _r_round_exact(arr.reshape(1), digits)[0]
    p10 = 10.0 ** digits
    with np.errstate(all="ignore"):
        y = arr * p10
        ry = np.rint(y)
        out = ry / p10
        suspect = (np.abs(y - ry) > 0.4999) | (np.abs(y) >= 1e14)
    idx = np.nonzero(suspect)[0]
    if idx.size:
        out[idx] = _r_round_exact(arr[idx], digits)
    return out


def _flags(z_rounded: np.ndarray, low: float, high: float) -> np.ndarray:
    """Return anthro's flag: 1.0 outside [low, high], 0.0 inside, NaN without z-score."""
    with np.errstate(invalid="ignore"):
        if low == -high:
            flag = (np.abs(z_rounded) > high).astype(np.float64)
        else:
            flag = ((z_rounded < low) | (z_rounded > high)).astype(np.float64)
    flag[np.isnan(z_rounded)] = np.nan
    return flag


# --------------------------------------------------------------------------- inputs

def _length(x: Any) -> int:
    if x is None or isinstance(x, str | bytes | int | float | bool | np.generic):
        return 1
    return len(x)


def _recycle(arr: np.ndarray, n: int) -> np.ndarray:
    """R's rep_len: repeat cyclically to length n."""
    if arr.shape[0] == n:
        return arr
    if arr.shape[0] == 0:
        return np.full(n, np.nan) if arr.dtype.kind == "f" else np.resize(arr, n)
    return np.resize(arr, n)


def _as_array(x: Any) -> np.ndarray:
    if x is None:
        return np.array([np.nan])
    arr = np.asarray(x)
    return arr.reshape(1) if arr.ndim == 0 else arr


def _numeric(name: str, x: Any, n: int) -> np.ndarray:
    """Return a float64 column (NaN for missing) or raise GrowthInputError."""
    arr = _as_array(x)
    if arr.dtype.kind in "fiub":
        return _recycle(arr.astype(np.float64, copy=False), n)
    try:
        out = arr.astype(np.float64) if arr.dtype.kind != "O" else np.array(
            [np.nan if v is None else v for v in arr], dtype=np.float64)
    except (TypeError, ValueError):
        for i, v in enumerate(arr):
            try:
                float(v if v is not None else "nan")
            except (TypeError, ValueError):
                raise GrowthInputError(
                    name, i, v, "not_a_number", "« {value} » n'est pas un nombre",
                    "“{value}” is not a number") from None
        raise
    return _recycle(out, n)


_SEX = {"1": 1, "2": 2, "m": 1, "f": 2}
_MEASURE = {"l": 1, "h": 2}
_OEDEMA = {"y": 1, "1": 1, "n": 0, "2": 0}
_CODE_TEXT = {
    "sex": ("« {value} » : code de sexe invalide (1/2, M/F)",
            "“{value}”: invalid sex code (1/2, M/F)"),
    "measure": ("« {value} » : mesure invalide (l couché, h debout)",
                "“{value}”: invalid measure (l lying, h standing)"),
    "oedema": ("« {value} » : œdème invalide (y/n, 1/2)", "“{value}”: invalid oedema (y/n, 1/2)"),
}


def _codes(name: str, x: Any, n: int, mapping: Mapping[str, int], na: int) -> np.ndarray:
    """Return int8 codes of a categorical column (`na` where missing); R's accepted values,
    plus case and surrounding spaces ignored, "" as missing."""
    arr = _as_array(x)
    kind = arr.dtype.kind
    if kind == "b" and name == "oedema":
        return _recycle(arr.astype(np.int8), n)
    out = np.full(arr.shape[0], na, dtype=np.int8)
    if kind in "fiu":
        nums = {float(k): v for k, v in mapping.items() if k.isdigit()}
        done = np.isnan(arr) if kind == "f" else np.zeros(arr.shape[0], dtype=bool)
        for number, code in nums.items():
            hit = arr == number
            out[hit] = code
            done |= hit
        if not done.all():
            i = int(np.argmin(done))
            fr, en = _CODE_TEXT[name]
            raise GrowthInputError(name, i, arr[i].item(), f"invalid_{name}", fr, en)
        return _recycle(out, n)
    if kind == "U" and arr.dtype.itemsize == 4:  # one character: a lookup on code points
        lut = np.full(128, -1, dtype=np.int8)
        lut[0] = na
        for key, code in mapping.items():
            lut[ord(key)] = lut[ord(key.upper())] = code
        points = arr.view(np.uint32)
        out = lut[np.minimum(points, 127)]
        bad = np.nonzero((out < 0) | (points > 127))[0]
        if bad.size:
            i = int(bad[0])
            fr, en = _CODE_TEXT[name]
            raise GrowthInputError(name, i, arr[i].item(), f"invalid_{name}", fr, en)
        return _recycle(out, n)
    if kind in "US":
        if kind == "S":
            arr = arr.astype("U")
        done = arr == ""
        for key, code in mapping.items():
            for variant in {key, key.upper()}:
                hit = arr == variant
                out[hit] = code
                done |= hit
        rest = np.nonzero(~done)[0]
        values: Iterable[tuple[int, Any]] = ((int(i), arr[i].item()) for i in rest)
    else:
        values = enumerate(arr.tolist())
    for i, v in values:
        if v is None or (isinstance(v, float) and np.isnan(v)):
            out[i] = na
            continue
        if isinstance(v, bool) and name == "oedema":
            out[i] = int(v)
            continue
        key = (str(int(v)) if isinstance(v, int | float) and float(v).is_integer()
               else str(v)).strip().lower()
        if key in mapping:
            out[i] = mapping[key]
        elif key == "":
            out[i] = na
        else:
            fr, en = _CODE_TEXT[name]
            raise GrowthInputError(name, i, v, f"invalid_{name}", fr, en)
    return _recycle(out, n)


# --------------------------------------------------------------------------- the engine

def _age_z(ind: Indicator, y: np.ndarray, index: np.ndarray) -> np.ndarray:
    """Return the unmasked z-score of one age-based indicator; `index` points into
    tables.age_lms (the NaN column where the table has no row)."""
    table = tables.age_lms(ind.table)
    m, s = table[1].take(index), table[2].take(index)
    with np.errstate(all="ignore"):
        if tables.l_is_one(ind.table) and not ind.restricted:
            return (y / m - 1.0) / s  # = ((y/M)^1 − 1)/(S·1) bit for bit
        l = table[0].take(index)  # noqa: E741
        z = (np.power(y / m, l) - 1.0) / (s * l)
    return _restrict(z, y, l, m, s) if ind.restricted else z


def _restrict(z: np.ndarray, y: np.ndarray, l: np.ndarray, m: np.ndarray,  # noqa: E741
              s: np.ndarray) -> np.ndarray:
    """Apply WHO's restricted tails to z in place where |z| > 3 (reference/nutrition.md §1)."""
    with np.errstate(invalid="ignore"):
        hi = np.nonzero(z > 3.0)[0]
        lo = np.nonzero(z < -3.0)[0]
    if hi.size:
        yl, ll, ml, sl = y[hi], l[hi], m[hi], s[hi]
        sd3 = _sd(ll, ml, sl, 3.0)
        with np.errstate(all="ignore"):
            z[hi] = 3.0 + (yl - sd3) / (sd3 - _sd(ll, ml, sl, 2.0))
    if lo.size:
        yl, ll, ml, sl = y[lo], l[lo], m[lo], s[lo]
        sd3 = _sd(ll, ml, sl, -3.0)
        with np.errstate(all="ignore"):
            z[lo] = -3.0 + (yl - sd3) / (_sd(ll, ml, sl, -2.0) - sd3)
    return z


def _wfl_z(weight: np.ndarray, clen: np.ndarray, cmeasure: np.ndarray, days: np.ndarray,
           months: np.ndarray, sex: np.ndarray, no_oedema: np.ndarray) -> np.ndarray:
    """Return z of weight-for-length/height, NaN where anthro gives none: table by age, else
    by measure, else by the 87 cm rule; L, M, S interpolated between 0.1 cm rows; restricted
    tails (reference/nutrition.md §1, "Weight-for-length/height")."""
    with np.errstate(all="ignore"):
        on_h = days >= 731  # age known: the table follows the age
        no_age = np.nonzero(np.isnan(days))[0]
        if no_age.size:
            cm, cl = cmeasure[no_age], clen[no_age]
            on_h[no_age] = (cm == 2) | ((cm == 0) & (cl >= 87))
        x10 = clen * 10.0
        k_low = np.trunc(x10)
        k_upp = np.trunc(x10 + 1.0)
        diff = (clen - k_low / 10.0) / 0.1
        lo_cm = np.where(on_h, WFH_RANGE[0], WFL_RANGE[0])
        hi_cm = np.where(on_h, WFH_RANGE[1], WFL_RANGE[1])
        valid = (clen >= lo_cm) & (clen <= hi_cm) & no_oedema & ~(months >= 60) & (sex > 0)
        base = (on_h * 2 + sex - 1) * tables.LENGTH_SPAN - tables.LENGTH_FIRST
        i_low = np.where(valid, base + k_low, tables.NAN_LENGTH_ROW).astype(np.intp)
        upp_ok = valid & (k_upp <= tables.LENGTH_LAST)
        i_upp = np.where(upp_ok, base + k_upp, tables.NAN_LENGTH_ROW).astype(np.intp)
        table = tables.length_lms()
        interp = diff > 0
        lms = []
        for j in range(3):
            lower = table[j].take(i_low)
            upper = table[j].take(i_upp)
            lms.append(np.where(interp, lower + diff * (upper - lower), lower))
        l, m, s = lms  # noqa: E741
        z = (np.power(weight / m, l) - 1.0) / (s * l)
    return _restrict(z, weight, l, m, s)


def _chunk(out: dict[str, np.ndarray], sl: slice, sex: np.ndarray, days: np.ndarray,
           months: np.ndarray, weight: np.ndarray, lenhei: np.ndarray, measure: np.ndarray,
           headc: np.ndarray, armc: np.ndarray, triskin: np.ndarray, subskin: np.ndarray,
           oedema: np.ndarray, rounded: bool) -> None:
    """Compute all 21 columns for the rows `sl` of the prepared inputs into `out`."""
    sx, days, months = sex[sl].astype(np.intp), days[sl], months[sl]
    weight, lenhei, no_oedema = weight[sl], lenhei[sl], oedema[sl] == 0
    cm = measure[sl].copy()
    with np.errstate(invalid="ignore", divide="ignore"):
        implausible = (cm == 2) & (months < 9)  # anthro ≥ 1.1.0: standing under 9 months
        cm[implausible] = 0
        clen = lenhei.copy()
        up = np.nonzero((days < 731) & (cm == 2))[0]
        clen[up] = lenhei[up] + 0.7
        down = np.nonzero((days >= 731) & (cm == 1))[0]
        clen[down] = lenhei[down] - 0.7
        cbmi = weight / np.square(clen / 100.0)
        # one index into every age-based table; z-scores only for age < 60 months, known sex
        indexed = (months < 60) & (sx > 0) & (days <= tables.AGE_DAYS - 1)
        index = np.where(indexed, (sx - 1) * tables.AGE_DAYS + days,
                         tables.NAN_AGE_ROW).astype(np.intp)
    oedema_rows = np.nonzero(~no_oedema)[0]
    out["clenhei"][sl] = clen
    out["cmeasure"][sl] = _MEASURE_TEXT[cm]
    out["c9mo_flag"][sl] = implausible
    out["cbmi"][sl] = cbmi
    out["csex"][sl] = np.where(sx > 0, sx, np.nan)
    for ind, y, weight_based in ((LEN, clen, False), (WEI, weight, True), (BMI, cbmi, True),
                                 (HC, headc[sl], False), (AC, armc[sl], False),
                                 (TS, triskin[sl], False), (SS, subskin[sl], False)):
        z = _age_z(ind, y, index)
        with np.errstate(invalid="ignore"):
            if (y <= 0).any():  # anthro: a measure <= 0 gives no z-score
                z[y <= 0] = np.nan
        if weight_based and oedema_rows.size:
            z[oedema_rows] = np.nan
        zr = r_round(z, 2)
        out["z" + ind.name][sl] = zr if rounded else z
        out["f" + ind.name][sl] = _flags(zr, ind.flag_low, ind.flag_high)
    z = _wfl_z(weight, clen, cm, days, months, sx, no_oedema)
    zr = r_round(z, 2)
    out["zwfl"][sl] = zr if rounded else z
    out["fwfl"][sl] = _flags(zr, -WFL_FLAG, WFL_FLAG)


_MEASURE_TEXT = np.array(["", "l", "h"])


def anthro_zscores(sex: Any, age: Any = None, is_age_in_month: bool = False,
                   weight: Any = None, lenhei: Any = None, measure: Any = None,
                   headc: Any = None, armc: Any = None, triskin: Any = None,
                   subskin: Any = None, oedema: Any = None, *, rounded: bool = False,
                   chunk_size: int = CHUNK) -> dict[str, np.ndarray]:
    """Return WHO anthro's `anthro_zscores` columns (see COLUMNS), z-scores at full precision
    (or, with `rounded=True`, rounded to 2 decimals as anthro returns them)
    (reference/nutrition.md §1).

    Inputs are arrays/lists of equal length or scalars (recycled as R's rep_len); missing
    values are None/NaN (or "" for text). sex: 1/2, "m"/"f" (any case); age in days, or in
    months with `is_age_in_month`; weight kg; lenhei, headc, armc cm; triskin, subskin mm;
    measure "l"/"h" (any case) or missing; oedema "y"/"n"/1/2/True/False, missing = "n".
    Raises GrowthInputError where anthro stops (unknown codes, negative age, text in a
    numeric column)."""
    inputs = (sex, age, weight, lenhei, measure, headc, armc, triskin, subskin, oedema)
    n = max(_length(v) for v in inputs)
    csex = _codes("sex", sex, n, _SEX, 0)
    cmeasure = _codes("measure", measure, n, _MEASURE, 0)
    coedema = _codes("oedema", oedema, n, _OEDEMA, 0)
    age_arr = _numeric("age", age, n)
    with np.errstate(invalid="ignore"):
        negative = age_arr < 0
    if negative.any():
        i = int(np.argmax(negative))
        raise GrowthInputError("age", i, float(age_arr[i]), "negative_age",
                               "« {value} » : l'âge ne peut pas être négatif",
                               "“{value}”: age cannot be negative")
    if is_age_in_month:
        days = round_half_up(age_arr * DAYS_PER_MONTH)
        months = age_arr
    else:
        days = round_half_up(age_arr)
        months = age_arr / DAYS_PER_MONTH
    nums = {name: _numeric(name, value, n) for name, value in
            (("weight", weight), ("lenhei", lenhei), ("headc", headc), ("armc", armc),
             ("triskin", triskin), ("subskin", subskin))}
    out: dict[str, np.ndarray] = {
        c: (np.empty(n, dtype="<U1") if c == "cmeasure" else np.empty(n, dtype=np.float64))
        for c in COLUMNS}
    def run(start: int) -> None:
        _chunk(out, slice(start, min(n, start + chunk_size)), csex, days, months,
               nums["weight"], nums["lenhei"], cmeasure, nums["headc"], nums["armc"],
               nums["triskin"], nums["subskin"], coedema, rounded)

    starts = range(0, n, chunk_size)
    workers = min(WORKERS, len(starts))
    if workers > 1:  # chunks write disjoint slices; numpy releases the GIL in its loops
        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(run, starts))
    else:
        for start in starts:
            run(start)
    return out


def present(result: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """Return the columns as anthro_zscores returns them: z-scores rounded to 2 decimals
    (R's round), everything else unchanged (reference/nutrition.md §1, "Output columns")."""
    return {c: (r_round(result[c], 2) if c in Z_COLUMNS else result[c]) for c in COLUMNS}


def _scalar(column: str, value: Any) -> float | int | str | None:
    if column == "cmeasure":
        return str(value) or None
    v = float(value)
    if np.isnan(v):
        return None
    return int(v) if column in INTEGER_COLUMNS else v


def zscores_one(sex: Any, age_days: float | None, weight: float | None = None,
                lenhei: float | None = None, measure: str | None = None,
                headc: float | None = None, armc: float | None = None,
                oedema: bool = False) -> dict[str, float | int | str | None]:
    """Return the anthro columns for one measurement (age in days; lengths and MUAC in cm):
    z-scores at full precision, flags 0/1, None where anthro gives NA
    (reference/nutrition.md §1). Round with `r_round(z, 2)` for display."""
    res = anthro_zscores(
        [sex], [np.nan if age_days is None else age_days], False,
        [np.nan if weight is None else weight], [np.nan if lenhei is None else lenhei],
        [measure or ""], [np.nan if headc is None else headc],
        [np.nan if armc is None else armc], oedema=[bool(oedema)])
    return {c: _scalar(c, res[c][0]) for c in COLUMNS}
