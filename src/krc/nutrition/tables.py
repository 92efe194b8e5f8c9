"""The WHO Child Growth Standards (2006) LMS tables shipped inside krc, as numpy arrays.

The nine tab-separated tables in `krc/nutrition/data/who-growth-standards/` are WHO's own,
as published in its R package `anthro` (notice in that folder's README.md). Reference:
reference/nutrition.md §1.

Age-based tables become arrays indexed `[sex - 1, age_in_days]` (NaN where WHO gives no row,
e.g. MUAC before day 91). Weight-for-length/height tables become arrays indexed
`[sex - 1, round(10 × cm) - first]`, since their rows are every 0.1 cm.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources

import numpy as np

TABLE_DIR = "who-growth-standards"

AGE_TABLES = ("weianthro", "lenanthro", "bmianthro", "hcanthro", "acanthro", "tsanthro",
              "ssanthro")
LENGTH_TABLES = ("wflanthro", "wfhanthro")


@dataclass(frozen=True)
class LmsTable:
    """One LMS table: `l`, `m`, `s` of shape (2, size), index = row key − `first`."""

    name: str
    first: int  # first key: day, or tenths of a cm for wfl/wfh
    l: np.ndarray  # noqa: E741 - the L of the LMS method
    m: np.ndarray
    s: np.ndarray

    @property
    def last(self) -> int:
        """Return the last key of the table (day, or tenths of cm)."""
        return self.first + self.l.shape[1] - 1


def table_text(name: str) -> str:
    """Return the raw text of one shipped table (e.g. "weianthro")."""
    path = resources.files("krc.nutrition") / "data" / TABLE_DIR / f"{name}.txt"
    return path.read_text(encoding="utf-8")


def parse_rows(text: str) -> tuple[list[str], list[list[str]]]:
    """Return (header, rows) of a tab-separated table."""
    lines = [line for line in text.splitlines() if line.strip()]
    header = lines[0].split("\t")
    return header, [line.split("\t") for line in lines[1:]]


@cache
def load(name: str) -> LmsTable:
    """Return the LMS table `name` (one of AGE_TABLES or LENGTH_TABLES), cached."""
    if name not in AGE_TABLES and name not in LENGTH_TABLES:
        raise KeyError(name)
    header, rows = parse_rows(table_text(name))
    col = {h: i for i, h in enumerate(header)}
    key_col = header[1]
    scale = 10 if name in LENGTH_TABLES else 1
    keys = [round(float(r[col[key_col]]) * scale) for r in rows]
    first, last = min(keys), max(keys)
    shape = (2, last - first + 1)
    arrays = {c: np.full(shape, np.nan) for c in ("l", "m", "s")}
    for r, key in zip(rows, keys, strict=True):
        sex = int(r[col["sex"]])
        for c in ("l", "m", "s"):
            arrays[c][sex - 1, key - first] = float(r[col[c]])
    for a in arrays.values():
        a.setflags(write=False)
    return LmsTable(name, first, arrays["l"], arrays["m"], arrays["s"])


def notice() -> str:
    """Return the WHO notice that must travel with the tables."""
    path = resources.files("krc.nutrition") / "data" / TABLE_DIR / "README.md"
    return path.read_text(encoding="utf-8")



AGE_DAYS = 1827  # rows 0..1826 of the age-based tables
NAN_AGE_ROW = 2 * AGE_DAYS  # index of the all-NaN column in age_lms()


@cache
def age_lms(name: str) -> np.ndarray:
    """Return the age-based table `name` as one (3, 2·AGE_DAYS + 1) array (rows L, M, S),
    column (sex − 1)·AGE_DAYS + day; days WHO does not cover (e.g. MUAC before day 91) and
    the last column are NaN, so an index pointing there gives no z-score."""
    t = load(name)
    out = np.full((3, 2 * AGE_DAYS + 1), np.nan)
    for sex in (0, 1):
        cols = slice(sex * AGE_DAYS + t.first, sex * AGE_DAYS + t.last + 1)
        out[0, cols], out[1, cols], out[2, cols] = t.l[sex], t.m[sex], t.s[sex]
    out.setflags(write=False)
    return out


LENGTH_FIRST = 450  # tenths of cm: 45.0 cm, first row of wflanthro
LENGTH_LAST = 1200  # 120.0 cm, last row of wfhanthro
LENGTH_SPAN = LENGTH_LAST - LENGTH_FIRST + 1
NAN_LENGTH_ROW = 4 * LENGTH_SPAN


@cache
def length_lms() -> np.ndarray:
    """Return wflanthro and wfhanthro as one (3, 4·LENGTH_SPAN + 1) array (rows L, M, S),
    column (table·2 + sex − 1)·LENGTH_SPAN + tenths of cm − LENGTH_FIRST, table 0 = length
    (wfl), 1 = height (wfh); lengths outside a table and the last column are NaN."""
    out = np.full((3, 4 * LENGTH_SPAN + 1), np.nan)
    for ti, name in enumerate(LENGTH_TABLES):
        t = load(name)
        for sex in (0, 1):
            base = (ti * 2 + sex) * LENGTH_SPAN - LENGTH_FIRST
            cols = slice(base + t.first, base + t.last + 1)
            out[0, cols], out[1, cols], out[2, cols] = t.l[sex], t.m[sex], t.s[sex]
    out.setflags(write=False)
    return out


@cache
def l_is_one(name: str) -> bool:
    """Return True when every L of the table is exactly 1 (length and head circumference):
    then (y/M)^L = y/M exactly and the power can be skipped."""
    t = load(name)
    return bool(np.all(t.l[~np.isnan(t.l)] == 1.0))
