"""CSV files in and out for the WHO anthro drop-ins (`krc growth zscores`, `krc growth prevalence`).

Reading: delimiter "," (or ";" with decimal comma, as French spreadsheets save), UTF-8 (with
or without BOM; Windows-1252 accepted), blank lines skipped, missing = empty cell or "NA".
Column mapping: `--map ours=theirs` (or `theirs=ours`, the side that is one of our names is
ours). Every bad value is reported with its line (header = line 1), its column and why, in
French and English (a `DomainError`, so the CLI prints one line and exits 1).

Writing renders cells as R's `write.csv(..., row.names = FALSE)` does after
`read.csv(..., na.strings = c("NA", ""))`: header and text quoted, missing as `NA` (unquoted),
numbers with 15 significant digits in R's fixed-or-scientific choice, logical as TRUE/FALSE.
Pass-through columns get the type R's `type.convert` would give them (logical, integer,
double, else text). The file is written to a temporary file then renamed: nothing is written
when anything fails.

Public API: `read_csv`, `CsvTable` (`.column`, `.numeric`, `.text`, `.line`),
`parse_mapping`, `resolve_columns`, `format_r_number`, `render_numbers`,
`render_integers`, `render_text`, `render_passthrough`, `write_csv`.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from krc.errors import DomainError, invalid

NA_TOKENS = frozenset({"", "NA"})
_LOGICAL = {"T": "TRUE", "TRUE": "TRUE", "true": "TRUE", "True": "TRUE",
            "F": "FALSE", "FALSE": "FALSE", "false": "FALSE", "False": "FALSE"}
_INT_RE = re.compile(r"[+-]?\d+")
_NUM_RE = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?|[+-]?(?:Inf|inf)|NaN")
_INT_MAX = 2_147_483_647


@dataclass
class CsvTable:
    """A CSV file read as text: header, rows of cells, and each row's line in the file."""

    path: Path
    header: list[str]
    rows: list[list[str]]
    lines: list[int]
    delimiter: str = ","

    @property
    def decimal(self) -> str:
        """Return the decimal mark of the file ("," for ";"-separated files)."""
        return "," if self.delimiter == ";" else "."

    def __len__(self) -> int:
        return len(self.rows)

    def line(self, index: int) -> int:
        """Return the line number (header = 1) of data row `index` (0-based)."""
        return self.lines[index]

    def column(self, name: str) -> list[str]:
        """Return the cells of the column `name` (as in the file), stripped of spaces."""
        j = self.header.index(name)
        return [row[j].strip() for row in self.rows]

    def numeric(self, name: str) -> np.ndarray:
        """Return the column as float64 (NaN for missing), or raise a DomainError naming the
        first bad cell's line and column."""
        cells = self.column(name)
        out = np.empty(len(cells), dtype=np.float64)
        comma = self.delimiter == ";"
        for i, cell in enumerate(cells):
            if cell in NA_TOKENS:
                out[i] = np.nan
                continue
            text = cell.replace(",", ".") if comma else cell
            if not _NUM_RE.fullmatch(text):
                raise cell_error(self, i, name, cell, "not_a_number",
                                 "« {value} » n'est pas un nombre", "“{value}” is not a number")
            out[i] = float(text)
        return out

    def text(self, name: str) -> np.ndarray:
        """Return the column as a unicode array, "" for missing."""
        return np.array([c if c not in NA_TOKENS else "" for c in self.column(name)], dtype=str)

    def is_numeric(self, name: str) -> bool:
        """Return True when every non-missing cell of the column is a number."""
        comma = self.delimiter == ";"
        return all(_NUM_RE.fullmatch(c.replace(",", ".") if comma else c)
                   for c in self.column(name) if c not in NA_TOKENS)


def cell_error(table: CsvTable, index: int, column: str, value: str, code: str, fr: str,
               en: str) -> DomainError:
    """Return the DomainError for one bad cell: "ligne 12, colonne weight : « abc » …"."""
    return invalid(column, code, "ligne {line}, colonne {column} : " + fr,
                   "line {line}, column {column}: " + en,
                   line=table.line(index), column=column, value=value)


def _decode(raw: bytes) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def read_csv(path: Path) -> CsvTable:
    """Return the CSV file as a CsvTable, or raise a DomainError (missing file, no header,
    rows with the wrong number of cells)."""
    try:
        text = _decode(Path(path).read_bytes())
    except OSError as exc:
        raise invalid("input", "unreadable_file", "impossible de lire {path} : {reason}",
                      "cannot read {path}: {reason}", path=str(path),
                      reason=exc.strerror or str(exc)) from None
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    delimiter = ";" if first.count(";") > first.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    header: list[str] | None = None
    rows: list[list[str]] = []
    lines: list[int] = []
    for row in reader:
        if not row or all(not c.strip() for c in row):
            continue
        if header is None:
            header = [c.strip() for c in row]
            continue
        if len(row) != len(header):
            raise invalid("input", "bad_row", "ligne {line} : {got} cellules au lieu de {want}",
                          "line {line}: {got} cells instead of {want}",
                          line=reader.line_num, got=len(row), want=len(header))
        rows.append(row)
        lines.append(reader.line_num)
    if header is None:
        raise invalid("input", "empty_file", "le fichier {path} est vide",
                      "the file {path} is empty", path=str(path))
    return CsvTable(Path(path), header, rows, lines, delimiter)


def parse_mapping(items: Iterable[str], known: Sequence[str]) -> dict[str, str]:
    """Return {our column: file column} from `--map` items "ours=theirs" (or "theirs=ours")."""
    mapping: dict[str, str] = {}
    for item in items:
        left, sep, right = item.partition("=")
        left, right = left.strip(), right.strip()
        if not sep or not left or not right:
            raise invalid("map", "bad_mapping", "« {item} » : écrivez --map NOTRE_NOM=COLONNE",
                          "“{item}”: write --map OUR_NAME=COLUMN", item=item)
        if left in known:
            mapping[left] = right
        elif right in known:
            mapping[right] = left
        else:
            raise invalid("map", "unknown_name",
                          "« {item} » : aucun des deux noms n'est connu ({names})",
                          "“{item}”: neither name is known ({names})",
                          item=item, names=", ".join(known))
    return mapping


def resolve_columns(table: CsvTable, known: Sequence[str], mapping: Mapping[str, str],
                    required: Sequence[str] = ()) -> dict[str, str | None]:
    """Return {our name: file column or None when absent}; a mapped column must exist and a
    required one must be found."""
    found: dict[str, str | None] = {}
    for name in known:
        col = mapping.get(name, name)
        if col in table.header:
            found[name] = col
        elif name in mapping:
            raise invalid("map", "missing_column",
                          "la colonne {column} (pour {name}) n'existe pas dans {path}",
                          "column {column} (for {name}) does not exist in {path}",
                          column=col, name=name, path=table.path.name)
        else:
            found[name] = None
    for name in required:
        if found.get(name) is None:
            raise invalid("input", "missing_column",
                          "colonne {name} absente de {path} (utilisez --map {name}=COLONNE)",
                          "column {name} missing from {path} (use --map {name}=COLUMN)",
                          name=name, path=table.path.name)
    return found


# --------------------------------------------------------------------------- R rendering

def format_r_number(x: float, decimal: str = ".") -> str:
    """Return x as R's write.csv writes a double: 15 significant digits, fixed notation unless
    scientific is narrower, NA for NA/NaN, Inf/-Inf."""
    if math.isnan(x):
        return "NA"
    if math.isinf(x):
        return "Inf" if x > 0 else "-Inf"
    if x == 0:
        return "0"
    mant, _, exp_text = f"{x:.14e}".partition("e")
    kpower = int(exp_text)
    digits = mant.lstrip("-").replace(".", "").rstrip("0")
    nsig = max(1, len(digits))
    neg = 1 if x < 0 else 0
    rgt = max(0, nsig - kpower - 1)
    left = kpower + 1 if kpower >= 0 else 1
    width_fixed = neg + left + (rgt + 1 if rgt else 0)
    width_sci = neg + (nsig + 1 if nsig > 1 else nsig) + (5 if abs(kpower) >= 100 else 4)
    text = f"{x:.{rgt}f}" if width_fixed <= width_sci else f"{x:.{nsig - 1}e}"
    return text.replace(".", decimal) if decimal != "." else text


def render_numbers(values: np.ndarray, decimal: str = ".", na: str = "NA") -> list[str]:
    """Return R's rendering of a float64 column (see format_r_number); values with at most
    2 decimals (e.g. rounded z-scores) take a vectorised path giving the same text."""
    arr = np.asarray(values, dtype=np.float64)
    out = np.empty(arr.shape[0], dtype=object)
    finite = np.isfinite(arr)
    with np.errstate(all="ignore"):
        simple = finite & (np.abs(arr) < 1e5) & (np.round(arr, 2) == arr)
    if simple.any():
        fixed = np.char.mod("%.2f", arr[simple] + 0.0)  # + 0.0 turns -0 into 0
        fixed = np.char.rstrip(np.char.rstrip(fixed, "0"), ".")
        fixed = np.where(fixed == "-0", "0", fixed)
        if decimal != ".":
            fixed = np.char.replace(fixed, ".", decimal)
        out[simple] = fixed
    for i in np.nonzero(~simple)[0]:
        out[i] = format_r_number(float(arr[i]), decimal)
    if na != "NA":
        out[np.isnan(arr)] = na
    return out.tolist()


def render_integers(values: np.ndarray, na: str = "NA") -> list[str]:
    """Return R's rendering of an integer column held as float64 (NaN = NA)."""
    arr = np.asarray(values, dtype=np.float64)
    nan = np.isnan(arr)
    out = np.where(nan, 0, arr).astype(np.int64).astype(str).astype(object)
    out[nan] = na
    return out.tolist()


def _quote(text: str) -> str:
    return '"' + text.replace('"', '""') + '"'


def render_text(values: Iterable[str], na: str = "NA") -> list[str]:
    """Return R's rendering of a character column: quoted, "" (R's NA) as NA unquoted."""
    return [_quote(v) if v else na for v in values]


def render_passthrough(cells: Sequence[str], decimal: str = ".", na: str = "NA") -> list[str]:
    """Return an input column rendered as R would after read.csv's type conversion."""
    values = [c.strip() for c in cells]
    present = [v for v in values if v not in NA_TOKENS]
    if all(v in _LOGICAL for v in present):
        return [_LOGICAL[v] if v not in NA_TOKENS else na for v in values]
    if all(_INT_RE.fullmatch(v) and abs(int(v)) <= _INT_MAX for v in present):
        return [str(int(v)) if v not in NA_TOKENS else na for v in values]
    comma = decimal == ","
    parsed = [v.replace(",", ".") if comma else v for v in values]
    if all(_NUM_RE.fullmatch(p) for p, v in zip(parsed, values, strict=True)
           if v not in NA_TOKENS):
        arr = np.array([float(p) if v not in NA_TOKENS else np.nan
                        for p, v in zip(parsed, values, strict=True)])
        return render_numbers(arr, decimal, na)
    return [_quote(c) if c not in NA_TOKENS else na for c in cells]


def write_csv(path: Path, header: Sequence[str], columns: Sequence[Sequence[str]],
              delimiter: str = ",") -> None:
    """Write already-rendered columns (header quoted) atomically: temp file, then rename."""
    path = Path(path)
    n = len(columns[0]) if columns else 0
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent or Path("."))
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(delimiter.join(_quote(h) for h in header) + "\n")
            for i in range(n):
                fh.write(delimiter.join(col[i] for col in columns) + "\n")
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
