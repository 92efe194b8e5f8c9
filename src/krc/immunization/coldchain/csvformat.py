"""Tolerant parser of temperature files exported by 30-day recorders (pure: text in, arrays out).

Accepted format (also in this package's README.md):

- Optional lines before the header (recorder name, serial…) are skipped: the header is the
  first line naming both a time column and a temperature column (case and accents ignored):
  time: `timestamp`, `datetime`, `date/heure`, `date heure`, `horodatage`, `time`, `at`, or
  a `date` column plus a `time`/`heure` column; temperature: `temperature`, `température`,
  `temp`, `celsius`, `°c`, `temp (°c)`, `valeur`/`value`.
- Separator `;`, `,` or tab (detected on the header line: `;` wins, then tab, then `,`).
- Temperatures with a decimal point or a decimal comma (`4,2`), an optional `°C` suffix.
- Times as ISO 8601 (`2026-03-15T08:00:00Z`, an offset is converted to UTC, no offset means
  UTC, Mali being UTC+0) or `DD/MM/YYYY HH:MM[:SS]` or `YYYY-MM-DD HH:MM[:SS]`.
- Empty lines are skipped; any other bad line is an error naming the line and column (at
  most 20 errors are listed); nothing is silently dropped.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from datetime import UTC, datetime

import numpy as np

from krc.errors import DomainError, FieldError, Message, invalid

TIME_NAMES = {"timestamp", "datetime", "date/heure", "date heure", "date_heure", "dateheure",
              "horodatage", "time stamp", "at", "date/time", "date time"}
DATE_NAMES = {"date", "jour"}
CLOCK_NAMES = {"time", "heure", "hour"}
TEMP_NAMES = {"temperature", "temp", "celsius", "°c", "c", "temp (°c)", "temperature (°c)",
              "temperature (c)", "temp (c)", "temperature °c", "valeur", "value", "t (°c)",
              "temp °c", "temperature_c", "temp_c"}
MAX_ROWS = 200_000
MAX_ERRORS = 20
_DMY = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})[ T](\d{1,2}):(\d{2})(?::(\d{2}))?$")


def _norm(name: str) -> str:
    text = unicodedata.normalize("NFKD", name.strip().strip('"').lower())
    return "".join(ch for ch in text if not unicodedata.combining(ch) or ch == "°").strip()


def parse_time(text: str) -> int:
    """Return epoch seconds (UTC) of an ISO or DD/MM/YYYY HH:MM time; raise ValueError."""
    value = text.strip()
    m = _DMY.match(value)
    if m:
        d, mo, y, h, mi, s = m.groups()
        dt = datetime(int(y), int(mo), int(d), int(h), int(mi), int(s or 0), tzinfo=UTC)
        return int(dt.timestamp())
    if value.endswith(("Z", "z")):
        value = value[:-1] + "+00:00"
    dt = datetime.fromisoformat(value)
    if dt.tzinfo is None:
        dt = dt.replace(tzinfo=UTC)
    return int(dt.timestamp())


def parse_celsius(text: str) -> float:
    """Return °C from `4.2`, `4,2`, `4,2 °C`; raise ValueError (also for NaN/infinite)."""
    value = text.strip().replace("\u00a0", "").replace(" ", "")
    for suffix in ("°C", "°c", "°", "C", "c"):
        if value.endswith(suffix):
            value = value[: -len(suffix)]
            break
    value = value.replace(",", ".")
    number = float(value)
    if not np.isfinite(number):
        raise ValueError(text)
    return number


def _separator(line: str) -> str:
    if ";" in line:
        return ";"
    if "\t" in line:
        return "\t"
    return ","


def _header(cells: list[str]) -> tuple[int, int | None, int] | None:
    """Return (time column, clock column or None, temperature column) when this is a header."""
    names = [_norm(c) for c in cells]
    temp = next((i for i, n in enumerate(names) if n in TEMP_NAMES
                 or n.startswith("temperature") or n.startswith("temp ")), None)
    if temp is None:
        return None
    stamp = next((i for i, n in enumerate(names) if n in TIME_NAMES and i != temp), None)
    if stamp is not None:
        return stamp, None, temp
    day = next((i for i, n in enumerate(names) if n in DATE_NAMES), None)
    clock = next((i for i, n in enumerate(names) if n in CLOCK_NAMES), None)
    if day is not None and clock is not None:
        return day, clock, temp
    if day is not None:
        return day, None, temp
    return None


def parse_csv(text: str) -> tuple[np.ndarray, np.ndarray]:
    """Return (epoch seconds int64, °C float64) in file order from a recorder's CSV export,
    or raise a DomainError naming each bad line and column."""
    lines = text.lstrip("\ufeff").splitlines()
    found = None
    sep = ","
    header_at = 0
    for i, line in enumerate(lines[:50]):
        if not line.strip():
            continue
        sep = _separator(line)
        cells = next(csv.reader([line], delimiter=sep))
        found = _header(cells)
        if found is not None:
            header_at = i
            header_cells = cells
            break
    if found is None:
        raise invalid("file", "csv_no_header",
                      "En-tête introuvable : il faut une colonne d'horodatage (timestamp, "
                      "date/heure) et une colonne de température (temperature, °C)",
                      "No header found: a time column (timestamp, date/time) and a "
                      "temperature column (temperature, °C) are required")
    stamp_col, clock_col, temp_col = found
    names = [c.strip() for c in header_cells]
    times: list[int] = []
    temps: list[float] = []
    errors: list[FieldError] = []
    reader = csv.reader(io.StringIO("\n".join(lines[header_at + 1:])), delimiter=sep)
    for offset, row in enumerate(reader):
        line_no = header_at + 2 + offset
        if not row or all(not c.strip() for c in row):
            continue
        if len(times) >= MAX_ROWS:
            raise invalid("file", "csv_too_long", "Fichier trop long (plus de {n} lignes)",
                          "File too long (more than {n} rows)", n=MAX_ROWS)
        need = max(stamp_col, temp_col, clock_col or 0)
        if len(row) <= need:
            errors.append(FieldError(f"line {line_no}", "csv_missing_column", Message(
                "Ligne {l} : {k} colonne(s) au lieu de {n}",
                "Line {l}: {k} column(s) instead of {n}",
                {"l": line_no, "k": len(row), "n": need + 1})))
        else:
            stamp = row[stamp_col] + (" " + row[clock_col] if clock_col is not None else "")
            try:
                t = parse_time(stamp)
            except ValueError:
                errors.append(FieldError(f"line {line_no}", "csv_bad_time", Message(
                    "Ligne {l}, colonne « {c} » : horodatage illisible « {v} » (attendu "
                    "AAAA-MM-JJTHH:MM:SSZ ou JJ/MM/AAAA HH:MM)",
                    "Line {l}, column \"{c}\": unreadable time \"{v}\" (expected "
                    "YYYY-MM-DDTHH:MM:SSZ or DD/MM/YYYY HH:MM)",
                    {"l": line_no, "c": names[stamp_col], "v": stamp.strip()[:40]})))
                t = None
            try:
                c = parse_celsius(row[temp_col])
            except ValueError:
                errors.append(FieldError(f"line {line_no}", "csv_bad_temperature", Message(
                    "Ligne {l}, colonne « {c} » : température illisible « {v} »",
                    "Line {l}, column \"{c}\": unreadable temperature \"{v}\"",
                    {"l": line_no, "c": names[temp_col], "v": row[temp_col].strip()[:40]})))
                c = None
            if t is not None and c is not None:
                times.append(t)
                temps.append(c)
        if len(errors) >= MAX_ERRORS:
            break
    if errors:
        first = errors[0].message
        raise DomainError(errors[0].code, Message(
            first.fr + (" (et {more} autre(s) erreur(s))" if len(errors) > 1 else ""),
            first.en + (" (and {more} more error(s))" if len(errors) > 1 else ""),
            {**first.params, "more": len(errors) - 1}), errors=errors)
    if not times:
        raise invalid("file", "csv_empty", "Le fichier ne contient aucune lecture",
                      "The file holds no reading")
    return np.asarray(times, dtype=np.int64), np.asarray(temps, dtype=np.float64)
