"""`krc growth prevalence`: WHO anthro's anthro_prevalence on CSV files (survey design).

Reads the columns of `anthro_prevalence` (`sex, age, weight, lenhei, measure, oedema` and
the optional groupings `typeres, gregion, wealthq, mothered, othergr`; other names through
`--map`), computes the z-scores with our engine (rounded to 2 decimals, as anthro_zscores
returns them and anthro_prevalence uses them), then the table of `prevalence.py` with
the design given by `--cluster`, `--strata` and `--weight`, and writes it as R's
`write.csv(anthro_prevalence(...), row.names = FALSE)` would, plus the design-effect
columns. Reference: reference/nutrition.md §3. Nothing is written when anything fails.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import typer

from krc.clikit import clear_errors, console
from krc.errors import invalid
from krc.nutrition import csvio
from krc.nutrition.growth import GrowthInputError, present
from krc.nutrition.growth import anthro_zscores as compute
from krc.nutrition.prevalence import OPTIONAL_GROUPINGS, PrevalenceTable, prevalence_table

MEASUREMENT_COLUMNS = ("sex", "age", "weight", "lenhei", "measure", "oedema")
GROUP_COLUMNS = tuple(name for name, _ in OPTIONAL_GROUPINGS)
INPUT_COLUMNS = MEASUREMENT_COLUMNS + GROUP_COLUMNS
METHODS = {"simple": "sans plan de sondage", "weighted": "pondéré sans grappes",
           "survey": "plan de sondage (grappes/strates/poids)"}


@dataclass(frozen=True)
class Design:
    """Columns of the file holding the survey design (None = not used)."""

    cluster: str | None = None
    strata: str | None = None
    weight: str | None = None


def _design_column(table: csvio.CsvTable, option: str, column: str | None) -> str | None:
    if column is None:
        return None
    if column not in table.header:
        raise invalid(option.lstrip("-"), "missing_column",
                      "{option} {column} : cette colonne n'existe pas dans {path}",
                      "{option} {column}: no such column in {path}",
                      option=option, column=column, path=table.path.name)
    return column


def _values(table: csvio.CsvTable, col: str) -> np.ndarray:
    return table.numeric(col) if table.is_numeric(col) else table.text(col)


def prevalence_from_table(table: csvio.CsvTable, mapping: dict[str, str], age_in_months: bool,
                          design: Design) -> PrevalenceTable:
    """Return the prevalence table of a CSV table: z-scores by our engine, then
    `prevalence_table` (reference/nutrition.md §3); bad cells raise a DomainError naming the
    line, the column and the reason."""
    cols = csvio.resolve_columns(table, INPUT_COLUMNS, mapping, required=("sex",))
    cluster = _design_column(table, "--cluster", design.cluster)
    strata = _design_column(table, "--strata", design.strata)
    weight = _design_column(table, "--weight", design.weight)
    if len(table) == 0:
        raise invalid("input", "empty_file", "le fichier {path} n'a aucune ligne de données",
                      "the file {path} has no data row", path=table.path.name)
    args: dict[str, object] = {}
    for name in ("age", "weight", "lenhei"):
        col = cols[name]
        args[name] = table.numeric(col) if col else None
    for name in ("sex", "oedema"):
        col = cols[name]
        if col:
            args[name] = _values(table, col)
    args["measure"] = table.text(cols["measure"]) if cols["measure"] else None
    try:
        z = present(compute(is_age_in_month=age_in_months, **args))  # type: ignore[arg-type]
    except GrowthInputError as exc:
        column = cols.get(exc.column) or exc.column
        value = table.column(column)[exc.index] if column in table.header else str(exc.value)
        raise csvio.cell_error(table, exc.index, column, value, exc.code, exc.fr,
                               exc.en) from None
    sw = None
    if weight is not None:
        sw = table.numeric(weight)
        with np.errstate(invalid="ignore"):
            bad = np.flatnonzero(sw < 0)
        if bad.size:
            i = int(bad[0])
            raise csvio.cell_error(table, i, weight, table.column(weight)[i], "weight_negative",
                                   "« {value} » : un poids de sondage ne peut pas être négatif",
                                   "“{value}”: a sampling weight cannot be negative")
    groups: dict[str, np.ndarray | None] = {}
    for name in GROUP_COLUMNS:
        col = cols[name]
        groups[name] = _values(table, col) if col else None
    sex_col = cols["sex"]
    assert sex_col is not None  # required above
    oedema_col = cols["oedema"]
    return prevalence_table(
        z, sex=_values(table, sex_col), age=args["age"],  # type: ignore[arg-type]
        is_age_in_month=age_in_months,
        oedema=_values(table, oedema_col) if oedema_col else None,
        sw=sw,
        cluster=None if cluster is None else table.text(cluster),
        strata=None if strata is None else table.text(strata),
        **groups)


def render(result: PrevalenceTable, decimal: str = ".", na: str = "NA"
           ) -> tuple[list[str], list[list[str]]]:
    """Return (header, rendered columns) of a prevalence table as R's write.csv writes it."""
    header = ["Group", *result.columns]
    columns = [csvio.render_text(result.groups, na)]
    columns += [csvio.render_numbers(result.values[:, j], decimal, na)
                for j in range(len(result.columns))]
    return header, columns


@clear_errors
def prevalence(input_csv: Path = typer.Argument(..., help="input CSV (anthro_prevalence "
                                                          "columns: sex, age, weight, lenhei, "
                                                          "measure, oedema, typeres, gregion, "
                                                          "wealthq, mothered, othergr)"),
               output: Path = typer.Option(..., "-o", "--output", help="output CSV"),
               age_in_months: bool = typer.Option(False, "--age-in-months",
                                                  help="the age column is in months"),
               cluster: str | None = typer.Option(None, "--cluster", metavar="COL",
                                                  help="column of the clusters (PSUs)"),
               strata: str | None = typer.Option(None, "--strata", metavar="COL",
                                                 help="column of the strata"),
               weight: str | None = typer.Option(None, "--weight", metavar="COL",
                                                 help="column of the sampling weights"),
               mapping: list[str] = typer.Option(
                   [], "--map", help="column mapping OURNAME=COLUMN, e.g. --map gregion=region "
                                     "(repeat for each renamed column)"),
               na: str = typer.Option("NA", "--na", help="text written for missing values "
                                                         "(R writes NA)")) -> None:
    """Compute prevalence estimates with survey-design intervals (as WHO anthro)."""
    table = csvio.read_csv(input_csv)
    mapped = csvio.parse_mapping(mapping, INPUT_COLUMNS)
    result = prevalence_from_table(table, mapped, age_in_months,
                                   Design(cluster=cluster, strata=strata, weight=weight))
    header, columns = render(result, table.decimal, na)
    csvio.write_csv(output, header, columns, table.delimiter)
    console.print(f"{result.records} enregistrements analysés ({METHODS[result.method]}, "
                  f"{result.df:g} degrés de liberté), {len(result.groups)} groupes → {output}")
    if result.excluded_age:
        console.print(f"  {result.excluded_age} exclus : âge supérieur à 1826 jours")
    if result.excluded_design:
        console.print(f"  {result.excluded_design} exclus : grappe ou strate manquante")
    if result.zero_weights:
        console.print(f"  {result.zero_weights} sans poids de sondage : poids 0 (exclus des "
                      "estimations)")
    for note in result.notes:
        console.print(f"  quintile de richesse hors de 1–5 / Q1–Q5, traité comme manquant "
                      f"({note.split(': ')[-1]})")
