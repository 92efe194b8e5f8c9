"""Parser of IYCF survey files (pure: text in, rows out; reference/nutrition.md §4).

Format: CSV with a header line; separator `;`, `,` or tab (detected on the header: `;` wins,
then tab, then `,`). Column names are case-insensitive, accents ignored. Columns:

- `row_id` (required): the survey's own row identifier; re-importing a row changes nothing.
- `org_unit`: org unit code (village, CSCom, district…); may be given for the whole file.
- `date` (required): day of the interview, `YYYY-MM-DD` or `DD/MM/YYYY`.
- `age_months` or `age_days` (one required): age of the child; days give
  floor(days / 30.4375) completed months.
- `sex` (optional): F or M.
- `breastfed` (required), `early_bf`, `other_liquids`, `grains`, `pulses`, `dairy`, `flesh`,
  `eggs`, `vita_fv`, `other_fv`: 1/0, oui/non, yes/no, o/n, y/n, vrai/faux, true/false.
  "Don't know" (`nsp`, `dk`, `8`, `98`) counts as no (WHO 2021 tabulation); for `early_bf`
  it and an empty cell mean unknown. Other yes/no cells may be empty only when absent
  columns are allowed: an absent food column means "no" for every row, an empty cell in a
  present column is an error.
- `solid_feeds`, `milk_feeds`: whole numbers 0–20; empty or "don't know" count 0.

Every bad cell is an error naming the line, the column and why (at most 20 listed).
"""

from __future__ import annotations

import csv
import io
import unicodedata
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from krc.errors import DomainError, FieldError, Message
from krc.nutrition.community.iycf import MAX_FEEDS, Recall, check_recall, months_from_days

MAX_ROWS = 50_000
MAX_ERRORS = 20
YES = {"1", "oui", "o", "yes", "y", "vrai", "true", "x"}
NO = {"0", "non", "n", "no", "faux", "false"}
DONT_KNOW = {"nsp", "dk", "8", "98", "ne sait pas", "don't know", "dont know"}
FLAGS = ("other_liquids", "grains", "pulses", "dairy", "flesh", "eggs", "vita_fv", "other_fv")
COUNTS = ("solid_feeds", "milk_feeds")
KNOWN = {"row_id", "org_unit", "date", "age_months", "age_days", "sex", "breastfed",
         "early_bf", *FLAGS, *COUNTS}


@dataclass
class SurveyRow:
    """One parsed row: its line, identifiers, age, answers and the raw cells."""

    line: int
    row_id: str
    org_unit: str
    day: date
    age_days: int | None
    sex: str | None
    recall: Recall
    raw: dict[str, str] = field(default_factory=dict)


def _norm(name: str) -> str:
    text = unicodedata.normalize("NFKD", name.strip().strip('"').lower())
    return "".join(ch for ch in text if not unicodedata.combining(ch)).replace(" ", "_")


def _date(text: str) -> date:
    value = text.strip()
    if "/" in value:
        return datetime.strptime(value, "%d/%m/%Y").date()
    return date.fromisoformat(value)


class _Errors:
    def __init__(self) -> None:
        self.items: list[FieldError] = []
        self.count = 0

    def add(self, line: int, column: str, code: str, fr: str, en: str, **params: Any) -> None:
        self.count += 1
        if len(self.items) < MAX_ERRORS:
            self.items.append(FieldError(
                f"ligne {line}" + (f", {column}" if column else ""), code,
                Message("Ligne {line}" + (", colonne {column}" if column else "") + " : " + fr,
                        "Line {line}" + (", column {column}" if column else "") + ": " + en,
                        {"line": line, "column": column, **params})))


def refuse(errors: list[FieldError], total: int) -> DomainError:
    """Return the 422 error of a refused file (nothing imported) listing its faults."""
    return DomainError("survey_refused", Message(
        "Fichier refusé, rien n'a été importé : {n} erreur(s)",
        "File refused, nothing was imported: {n} error(s)", {"n": total}), errors=errors)


def parse_survey(text: str, default_unit: str | None = None) -> list[SurveyRow]:
    """Return the rows of a survey file, or raise DomainError naming every bad cell."""
    lines = text.lstrip("\ufeff").splitlines()
    while lines and not lines[0].strip():
        lines.pop(0)
    if not lines:
        raise refuse([FieldError("file", "file_empty", Message(
            "Le fichier est vide", "The file is empty"))], 1)
    header = lines[0]
    sep = ";" if ";" in header else ("\t" if "\t" in header else ",")
    reader = csv.reader(io.StringIO("\n".join(lines)), delimiter=sep)
    names = [_norm(h) for h in next(reader)]
    errs = _Errors()
    unknown = [n for n in names if n not in KNOWN]
    for n in unknown:
        errs.add(1, n, "column_unknown", "colonne inconnue (colonnes acceptées : {k})",
                 "unknown column (accepted columns: {k})", k=", ".join(sorted(KNOWN)))
    for need in ("row_id", "date", "breastfed"):
        if need not in names:
            errs.add(1, need, "column_missing", "colonne obligatoire absente",
                     "required column missing")
    if "age_months" not in names and "age_days" not in names:
        errs.add(1, "age_months", "column_missing", "il faut age_months ou age_days",
                 "age_months or age_days is required")
    if "org_unit" not in names and not default_unit:
        errs.add(1, "org_unit", "column_missing",
                 "colonne org_unit absente et aucune unité donnée pour le fichier",
                 "org_unit column missing and no unit given for the file")
    if errs.count:
        raise refuse(errs.items, errs.count)
    rows: list[SurveyRow] = []
    seen: dict[str, int] = {}
    for line_no, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        if len(rows) >= MAX_ROWS:
            errs.add(line_no, "", "too_many_rows", "plus de {m} lignes", "more than {m} rows",
                     m=MAX_ROWS)
            break
        if len(cells) != len(names):
            errs.add(line_no, "", "cell_count", "{n} cellules pour {h} colonnes",
                     "{n} cells for {h} columns", n=len(cells), h=len(names))
            continue
        raw = {n: c.strip() for n, c in zip(names, cells, strict=True)}
        row = _row(line_no, raw, default_unit, errs)
        if row is None:
            continue
        if row.row_id in seen:
            errs.add(line_no, "row_id", "row_id_repeated", "row_id {r} déjà vu ligne {first}",
                     "row_id {r} already seen on line {first}", r=row.row_id,
                     first=seen[row.row_id])
            continue
        seen[row.row_id] = line_no
        rows.append(row)
    if errs.count:
        raise refuse(errs.items, errs.count)
    if not rows:
        raise refuse([FieldError("file", "file_no_rows", Message(
            "Le fichier n'a aucune ligne de données", "The file has no data rows"))], 1)
    return rows


def _flag(line: int, name: str, raw: dict[str, str], errs: _Errors,
          unknown_ok: bool = False) -> bool | None:
    if name not in raw:
        return None if unknown_ok else False
    value = _norm(raw[name]).replace("_", " ")
    if value in YES:
        return True
    if value in NO:
        return False
    if value in DONT_KNOW or (unknown_ok and value == ""):
        return None if unknown_ok else False
    if value == "":
        errs.add(line, name, "cell_empty", "réponse manquante (oui/non)",
                 "missing answer (yes/no)")
    else:
        errs.add(line, name, "cell_not_yes_no", "« {v} » n'est pas oui/non (1/0)",
                 "'{v}' is not yes/no (1/0)", v=raw[name])
    return None


def _count(line: int, name: str, raw: dict[str, str], errs: _Errors) -> int:
    value = raw.get(name, "").strip().lower()
    if value == "" or value in DONT_KNOW - {"8"}:
        return 0
    try:
        n = int(value)
    except ValueError:
        errs.add(line, name, "cell_not_integer", "« {v} » n'est pas un nombre entier",
                 "'{v}' is not a whole number", v=raw[name])
        return 0
    if not 0 <= n <= MAX_FEEDS:
        errs.add(line, name, "feeds_out_of_range", "{n} hors de 0–{m}", "{n} outside 0–{m}",
                 n=n, m=MAX_FEEDS)
    return n


def _row(line: int, raw: dict[str, str], default_unit: str | None,
         errs: _Errors) -> SurveyRow | None:
    before = errs.count
    row_id = raw.get("row_id", "")
    if not row_id or len(row_id) > 60:
        errs.add(line, "row_id", "row_id_invalid", "row_id vide ou de plus de 60 caractères",
                 "row_id empty or longer than 60 characters")
    unit = raw.get("org_unit") or default_unit or ""
    if not unit:
        errs.add(line, "org_unit", "cell_empty", "unité d'organisation manquante",
                 "org unit missing")
    try:
        day = _date(raw.get("date", ""))
    except ValueError:
        errs.add(line, "date", "date_parsing", "« {v} » n'est pas une date (AAAA-MM-JJ)",
                 "'{v}' is not a date (YYYY-MM-DD)", v=raw.get("date", ""))
        day = date.min
    age_days: int | None = None
    months = -1
    try:
        if raw.get("age_months", "") != "":
            months = int(raw["age_months"])
        elif raw.get("age_days", "") != "":
            age_days = int(raw["age_days"])
            months = months_from_days(age_days)
        else:
            errs.add(line, "age_months", "cell_empty", "âge manquant", "age missing")
    except ValueError:
        col = "age_months" if raw.get("age_months", "") != "" else "age_days"
        errs.add(line, col, "cell_not_integer", "« {v} » n'est pas un nombre entier",
                 "'{v}' is not a whole number", v=raw[col])
    if raw.get("age_months", "") != "" and raw.get("age_days", "") != "":
        try:
            age_days = int(raw["age_days"])
        except ValueError:
            errs.add(line, "age_days", "cell_not_integer", "« {v} » n'est pas un nombre entier",
                     "'{v}' is not a whole number", v=raw["age_days"])
    sex = raw.get("sex", "").upper() or None
    if sex is not None and sex not in ("F", "M"):
        errs.add(line, "sex", "sex_invalid", "sexe « {v} » : F ou M", "sex '{v}': F or M",
                 v=raw["sex"])
    breastfed = _flag(line, "breastfed", raw, errs)
    early = _flag(line, "early_bf", raw, errs, unknown_ok=True)
    flags = {n: bool(_flag(line, n, raw, errs)) for n in FLAGS}
    counts = {n: _count(line, n, raw, errs) for n in COUNTS}
    if errs.count > before:
        return None
    recall = Recall(age_months=months, breastfed=bool(breastfed), early_bf=early,
                    solid_feeds=counts["solid_feeds"], milk_feeds=counts["milk_feeds"],
                    **flags)
    for fault in check_recall(recall):
        errs.add(line, "age_months" if fault.field == "age" else fault.field, fault.code,
                 fault.fr, fault.en)
    if errs.count > before:
        return None
    return SurveyRow(line, row_id, unit, day, age_days, sex, recall, raw)
